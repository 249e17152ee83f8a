//! The citizen's side over real servers: the status on request (the reporter learns it,
//! anyone else learns nothing), the closure's reason, the delay notice.

use std::time::Duration;

use crate::support::office::{OFFICE, Office, fixture, header, nth, reply};

const CITIZEN: &str = "budi.santoso@gmail.com";
const STRANGER: &str = "orang.lain@example.org";
const KADIS: &str = "kadis@kaltaraprov.go.id";
const WAIT: Duration = Duration::from_secs(20);

fn text(raw: &[u8]) -> String {
    pengaduan::mail::parse(raw).body_text
}

/// A new message (not a reply) from `from`.
fn message(from: &str, subject: &str, body: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {OFFICE}\r\nSubject: {subject}\r\nMessage-ID: <{id}@example.org>\r\n\
         Date: Tue, 01 Dec 2026 08:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// The office with one complaint from [`CITIZEN`]; returns the acknowledgment.
async fn office_with_a_complaint() -> (Office, Vec<u8>) {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let ack = nth(&office, CITIZEN, 1).await;
    (office, ack)
}

#[tokio::test]
async fn the_reporter_learns_the_status_and_a_stranger_learns_nothing() {
    let (office, ack) = office_with_a_complaint().await;

    // The reporter replies STATUS to the acknowledgment: answered in the thread, with
    // the stage in plain words and the deadline in WITA, no official named; the Kepala
    // Dinas is not bothered with it.
    let question = reply(CITIZEN, &ack, "STATUS", "status-1");
    office.deliver_and_run(CITIZEN, &question).await;
    let answer = nth(&office, CITIZEN, 2).await;
    let subject = header(&answer, "Subject").expect("Subject");
    assert!(subject.contains("[ADU-2026-00001]"), "{subject}");
    assert_eq!(
        header(&answer, "In-Reply-To").as_deref(),
        Some("<status-1@mail.kaltaraprov.go.id>")
    );
    assert_eq!(
        header(&answer, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let body = text(&answer);
    assert!(body.contains("menunggu disposisi pimpinan"), "{body}");
    assert!(
        body.contains("Batas waktu jawaban") && body.contains("WITA"),
        "{body}"
    );
    assert!(
        !body.contains("kadis") && !body.contains("Kepala Dinas"),
        "{body}"
    );
    let kinds = |office: &Office| {
        let shown = office.show("ADU-2026-00001");
        shown["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["kind"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    assert!(kinds(&office).contains(&"status_request".to_string()));
    assert!(kinds(&office).contains(&"status".to_string()));

    // A new message asking with the number in its text works the same.
    let asked = message(CITIZEN, "cek", "cek status ADU-2026-00001", "status-2");
    office.deliver_and_run(CITIZEN, &asked).await;
    assert!(text(&nth(&office, CITIZEN, 3).await).contains("menunggu disposisi"));

    // Someone else asking about it gets a polite reply that says nothing about it.
    let nosy = message(
        STRANGER,
        "Status",
        "Bagaimana perkembangan laporan ADU-2026-00001?",
        "nosy-1",
    );
    office.deliver_and_run(STRANGER, &nosy).await;
    let declined = text(&nth(&office, STRANGER, 1).await);
    assert!(declined.contains("hanya"), "{declined}");
    for secret in ["Lampu", "disposisi", "Batas waktu", "Budi"] {
        assert!(!declined.contains(secret), "{secret} in {declined}");
    }
    assert_eq!(office.list().len(), 1, "no complaint was registered");

    // A follow-up that also asks is still a follow-up: forwarded to the holder.
    let follow_up = reply(
        CITIZEN,
        &ack,
        "Bagaimana perkembangan laporan saya? Lampunya sekarang mati di tiga tiang.",
        "follow-1",
    );
    office.deliver_and_run(CITIZEN, &follow_up).await;
    let forwarded = nth(&office, KADIS, 2).await;
    assert!(text(&forwarded).contains("tiga tiang"));
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'follow_up'")
            .await,
        1
    );
    // Auto-responders asking nothing are never answered: an out-of-office reply to the
    // status answer gets nothing back.
    let auto = format!(
        "From: {CITIZEN}\r\nTo: {OFFICE}\r\nSubject: Otomatis: status\r\nMessage-ID: <auto-1@example.org>\r\n\
         Auto-Submitted: auto-replied\r\nContent-Type: text/plain\r\n\r\nSTATUS\r\n"
    );
    office.deliver_and_run(CITIZEN, auto.as_bytes()).await;
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'status'")
            .await,
        3,
        "two answers to the reporter, one to the stranger, none to the machine"
    );
    let stack_messages = office.stack.messages(KADIS, "INBOX").await;
    assert_eq!(
        stack_messages.len(),
        2,
        "only the request and the follow-up"
    );
    let _ = WAIT;
}

#[tokio::test]
async fn a_closure_is_explained_to_the_citizen() {
    let (office, ack) = office_with_a_complaint().await;
    let copy = nth(&office, "admin@kaltaraprov.go.id", 1).await;
    let close = reply(
        "admin@kaltaraprov.go.id",
        &copy,
        "TUTUP sudah ditangani PLN, silakan hubungi 123",
        "close-1",
    );
    office
        .deliver_and_run("admin@kaltaraprov.go.id", &close)
        .await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "ditutup");
    let told = nth(&office, CITIZEN, 2).await;
    let body = text(&told);
    assert!(
        body.contains("telah ditutup") && body.contains("sudah ditangani PLN, silakan hubungi 123"),
        "{body}"
    );
    assert!(
        header(&told, "Subject")
            .expect("Subject")
            .contains("[ADU-2026-00001]")
    );
    // In the citizen's thread: it answers their first message.
    assert_eq!(
        header(&told, "In-Reply-To"),
        header(&fixture("01-plain-text-utf8.eml"), "Message-ID")
    );
    // Asking afterwards gives the same reason.
    office
        .deliver_and_run(CITIZEN, &reply(CITIZEN, &ack, "status?", "status-after"))
        .await;
    let status = text(&nth(&office, CITIZEN, 3).await);
    assert!(status.contains("sudah ditangani PLN"), "{status}");
}

#[tokio::test]
async fn an_overdue_complaint_is_explained_once() {
    let mut office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let received: chrono::DateTime<chrono::Utc> = office.list()[0]["received_at"]
        .as_str()
        .expect("received_at")
        .parse()
        .expect("RFC 3339");
    let late = pengaduan::clock::rfc3339(received + chrono::Duration::hours(73));
    office.set_env("PENGADUAN_NOW", &late);
    office.run_once();
    office.run_once();
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'lambat'")
            .await,
        1,
        "one delay notice, however often the worker runs"
    );
    let notice = nth(&office, CITIZEN, 2).await;
    let body = text(&notice);
    assert!(
        body.contains("tetap kami tangani") && body.contains("WITA"),
        "{body}"
    );
    assert!(
        !body.contains("Kepala Dinas") && !body.contains("kadis"),
        "{body}"
    );
    let inbox = office
        .stack
        .wait_for_messages(CITIZEN, "INBOX", 2, WAIT)
        .await;
    assert_eq!(inbox.len(), 2, "the acknowledgment and the delay notice");
}

/// Walks the complaint of [`office_with_a_complaint`] to the answer; returns it.
async fn answered(office: &Office) -> Vec<u8> {
    let to_kadis = nth(office, KADIS, 1).await;
    office
        .deliver_and_run(KADIS, &reply(KADIS, &to_kadis, "aptika", "d1"))
        .await;
    const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
    const KASUBBAG: &str = "kasubbag@kaltaraprov.go.id";
    let task = nth(office, KABID, 1).await;
    let draft = "Lampu jalan di lokasi tersebut diganti besok.";
    office
        .deliver_and_run(KABID, &reply(KABID, &task, draft, "k1"))
        .await;
    let approval = nth(office, KASUBBAG, 1).await;
    office
        .deliver_and_run(KASUBBAG, &reply(KASUBBAG, &approval, "SETUJU", "s1"))
        .await;
    nth(office, CITIZEN, 2).await
}

#[tokio::test]
async fn a_rating_by_reply_is_kept_replaced_and_told_from_a_follow_up() {
    let (office, _ack) = office_with_a_complaint().await;
    assert!(office.show("ADU-2026-00001")["rating"].is_null());
    let answer = answered(&office).await;
    let invitation = text(&answer);
    assert!(
        invitation.contains("SURVEI KEPUASAN") && invitation.contains("U9 Sarana"),
        "{invitation}"
    );

    // One digit is enough; the words after it are the comment.
    office
        .deliver_and_run(CITIZEN, &reply(CITIZEN, &answer, "3 - cukup cepat", "r1"))
        .await;
    let rating = &office.show("ADU-2026-00001")["rating"];
    assert_eq!(rating["score"], 3.0);
    assert_eq!(rating["comment"], "cukup cepat");
    assert!(rating["at"].is_string());
    let thanks = text(&nth(&office, CITIZEN, 3).await);
    assert!(
        thanks.contains("Terima kasih atas penilaian") && thanks.contains("3,00"),
        "{thanks}"
    );

    // The full form later replaces it: the score is the mean of the nine.
    let form = "U1 Persyaratan: 4\nU2 Prosedur: 4\nU3 Waktu penyelesaian: 4\nU4 Biaya: 4\n\
                U5 Produk: 4\nU6 Kompetensi: 4\nU7 Perilaku: 4\nU8 Pengaduan: 4\nU9 Sarana: 1\n\
                Saran: lampu cadangan disiapkan";
    office
        .deliver_and_run(CITIZEN, &reply(CITIZEN, &answer, form, "r2"))
        .await;
    let rating = &office.show("ADU-2026-00001")["rating"];
    let score = rating["score"].as_f64().expect("score");
    assert!((score - 33.0 / 9.0).abs() < 1e-9, "{score}");
    assert_eq!(rating["comment"], "lampu cadangan disiapkan");
    let thanks = text(&nth(&office, CITIZEN, 4).await);
    assert!(
        thanks.contains("3,67") && thanks.contains("menggantikan"),
        "{thanks}"
    );
    assert_eq!(office.count("SELECT count(*) FROM ratings").await, 1);
    assert_eq!(
        office
            .count("SELECT count(*) FROM ratings WHERE elements_json = '[4,4,4,4,4,4,4,4,1]'")
            .await,
        1
    );

    // Anything else is a follow-up as before: the admin is told, the rating stays.
    let admin_before = office
        .stack
        .messages("admin@kaltaraprov.go.id", "INBOX")
        .await
        .len();
    office
        .deliver_and_run(
            CITIZEN,
            &reply(CITIZEN, &answer, "2 lampu lagi mati sejak kemarin", "f1"),
        )
        .await;
    let admin = office
        .stack
        .wait_for_messages("admin@kaltaraprov.go.id", "INBOX", admin_before + 1, WAIT)
        .await;
    assert!(admin.iter().any(|m| {
        pengaduan::mail::parse(m)
            .body_text
            .contains("2 lampu lagi mati")
    }));
    let score = office.show("ADU-2026-00001")["rating"]["score"]
        .as_f64()
        .expect("score");
    assert!((score - 33.0 / 9.0).abs() < 1e-9, "unchanged: {score}");
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'rating'")
            .await,
        2
    );
}

#[tokio::test]
async fn status_answers_count_against_the_acknowledgment_limit() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__ACKNOWLEDGMENT__MAX_PER_SENDER_PER_DAY", "2");
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let ack = nth(&office, CITIZEN, 1).await;
    for n in 1..=2 {
        let question = reply(CITIZEN, &ack, "STATUS", &format!("limit-{n}"));
        office.deliver_and_run(CITIZEN, &question).await;
    }
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'status'")
            .await,
        1,
        "the acknowledgment and one answer reach the limit of two"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'status_request'")
            .await,
        2,
        "both questions are recorded"
    );
}

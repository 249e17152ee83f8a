//! Hostile senders on the real mail stack: no message may stop intake, no courtesy may
//! replace an approved answer, no reused Message-ID may silence a complaint, no forged
//! authentication result or second `From:` may act, and no stranger may write as the
//! citizen.

use crate::support::office::{OFFICE, Office, header, nth, reply};

const KADIS: &str = "kadis@kaltaraprov.go.id";
const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
const KASUBBAG: &str = "kasubbag@kaltaraprov.go.id";
const CITIZEN: &str = "ahmad.fauzi@example.net";

fn complaint(from: &str, id: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {OFFICE}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Messages whose headers carry what outgoing mail must never carry: every control
/// character in a display name, line breaks and bidi overrides in names and subjects,
/// names and subjects of thousands of characters, broken Message-IDs, a flood of
/// References, a file name with a line break.
fn hostile_messages() -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    for byte in (0u8..0x20).chain([0x7f]) {
        let from = format!("=?utf-8?q?Budi=0ASan={byte:02X}toso?= <budi{byte}@example.net>");
        messages.push(complaint(
            &from,
            &format!("ctl-{byte}@example.net"),
            "Lampu mati",
            "Lampu jalan mati.",
        ));
    }
    let long = "A".repeat(5000);
    let references: String = (0..2000).map(|i| format!(" <r{i}@example.net>")).collect();
    let cases = [
        (
            "=?utf-8?q?Budi=0D=0ABcc:_x@evil.example?= <crlf@example.net>".to_string(),
            "Jalan rusak".to_string(),
            String::new(),
        ),
        (
            "=?utf-8?q?Siti=E2=80=AEmoc.live?= <bidi@example.net>".to_string(),
            "Jalan rusak".to_string(),
            String::new(),
        ),
        (
            format!("\"{long}\" <longname@example.net>"),
            "Jalan rusak".to_string(),
            String::new(),
        ),
        (
            "Rina <subject@example.net>".to_string(),
            "=?utf-8?q?Jalan=0D=0ARusak=0ABcc:_x@evil.example?=".to_string(),
            String::new(),
        ),
        (
            "Rina <longsubject@example.net>".to_string(),
            long.clone(),
            String::new(),
        ),
        (
            "Rina <refs@example.net>".to_string(),
            "Re: Jalan".to_string(),
            format!("In-Reply-To: <a b@example.net>\r\nReferences:{references}\r\n"),
        ),
    ];
    for (i, (from, subject, extra)) in cases.iter().enumerate() {
        messages.push(
            format!(
                "From: {from}\r\nTo: {OFFICE}\r\nSubject: {subject}\r\nMessage-ID: <case-{i}@example.net>\r\n{extra}\
                 Date: Mon, 30 Nov 2026 10:00:00 +0800\r\n\r\nIsi pengaduan.\r\n"
            )
            .into_bytes(),
        );
    }
    messages.push(
        format!(
            "From: Dedi <file@example.net>\r\nTo: {OFFICE}\r\nSubject: Foto\r\nMessage-ID: <file@example.net>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nTerlampir.\r\n\
             --b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"=?utf-8?q?foto=0D=0ABcc:_x@evil.example.jpg?=\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRg==\r\n--b--\r\n"
        )
        .into_bytes(),
    );
    messages
}

#[tokio::test]
async fn no_hostile_header_stops_intake() {
    let office = Office::start().await;
    let hostile = hostile_messages();
    for raw in &hostile {
        office.stack.append(OFFICE, "INBOX", raw).await;
    }
    let normal = complaint(
        &format!("Ahmad Fauzi <{CITIZEN}>"),
        "normal@example.net",
        "Lampu jalan mati",
        "Lampu di Jl. Agatis mati.",
    );
    office.stack.append(OFFICE, "INBOX", &normal).await;
    office.run_once();

    assert!(
        office.stack.messages(OFFICE, "INBOX").await.is_empty(),
        "every message left the inbox"
    );
    let total = hostile.len() as i64 + 1;
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE direction = 'in' AND kind IN ('complaint', 'quarantined')")
            .await,
        total,
        "every message is a complaint or quarantined"
    );
    let normal_number = office
        .text("SELECT c.number FROM complaints c JOIN messages m ON m.complaint_id = c.id WHERE m.message_id = 'normal@example.net'")
        .await;
    assert_eq!(normal_number.len(), 1, "the normal complaint is registered");
    nth(&office, CITIZEN, 1).await;

    // The attack of the report: a line break in the display name. Registered and
    // acknowledged, the name on one line.
    let ack = nth(&office, "budi10@example.net", 1).await;
    let to = header(&ack, "To").expect("To");
    assert!(to.contains("budi10@example.net"), "{to}");
    let parsed = pengaduan::mail::parse(&ack);
    let name = parsed.to[0].name.clone().unwrap_or_default();
    assert!(!name.contains('\n') && name.contains("Budi"), "{name:?}");
    assert!(
        header(&ack, "Bcc").is_none() && !String::from_utf8_lossy(&ack).contains("evil.example"),
        "nothing injected"
    );
    office.run_once();
}

#[tokio::test]
async fn a_panic_while_recording_quarantines_only_that_message() {
    let office = Office::start().await;
    let panicking = complaint(
        "Wati <wati@example.net>",
        "panic@example.net",
        "Jalan FAILPOINT-PANIC",
        "Isi.",
    );
    let normal = complaint(CITIZEN, "normal@example.net", "Lampu mati", "Lampu mati.");
    office.stack.append(OFFICE, "INBOX", &panicking).await;
    office.stack.append(OFFICE, "INBOX", &normal).await;
    let output = office
        .command(&["run", "--once"])
        .env("PENGADUAN_FAILPOINT", "record_panic")
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "the cycle completes: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(office.list().len(), 1, "the other message is registered");
    let reasons = office
        .text("SELECT quarantine_reason FROM messages WHERE kind = 'quarantined'")
        .await;
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].contains("panicked"), "{reasons:?}");
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Karantina")
            .await
            .len(),
        1
    );
}

/// Drives complaint `number` (already registered, its disposition request in `KADIS`'s
/// INBOX as message `n`) to the Kasubbag's approval request, which is returned.
async fn to_approval(office: &Office, n: usize, draft: &str) -> Vec<u8> {
    let to_kadis = nth(office, KADIS, n).await;
    let id = format!("disp-{n}");
    office
        .deliver_and_run(KADIS, &reply(KADIS, &to_kadis, "aptika", &id))
        .await;
    let to_kabid = nth(office, KABID, n).await;
    let id = format!("draft-{n}");
    office
        .deliver_and_run(KABID, &reply(KABID, &to_kabid, draft, &id))
        .await;
    nth(office, KASUBBAG, 2 * n - 1).await
}

#[tokio::test]
async fn courtesy_after_setuju_approves_the_draft_and_strangers_stay_out_of_the_thread() {
    let office = Office::start().await;
    let original = complaint(
        &format!("Ahmad Fauzi <{CITIZEN}>"),
        "c1@example.net",
        "Lampu jalan mati",
        "Lampu di Jl. Agatis mati.",
    );
    office.deliver_and_run(CITIZEN, &original).await;
    nth(&office, KADIS, 1).await;

    // A stranger answers in the citizen's thread.
    let stranger = format!(
        "From: Orang Lain <orang.lain@example.org>\r\nTo: {OFFICE}\r\nSubject: Re: Lampu jalan mati\r\n\
         Message-ID: <stranger-1@example.org>\r\nIn-Reply-To: <c1@example.net>\r\nReferences: <c1@example.net>\r\n\r\n\
         Saya pelapornya, batalkan saja pengaduan ini.\r\n"
    );
    office
        .deliver_and_run("orang.lain@example.org", stranger.as_bytes())
        .await;
    let shown = office.show("ADU-2026-00001");
    let kinds: Vec<&str> = shown["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"third_party"), "{kinds:?}");
    assert!(!kinds.contains(&"follow_up"), "{kinds:?}");
    let forwarded = pengaduan::mail::parse(&nth(&office, KADIS, 2).await);
    assert!(
        forwarded.subject.contains("bukan pelapor")
            && forwarded.body_text.contains("BUKAN pelapor")
            && forwarded.body_text.contains("orang.lain@example.org")
            && !forwarded.body_text.contains("Pelapor ("),
        "{}\n{}",
        forwarded.subject,
        forwarded.body_text
    );

    let draft = "Lampu di Jl. Agatis akan diganti hari Rabu.";
    let request = to_approval(&office, 1, draft).await;
    let request_text = pengaduan::mail::parse(&request).body_text;
    assert!(
        request_text.contains("SETUJU DENGAN PERBAIKAN"),
        "{request_text}"
    );
    office
        .deliver_and_run(
            KASUBBAG,
            &reply(
                KASUBBAG,
                &request,
                "Setuju, terima kasih.\r\n\r\nSalam,\r\nBudi\r\nKasubbag Umum",
                "approve-1",
            ),
        )
        .await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "selesai");

    let answer = nth(&office, CITIZEN, 2).await;
    let answer_text = pengaduan::mail::parse(&answer).body_text;
    assert!(answer_text.contains(draft), "{answer_text}");
    assert!(!answer_text.contains("Salam,"), "{answer_text}");
    let references = header(&answer, "References").unwrap_or_default();
    assert!(references.contains("c1@example.net"), "{references}");
    assert!(
        !references.contains("stranger-1")
            && !String::from_utf8_lossy(&answer).contains("stranger-1"),
        "the stranger is never threaded into mail to the citizen: {references}"
    );
    let decisions = office
        .text("SELECT text FROM decisions WHERE decision = 'setuju'")
        .await;
    assert_eq!(decisions, [draft]);

    // The Kasubbag sees exactly what was sent.
    let confirmation = pengaduan::mail::parse(&nth(&office, KASUBBAG, 2).await);
    assert!(
        confirmation.body_text.contains(draft) && confirmation.subject.contains("dikirim"),
        "{}",
        confirmation.body_text
    );
}

#[tokio::test]
async fn only_the_marker_replaces_the_draft() {
    let office = Office::start().await;
    office
        .deliver_and_run(
            CITIZEN,
            &complaint(CITIZEN, "c1@example.net", "Jalan rusak", "Jalan berlubang."),
        )
        .await;
    let request = to_approval(&office, 1, "Draf dari bidang.").await;
    office
        .deliver_and_run(
            KASUBBAG,
            &reply(
                KASUBBAG,
                &request,
                "SETUJU DENGAN PERBAIKAN:\r\nJalan akan ditambal pekan depan.",
                "approve-1",
            ),
        )
        .await;
    let answer = pengaduan::mail::parse(&nth(&office, CITIZEN, 2).await).body_text;
    assert!(
        answer.contains("Jalan akan ditambal pekan depan.") && !answer.contains("Draf dari bidang"),
        "{answer}"
    );
    let confirmation = pengaduan::mail::parse(&nth(&office, KASUBBAG, 2).await).body_text;
    assert!(
        confirmation.contains("Jalan akan ditambal pekan depan.")
            && confirmation.contains("perbaikan"),
        "{confirmation}"
    );
}

#[tokio::test]
async fn a_reused_message_id_never_silences_a_complaint() {
    let office = Office::start().await;
    let first = complaint(
        "Ani <ani@example.net>",
        "form@lapor.example",
        "Lampu mati",
        "Lampu mati.",
    );
    let second = complaint(
        "Budi <budi@example.org>",
        "form@lapor.example",
        "Jalan rusak",
        "Jalan rusak.",
    );
    office.stack.append(OFFICE, "INBOX", &first).await;
    office.run_once();
    office.stack.append(OFFICE, "INBOX", &second).await;
    office.run_once();
    assert_eq!(office.list().len(), 2, "both complaints are registered");
    nth(&office, "ani@example.net", 1).await;
    nth(&office, "budi@example.org", 1).await;

    // A citizen's message that carries the Message-ID of a notification the worker sent.
    let notification_id = header(&nth(&office, KADIS, 1).await, "Message-ID").expect("id");
    let copied = format!(
        "From: Citra <citra@example.net>\r\nTo: {OFFICE}\r\nSubject: Sampah\r\nMessage-ID: {notification_id}\r\n\r\nSampah menumpuk.\r\n"
    );
    office
        .stack
        .append(OFFICE, "INBOX", copied.as_bytes())
        .await;
    office.run_once();
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE direction = 'in' AND from_email = 'citra@example.net'")
            .await,
        1,
        "recorded, not taken for the notification"
    );

    // The first complaint delivered a second time (another trace header on top) is the
    // same message: only moved.
    let mut again = b"Received: from relay2.example.net by mx.kaltaraprov.go.id\r\n".to_vec();
    again.extend_from_slice(&first);
    office.stack.append(OFFICE, "INBOX", &again).await;
    office.run_once();
    assert_eq!(
        office.list().len(),
        2,
        "a second delivery is not a new complaint"
    );
    assert!(office.stack.messages(OFFICE, "INBOX").await.is_empty());
}

#[tokio::test]
async fn forged_authentication_results_and_a_second_from_never_act() {
    let mut office = Office::start().await;
    office.set_env(
        "PENGADUAN__SECURITY__TRUSTED_AUTHSERV_ID",
        "mx.kaltaraprov.go.id",
    );
    office
        .deliver_and_run(
            CITIZEN,
            &complaint(CITIZEN, "c1@example.net", "Jalan rusak", "Jalan berlubang."),
        )
        .await;
    let to_kadis = nth(&office, KADIS, 1).await;
    let genuine = |id: &str| reply(KADIS, &to_kadis, "aptika", id);
    let with_headers = |top: &str, raw: Vec<u8>| {
        let mut message = top.as_bytes().to_vec();
        message.extend_from_slice(&raw);
        message
    };

    // The trusted server's own result (on top) fails; a pass below it came with the mail.
    let forged = with_headers(
        "Authentication-Results: mx.kaltaraprov.go.id; dkim=none; spf=fail smtp.mailfrom=kaltaraprov.go.id\r\n\
         Received: from attacker.example by mx.kaltaraprov.go.id; Mon, 30 Nov 2026 10:59:00 +0800\r\n\
         Authentication-Results: mx.kaltaraprov.go.id; dkim=pass header.d=kaltaraprov.go.id\r\n",
        genuine("forged-ar"),
    );
    office.submit(KADIS, &forged).await;
    // Two From headers: mail clients show the first, a parser may keep either.
    let two_froms = with_headers(
        "Authentication-Results: mx.kaltaraprov.go.id; dkim=pass header.d=kaltaraprov.go.id\r\n\
         From: Penyerang <penyerang@example.net>\r\n",
        genuine("two-froms"),
    );
    office.submit(KADIS, &two_froms).await;
    office.wait_inbox(2).await;
    office.run_once();
    assert_eq!(
        office.show("ADU-2026-00001")["status"],
        "menunggu_disposisi"
    );
    assert_eq!(office.status()["unauthorized"], 2);

    // The genuine reply, with the trusted server's pass on top, acts.
    let passed = with_headers(
        "Authentication-Results: mx.kaltaraprov.go.id; dkim=pass header.d=kaltaraprov.go.id\r\n",
        genuine("genuine"),
    );
    office.deliver_and_run(KADIS, &passed).await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "menunggu_jawaban");
}

/// The messages in `user`'s INBOX (at least `n`, once arrived) whose subject contains
/// `needle`.
async fn with_subject(office: &Office, user: &str, n: usize, needle: &str) -> Vec<Vec<u8>> {
    office
        .stack
        .wait_for_messages(user, "INBOX", n, std::time::Duration::from_secs(20))
        .await
        .into_iter()
        .filter(|raw| header(raw, "Subject").is_some_and(|s| s.contains(needle)))
        .collect()
}

#[tokio::test]
async fn a_flood_from_one_sender_reaches_the_admin_as_one_digest() {
    const ADMIN: &str = "admin@kaltaraprov.go.id";
    const FLOOD: &str = "banjir@example.net";
    let mut office = Office::start().await;
    office.set_env(
        "PENGADUAN__OFFICE__DISPOSITION_REQUESTS_PER_SENDER_PER_DAY",
        "3",
    );
    let normal = complaint(CITIZEN, "normal@example.net", "Lampu mati", "Lampu mati.");
    office.stack.append(OFFICE, "INBOX", &normal).await;
    for i in 0..8 {
        let raw = complaint(
            FLOOD,
            &format!("flood-{i}@example.net"),
            &format!("Keluhan {i}"),
            "Isi.",
        );
        office.stack.append(OFFICE, "INBOX", &raw).await;
    }
    office.run_once();
    assert_eq!(office.list().len(), 9, "every complaint is registered");
    let disposition_requests =
        "SELECT count(*) FROM outbox WHERE purpose = 'disp' AND status = 'sent'";
    assert_eq!(
        office.count(disposition_requests).await,
        4,
        "three from the flood and the other citizen's"
    );
    let digests = with_subject(&office, ADMIN, 5, "ditahan").await;
    assert_eq!(digests.len(), 1, "one digest for the held complaints");
    let digest = &digests[0];
    let text = pengaduan::mail::parse(digest).body_text;
    for n in 5..=9 {
        assert!(text.contains(&format!("ADU-2026-0000{n}")), "{text}");
    }
    assert!(!text.contains("ADU-2026-00004"), "{text}");
    assert_eq!(
        office
            .count("SELECT count(*) FROM events WHERE action = 'disposition_held'")
            .await,
        5
    );

    // The admin forwards them: each goes to the Kepala Dinas on its own.
    office
        .deliver_and_run(ADMIN, &reply(ADMIN, digest, "TERUSKAN", "forward-1"))
        .await;
    assert_eq!(office.count(disposition_requests).await, 9);
    nth(&office, KADIS, 9).await;

    // Two more from the same sender the same day: held, and closed from their digest.
    for i in 8..10 {
        let raw = complaint(FLOOD, &format!("flood-{i}@example.net"), "Lagi", "Isi.");
        office.stack.append(OFFICE, "INBOX", &raw).await;
    }
    office.run_once();
    let digests = with_subject(&office, ADMIN, 1, "ditahan").await;
    assert_eq!(digests.len(), 2);
    office
        .deliver_and_run(ADMIN, &reply(ADMIN, &digests[1], "TUTUP spam", "close-1"))
        .await;
    let statuses: Vec<String> = office
        .list()
        .iter()
        .map(|c| c["status"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| *s == "ditutup").count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(office.count(disposition_requests).await, 9);
}

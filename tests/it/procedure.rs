//! The office procedure end to end over real servers: a complaint travels from the
//! citizen's email to the approved answer in the citizen's thread, every official acting
//! only by replying from a mail client — and forged or stale replies change nothing.

use std::time::Duration;

use crate::support::office::{OFFICE, Office, header, nth, reply};

const KADIS: &str = "kadis@kaltaraprov.go.id";
const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
const KASUBBAG: &str = "kasubbag@kaltaraprov.go.id";
const ADMIN: &str = "admin@kaltaraprov.go.id";
const CITIZEN: &str = "ahmad.fauzi@example.net";
const WAIT: Duration = Duration::from_secs(20);

/// An Outlook-on-the-web style HTML-only reply with an attachment.
fn html_reply_with_attachment(
    from: &str,
    to_notification: &[u8],
    html_text: &str,
    id: &str,
) -> Vec<u8> {
    let parent = header(to_notification, "Message-ID").expect("Message-ID");
    let subject = header(to_notification, "Subject").expect("Subject");
    format!(
        "From: Kabid Aptika <{from}>\r\nTo: {OFFICE}\r\nSubject: RE: {subject}\r\nMessage-ID: <{id}@outlook.kaltaraprov.go.id>\r\n\
         In-Reply-To: {parent}\r\nReferences: {parent}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><div>{html_text}</div>\r\n\
         <div id=\"appendonsend\"></div><hr><div id=\"divRplyFwdMsg\"><b>Dari:</b> Diskominfo Kaltara<br><b>Dikirim:</b> Senin<br>\
         <b>Kepada:</b> {from}<br><b>Perihal:</b> {subject}</div><div>Isi notifikasi lama</div></body></html>\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"surat-jawaban.pdf\"\r\nContent-Disposition: attachment; filename=\"surat-jawaban.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg==\r\n--b1--\r\n"
    )
    .into_bytes()
}

fn status(office: &Office) -> String {
    office.show("ADU-2026-00001")["status"]
        .as_str()
        .expect("status")
        .to_string()
}

#[tokio::test]
async fn a_complaint_travels_to_the_approved_answer_and_forgeries_change_nothing() {
    let office = Office::start().await;
    let original = office.submit_fixture("04-mixed-pdf-jpeg.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let to_kadis = the_kepala_dinas_gets_the_complaint(&office, &original).await;
    forgeries_and_typos_change_nothing(&office, &to_kadis).await;
    let to_kabid = the_disposition_sends_the_task(&office, &to_kadis, &original).await;
    stale_and_automatic_replies_change_nothing(&office, &to_kadis).await;
    let to_kasubbag = the_draft_goes_for_approval(&office, &to_kabid).await;
    let returned = a_rejection_returns_the_draft(&office, &to_kasubbag).await;
    let draft = "Lubang di Jl. Agatis akan ditambal pada Rabu, 2 Desember 2026.";
    the_corrected_draft_is_approved(&office, &returned, draft).await;
    let answer = the_citizen_gets_exactly_the_approved_text(&office, &original, draft).await;
    show_tells_the_whole_story(&office, draft).await;
    a_message_after_the_answer_goes_to_the_admin(&office, &answer).await;
}

/// The Kepala Dinas gets the complaint with its attachments; the admin is in Cc.
async fn the_kepala_dinas_gets_the_complaint(office: &Office, original: &[u8]) -> Vec<u8> {
    let to_kadis = nth(office, KADIS, 1).await;
    let subject = header(&to_kadis, "Subject").expect("Subject");
    assert!(
        subject.contains("[ADU-2026-00001]") && subject.contains("disposisi"),
        "{subject}"
    );
    let parsed = pengaduan::mail::parse(&to_kadis);
    let files = |inbound: &pengaduan::mail::Inbound| -> Vec<(Option<String>, usize, String)> {
        inbound
            .attachments
            .iter()
            .map(|a| (a.filename.clone(), a.size, a.sha256.clone()))
            .collect()
    };
    assert_eq!(
        files(&parsed),
        files(&pengaduan::mail::parse(original)),
        "the citizen's files travel with the complaint, byte for byte"
    );
    assert_eq!(parsed.attachments.len(), 2);
    // Stored once: the queued notification names both files in the archived complaint.
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'disp' AND json_array_length(splices) = 2")
            .await,
        1
    );
    assert!(
        parsed.body_text.contains("aptika"),
        "the valid division keys are listed"
    );
    assert!(
        !parsed.body_text.contains(CITIZEN),
        "confidential: officials see the name, not the address"
    );
    assert!(
        parsed.body_text.contains("Ahmad Fauzi"),
        "{}",
        parsed.body_text
    );
    assert_eq!(header(&to_kadis, "Cc").as_deref(), Some(ADMIN));
    nth(office, ADMIN, 1).await;
    to_kadis
}

/// A forged approval, another role's token and a mistyped division change nothing.
async fn forgeries_and_typos_change_nothing(office: &Office, to_kadis: &[u8]) {
    let forged = format!(
        "From: {KASUBBAG}\r\nTo: {OFFICE}\r\nSubject: Re: [ADU-2026-00001] setuju\r\nMessage-ID: <forged-1@example.net>\r\n\r\nSETUJU\r\n"
    );
    office.submit(KASUBBAG, forged.as_bytes()).await;
    // The Kasubbag answering the Kepala Dinas's notification (another role's token).
    office
        .submit(
            KASUBBAG,
            &reply(KASUBBAG, to_kadis, "aptika", "wrong-role-1"),
        )
        .await;
    // A mistyped division: not understood, the Kepala Dinas is told the valid keys.
    office
        .submit(
            KADIS,
            &reply(KADIS, to_kadis, "humas tolong dicek", "typo-1"),
        )
        .await;
    office.wait_inbox(3).await;
    office.run_once();
    assert_eq!(status(office), "menunggu_disposisi", "nothing acted");
    assert_eq!(office.status()["unauthorized"], 2);
    let told = nth(office, KADIS, 2).await;
    assert!(
        pengaduan::mail::parse(&told).body_text.contains("humas"),
        "the Kepala Dinas is told what was wrong"
    );
}

/// The disposition, written naturally above the quoted notification.
async fn the_disposition_sends_the_task(
    office: &Office,
    to_kadis: &[u8],
    original: &[u8],
) -> Vec<u8> {
    office
        .deliver_and_run(
            KADIS,
            &reply(
                KADIS,
                to_kadis,
                "Aptika - mohon ditindaklanjuti segera.",
                "disp-1",
            ),
        )
        .await;
    assert_eq!(status(office), "menunggu_jawaban");
    let to_kabid = nth(office, KABID, 1).await;
    let task = pengaduan::mail::parse(&to_kabid);
    assert!(
        task.body_text.contains("mohon ditindaklanjuti segera"),
        "{}",
        task.body_text
    );
    // Parsed back out of the archived complaint: byte for byte the citizen's files.
    let hashes = |files: &[pengaduan::mail::Attachment]| -> Vec<String> {
        files.iter().map(|a| a.sha256.clone()).collect()
    };
    assert_eq!(
        hashes(&task.attachments),
        hashes(&pengaduan::mail::parse(original).attachments)
    );
    assert_eq!(task.attachments.len(), 2);
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'tugas' AND json_array_length(splices) = 2")
            .await,
        1,
        "named in the archived complaint, not copied"
    );
    to_kabid
}

/// A second disposition (stale) and an out-of-office reply change nothing.
async fn stale_and_automatic_replies_change_nothing(office: &Office, to_kadis: &[u8]) {
    office
        .submit(KADIS, &reply(KADIS, to_kadis, "sekretariat", "disp-2"))
        .await;
    // The Kepala Dinas's out-of-office reply never acts.
    let ooo = format!(
        "From: {KADIS}\r\nTo: {OFFICE}\r\nSubject: Otomatis: Tidak di kantor\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <ooo-1@mail.kaltaraprov.go.id>\r\nIn-Reply-To: {}\r\n\r\nSaya sedang dinas luar.\r\n",
        header(to_kadis, "Message-ID").expect("Message-ID")
    );
    office.submit(KADIS, ooo.as_bytes()).await;
    office.wait_inbox(2).await;
    office.run_once();
    assert_eq!(status(office), "menunggu_jawaban");
    let shown = office.show("ADU-2026-00001");
    let dispositions: Vec<_> = shown["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["action"] == "disposition")
        .collect();
    assert_eq!(dispositions.len(), 1);
}

/// The draft: an HTML-only Outlook reply with the answer letter attached.
async fn the_draft_goes_for_approval(office: &Office, to_kabid: &[u8]) -> Vec<u8> {
    office
        .deliver_and_run(
            KABID,
            &html_reply_with_attachment(
                KABID,
                to_kabid,
                "Lubang di Jl. Agatis akan ditambal pekan ini.",
                "draft-1",
            ),
        )
        .await;
    assert_eq!(status(office), "menunggu_persetujuan");
    let to_kasubbag_1 = nth(office, KASUBBAG, 1).await;
    let approval_request = pengaduan::mail::parse(&to_kasubbag_1);
    assert!(
        approval_request
            .body_text
            .contains("akan ditambal pekan ini"),
        "{}",
        approval_request.body_text
    );
    assert!(
        !approval_request.body_text.contains("Isi notifikasi lama"),
        "the quoted block is cut from HTML"
    );
    assert_eq!(approval_request.attachments.len(), 1);
    // The draft's letter, byte for byte, named in the archived reply rather than copied.
    let letter = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode("JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg==")
            .expect("base64")
    };
    let pdf = &approval_request.attachments[0];
    assert_eq!(
        (pdf.filename.as_deref(), pdf.sha256.clone()),
        (
            Some("surat-jawaban.pdf"),
            pengaduan::mail::parse::sha256_hex(&letter)
        )
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'setuju' AND json_array_length(splices) = 1")
            .await,
        1
    );
    to_kasubbag_1
}

/// Rejected with a note: back to the division, next round.
async fn a_rejection_returns_the_draft(office: &Office, to_kasubbag_1: &[u8]) -> Vec<u8> {
    office
        .deliver_and_run(
            KASUBBAG,
            &reply(
                KASUBBAG,
                to_kasubbag_1,
                "TOLAK: sebutkan tanggal pengerjaan.",
                "reject-1",
            ),
        )
        .await;
    assert_eq!(status(office), "menunggu_jawaban");
    let returned = nth(office, KABID, 2).await;
    assert!(
        pengaduan::mail::parse(&returned)
            .body_text
            .contains("sebutkan tanggal pengerjaan")
    );

    // The old approval request replayed after TOLAK: stale, nothing sent to the citizen.
    office
        .deliver_and_run(
            KASUBBAG,
            &reply(KASUBBAG, to_kasubbag_1, "Setuju.", "replay-1"),
        )
        .await;
    assert_eq!(status(office), "menunggu_jawaban");
    assert_eq!(office.outgoing(Some("jawab"), None), 0);
    returned
}

/// The corrected draft, then the approval.
async fn the_corrected_draft_is_approved(office: &Office, returned: &[u8], draft: &str) {
    office
        .deliver_and_run(KABID, &reply(KABID, returned, draft, "draft-2"))
        .await;
    assert_eq!(status(office), "menunggu_persetujuan");
    let to_kasubbag_2 = nth(office, KASUBBAG, 3).await;
    office
        .deliver_and_run(
            KASUBBAG,
            &reply(KASUBBAG, &to_kasubbag_2, "Setuju.", "approve-2"),
        )
        .await;
    assert_eq!(status(office), "selesai");
}

/// The citizen gets exactly the approved text, in their own thread.
async fn the_citizen_gets_exactly_the_approved_text(
    office: &Office,
    original: &[u8],
    draft: &str,
) -> Vec<u8> {
    let answer = nth(office, CITIZEN, 2).await;
    let parent = header(original, "Message-ID").expect("Message-ID");
    assert_eq!(
        header(&answer, "In-Reply-To").as_deref(),
        Some(parent.as_str())
    );
    assert!(
        header(&answer, "Subject")
            .expect("Subject")
            .contains("[ADU-2026-00001]")
    );
    let answered = pengaduan::mail::parse(&answer);
    assert!(answered.body_text.contains(draft), "{}", answered.body_text);
    assert_eq!(
        answered.sender().map(|a| a.to_string()).as_deref(),
        Some(OFFICE)
    );
    let hashes = office
        .text("SELECT text_sha256 FROM decisions WHERE decision = 'setuju'")
        .await;
    assert_eq!(
        hashes,
        [pengaduan::mail::parse::sha256_hex(draft.as_bytes())]
    );
    // The admin has a blind copy; the citizen does not see it.
    assert!(header(&answer, "Bcc").is_none());
    let admin_copies = office
        .stack
        .wait_for_messages(ADMIN, "INBOX", 2, WAIT)
        .await;
    assert!(
        admin_copies
            .iter()
            .any(|m| header(m, "Message-ID") == header(&answer, "Message-ID"))
    );
    answer
}

/// `show` tells the whole story: the disposition sheet, each draft, each decision.
async fn show_tells_the_whole_story(office: &Office, draft: &str) {
    let shown = office.show("ADU-2026-00001");
    assert_eq!(shown["disposition"]["division"], "aptika");
    assert_eq!(shown["disposition"]["by"], KADIS);
    assert_eq!(
        shown["disposition"]["instruction"],
        "mohon ditindaklanjuti segera."
    );
    assert_eq!(shown["drafts"].as_array().expect("drafts").len(), 2);
    assert_eq!(shown["drafts"][1]["text"], draft);
    let decisions: Vec<&str> = shown["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| d["decision"].as_str().expect("decision"))
        .collect();
    assert_eq!(decisions, ["tolak", "setuju"]);
    assert_eq!(
        shown["decisions"][1]["text_sha256"],
        pengaduan::mail::parse::sha256_hex(draft.as_bytes())
    );
    assert_eq!(
        shown["unauthorized"]
            .as_array()
            .expect("unauthorized")
            .len(),
        2
    );

    // Every attempt is on record; the admin was told of each unauthorized one.
    assert_eq!(office.status()["unauthorized"], 2);
    let reports = office
        .count("SELECT count(*) FROM messages WHERE direction = 'out' AND subject LIKE '%Balasan tidak sah%'")
        .await;
    assert_eq!(reports, 2);
    assert_eq!(office.received("auto_reply"), 1);
    let stale = office
        .count("SELECT count(*) FROM events WHERE action = 'stale_reply'")
        .await;
    assert_eq!(stale, 2, "the second disposition and the replayed approval");
}

/// The citizen writes again after the answer: recorded, and the admin is told.
async fn a_message_after_the_answer_goes_to_the_admin(office: &Office, answer: &[u8]) {
    let thanks = format!(
        "From: {CITIZEN}\r\nTo: {OFFICE}\r\nSubject: Re: jawaban [ADU-2026-00001]\r\nMessage-ID: <thanks-1@example.net>\r\n\
         In-Reply-To: {}\r\n\r\nTerima kasih, tetapi lubang di sebelahnya belum.\r\n",
        header(answer, "Message-ID").expect("Message-ID")
    );
    office.deliver_and_run(CITIZEN, thanks.as_bytes()).await;
    assert_eq!(status(office), "selesai");
    let admin = office
        .stack
        .wait_for_messages(ADMIN, "INBOX", 5, WAIT)
        .await;
    assert!(
        admin.iter().any(|m| pengaduan::mail::parse(m)
            .body_text
            .contains("lubang di sebelahnya")),
        "the admin is told of a message after the answer"
    );
}

#[tokio::test]
async fn the_admin_closes_a_complaint_by_replying_tutup() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    // The admin is in Cc of the Kepala Dinas's notification and replies to it.
    let copy = nth(&office, ADMIN, 1).await;
    office
        .deliver_and_run(
            ADMIN,
            &reply(
                ADMIN,
                &copy,
                "TUTUP - duplikat dari laporan sebelumnya",
                "close-1",
            ),
        )
        .await;
    let shown = office.show("ADU-2026-00001");
    assert_eq!(shown["status"], "ditutup");
    assert!(
        shown["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "closed" && e["detail"] == "duplikat dari laporan sebelumnya")
    );
    // A disposition arriving afterwards changes nothing.
    let to_kadis = nth(&office, KADIS, 1).await;
    office
        .deliver_and_run(KADIS, &reply(KADIS, &to_kadis, "aptika", "late-1"))
        .await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "ditutup");
    assert_eq!(office.count("SELECT count(*) FROM dispositions").await, 0);
}

#[tokio::test]
async fn with_a_trusted_authserv_id_only_authenticated_replies_act() {
    let mut office = Office::start().await;
    office.set_env(
        "PENGADUAN__SECURITY__TRUSTED_AUTHSERV_ID",
        "mx.kaltaraprov.go.id",
    );
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let to_kadis = nth(&office, KADIS, 1).await;
    // Right From, right token, but no passing DKIM/SPF from the trusted server.
    let unauthenticated = reply(KADIS, &to_kadis, "aptika", "auth-1");
    let mut spoofed =
        b"Authentication-Results: mx.evil.example; dkim=pass header.d=kaltaraprov.go.id\r\n"
            .to_vec();
    spoofed.extend_from_slice(&reply(KADIS, &to_kadis, "aptika", "auth-2"));
    office.submit(KADIS, &unauthenticated).await;
    office.submit(KADIS, &spoofed).await;
    office.wait_inbox(2).await;
    office.run_once();
    assert_eq!(
        office.show("ADU-2026-00001")["status"],
        "menunggu_disposisi"
    );
    assert_eq!(office.status()["unauthorized"], 2);

    let mut authenticated = b"Authentication-Results: mx.kaltaraprov.go.id;\r\n\tdkim=pass header.d=kaltaraprov.go.id header.s=sel1;\r\n\tspf=pass smtp.mailfrom=kadis@kaltaraprov.go.id\r\n".to_vec();
    authenticated.extend_from_slice(&reply(KADIS, &to_kadis, "aptika", "auth-3"));
    office.deliver_and_run(KADIS, &authenticated).await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "menunggu_jawaban");
}

#[tokio::test]
async fn an_official_who_reports_a_complaint_follows_it_up_as_a_citizen() {
    let office = Office::start().await;
    let complaint = format!(
        "From: {KABID}\r\nTo: {OFFICE}\r\nSubject: Listrik kantor UPT padam\r\nMessage-ID: <own-1@kaltaraprov.go.id>\r\n\r\nSudah dua hari padam.\r\n"
    );
    office.deliver_and_run(KABID, complaint.as_bytes()).await;
    let ack = office
        .stack
        .wait_for_messages(KABID, "INBOX", 1, WAIT)
        .await
        .into_iter()
        .find(|m| header(m, "Subject").is_some_and(|s| s.starts_with("Re: Listrik")))
        .expect("the acknowledgment");
    let more = format!(
        "From: {KABID}\r\nTo: {OFFICE}\r\nSubject: Re: Listrik kantor UPT padam [ADU-2026-00001]\r\n\
         Message-ID: <own-2@kaltaraprov.go.id>\r\nIn-Reply-To: {}\r\n\r\nSekarang genset juga mati.\r\n",
        header(&ack, "Message-ID").expect("Message-ID")
    );
    office.deliver_and_run(KABID, more.as_bytes()).await;
    assert_eq!(office.status()["unauthorized"], 0);
    assert_eq!(office.received("follow_up"), 1);
}

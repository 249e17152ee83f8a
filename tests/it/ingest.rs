//! Ingest end to end: citizens' mail goes through a real Postfix into a real Dovecot; the
//! real binary records it and acknowledges it; acknowledgments are read back over IMAP.

use std::time::Duration;

use crate::support::office::{OFFICE, Office, Wire, fixture, header};
use serde_json::Value;

pub(crate) fn numbers(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|c| c["number"].as_str().expect("number").to_string())
        .collect()
}

fn by_subject<'a>(list: &'a [Value], needle: &str) -> &'a Value {
    list.iter()
        .find(|c| c["subject"].as_str().is_some_and(|s| s.contains(needle)))
        .unwrap_or_else(|| panic!("no complaint with subject containing {needle:?} in {list:#?}"))
}

/// The worker's acknowledgment in a citizen's INBOX, checked for threading and content.
pub(crate) async fn acknowledgment(
    office: &Office,
    citizen: &str,
    original: &[u8],
    number: &str,
) -> Vec<u8> {
    let messages = office
        .stack
        .wait_for_messages(citizen, "INBOX", 1, Duration::from_secs(20))
        .await;
    assert_eq!(
        messages.len(),
        1,
        "{citizen} must get exactly one acknowledgment"
    );
    let ack = messages.into_iter().next().expect("one message");
    let subject = header(&ack, "Subject").expect("Subject");
    assert!(
        subject.contains(&format!("[{number}]")),
        "subject {subject:?} lacks [{number}]"
    );
    assert!(subject.starts_with("Re:"), "subject {subject:?}");
    assert_eq!(
        header(&ack, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let message_id = header(&ack, "Message-ID").expect("Message-ID");
    assert!(message_id.ends_with("@kaltaraprov.go.id>"), "{message_id}");
    assert!(message_id.contains(number), "{message_id}");
    if let Some(parent) = header(original, "Message-ID") {
        assert_eq!(
            header(&ack, "In-Reply-To").as_deref(),
            Some(parent.as_str())
        );
        assert!(
            header(&ack, "References")
                .expect("References")
                .contains(&parent)
        );
    } else {
        assert_eq!(header(&ack, "In-Reply-To"), None);
    }
    let parsed = pengaduan::mail::parse(&ack);
    let body = &parsed.body_text;
    assert!(body.contains(number), "{body}");
    assert!(body.contains("WITA"), "deadline in WITA: {body}");
    assert!(body.contains("KTP"), "requirements: {body}");
    assert!(
        body.contains("tidak dipungut biaya"),
        "free of charge: {body}"
    );
    assert_eq!(
        parsed.sender().map(|a| a.to_string()).as_deref(),
        Some(OFFICE)
    );
    ack
}

#[tokio::test]
async fn complaints_are_registered_and_acknowledged_in_their_thread() {
    let office = Office::start().await;
    let cases = [
        "01-plain-text-utf8.eml",
        "02-html-only.eml",
        "03-alternative-prefers-text.eml",
        "04-mixed-pdf-jpeg.eml",
        "07-rfc2047-headers-rfc2231-filename.eml",
        "08-latin1-quoted-printable.eml",
        "09-windows1252-8bit.eml",
        "10-no-message-id.eml",
    ];
    let mut sent = Vec::new();
    for name in cases {
        sent.push(office.submit_fixture(name).await);
    }
    office.wait_inbox(cases.len()).await;
    office.run_once();

    let list = office.list();
    assert_eq!(list.len(), cases.len(), "{list:#?}");
    let mut expected: Vec<String> = (1..=cases.len())
        .map(|n| format!("ADU-2026-{n:05}"))
        .collect();
    expected.sort();
    let mut got = numbers(&list);
    got.sort();
    assert_eq!(got, expected, "numbers are a gapless per-year sequence");
    for c in &list {
        assert_eq!(c["status"], "menunggu_disposisi");
        assert_eq!(c["channel"], "email");
        let received =
            chrono::DateTime::parse_from_rfc3339(c["received_at"].as_str().expect("received_at"))
                .expect("RFC 3339");
        let deadline =
            chrono::DateTime::parse_from_rfc3339(c["deadline_at"].as_str().expect("deadline_at"))
                .expect("RFC 3339");
        assert_eq!(deadline - received, chrono::Duration::hours(72));
    }

    // Parsing, as stored: text/plain preferred, HTML converted, charsets decoded.
    let alternative = office.show(
        by_subject(&list, "Drainase")["number"]
            .as_str()
            .expect("number"),
    );
    let body = alternative["messages"][0]["body_text"]
        .as_str()
        .expect("body");
    assert!(body.contains("Jl. Mulawarman"), "{body}");
    let html = office.show(
        by_subject(&list, "bansos")["number"]
            .as_str()
            .expect("number"),
    );
    let body = html["messages"][0]["body_text"].as_str().expect("body");
    assert!(
        !body.contains("<p>") && body.contains("Yth. Admin"),
        "{body}"
    );
    let latin1 = office.show(
        by_subject(&list, "Jenderal Sudirman")["number"]
            .as_str()
            .expect("number"),
    );
    assert!(
        latin1["messages"][0]["body_text"]
            .as_str()
            .expect("body")
            .contains("Café Sélera")
    );
    let cp1252 = office.show(
        by_subject(&list, "Sebatik")["number"]
            .as_str()
            .expect("number"),
    );
    let body = cp1252["messages"][0]["body_text"].as_str().expect("body");
    assert!(body.contains("“P-Care”") && body.contains("€120"), "{body}");
    let encoded = by_subject(&list, "PPID");
    assert_eq!(encoded["reporter_name"], "André Pangaribuan");
    assert!(encoded["subject"].as_str().expect("subject").contains("😞"));
    let attachments = by_subject(&list, "Agatis");
    assert_eq!(attachments["attachment_count"], 2);
    let shown = office.show(attachments["number"].as_str().expect("number"));
    let files = &shown["messages"][0]["attachments"];
    assert_eq!(files[0]["filename"], "Surat_Pengaduan_Jalan_Agatis.pdf");
    assert_eq!(files[0]["content_type"], "application/pdf");
    assert_eq!(files[1]["content_type"], "image/jpeg");
    // A complaint's messages leave in the order they were queued, even over parallel
    // SMTP sessions.
    let events: Vec<&str> = shown["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        events,
        [
            "registered",
            "ack_queued",
            "notified",
            "ack_sent",
            "disp_sent"
        ]
    );

    // Every citizen gets exactly one acknowledgment, threaded under their message.
    for raw in &sent {
        let citizen = crate::support::office::envelope_sender(raw);
        let parsed = pengaduan::mail::parse(raw);
        let complaint = by_subject(&list, &parsed.subject);
        acknowledgment(
            &office,
            &citizen,
            raw,
            complaint["number"].as_str().expect("number"),
        )
        .await;
    }

    // The inbox is empty; every message was moved, none deleted.
    assert!(office.stack.messages(OFFICE, "INBOX").await.is_empty());
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Diproses")
            .await
            .len(),
        cases.len()
    );
}

#[tokio::test]
async fn machines_and_junk_are_recorded_never_answered() {
    let office = Office::start().await;
    let machine = [
        "14-auto-reply-out-of-office.eml",
        "15-bulk-newsletter.eml",
        "16-x-autoreply.eml",
        "22-postmaster-plain-bounce.eml",
    ];
    let junk = ["11-multipart-without-boundary.eml", "13-no-from.eml"];
    for name in machine.iter().chain(&junk) {
        let raw = fixture(name);
        // Junk without a usable sender still travels with some envelope sender.
        let from = crate::support::office::envelope_sender(&raw);
        let from = if from.is_empty() {
            "someone@example.net".to_string()
        } else {
            from
        };
        office.submit(&from, &raw).await;
    }
    // A delivery status notification travels with the null return path.
    office.submit("", &fixture("17-bounce-dsn.eml")).await;
    // The worker's own mail coming back.
    let own = format!(
        "From: Diskominfo Kaltara <{OFFICE}>\r\nTo: {OFFICE}\r\nSubject: Re: x\r\nMessage-ID: <own-1@kaltaraprov.go.id>\r\n\r\nhalo\r\n"
    );
    office.submit(OFFICE, own.as_bytes()).await;
    // Bytes that are not an email at all cannot travel through SMTP (the server adds a
    // Received header); a broken client can still APPEND them.
    office
        .stack
        .append(OFFICE, "INBOX", &fixture("12-garbage-not-email.eml"))
        .await;
    let total = machine.len() + junk.len() + 3;
    office.wait_inbox(total).await;
    office.run_once();

    assert!(
        office.list().is_empty(),
        "no complaint may come from machines or junk"
    );
    assert_eq!(office.outgoing(None, None), 0, "nothing is answered");
    assert_eq!(office.received("auto_reply"), 4);
    assert_eq!(office.received("bounce"), 2);
    let reasons = office
        .text("SELECT quarantine_reason FROM messages WHERE kind = 'quarantined' ORDER BY id")
        .await;
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("without boundary")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("not an email")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("From")), "{reasons:?}");
    assert_eq!(
        office
            .count("SELECT count(*) FROM events WHERE action = 'quarantined'")
            .await,
        3
    );

    assert!(office.stack.messages(OFFICE, "INBOX").await.is_empty());
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Karantina")
            .await
            .len(),
        3
    );
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Diproses")
            .await
            .len(),
        total - 3
    );
}

#[tokio::test]
async fn follow_ups_join_their_complaint_without_a_new_acknowledgment() {
    let office = Office::start().await;
    let citizen = "budi.santoso@gmail.com";
    let original = office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let ack = acknowledgment(&office, citizen, &original, "ADU-2026-00001").await;
    let ack_id = header(&ack, "Message-ID").expect("Message-ID");

    // A reply to the acknowledgment, as a mail client makes it.
    let reply = format!(
        "From: Budi Santoso <{citizen}>\r\nTo: {OFFICE}\r\nSubject: Re: Lampu jalan mati [ADU-2026-00001]\r\n\
         Message-ID: <reply-1@mail.gmail.com>\r\nIn-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n\r\n\
         Lampunya masih mati sampai malam ini.\r\n"
    );
    office.submit(citizen, reply.as_bytes()).await;
    // Webmail that drops the threading headers: the number in the subject, same sender.
    let subject_only = format!(
        "From: {citizen}\r\nTo: {OFFICE}\r\nSubject: Tambahan foto [ADU-2026-00001]\r\nMessage-ID: <reply-2@mail.gmail.com>\r\n\r\nFoto menyusul.\r\n"
    );
    office.submit(citizen, subject_only.as_bytes()).await;
    // The same number in the subject from someone else is not enough: a new complaint.
    let stranger = format!(
        "From: orang.lain@example.net\r\nTo: {OFFICE}\r\nSubject: Soal [ADU-2026-00001]\r\nMessage-ID: <other-1@example.net>\r\n\r\nSaya juga melihat lampu mati.\r\n"
    );
    office
        .submit("orang.lain@example.net", stranger.as_bytes())
        .await;
    office.wait_inbox(3).await;
    office.run_once();

    let list = office.list();
    assert_eq!(numbers(&list), ["ADU-2026-00001", "ADU-2026-00002"]);
    let first = office.show("ADU-2026-00001");
    let kinds: Vec<&str> = first["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        [
            "complaint",
            "ack",
            "disp",
            "follow_up",
            "lanjut",
            "follow_up",
            "lanjut"
        ]
    );
    assert_eq!(first["message_count"], 7);
    // Each follow-up is forwarded to whoever holds the complaint: here the Kepala Dinas.
    let kadis = office
        .stack
        .wait_for_messages(
            "kadis@kaltaraprov.go.id",
            "INBOX",
            4,
            Duration::from_secs(20),
        )
        .await;
    // Two disposition requests (ADU-2026-00001 and the stranger's ADU-2026-00002) and the
    // two forwarded follow-ups, which reach the office INBOX through Postfix in either
    // order.
    let forwarded: Vec<_> = kadis
        .iter()
        .map(|raw| pengaduan::mail::parse(raw))
        .filter(|m| m.subject.contains("Tambahan dari pelapor"))
        .collect();
    assert_eq!(forwarded.len(), 2, "{forwarded:?}");
    assert!(
        forwarded
            .iter()
            .any(|f| f.body_text.contains("Lampunya masih mati")),
        "{forwarded:?}"
    );
    assert!(
        forwarded
            .iter()
            .any(|f| f.body_text.contains("Foto menyusul")),
        "{forwarded:?}"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE first_recipient = 'budi.santoso@gmail.com'")
            .await,
        1
    );
    assert_eq!(
        office.stack.messages(citizen, "INBOX").await.len(),
        1,
        "no second acknowledgment"
    );
    assert_eq!(
        office.show("ADU-2026-00002")["reporter_email"],
        "orang.lain@example.net"
    );
}

#[tokio::test]
async fn a_repeated_run_changes_nothing() {
    let office = Office::start().await;
    let raw = office.submit_fixture("04-mixed-pdf-jpeg.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let before = office.show("ADU-2026-00001");
    office.run_once();
    office.run_once();
    assert_eq!(office.show("ADU-2026-00001"), before);
    assert_eq!(office.received_in_all(), 1);
    assert_eq!(office.outgoing(Some("ack"), None), 1);
    let citizen = crate::support::office::envelope_sender(&raw);
    acknowledgment(&office, &citizen, &raw, "ADU-2026-00001").await;

    // The same message delivered again (a second copy, a new UID) is recognised.
    office.deliver_and_run(&citizen, &raw).await;
    assert_eq!(office.list().len(), 1);
    assert_eq!(office.count("SELECT count(*) FROM imap_receipts").await, 2);
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Diproses")
            .await
            .len(),
        2
    );
    assert_eq!(office.stack.messages(&citizen, "INBOX").await.len(), 1);
}

#[tokio::test]
async fn acknowledgments_are_rate_limited_per_sender() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__ACKNOWLEDGMENT__MAX_PER_SENDER_PER_DAY", "2");
    for n in 1..=3 {
        let raw = format!(
            "From: warga@example.net\r\nTo: {OFFICE}\r\nSubject: Pengaduan ke-{n}\r\nMessage-ID: <rate-{n}@example.net>\r\n\r\nIsi {n}.\r\n"
        );
        office.submit("warga@example.net", raw.as_bytes()).await;
    }
    office.wait_inbox(3).await;
    office.run_once();
    assert_eq!(office.list().len(), 3, "every complaint is registered");
    assert_eq!(office.outgoing(Some("ack"), None), 2);
    assert_eq!(
        office
            .count("SELECT count(*) FROM events WHERE action = 'ack_suppressed'")
            .await,
        1
    );
}

#[tokio::test]
async fn check_reports_one_line_per_item() {
    let mut office = Office::start_with(Wire::StartTlsSubmission).await;
    let output = office.output(&["check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for item in [
        "configuration",
        "database",
        "archive",
        "imap",
        "smtp",
        "template",
        "pages",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(item)),
            "{item}: {stdout}"
        );
    }
    assert!(
        !stdout.contains("0123456789abcdef"),
        "the token secret is not shown: {stdout}"
    );

    office.set_env("PENGADUAN__SMTP__PASSWORD", "wrong");
    office.set_env("PENGADUAN__IMAP__MAILBOX", "Tidak-Ada");
    let output = office.output(&["check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failures.len(), 2, "{stdout}");
    assert!(failures.iter().any(|l| l.contains("smtp")), "{stdout}");
    assert!(
        failures
            .iter()
            .any(|l| l.contains("Tidak-Ada") && l.contains("imap.mailbox")),
        "{stdout}"
    );
}

//! Sending: acknowledgments wait for an SMTP server that is down, 4xx and 5xx answers
//! are retried or parked, mail goes over STARTTLS submission and implicit TLS, sent mail
//! is copied to the sent mailbox once, and a cycle sends at most `worker.send_limit`.

use crate::ingest::acknowledgment;
use crate::support::office::{OFFICE, Office, Wire, header};

#[tokio::test]
async fn an_acknowledgment_waits_for_the_smtp_server_to_come_back() {
    let office = Office::start().await;
    let raw = office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.stack.stop_smtp();
    let output = office.run_once();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(
        logs.contains("unreachable"),
        "the cycle says why nothing was sent: {logs}"
    );
    assert_eq!(office.list().len(), 1, "ingest does not depend on SMTP");
    assert_eq!(office.outgoing(Some("ack"), Some("pending")), 1);

    office.stack.start_smtp();
    office.run_once();
    assert_eq!(office.outgoing(Some("ack"), Some("sent")), 1);
    acknowledgment(&office, "budi.santoso@gmail.com", &raw, "ADU-2026-00001").await;
}

#[tokio::test]
async fn smtp_failures_are_retried_or_parked() {
    let office = Office::start().await;
    for local in ["tempfail-warga", "reject-warga"] {
        let raw = format!(
            "From: {local}@example.net\r\nTo: {OFFICE}\r\nSubject: Pengaduan {local}\r\nMessage-ID: <{local}@example.net>\r\n\r\nJalan rusak.\r\n"
        );
        office
            .submit(&format!("{local}@example.net"), raw.as_bytes())
            .await;
    }
    office.wait_inbox(2).await;
    office.run_once();
    assert_eq!(office.list().len(), 2);
    let transient = office
        .text("SELECT status || ' ' || attempts || ' ' || last_error FROM outbox WHERE first_recipient LIKE 'tempfail-%'")
        .await;
    assert!(transient[0].starts_with("pending 1 "), "{transient:?}");
    assert!(transient[0].contains("450"), "{transient:?}");
    let due_later = office
        .count("SELECT count(*) FROM outbox WHERE first_recipient LIKE 'tempfail-%' AND next_attempt_at > created_at")
        .await;
    assert_eq!(
        due_later, 1,
        "a transient failure is retried later, with backoff"
    );
    let permanent = office
        .text(
            "SELECT status || ' ' || last_error FROM outbox WHERE first_recipient LIKE 'reject-%'",
        )
        .await;
    assert!(permanent[0].starts_with("failed "), "{permanent:?}");
    assert!(
        permanent[0].contains("554"),
        "the server's reply is kept: {permanent:?}"
    );
    let rejected = office
        .list()
        .into_iter()
        .find(|c| c["reporter_email"] == "reject-warga@example.net")
        .expect("complaint");
    let events = office.show(rejected["number"].as_str().expect("number"))["events"].clone();
    assert!(
        events
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "ack_failed"),
        "{events:#?}"
    );

    // A refusal ends only its own transaction: the notifications queued around the
    // refused acknowledgments went out in the same pass.
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose != 'ack' AND status = 'sent'")
            .await,
        2
    );

    // A later run does not retry before the backoff has passed, nor retry the failed one.
    office.run_once();
    assert_eq!(
        office
            .count("SELECT sum(attempts) FROM outbox WHERE purpose = 'ack'")
            .await,
        2
    );
}

#[tokio::test]
async fn mail_is_sent_over_starttls_submission_and_read_over_imaps() {
    let office = Office::start_with(Wire::StartTlsSubmission).await;
    let raw = office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    acknowledgment(&office, "budi.santoso@gmail.com", &raw, "ADU-2026-00001").await;
}

#[tokio::test]
async fn mail_is_sent_over_implicit_tls() {
    let office = Office::start_with(Wire::ImplicitTls).await;
    let raw = office
        .submit_fixture("03-alternative-prefers-text.eml")
        .await;
    office.wait_inbox(1).await;
    office.run_once();
    let citizen = crate::support::office::envelope_sender(&raw);
    acknowledgment(&office, &citizen, &raw, "ADU-2026-00001").await;
}

#[tokio::test]
async fn sent_mail_is_copied_to_the_sent_mailbox_once() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__IMAP__SENT_MAILBOX", "Terkirim");
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    office.run_once();
    let sent = office.stack.messages(OFFICE, "Terkirim").await;
    let subjects: Vec<String> = sent
        .iter()
        .map(|m| header(m, "Subject").expect("Subject"))
        .collect();
    assert_eq!(
        sent.len(),
        2,
        "the acknowledgment and the Kepala Dinas's notification: {subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.starts_with("Re: Lampu jalan mati [ADU-2026-00001]")),
        "{subjects:?}"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE copied_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_cycle_sends_at_most_the_send_limit() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__WORKER__SEND_LIMIT", "3");
    for n in 1..=3 {
        let raw = format!(
            "From: warga{n}@example.net\r\nTo: {OFFICE}\r\nSubject: Pengaduan {n}\r\nMessage-ID: <limit-{n}@example.net>\r\n\r\nIsi.\r\n"
        );
        office
            .submit(&format!("warga{n}@example.net"), raw.as_bytes())
            .await;
    }
    office.wait_inbox(3).await;
    office.run_once();
    // Three complaints queue six messages (acknowledgment + Kepala Dinas each).
    assert_eq!(office.outgoing(None, Some("sent")), 3);
    assert_eq!(office.outgoing(None, Some("pending")), 3);
    office.run_once();
    assert_eq!(office.outgoing(None, Some("sent")), 6);
}

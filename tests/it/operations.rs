//! What an operator does without SQL: inspect and retry quarantined messages, inspect and
//! re-queue outgoing mail, and back up the live database.

use std::time::Duration;

use crate::support::office::{OFFICE, Office, fixture};

#[tokio::test]
async fn a_quarantined_message_is_inspected_and_put_back() {
    let office = Office::start().await;
    office
        .stack
        .append(OFFICE, "INBOX", &fixture("13-no-from.eml"))
        .await;
    office.run_once();
    let list = office.output(&["quarantine", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    assert_eq!(list.as_array().expect("array").len(), 1);
    assert_eq!(list[0]["reason"], "no usable From address");
    let id = list[0]["id"].as_i64().expect("id").to_string();

    let shown = office.output(&["quarantine", "show", &id, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!(shown["kind"], "quarantined");
    assert!(
        shown["body_text"]
            .as_str()
            .expect("body")
            .contains("Mal Pelayanan Publik")
    );

    let retry = office.output(&["quarantine", "retry", &id]);
    assert!(
        retry.status.success(),
        "{}",
        String::from_utf8_lossy(&retry.stderr)
    );
    assert_eq!(
        office.stack.messages(OFFICE, "INBOX").await.len(),
        1,
        "back in the mailbox"
    );
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Karantina")
            .await
            .len(),
        1,
        "the evidence stays"
    );
    // Processed afresh (it still has no sender, so it is quarantined again, as a new record).
    office.run_once();
    assert_eq!(office.received("quarantined"), 1);
    assert_eq!(office.received("retried"), 1);
    assert!(office.stack.messages(OFFICE, "INBOX").await.is_empty());
    // A second retry of the old record is refused with a clear line.
    let again = office.output(&["quarantine", "retry", &id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no quarantined message"));
}

#[tokio::test]
async fn uncertain_mail_is_requeued_by_the_operator_and_sent_once() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    // Killed after claiming the acknowledgment: parked as uncertain by the next run.
    office.kill_at("sending");
    office.run_once();
    let listed = office.output(&["outbox", "list", "--status", "uncertain", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    assert_eq!(listed.as_array().expect("array").len(), 1);
    assert_eq!(listed[0]["purpose"], "ack");
    assert_eq!(listed[0]["to"], "budi.santoso@gmail.com");
    let id = listed[0]["id"].as_i64().expect("id").to_string();

    let retry = office.output(&["outbox", "retry", &id]);
    assert!(
        retry.status.success(),
        "{}",
        String::from_utf8_lossy(&retry.stderr)
    );
    office.run_once();
    let acks = office
        .stack
        .wait_for_messages(
            "budi.santoso@gmail.com",
            "INBOX",
            1,
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(acks.len(), 1);
    assert_eq!(
        office
            .count(&format!(
                "SELECT count(*) FROM outbox WHERE id = {id} AND status = 'sent'"
            ))
            .await,
        1
    );
    let refused = office.output(&["outbox", "retry", &id]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "a sent message is never re-queued"
    );
}

#[tokio::test]
async fn a_backup_is_a_consistent_copy() {
    let office = Office::start().await;
    office.submit_fixture("04-mixed-pdf-jpeg.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let path = office.dir.path().join("backup.db");
    let output = office.output(&["backup", path.to_str().expect("utf-8")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let restored = office
        .command(&["show", "ADU-2026-00001", "--json"])
        .env(
            "PENGADUAN__DATABASE__URL",
            format!("sqlite://{}", path.display()),
        )
        .output()
        .expect("run pengaduan");
    let shown: serde_json::Value = serde_json::from_slice(&restored.stdout).expect("JSON");
    assert_eq!(shown["attachment_count"], 2);
    assert_eq!(
        shown["events"].as_array().expect("events").len(),
        office.show("ADU-2026-00001")["events"]
            .as_array()
            .expect("events")
            .len()
    );
    // The archive comes with it: every stored message's bytes, whole.
    let stored = crate::support::office::texts_in(&path, "SELECT sha256 FROM blobs").await;
    assert!(
        stored.len() >= 3,
        "the complaint and what was sent: {stored:?}"
    );
    for sha256 in &stored {
        assert!(
            crate::support::office::archived_beside(&path, sha256)
                .await
                .is_some(),
            "{sha256} is in the backup's archive"
        );
    }
    let again = office.output(&["backup", path.to_str().expect("utf-8")]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "an existing file is never overwritten"
    );
}

#[tokio::test]
async fn status_and_metrics_report_the_last_cycle() {
    let office = Office::start().await;
    let never = office.output(&["status"]);
    assert_eq!(
        never.status.code(),
        Some(1),
        "no successful cycle yet: stale"
    );
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office
        .stack
        .append(OFFICE, "INBOX", &fixture("12-garbage-not-email.eml"))
        .await;
    office.wait_inbox(2).await;
    let metrics = office.dir.path().join("pengaduan.prom");
    let run = office.output(&[
        "run",
        "--once",
        "--metrics-file",
        metrics.to_str().expect("utf-8"),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let status = office.output(&["status", "--json"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(status["stale"], false);
    assert_eq!(status["last_cycle"]["fetched"], 2);
    assert_eq!(status["last_cycle"]["complaints"], 1);
    assert_eq!(status["quarantined"], 1);
    assert_eq!(status["open_complaints"], 1);
    assert_eq!(status["outbox"]["pending"], 0);

    let text = std::fs::read_to_string(&metrics).expect("metrics written");
    assert!(
        text.contains("pengaduan_messages_ingested_total{kind=\"complaint\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("pengaduan_quarantined_total 1\n"), "{text}");
    assert!(
        text.contains("pengaduan_mail_sent_total 2\n"),
        "the acknowledgment and the disposition request: {text}"
    );
    assert!(
        text.contains("pengaduan_complaints{status=\"menunggu_disposisi\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("pengaduan_cycle_duration_seconds_count 1\n"),
        "{text}"
    );

    // Much later with no cycle in between, the probe fails.
    let later = office
        .command(&["status"])
        .env(
            "PENGADUAN_NOW",
            pengaduan::clock::rfc3339(chrono::Utc::now() + chrono::Duration::hours(1)),
        )
        .output()
        .expect("run pengaduan");
    assert_eq!(later.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&later.stdout).contains("STALE"));
}

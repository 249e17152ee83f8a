//! A bounced message is not a delivered one: the real Postfix accepts mail for a
//! `bounce-*` recipient, then returns a delivery status notification to the office; the
//! worker ties it to its outbox row and complaint and tells the admin.

use std::time::Duration;

use serde_json::Value;

use crate::support::office::{OFFICE, Office, header, nth, reply};

const CITIZEN: &str = "bounce-warga@example.net";
const KADIS: &str = "kadis@kaltaraprov.go.id";
const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
const KASUBBAG: &str = "kasubbag@kaltaraprov.go.id";
const ADMIN: &str = "admin@kaltaraprov.go.id";
const WAIT: Duration = Duration::from_secs(20);

fn outbox(office: &Office) -> Vec<Value> {
    let output = office.output(&["outbox", "list", "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("outbox list --json prints JSON")
}

fn row<'a>(rows: &'a [Value], purpose: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no {purpose} row in {rows:#?}"))
}

/// The admin's messages whose subject contains `needle`, once `n` of them arrived.
async fn admin_notices(office: &Office, needle: &str, n: usize) -> Vec<Vec<u8>> {
    let start = std::time::Instant::now();
    loop {
        let found: Vec<Vec<u8>> = office
            .stack
            .messages(ADMIN, "INBOX")
            .await
            .into_iter()
            .filter(|m| header(m, "Subject").is_some_and(|s| s.contains(needle)))
            .collect();
        if found.len() >= n || start.elapsed() > WAIT {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_postfix_dsn_is_tied_to_its_message_and_a_bounced_answer_reaches_the_admin() {
    let office = Office::start().await;
    let complaint = format!(
        "From: Warga <{CITIZEN}>\r\nTo: {OFFICE}\r\nSubject: Jalan rusak\r\nMessage-ID: <c1@example.net>\r\n\
         Date: Tue, 01 Dec 2026 08:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Jalan di depan rumah saya rusak parah.\r\n"
    );
    office.deliver_and_run(CITIZEN, complaint.as_bytes()).await;

    // The acknowledgment was accepted, then bounced: Postfix's DSN comes to the office.
    office.wait_inbox(1).await;
    office.run_once();
    let rows = outbox(&office);
    let ack = row(&rows, "ack");
    assert_eq!(ack["status"], "bounced", "{ack:#?}");
    let reason = ack["bounce_reason"].as_str().expect("bounce_reason");
    assert!(reason.contains("5.1.1"), "{reason}");
    assert!(ack["bounced_at"].is_string());
    let shown = office.show("ADU-2026-00001");
    assert_eq!(shown["bounced"].as_array().expect("bounced").len(), 1);
    assert_eq!(shown["bounced"][0]["purpose"], "ack");
    let notices = admin_notices(&office, "Email tidak sampai", 1).await;
    assert_eq!(notices.len(), 1);
    let status = office.output(&["status", "--json"]);
    let status: Value = serde_json::from_slice(&status.stdout).expect("status --json");
    assert_eq!(status["outbox"]["bounced"], 1);
    assert_eq!(office.list().len(), 1, "the DSN is no complaint");

    // The answer bounces too: the complaint is selesai, but the admin is asked to act.
    let to_kadis = nth(&office, KADIS, 1).await;
    office
        .deliver_and_run(KADIS, &reply(KADIS, &to_kadis, "aptika", "d1"))
        .await;
    let task = nth(&office, KABID, 1).await;
    let draft = "Jalan akan diperbaiki minggu depan.";
    office
        .deliver_and_run(KABID, &reply(KABID, &task, draft, "k1"))
        .await;
    let approval = nth(&office, KASUBBAG, 1).await;
    office
        .deliver_and_run(KASUBBAG, &reply(KASUBBAG, &approval, "SETUJU", "s1"))
        .await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "selesai");
    office.wait_inbox(1).await;
    office.run_once();
    assert_eq!(row(&outbox(&office), "jawab")["status"], "bounced");
    let urgent = admin_notices(&office, "PERLU TINDAKAN", 1).await;
    assert_eq!(urgent.len(), 1);
    let body = pengaduan::mail::parse(&urgent[0]).body_text;
    assert!(body.contains("BELUM menerima jawabannya"), "{body}");
    let shown = office.show("ADU-2026-00001");
    assert!(
        shown["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "jawab_bounced")
    );
    let metrics = office.output(&["run", "--once", "--metrics-file", "metrics.prom"]);
    assert!(metrics.status.success());
    let text = std::fs::read_to_string(office.dir.path().join("metrics.prom")).expect("metrics");
    assert!(text.contains("pengaduan_mail_bounced_total 2"), "{text}");
}

#[tokio::test]
async fn a_non_standard_bounce_quoting_the_message_id_is_tied_back() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let ack = nth(&office, "budi.santoso@gmail.com", 1).await;
    let id = header(&ack, "Message-ID").expect("Message-ID");
    // What some providers send instead of a DSN: plain text from the postmaster.
    let bounce = format!(
        "From: Mail Delivery System <postmaster@gmail.example>\r\nTo: {OFFICE}\r\n\
         Subject: Undeliverable: Lampu jalan mati\r\nMessage-ID: <nb-1@gmail.example>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Your message could not be delivered.\r\nThe recipient's mailbox is full.\r\n\r\n\
         Original Message ID: {id}\r\n"
    );
    office.deliver_and_run("", bounce.as_bytes()).await;
    let ack_row = outbox(&office)
        .into_iter()
        .find(|r| r["purpose"] == "ack")
        .expect("the acknowledgment");
    assert_eq!(ack_row["status"], "bounced");
    let reason = ack_row["bounce_reason"].as_str().expect("reason");
    assert!(reason.contains("mailbox is full"), "{reason}");
    assert_eq!(
        office
            .count(
                "SELECT count(*) FROM messages WHERE kind = 'bounce' AND complaint_id IS NOT NULL"
            )
            .await,
        1
    );
    // A second copy of the report changes nothing and tells nobody again.
    let again = bounce.replace("nb-1@", "nb-2@");
    office.deliver_and_run("", again.as_bytes()).await;
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE direction = 'out' AND subject LIKE '%tidak sampai%'")
            .await,
        1,
        "the admin is told once"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM events WHERE action = 'ack_bounced'")
            .await,
        1
    );
}

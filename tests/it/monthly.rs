//! The monthly report by email, on the real mail stack: queued on the first cycle after
//! the month ends, sent once to the Kepala Dinas and the admin even when the worker is
//! killed before and after queueing it, with inline PNG charts and the report and the
//! register attached.

use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};

use crate::books;
use crate::support::office::{Office, header};

const KADIS: &str = "kadis@kaltaraprov.go.id";
const ADMIN: &str = "admin@kaltaraprov.go.id";
const SUBJECT: &str = "Laporan Pengaduan Masyarakat bulan November 2026";

async fn reports_in(office: &Office, user: &str) -> Vec<Vec<u8>> {
    office
        .stack
        .messages(user, "INBOX")
        .await
        .into_iter()
        .filter(|m| header(m, "Subject").is_some_and(|s| s.contains(SUBJECT)))
        .collect()
}

/// The seeded register on the last evening of November (WITA): November has not ended;
/// October's report (one complaint) has been queued.
async fn october_mailed() -> Office {
    let mut office = Office::start().await;
    assert!(
        office.output(&["list"]).status.success(),
        "register created"
    );
    books::seed(&office.database()).await;
    office.set_env("PENGADUAN_NOW", "2026-11-30T12:00:00Z");
    office.run_once();
    let months = office.text("SELECT month FROM monthly_reports").await;
    assert_eq!(months, ["2026-10"]);
    office
}

#[tokio::test]
async fn the_monthly_report_is_mailed_once_even_when_the_worker_is_killed() {
    let mut office = october_mailed().await;
    let queued = "SELECT count(*) FROM monthly_reports WHERE month = '2026-11'";
    assert_eq!(office.count(queued).await, 0);

    // 1 December 08:30 WITA. Killed after composing, before the commit: nothing queued.
    office.set_env("PENGADUAN_NOW", "2026-12-01T00:30:00Z");
    office.kill_at("report_composed");
    assert_eq!(office.count(queued).await, 0);
    // Killed right after the commit: queued, not sent yet.
    office.kill_at("report_queued");
    assert_eq!(office.count(queued).await, 1);
    let laporan = "SELECT count(*) FROM outbox WHERE purpose = 'laporan'";
    assert_eq!(office.count(laporan).await, 2, "October's and November's");
    // The next cycles deliver it, and queue nothing more.
    office.run_once();
    office.run_once();
    assert_eq!(office.count(laporan).await, 2);
    let sent = "SELECT count(*) FROM outbox WHERE purpose = 'laporan' AND status = 'sent'";
    assert_eq!(office.count(sent).await, 2);
    let listed = office.output(&["outbox", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let reports: Vec<&serde_json::Value> = rows
        .as_array()
        .expect("array")
        .iter()
        .filter(|row| row["purpose"] == "laporan")
        .collect();
    assert_eq!(reports.len(), 2, "{rows}");
    assert!(reports.iter().all(|row| row["status"] == "sent"), "{rows}");

    let wait = Duration::from_secs(20);
    for user in [KADIS, ADMIN] {
        let start = std::time::Instant::now();
        while reports_in(&office, user).await.is_empty() && start.elapsed() < wait {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(reports_in(&office, user).await.len(), 1, "{user}");
    }
    let raw = reports_in(&office, KADIS).await.remove(0);
    check_the_mail(&raw);

    // December's report is not due in December.
    office.set_env("PENGADUAN_NOW", "2026-12-31T15:00:00Z");
    office.run_once();
    assert_eq!(
        office.count("SELECT count(*) FROM monthly_reports").await,
        2
    );
}

/// A worker that was down for months mails every missed month's report when it comes
/// back, oldest first, one a cycle, and then nothing more.
#[tokio::test]
async fn a_worker_back_after_months_mails_each_missed_report_once() {
    let mut office = october_mailed().await;
    let months = "SELECT month FROM monthly_reports ORDER BY month";

    // Back on 3 February 2027: November, December and January, in that order.
    office.set_env("PENGADUAN_NOW", "2027-02-03T01:00:00Z");
    office.run_once();
    assert_eq!(office.text(months).await, ["2026-10", "2026-11"]);
    office.run_once();
    office.run_once();
    office.run_once();
    assert_eq!(
        office.text(months).await,
        ["2026-10", "2026-11", "2026-12", "2027-01"]
    );
    assert_eq!(office.outgoing(Some("laporan"), Some("sent")), 4);
}

fn check_the_mail(raw: &[u8]) {
    let message = MessageParser::default().parse(raw).expect("a message");
    assert_eq!(
        header(raw, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(
        header(raw, "Message-ID")
            .expect("Message-ID")
            .starts_with("<laporan.2026-11.")
    );
    let text = message.body_text(0).expect("text");
    assert!(text.contains("Pengaduan diterima          : 7"), "{text}");
    assert!(text.contains("77.78 (mutu B, 3 responden)"), "{text}");
    let html = message.body_html(0).expect("html");
    let mut images = 0;
    let mut files = Vec::new();
    for part in message.parts.iter() {
        let Some(content_type) = part.content_type() else {
            continue;
        };
        let subtype = content_type.subtype().unwrap_or("");
        if content_type.ctype() == "image" && subtype == "png" {
            let id = part.content_id().expect("an inline image has a Content-ID");
            assert!(
                html.contains(&format!("src=\"cid:{id}\"")),
                "{id} in {html}"
            );
            assert!(part.contents().starts_with(b"\x89PNG"), "a PNG");
            images += 1;
        }
        if let Some(name) = part.attachment_name()
            && content_type.ctype() != "image"
        {
            files.push((name.to_string(), part.contents().to_vec()));
        }
    }
    assert_eq!(images, 4, "four charts inline");
    assert!(!html.contains("<svg"), "mail clients do not show SVG");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "laporan-pengaduan-2026-11.html",
            "register-pengaduan-2026-11.csv"
        ]
    );
    let page = String::from_utf8_lossy(&files[0].1);
    assert_eq!(
        page.matches("<svg").count(),
        4,
        "the attached page has its charts"
    );
    let csv = String::from_utf8_lossy(&files[1].1);
    assert_eq!(csv.split("\r\n").filter(|l| !l.is_empty()).count(), 8);
    if std::env::var("PENGADUAN_BLESS").is_ok() {
        bless_the_docs_charts(&message);
    }
}

/// `PENGADUAN_BLESS=1` writes the mail's charts to `docs/` (shown in the README).
fn bless_the_docs_charts(message: &mail_parser::Message<'_>) {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    std::fs::create_dir_all(&docs).expect("docs/");
    for part in message.parts.iter() {
        if let Some(id) = part.content_id()
            && let Some(name) = id.split('.').next()
        {
            std::fs::write(docs.join(format!("laporan-{name}.png")), part.contents())
                .expect("write a chart");
        }
    }
}

//! The printed books in a real browser: Debian's headless `chromium` (installed by
//! `scripts/install-mail-servers`) renders the monthly report and the sheets, and
//! prints the sheets to PDF.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::books::Books;

/// Runs headless Chromium on `page` with `action` (`--dump-dom`, `--print-to-pdf=…`)
/// and returns its stdout. A browser that does not finish in two minutes is killed and
/// the test fails (a guard against a hang, not a measure of speed).
fn chromium(profile: &Path, action: &str, page: &Path) -> Vec<u8> {
    let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let mut child = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(action)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {binary} (scripts/install-mail-servers installs it): {e}")
        });
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {action} on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "chromium {action}: {status}");
    reader.join().expect("reader").expect("stdout read")
}

#[tokio::test]
async fn the_report_and_the_sheets_render_in_chromium_and_print_to_pdf() {
    let books = Books::seeded().await;
    let dir = books.dir.path();
    let report = dir.join("laporan.html");
    let sheet = dir.join("lembar.html");
    for (args, out) in [
        (vec!["report", "--month", "2026-11"], &report),
        (vec!["sheet", "ADU-2026-00002"], &sheet),
    ] {
        let mut args = args.clone();
        args.extend(["--out", out.to_str().expect("path")]);
        books.stdout(&args);
    }

    // The rendered report: four charts with their bars and line, and the tables.
    let dom = String::from_utf8(chromium(&dir.join("profile"), "--dump-dom", &report))
        .expect("UTF-8 DOM");
    assert_eq!(dom.matches("<svg").count(), 4, "{dom}");
    for id in [
        "grafik-harian",
        "grafik-kanal",
        "grafik-status",
        "grafik-unit",
    ] {
        assert!(
            dom.contains(&format!("<figure id=\"{id}\"><svg")),
            "chart {id}"
        );
    }
    for id in [
        "ringkasan",
        "per-kanal",
        "per-status",
        "per-unit",
        "per-tahap",
        "terlambat",
    ] {
        assert!(dom.contains(&format!("<table id=\"{id}\"")), "table {id}");
    }
    assert!(
        dom.contains("<td>email</td><td class=\"n\">5</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("<td>ADU-2026-00002</td>"),
        "an overdue complaint is listed"
    );
    assert!(
        dom.contains("<polyline fill=\"none\" opacity=\"1\" stroke=\"#1F5F99\""),
        "the daily line"
    );

    // The sheets: two A4 pages (595 × 842 points).
    let pdf = dir.join("lembar.pdf");
    chromium(
        &dir.join("profile"),
        &format!("--print-to-pdf={}", pdf.display()),
        &sheet,
    );
    let bytes = std::fs::read(&pdf).expect("the PDF was written");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("/Count 2"),
        "the complaint sheet and the disposition sheet"
    );
    let a4 = text.matches("/MediaBox [0 0 594.").count();
    assert_eq!(a4, 2, "both pages A4");
}

//! The long-running worker (`pengaduan run`): answering within seconds through IMAP
//! IDLE, bursts, metrics over HTTP, IMAP restarts, and SIGTERM at every moment.

use std::time::Duration;

use crate::support::office::{OFFICE, Office};
use crate::support::process::sigterm;

#[tokio::test]
async fn the_long_running_worker_answers_within_seconds_and_stops_on_sigterm() {
    let mut office = Office::start().await;
    let metrics_port = free_port();
    office.set_env(
        "PENGADUAN__WORKER__METRICS_ADDR",
        &format!("127.0.0.1:{metrics_port}"),
    );
    // Polling every two minutes: only IMAP IDLE can make the answer come in seconds.
    let (mut worker, rx) = office.spawn_worker(&["run", "--interval", "120"]);
    wait_for_line(&rx, "cycle complete", Duration::from_secs(30));
    // Give the worker a moment to enter IDLE, then a citizen writes.
    std::thread::sleep(Duration::from_millis(500));
    let acks = a_citizen_writes(&office, Duration::from_secs(30)).await;
    assert_eq!(
        acks, 1,
        "acknowledged while the worker idles, long before its next poll"
    );

    // Prometheus scrapes the long-running worker over HTTP.
    let (status, body) = http_get(metrics_port, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("pengaduan_messages_ingested_total{kind=\"complaint\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE pengaduan_cycle_duration_seconds histogram"),
        "{body}"
    );
    assert_eq!(http_get(metrics_port, "/").0, 404);

    // Right after a cycle that found mail the worker looks again every few milliseconds
    // (a burst may be under way): a second citizen is acknowledged, and a SIGTERM in
    // that window still stops it cleanly.
    let raw = format!(
        "From: warga.kedua@example.net\r\nTo: {OFFICE}\r\nSubject: Lampu jalan mati\r\n\
         Message-ID: <burst-2@example.net>\r\n\r\nLampu jalan di gang kami mati.\r\n"
    );
    office
        .submit("warga.kedua@example.net", raw.as_bytes())
        .await;
    let second = office
        .stack
        .wait_for_messages(
            "warga.kedua@example.net",
            "INBOX",
            1,
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(second.len(), 1, "the second citizen is acknowledged too");
    stops_cleanly_on_sigterm(&office, &mut worker, &rx).await;
    assert_eq!(office.list().len(), 2);
}

/// SIGTERM ends the long-running worker with exit 0, a log line saying why, and the lock
/// released.
async fn stops_cleanly_on_sigterm(
    office: &Office,
    worker: &mut std::process::Child,
    rx: &std::sync::mpsc::Receiver<String>,
) {
    let status = sigterm(worker);
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let said_goodbye = rx.try_iter().any(|line| line.contains("stop requested"));
    assert!(said_goodbye, "the worker logs why it stops");
    assert_eq!(
        office.count("SELECT count(*) FROM worker_lock").await,
        0,
        "the lock is released"
    );
}

/// SIGTERM while the worker idles in IMAP IDLE: it stops at once, cleanly.
#[tokio::test]
async fn the_long_running_worker_stops_on_sigterm_while_idling() {
    let office = Office::start().await;
    let (mut worker, rx) = office.spawn_worker(&["run", "--interval", "120"]);
    wait_for_line(&rx, "cycle complete", Duration::from_secs(30));
    // The first cycle found nothing: the worker goes straight into IDLE.
    std::thread::sleep(Duration::from_millis(500));
    stops_cleanly_on_sigterm(&office, &mut worker, &rx).await;
    assert!(office.list().is_empty());
}

/// The metrics endpoint reads the register over its own connection: a scrape answers
/// while the worker's register thread is held inside a batch's transaction.
#[tokio::test]
async fn metrics_answer_while_a_batch_is_being_recorded() {
    use std::io::{BufRead, BufReader};
    let mut office = Office::start().await;
    let metrics_port = free_port();
    office.set_env(
        "PENGADUAN__WORKER__METRICS_ADDR",
        &format!("127.0.0.1:{metrics_port}"),
    );
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    let mut worker = office
        .command(&["run", "--interval", "120"])
        .env("PENGADUAN_FAILPOINT", "recording")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the worker");
    let stderr = BufReader::new(worker.stderr.take().expect("stderr piped"));
    let paused = stderr
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("FAILPOINT recording"));
    assert!(paused, "the worker reached the batch");

    let scraped = http_get_within(metrics_port, "/metrics", Duration::from_secs(10));
    worker.kill().expect("SIGKILL");
    worker.wait().expect("wait");
    let (status, response) =
        scraped.expect("the scrape is answered while the batch holds the register");
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains("# TYPE pengaduan_cycle_duration_seconds histogram"),
        "{response}"
    );
}

#[tokio::test]
async fn the_long_running_worker_survives_an_imap_restart() {
    let office = Office::start().await;
    let (mut worker, rx) = office.spawn_worker(&["run", "--interval", "2"]);
    let wait_for = |needle: &str| wait_for_line(&rx, needle, Duration::from_secs(60));
    wait_for("cycle complete");
    office.stack.stop_imap();
    wait_for("retrying");
    office.stack.start_imap();
    let acks = a_citizen_writes(&office, Duration::from_secs(60)).await;
    assert_eq!(
        acks, 1,
        "the worker reconnected and acknowledged the complaint"
    );
    let status = sigterm(&mut worker);
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn sigterm_mid_cycle_stops_after_the_batch_in_hand() {
    const MESSAGES: usize = 60;
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__WORKER__BATCH_MESSAGES", "1");
    for n in 1..=MESSAGES {
        let raw = format!(
            "From: warga{n}@example.net\r\nTo: {OFFICE}\r\nSubject: Pengaduan nomor {n}\r\n\
             Message-ID: <stop-{n}@example.net>\r\n\r\nLampu jalan mati.\r\n"
        );
        office.stack.append(OFFICE, "INBOX", raw.as_bytes()).await;
    }
    office.wait_inbox(MESSAGES).await;

    let (mut worker, _rx) = office.spawn_worker(&["run", "--once"]);
    let started = std::time::Instant::now();
    // The worker creates and migrates the database first; then batches commit.
    while !office.database().exists()
        || office
            .count("SELECT count(*) FROM sqlite_master WHERE name = 'messages'")
            .await
            == 0
        // Polled every 5 ms while the worker writes: SQL, not a command per poll.
        || office
            .count("SELECT count(*) FROM messages WHERE direction = 'in'")
            .await
            == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no batch committed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let status = sigterm(&mut worker);
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let recorded = office.received_in_all();
    assert!(
        recorded < MESSAGES as i64,
        "the cycle stopped early ({recorded} of {MESSAGES} recorded)"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM imap_receipts WHERE moved_at IS NULL")
            .await,
        0,
        "every committed batch was moved before exiting"
    );
    assert_eq!(office.count("SELECT count(*) FROM worker_lock").await, 0);

    // The next run takes the rest, and nothing twice.
    office.run_once();
    let numbers: std::collections::BTreeSet<String> = office
        .list()
        .iter()
        .map(|c| c["number"].as_str().expect("number").to_string())
        .collect();
    assert_eq!(numbers.len(), MESSAGES);
    assert_eq!(office.outgoing(Some("ack"), Some("sent")), MESSAGES as i64);
}

/// Reads the worker's log lines until one contains `needle`.
fn wait_for_line(rx: &std::sync::mpsc::Receiver<String>, needle: &str, timeout: Duration) {
    loop {
        let line = rx
            .recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("no log line with {needle:?}"));
        if line.contains(needle) {
            return;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A plain HTTP/1.1 GET on loopback: the status code and the body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    http_get_within(port, path, Duration::from_secs(30)).expect("an HTTP response")
}

/// The same, failing when no answer has come within `limit`.
fn http_get_within(port: u16, path: &str, limit: Duration) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(limit))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A citizen (the plain-text fixture's sender) writes; returns how many acknowledgments
/// reached them within `limit`.
async fn a_citizen_writes(office: &Office, limit: Duration) -> usize {
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office
        .stack
        .wait_for_messages("budi.santoso@gmail.com", "INBOX", 1, limit)
        .await
        .len()
}

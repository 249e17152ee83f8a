//! What keeps the office informed when something goes wrong, and its secrets out of
//! sight: `status` reports a failed (or panicked) cycle at once, `check` and `status`
//! name a damaged database, every command ends quietly when its reader goes away, no log
//! level shows passwords, secrets or message contents, and out-of-office replies without
//! RFC 3834 headers are recognised as machine mail.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::office::{OFFICE, Office, Wire, damage_tables};
use crate::support::process::sigterm;
use serde_json::Value;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn status_json(office: &Office) -> (Option<i32>, Value) {
    let output = office.output(&["status", "--json"]);
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("status --json prints JSON ({e}): {}", stderr(&output)));
    (output.status.code(), json)
}

/// A worker that is killed if the test ends without stopping it (a failed assertion must
/// not leave it running, holding the test's output open).
struct Worker(std::process::Child);

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `count_sql` on the office's database, or `None` while the worker has not made it yet.
async fn try_count(office: &Office, count_sql: &str) -> Option<i64> {
    use sqlx::Connection;
    let url = format!("sqlite://{}", office.database().display());
    let mut connection = sqlx::SqliteConnection::connect(&url).await.ok()?;
    let count = sqlx::query_scalar(count_sql)
        .fetch_one(&mut connection)
        .await
        .ok();
    connection.close().await.ok();
    count
}

/// Polls `count_sql` until it reaches `at_least`, within `timeout`.
async fn wait_for_count(office: &Office, count_sql: &str, at_least: i64, timeout: Duration) {
    let start = Instant::now();
    loop {
        if office.database().exists()
            && try_count(office, count_sql)
                .await
                .is_some_and(|n| n >= at_least)
        {
            return;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {count_sql} to reach {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn status_fails_at_once_when_the_last_cycle_failed_or_panicked() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let (code, healthy) = status_json(&office);
    assert_eq!(code, Some(0), "{healthy}");
    assert_eq!(healthy["failing"], false);
    assert_eq!(healthy["healthy"], true);

    // A cycle fails long before the last success is stale: the probe fails at once.
    office.stack.stop_imap();
    let failed = office.output(&["run", "--once"]);
    assert_eq!(failed.status.code(), Some(1), "{}", stderr(&failed));
    let (code, status) = status_json(&office);
    assert_eq!(code, Some(1), "{status}");
    assert_eq!(status["stale"], false);
    assert_eq!(status["failing"], true);
    assert_eq!(status["healthy"], false);
    assert!(status["last_failure_at"].is_string(), "{status}");
    let error = status["last_failure_error"]
        .as_str()
        .expect("an error line");
    assert!(error.contains("cannot connect to IMAP server"), "{error}");
    let text = office.output(&["status"]);
    assert_eq!(text.status.code(), Some(1));
    let failing = stdout(&text)
        .lines()
        .find(|l| l.starts_with("FAILING:"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("a FAILING line: {}", stdout(&text)));
    assert!(failing.contains(error), "{failing}");
    office.stack.start_imap();

    // A cycle that panics half-way through a batch is recorded as failed too.
    office.submit_fixture("02-html-only.eml").await;
    office.wait_inbox(1).await;
    let panicked = office
        .command(&["run", "--once"])
        .env("PENGADUAN_FAILPOINT", "panic:fetched")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run pengaduan");
    assert_eq!(panicked.status.code(), Some(1), "{}", stderr(&panicked));
    assert!(
        stderr(&panicked).contains("error: the cycle panicked: failpoint fetched"),
        "{}",
        stderr(&panicked)
    );
    let (code, status) = status_json(&office);
    assert_eq!(code, Some(1), "{status}");
    assert_eq!(status["failing"], true);
    assert_eq!(
        status["last_failure_error"],
        "the cycle panicked: failpoint fetched"
    );

    // The next cycle that succeeds clears it, and records what the panicked one left.
    office.run_once();
    let (code, status) = status_json(&office);
    assert_eq!(code, Some(0), "{status}");
    assert_eq!(status["failing"], false);
    assert_eq!(status["open_complaints"], 2);
}

#[tokio::test]
async fn a_panicking_cycle_is_recorded_and_the_long_running_worker_carries_on() {
    let mut office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.set_env("PENGADUAN_FAILPOINT", "panic:fetched");
    // Its stderr is the test's: the panic's message without a backtrace each time.
    office.set_env("RUST_BACKTRACE", "0");
    let (worker, _log) = office.spawn_worker(&["run", "--interval", "1"]);
    let mut worker = Worker(worker);
    wait_for_count(
        &office,
        "SELECT count(*) FROM cycles WHERE ok = 0",
        2,
        Duration::from_secs(30),
    )
    .await;
    assert!(
        worker.0.try_wait().expect("wait").is_none(),
        "the worker is still running after cycles that panicked"
    );
    let (code, status) = status_json(&office);
    assert_eq!(code, Some(1), "{status}");
    assert_eq!(status["failing"], true);
    assert_eq!(
        status["last_failure_error"],
        "the cycle panicked: failpoint fetched"
    );
    // Failed cycles are retried after a backoff, not in a tight loop.
    let failed = office
        .count("SELECT count(*) FROM cycles WHERE ok = 0")
        .await;
    assert!(failed < 10, "{failed} failed cycles within seconds");
    let stopped = sigterm(&mut worker.0);
    assert!(stopped.success(), "exit status after SIGTERM: {stopped}");
}

/// Overwrites the first page of each of `tables` in the database file with garbage, as a
/// failing disk or a stray write would, after moving everything out of the WAL.
#[tokio::test]
async fn a_damaged_database_fails_check_and_status_with_one_clear_line() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let sound = office.output(&["check"]);
    assert!(sound.status.success(), "{}", stdout(&sound));
    assert!(
        stdout(&sound).contains("ok   database integrity:"),
        "{}",
        stdout(&sound)
    );

    // Pages that `check`'s count of complaints does not read, but `status` does.
    damage_tables(&office.database(), &["events", "cycles"]).await;
    let database = office.database().display().to_string();

    let check = office.output(&["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stdout(&check));
    let failing: Vec<String> = stdout(&check)
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .map(str::to_owned)
        .collect();
    assert_eq!(failing.len(), 1, "{}", stdout(&check));
    assert!(
        failing[0].starts_with("FAIL database integrity:")
            && failing[0].contains(&database)
            && failing[0].contains("is damaged")
            && failing[0].contains("restore the latest backup"),
        "{}",
        failing[0]
    );

    for args in [
        &["status"][..],
        &["status", "--json"],
        &["show", "ADU-2026-00001"],
    ] {
        let output = office.output(args);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: {}",
            stdout(&output)
        );
        let lines: Vec<String> = stderr(&output).lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 1, "{args:?}: one line: {lines:?}");
        assert!(
            lines[0].starts_with("error: the database ")
                && lines[0].contains(&database)
                && lines[0].contains("is damaged")
                && lines[0].contains("restore the latest backup"),
            "{args:?}: {}",
            lines[0]
        );
    }
}

/// The writing end of a pipe whose reader has already gone away.
fn abandoned_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Stdio::from(writer)
}

/// Ended quietly: no output on stderr, and exit status 0 or death by SIGPIPE (what `ls`
/// or `cat` do when their reader goes away).
fn assert_quiet_end(what: &str, output: &Output) {
    use std::os::unix::process::ExitStatusExt;
    assert!(
        output.status.code() == Some(0) || output.status.signal() == Some(libc::SIGPIPE),
        "{what}: {} ({})",
        output.status,
        stderr(output)
    );
    assert_eq!(stderr(output), "", "{what}: nothing on stderr");
}

#[tokio::test]
async fn every_printing_command_ends_quietly_when_its_reader_goes_away() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let eml = office.dir.path().join("long.eml");
    let body = "Jalan di depan rumah kami rusak berat.\r\n".repeat(20_000);
    std::fs::write(
        &eml,
        format!("From: warga@example.net\r\nSubject: Jalan rusak\r\n\r\n{body}"),
    )
    .expect("write an .eml");
    let eml = eml.to_str().expect("utf-8");
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["show", "ADU-2026-00001"],
        &["show", "ADU-2026-00001", "--json"],
        &["status"],
        &["status", "--json"],
        &["parse", eml],
        &["parse", eml, "--json"],
        &["quarantine", "list"],
        &["outbox", "list", "--json"],
        &["check"],
    ] {
        let output = office
            .command(args)
            .stdout(abandoned_pipe())
            .output()
            .expect("run pengaduan");
        assert_quiet_end(&format!("{args:?}"), &output);
    }

    // As a shell runs it: the reader takes one line and leaves mid-output.
    let piped = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#""$0" --config "$1" parse "$2" | head -1 >/dev/null; exit "${PIPESTATUS[0]}""#)
        .arg(env!("CARGO_BIN_EXE_pengaduan"))
        .arg(&office.config)
        .arg(eml)
        .output()
        .expect("run bash");
    assert!(
        matches!(piped.status.code(), Some(0 | 141)),
        "parse | head -1: {} ({})",
        piped.status,
        stderr(&piped)
    );
    assert_eq!(stderr(&piped), "", "parse | head -1: nothing on stderr");
}

#[tokio::test]
async fn the_worker_keeps_working_when_its_log_reader_goes_away() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    let once = office
        .command(&["run", "--once"])
        .stdout(abandoned_pipe())
        .stderr(abandoned_pipe())
        .status()
        .expect("run pengaduan");
    assert!(once.success(), "run --once without a log reader: {once}");
    assert_eq!((office.list().len() as i64), 1, "the cycle did its work");

    let worker = office
        .command(&["run", "--interval", "1"])
        .stdout(abandoned_pipe())
        .stderr(abandoned_pipe())
        .spawn()
        .expect("start the worker");
    let mut worker = Worker(worker);
    office.submit_fixture("02-html-only.eml").await;
    wait_for_count(
        &office,
        "SELECT count(*) FROM complaints",
        2,
        Duration::from_secs(30),
    )
    .await;
    wait_for_count(
        &office,
        "SELECT count(*) FROM cycles WHERE ok = 1",
        3,
        Duration::from_secs(30),
    )
    .await;
    assert!(
        worker.0.try_wait().expect("wait").is_none(),
        "the worker is still running"
    );
    let stopped = sigterm(&mut worker.0);
    assert!(stopped.success(), "exit status after SIGTERM: {stopped}");
}

#[tokio::test]
async fn no_log_level_shows_passwords_secrets_or_message_contents() {
    use base64::Engine as _;
    let mut office = Office::start_with(Wire::StartTlsSubmission).await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    // Her acknowledgment is refused by the server, whose reply names her address.
    let refused = "reject-siti.aminah@example.net";
    let raw = format!(
        "From: Siti Aminah <{refused}>\r\nTo: {OFFICE}\r\nSubject: Air PDAM keruh\r\n\
         Message-ID: <air-keruh-1@example.net>\r\n\r\nAir PDAM di rumah kami keruh.\r\n"
    );
    office.submit(refused, raw.as_bytes()).await;
    office.wait_inbox(2).await;
    office.set_env("RUST_LOG", "trace");
    let run = office.run_once();
    let log = format!("{}{}", stdout(&run), stderr(&run));
    assert!(log.contains("cycle complete"), "{log}");
    assert!(log.contains("rejected permanently"), "{log}");
    assert!(
        log.contains("\"level\":\"DEBUG\"") || log.contains("\"level\":\"TRACE\""),
        "the log is at its most detailed: {log}"
    );
    let smtp_auth = base64::engine::general_purpose::STANDARD.encode(format!("\0{OFFICE}\0secret"));
    for (what, text) in [
        ("the IMAP LOGIN command", "LOGIN"),
        ("the mail password", "\"secret\""),
        ("the SMTP AUTH PLAIN credentials", smtp_auth.as_str()),
        ("the token secret", "test-secret-0123456789abcdef"),
        ("the citizen's address", "budi.santoso@gmail.com"),
        (
            "the address in the server's reply",
            "siti.aminah@example.net",
        ),
        ("the complaint's text", "lampu penerangan jalan"),
        ("the raw message", "Content-Transfer-Encoding"),
    ] {
        assert!(!log.contains(text), "{what} is in the log:\n{log}");
    }
}

#[tokio::test]
async fn out_of_office_replies_without_headers_are_neither_complaints_nor_follow_ups() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let citizen = "budi.santoso@gmail.com";
    let ack = office
        .stack
        .wait_for_messages(citizen, "INBOX", 1, Duration::from_secs(20))
        .await;
    let ack_id =
        crate::support::office::header(&ack[0], "Message-ID").expect("the ack's Message-ID");
    let ack_subject =
        crate::support::office::header(&ack[0], "Subject").expect("the ack's subject");
    let kadis = "kadis@kaltaraprov.go.id";
    office
        .stack
        .wait_for_messages(kadis, "INBOX", 1, Duration::from_secs(20))
        .await;

    // The citizen's mailbox answers the acknowledgment while he is away...
    let in_thread = format!(
        "From: Budi Santoso <{citizen}>\r\nTo: {OFFICE}\r\n\
         Subject: Balasan otomatis: {ack_subject}\r\nMessage-ID: <cuti-budi-1@example.net>\r\n\
         In-Reply-To: {ack_id}\r\nReferences: {ack_id}\r\n\r\n\
         Terima kasih atas email Anda.\r\n\r\nSaya sedang cuti sampai 14 Desember 2026 \
         dengan akses email terbatas.\r\n"
    );
    office.submit(citizen, in_thread.as_bytes()).await;
    // ...and an official elsewhere answers a newsletter with a bare English notice.
    let stranger = "kabag.umum@example.org";
    let outside = format!(
        "From: Kabag Umum <{stranger}>\r\nTo: {OFFICE}\r\nSubject: Out of Office: Undangan rapat\r\n\
         Message-ID: <ooo-kabag-7@example.org>\r\n\r\n\
         I am out of the office until Monday 7 December.\r\n"
    );
    office.submit(stranger, outside.as_bytes()).await;
    office.wait_inbox(2).await;
    office.run_once();

    assert_eq!(
        office.list().len(),
        1,
        "no complaint from the out-of-office notice"
    );
    assert_eq!(office.received("auto_reply"), 2);
    let complaint = office.show("ADU-2026-00001");
    let kinds: Vec<&str> = complaint["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["direction"] == "in")
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["complaint", "auto_reply"], "{complaint}");
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose IN ('ack', 'lanjut')")
            .await,
        1,
        "only the first acknowledgment: nothing answered, nothing forwarded"
    );
    let kadis_mail = office.stack.messages(kadis, "INBOX").await;
    assert_eq!(
        kadis_mail.len(),
        1,
        "the Kepala Dinas has only the disposition request"
    );
}

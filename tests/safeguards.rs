//! What keeps the office informed when something goes wrong, and its secrets out of
//! sight: `status` reports a failed (or panicked) cycle at once, `check` and `status`
//! name a damaged database, every command ends quietly when its reader goes away, no log
//! level shows passwords, secrets or message contents, and out-of-office replies without
//! RFC 3834 headers are recognised as machine mail.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::office::Office;

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

/// Sends SIGTERM and waits for the exit, which must come within 20 seconds.
fn sigterm(worker: &mut std::process::Child) -> std::process::ExitStatus {
    // SAFETY: signalling a child process this test started and still owns.
    unsafe { libc::kill(worker.id() as i32, libc::SIGTERM) };
    let sent = Instant::now();
    loop {
        if let Some(status) = worker.try_wait().expect("wait") {
            return status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(20),
            "the worker did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `count_sql` until it reaches `at_least`, within `timeout`.
async fn wait_for_count(office: &Office, count_sql: &str, at_least: i64, timeout: Duration) {
    let start = Instant::now();
    loop {
        if office.database().exists() && office.count(count_sql).await >= at_least {
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

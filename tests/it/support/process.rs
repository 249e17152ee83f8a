//! The worker as a process: stopping it with SIGTERM.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Sends SIGTERM and waits for the exit, which must come within 20 seconds.
pub fn sigterm(worker: &mut Child) -> ExitStatus {
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

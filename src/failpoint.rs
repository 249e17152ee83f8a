//! Test hooks for the kill and fault tests: `PENGADUAN_FAILPOINT=<name>` makes the worker
//! stop at a named point. Does nothing when the variable is unset.

use std::time::Duration;

/// Environment variable naming the point.
pub const FAILPOINT_ENV: &str = "PENGADUAN_FAILPOINT";

/// The failpoint that makes recording a message panic when its subject contains
/// [`PANIC_MARKER`]: the proof that one message's panic quarantines only that message.
pub const RECORD_PANIC: &str = "record_panic";
pub const PANIC_MARKER: &str = "FAILPOINT-PANIC";

fn named(name: &str) -> bool {
    std::env::var(FAILPOINT_ENV).is_ok_and(|v| v == name)
}

/// Pauses forever at `name` when the failpoint names it: the worker prints
/// `FAILPOINT <name>` on stderr and the test sends SIGKILL. It blocks the calling thread
/// on purpose: nothing may progress once a failpoint is reached. `panic:<name>` panics
/// there instead (the test of a cycle that panics).
pub fn pause(name: &str) {
    let Ok(wanted) = std::env::var(FAILPOINT_ENV) else {
        return;
    };
    if wanted == name {
        eprintln!("FAILPOINT {name}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    if wanted.strip_prefix("panic:") == Some(name) {
        panic!("failpoint {name}");
    }
}

/// Panics at `name` when the failpoint names it and `subject` carries [`PANIC_MARKER`].
pub fn panic_on(name: &str, subject: &str) {
    if subject.contains(PANIC_MARKER) && named(name) {
        panic!("failpoint {name}");
    }
}

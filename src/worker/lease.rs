//! One worker at a time. The lock is a lease row in the database held by this process
//! (host, pid and the process's start time, so a reused pid is not mistaken for the
//! holder). A holder on the same host whose process is gone is taken over at once — a
//! run killed with SIGKILL never blocks the next one; the lease only matters across hosts.

use chrono::{DateTime, Utc};

use crate::store::{Acquired, LockHolder, Store};

/// How long a lease lasts without renewal.
pub const LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// This process, as a lock holder (read from /proc once).
pub fn this_process() -> LockHolder {
    static ME: std::sync::OnceLock<LockHolder> = std::sync::OnceLock::new();
    ME.get_or_init(|| {
        let pid = std::process::id();
        LockHolder {
            host: host_name(),
            pid,
            started: start_time(pid).unwrap_or_default(),
        }
    })
    .clone()
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The process's start time in clock ticks since boot (field 22 of /proc/PID/stat).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after the name: state is field 3, so starttime (22) is index 19; zombies are gone.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19).map(|s| s.to_string())
}

/// Whether `holder` is a live process on this host.
pub fn is_alive_here(holder: &LockHolder) -> bool {
    holder.host == host_name() && start_time(holder.pid).is_some_and(|s| s == holder.started)
}

/// Whether a lease held by `current` may be taken over by `me` at `now`.
pub fn may_take_over(
    current: &LockHolder,
    expires_at: DateTime<Utc>,
    me: &LockHolder,
    now: DateTime<Utc>,
) -> bool {
    if current == me {
        return true;
    }
    if current.host == me.host {
        return !is_alive_here(current);
    }
    now >= expires_at
}

pub async fn acquire(store: &Store, now: DateTime<Utc>) -> anyhow::Result<Acquired> {
    Ok(store
        .acquire_lock(&this_process(), now, LEASE, may_take_over)
        .await?)
}

pub async fn release(store: &Store) -> anyhow::Result<()> {
    Ok(store.release_lock(&this_process()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_gone_one_is_not() {
        let me = this_process();
        assert!(is_alive_here(&me));
        let gone = LockHolder {
            started: "0".into(),
            ..me.clone()
        };
        assert!(
            !is_alive_here(&gone),
            "a reused pid with another start time is not the holder"
        );
        let now = Utc::now();
        assert!(
            may_take_over(&gone, now + LEASE, &me, now),
            "same host, process gone: taken over at once"
        );
        let elsewhere = LockHolder {
            host: "other-host".into(),
            ..me.clone()
        };
        assert!(
            !may_take_over(&elsewhere, now + LEASE, &me, now),
            "another host: wait for the lease"
        );
        assert!(may_take_over(
            &elsewhere,
            now - chrono::Duration::seconds(1),
            &me,
            now
        ));
    }
}

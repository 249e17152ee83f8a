//! `status [--json]`: how the worker is doing, as a liveness probe.

use std::process::ExitCode;

use super::print_json;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Status;
use crate::store::{Health, Store};

/// `status`: a liveness probe run every minute, so it only reads the cycle records and a
/// few counts. It does not run SQLite's integrity check (which reads every page; `check`
/// does): a damaged page it reads fails its query, and `execute` names the database and
/// says to restore a backup.
pub async fn status(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let clock = Clock::from_env()?;
    let store = Store::open(&settings.database.url).await?;
    let now = clock.now();
    let health = store.health(now).await?;
    let age = health
        .last_success_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)
        .map(|at| (now - at).num_seconds());
    let stale = age.is_none_or(|age| age > settings.worker.stale_after.as_secs() as i64);
    let failing = health.last_cycle_failed;
    let open: i64 = health
        .complaints_by_status
        .iter()
        .filter(|(s, _)| Status::parse(s).is_some_and(Status::is_open))
        .map(|(_, n)| n)
        .sum();
    if json {
        print_json(&serde_json::json!({
            "healthy": !stale && !failing,
            "last_success_at": health.last_success_at,
            "age_seconds": age,
            "stale": stale,
            "failing": failing,
            "last_cycle": health.last_success,
            "last_failure_at": health.last_failure_at,
            "last_failure_error": health.last_failure_error,
            "outbox": {
                "pending": Health::count(&health.outbox_by_status, "pending"),
                "failed": Health::count(&health.outbox_by_status, "failed"),
                "uncertain": Health::count(&health.outbox_by_status, "uncertain"),
                "bounced": Health::count(&health.outbox_by_status, "bounced"),
            },
            "quarantined": health.quarantined,
            "received": health
                .messages_by_kind
                .iter()
                .map(|(kind, n)| (kind.clone(), serde_json::Value::from(*n)))
                .collect::<serde_json::Map<_, _>>(),
            "unauthorized": health.unauthorized,
            "open_complaints": open,
            "overdue_complaints": health.overdue,
        }))?;
    } else {
        print_status(&health, age, open);
        if failing {
            println!(
                "FAILING: the last cycle failed at {}: {}",
                health.last_failure_at.as_deref().unwrap_or("-"),
                health
                    .last_failure_error
                    .as_deref()
                    .unwrap_or("(no error recorded)")
            );
        }
        if stale {
            println!(
                "STALE: no successful cycle within {}s (worker.stale_after_seconds)",
                settings.worker.stale_after.as_secs()
            );
        }
    }
    Ok(if stale || failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The text of `status` for people, without its verdict lines.
fn print_status(health: &Health, age: Option<i64>, open: i64) {
    match (&health.last_success_at, &health.last_success) {
        (Some(at), Some(report)) => println!(
            "last successful cycle: {at} ({}s ago): fetched {}, complaints {}, sent {}",
            age.unwrap_or_default(),
            report["fetched"],
            report["complaints"],
            report["delivery"]["sent"]
        ),
        _ => println!("last successful cycle: never"),
    }
    if let Some(at) = &health.last_failure_at {
        println!("last failed cycle:     {at}");
    }
    println!(
        "outbox: {} pending, {} failed, {} uncertain, {} bounced",
        Health::count(&health.outbox_by_status, "pending"),
        Health::count(&health.outbox_by_status, "failed"),
        Health::count(&health.outbox_by_status, "uncertain"),
        Health::count(&health.outbox_by_status, "bounced")
    );
    println!("quarantined: {}", health.quarantined);
    println!("complaints: {open} open, {} overdue", health.overdue);
}

//! `outbox list|retry ID`: outgoing mail and re-queuing what failed.

use std::process::ExitCode;

use super::{OutboxAction, print_json};
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;

pub async fn outbox(settings: &Settings, action: &OutboxAction) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database.url).await?;
    match action {
        OutboxAction::List { status, json } => {
            const STATUSES: [&str; 6] = [
                "pending",
                "sending",
                "sent",
                "failed",
                "uncertain",
                "bounced",
            ];
            if let Some(s) = status
                && !STATUSES.contains(&s.as_str())
            {
                anyhow::bail!(
                    "unknown outbox status {s:?}; one of: {}",
                    STATUSES.join(", ")
                );
            }
            let rows = store.outbox_rows(status.as_deref()).await?;
            if *json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("(no outgoing mail)");
            } else {
                for o in &rows {
                    println!(
                        "#{:<6} {:<9} {:<7} {:<16} tries {}  to {}  {}{}",
                        o.id,
                        o.status,
                        o.purpose,
                        o.number.as_deref().unwrap_or("-"),
                        o.attempts,
                        o.to,
                        o.subject,
                        o.bounce_reason
                            .as_deref()
                            .or(o.last_error.as_deref())
                            .map(|e| format!("  — {e}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        OutboxAction::Retry { id } => {
            let clock = Clock::from_env()?;
            if !store.outbox_requeue(*id, clock.now()).await? {
                anyhow::bail!(
                    "outbox #{id} is not failed or uncertain (see `pengaduan outbox list`)"
                );
            }
            println!("outbox #{id} is queued again; the next cycle sends it");
        }
    }
    Ok(ExitCode::SUCCESS)
}

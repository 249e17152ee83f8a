//! `quarantine list|show ID|retry ID`: messages that could not be understood.

use std::process::ExitCode;

use super::inspect::print_parse_report;
use super::{QuarantineAction, print_json};
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::Reading;
use crate::store::Acquired;
use crate::store::Store;
use crate::transport::imap;
use crate::worker::lease;

pub async fn quarantine(
    settings: &Settings,
    action: &QuarantineAction,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database.url).await?;
    match action {
        QuarantineAction::List { json } => {
            let rows = store.quarantined().await?;
            if *json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("(nothing in quarantine)");
            } else {
                for q in &rows {
                    println!(
                        "#{:<6} {}  {:<30} {}  — {}",
                        q.id,
                        q.recorded_at,
                        q.from.as_deref().unwrap_or("-"),
                        q.subject,
                        q.reason
                    );
                }
            }
        }
        QuarantineAction::Show { id, json } => {
            let raw = store.quarantined_raw(*id).await?.ok_or_else(|| {
                anyhow::anyhow!("no quarantined message #{id} (see `pengaduan quarantine list`)")
            })?;
            let report = Reading::new(
                &raw,
                &settings.smtp.from_address,
                &settings.office.domain,
                &settings.office.number_prefix,
            );
            print_parse_report(&report, *json)?;
        }
        QuarantineAction::Retry { id } => {
            let raw = store.quarantined_raw(*id).await?.ok_or_else(|| {
                anyhow::anyhow!("no quarantined message #{id} (see `pengaduan quarantine list`)")
            })?;
            let clock = Clock::from_env()?;
            // Holding the worker lock, so no cycle sees the copy before its key is freed.
            if let Acquired::HeldBy(holder, _) = lease::acquire(&store, clock.now()).await? {
                anyhow::bail!(
                    "a worker is running (host {}, pid {}); try again when it is done",
                    holder.host,
                    holder.pid
                );
            }
            let result = async {
                let mut imap = imap::Connection::connect(&settings.imap).await?;
                let appended = imap.append(&settings.imap.mailbox, &raw).await;
                imap.logout().await;
                appended?;
                store.release_quarantined(*id, clock.now()).await?;
                anyhow::Ok(())
            }
            .await;
            lease::release(&store).await?;
            result?;
            super::say(format_args!(
                "quarantined message #{id} is back in {}; the next cycle processes it",
                settings.imap.mailbox
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

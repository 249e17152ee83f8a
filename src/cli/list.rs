//! `list [--status S] [--overdue] [--json]`: the register, in register order.

use std::process::ExitCode;

use super::print_json;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Status;
use crate::store::Store;

pub async fn list(
    settings: &Settings,
    status: Option<&str>,
    overdue: bool,
    (json, reveal_nik): (bool, bool),
) -> anyhow::Result<ExitCode> {
    let status = match status {
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown status {s:?}; one of: {}",
                Status::ALL.map(Status::as_str).join(", ")
            )
        })?),
        None => None,
    };
    let store = Store::open(&settings.database.url).await?;
    let overdue_at = if overdue {
        Some(Clock::from_env()?.now())
    } else {
        None
    };
    let mut complaints = store.complaints(status, overdue_at).await?;
    if !reveal_nik {
        complaints.iter_mut().for_each(|c| c.mask_nik());
    }
    if json {
        print_json(&complaints)?;
    } else if complaints.is_empty() {
        println!("(no complaints)");
    } else {
        for c in &complaints {
            println!(
                "{:<16} {:<21} {} → {}  {}  {}",
                c.number, c.status, c.received_at, c.deadline_at, c.reporter_email, c.subject
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `list [--status S] [--overdue] [--limit N | --all] [--json]`: the register, in
//! register order (`--overdue`: most overdue first).

use std::process::ExitCode;

use super::print_json;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::Status;
use crate::store::{RegisterQuery, Store};

/// How many complaints the table prints unless told otherwise: a screenful, however
/// large the register.
const TABLE_LIMIT: u32 = 50;

/// The command line of `list`.
pub struct Asked<'a> {
    pub status: Option<&'a str>,
    pub overdue: bool,
    pub limit: Option<u32>,
    pub all: bool,
    pub json: bool,
    /// Show NIKs in full (they are masked otherwise).
    pub reveal_nik: bool,
}

pub async fn list(settings: &Settings, asked: Asked<'_>) -> anyhow::Result<ExitCode> {
    let status = match asked.status {
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown status {s:?}; one of: {}",
                Status::ALL.map(Status::as_str).join(", ")
            )
        })?),
        None => None,
    };
    let store = Store::open(&settings.database.url).await?;
    let overdue_at = if asked.overdue {
        Some(Clock::from_env()?.now())
    } else {
        None
    };
    // JSON is read by programs: complete unless a limit is asked for.
    let limit = match (asked.limit, asked.all || asked.json) {
        (Some(n), _) => Some(n),
        (None, true) => None,
        (None, false) => Some(TABLE_LIMIT),
    };
    // One more than printed tells whether there were more.
    let query = RegisterQuery {
        status,
        overdue_at,
        limit: limit.map(|n| n.saturating_add(1)),
    };
    let mut complaints = store.complaints(query).await?;
    let more = limit.is_some_and(|n| complaints.len() > n as usize);
    complaints.truncate(limit.map_or(usize::MAX, |n| n as usize));
    if !asked.reveal_nik {
        complaints.iter_mut().for_each(|c| c.mask_nik());
    }
    if asked.json {
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
        if more {
            println!(
                "(the first {}; more with --limit N or --all)",
                complaints.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

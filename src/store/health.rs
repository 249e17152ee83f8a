//! How the worker is doing: recorded cycles (`cycles`) and the numbers `status`, `check`
//! and the metrics show.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::db::Access;
use super::error::{Result, StoreError};
use super::{LockHolder, Store};
use crate::clock::rfc3339;

/// Counts read from the register for `status` and the metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Health {
    pub last_success_at: Option<String>,
    pub last_success: Option<serde_json::Value>,
    pub last_failure_at: Option<String>,
    /// The error line of the most recent failed cycle.
    pub last_failure_error: Option<String>,
    /// Whether the most recent recorded cycle failed (whatever came before it).
    pub last_cycle_failed: bool,
    pub complaints_by_status: Vec<(String, i64)>,
    pub overdue: i64,
    pub outbox_by_status: Vec<(String, i64)>,
    pub quarantined: i64,
    pub messages_by_kind: Vec<(String, i64)>,
    pub unauthorized: i64,
    pub cycle_durations_ms: Vec<i64>,
}

impl Health {
    /// The number stored under `key` in a count per status or kind, 0 if absent.
    pub fn count(pairs: &[(String, i64)], key: &str) -> i64 {
        pairs.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
    }
}

/// A cycle as it ended, for [`Store::record_cycle`].
#[derive(Debug, Clone, Copy)]
pub struct FinishedCycle<'a> {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub duration_ms: u64,
    /// The cycle's report, or its error.
    pub report: &'a serde_json::Value,
    /// The lock holder to release with it (the end of `run --once`).
    pub release: Option<&'a LockHolder>,
}

/// The last ten thousand cycles are kept: a week of one-minute cron runs.
const INSERT_CYCLE: &str =
    "INSERT INTO cycles (finished_at, ok, duration_ms, report) VALUES (?, ?, ?, ?)";
const PRUNE_CYCLES: &str = "DELETE FROM cycles WHERE id <= last_insert_rowid() - 10000";

impl Store {
    /// Records a finished cycle, and releases the lock when `release` names its holder
    /// (the end of `run --once`): one commit, without its fsync (bookkeeping).
    pub async fn record_cycle(&self, cycle: FinishedCycle<'_>) -> Result<()> {
        let FinishedCycle {
            at,
            ok,
            duration_ms,
            report,
            release,
        } = cycle;
        let (at, report, release) = (rfc3339(at), report.to_string(), release.cloned());
        self.db
            .call(Access::Bookkeeping, move |batch| {
                let connection = batch.connection();
                connection.prepare_cached(INSERT_CYCLE)?.execute(params![
                    at,
                    ok,
                    duration_ms as i64,
                    report
                ])?;
                connection.prepare_cached(PRUNE_CYCLES)?.execute([])?;
                if let Some(me) = &release {
                    super::lock::delete_lock(connection, me)?;
                }
                Ok(())
            })
            .await
    }

    /// Prepares the cycle's record ahead (while the IMAP login is under way), so that
    /// writing it costs only its own steps. A failure is left for the write to report.
    pub async fn prepare_cycle_record(&self) {
        let prepared = self
            .db
            .call(Access::Read, |batch| {
                for statement in [INSERT_CYCLE, PRUNE_CYCLES, super::lock::DELETE_LOCK] {
                    batch.connection().prepare_cached(statement)?;
                }
                Ok::<_, StoreError>(())
            })
            .await;
        if let Err(error) = prepared {
            tracing::debug!(error = %error, "the cycle's record could not be prepared ahead");
        }
    }

    pub async fn health(&self, now: DateTime<Utc>) -> Result<Health> {
        self.db
            .call(Access::Read, move |batch| {
                let connection = batch.connection();
                let mut health = Health::default();
                read_cycles(connection, &mut health)?;
                read_counts(connection, &mut health, now)?;
                Ok(health)
            })
            .await
    }

    /// Whether the database answers and its schema is current (for `check`).
    pub async fn ping(&self) -> Result<i64> {
        self.db
            .call(Access::Read, |batch| {
                Ok(batch
                    .connection()
                    .query_row("SELECT count(*) FROM complaints", [], |row| row.get(0))?)
            })
            .await
    }

    /// SQLite's `PRAGMA integrity_check` (for `check`): every page of the file is read,
    /// so this takes time in proportion to the register's size. Returns the problems
    /// found (at most `limit`), none when the file is sound.
    pub async fn integrity_problems(&self, limit: u32) -> Result<Vec<String>> {
        let found: Vec<String> = self
            .db
            .call(Access::Read, move |batch| {
                let connection = batch.connection();
                let mut statement =
                    connection.prepare(&format!("PRAGMA integrity_check({limit})"))?;
                let rows = statement.query_map([], |row| row.get(0))?;
                Ok::<_, StoreError>(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await?;
        // SQLite puts "*** in database main ***" and a line break before the first.
        Ok(found
            .iter()
            .flat_map(|row| row.lines())
            .map(str::trim)
            .filter(|line| !line.is_empty() && *line != "ok" && !line.starts_with("***"))
            .map(str::to_owned)
            .collect())
    }
}

/// The last successful and failed cycles, and whether the latest failed.
fn read_cycles(connection: &Connection, health: &mut Health) -> rusqlite::Result<()> {
    let last = |ok: bool| {
        connection
            .prepare_cached(
                "SELECT finished_at, report FROM cycles WHERE ok = ? ORDER BY id DESC LIMIT 1",
            )?
            .query_row([ok], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .optional()
    };
    if let Some((at, report)) = last(true)? {
        health.last_success_at = Some(at);
        health.last_success = serde_json::from_str(&report).ok();
    }
    if let Some((at, report)) = last(false)? {
        health.last_failure_at = Some(at);
        health.last_failure_error = serde_json::from_str::<serde_json::Value>(&report)
            .ok()
            .and_then(|report| Some(report.get("error")?.as_str()?.to_owned()));
    }
    health.last_cycle_failed = connection
        .query_row(
            "SELECT ok = 0 FROM cycles ORDER BY id DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(false);
    health.cycle_durations_ms = connection
        .prepare_cached("SELECT duration_ms FROM cycles WHERE ok = 1")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(())
}

/// Complaints, outgoing and incoming mail, counted.
fn read_counts(
    connection: &Connection,
    health: &mut Health,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let pairs = |sql: &str| -> rusqlite::Result<Vec<(String, i64)>> {
        connection
            .prepare_cached(sql)?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    };
    health.complaints_by_status =
        pairs("SELECT status, count(*) FROM complaints GROUP BY status ORDER BY status")?;
    health.overdue = connection.query_row(
        "SELECT count(*) FROM complaints WHERE deadline_at < ? AND status NOT IN ('selesai', 'ditutup')",
        [rfc3339(now)],
        |row| row.get(0),
    )?;
    health.outbox_by_status =
        pairs("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status")?;
    health.messages_by_kind = pairs(
        "SELECT kind, count(*) FROM messages WHERE direction = 'in' GROUP BY kind ORDER BY kind",
    )?;
    health.quarantined = Health::count(&health.messages_by_kind, "quarantined");
    health.unauthorized =
        connection.query_row("SELECT count(*) FROM unauthorized", [], |row| row.get(0))?;
    Ok(())
}

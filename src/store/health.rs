//! How the worker is doing: recorded cycles and the numbers `status` and the metrics show.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;
use sqlx::Row;

use super::{LockHolder, Result, Store};
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

/// The last ten thousand cycles are kept: a week of one-minute cron runs.
const INSERT_CYCLE: &str =
    "INSERT INTO cycles (finished_at, ok, duration_ms, report) VALUES (?, ?, ?, ?)";
const PRUNE_CYCLES: &str = "DELETE FROM cycles WHERE id <= last_insert_rowid() - 10000";

impl Store {
    /// Records a finished cycle, and releases the lock when `release` names its holder
    /// (the end of `run --once`): one commit.
    pub fn record_cycle(
        &self,
        at: DateTime<Utc>,
        ok: bool,
        duration_ms: u64,
        report: &serde_json::Value,
        release: Option<&LockHolder>,
    ) -> anyhow::Result<()> {
        // On the writer's connection and the caller's thread: the last step of an idle
        // cron tick. Through sqlx it took 0.5-1.7 ms, after the IMAP logout's reply had
        // come back.
        let (at, report) = (rfc3339(at), report.to_string());
        self.writer.bookkeeping(|connection| {
            connection.prepare_cached(INSERT_CYCLE)?.execute(params![
                at,
                ok,
                duration_ms as i64,
                report
            ])?;
            connection.prepare_cached(PRUNE_CYCLES)?.execute([])?;
            if let Some(me) = release {
                super::lock::delete_lock(connection, me)?;
            }
            Ok(())
        })
    }

    /// Prepares the cycle's record ahead (while the IMAP login is under way), so that
    /// writing it costs only its own steps. A failure is left for the write to report.
    pub fn prepare_cycle_record(&self) {
        let prepared = self.writer.read(|connection| {
            for statement in [INSERT_CYCLE, PRUNE_CYCLES, super::lock::DELETE_LOCK] {
                connection.prepare_cached(statement)?;
            }
            Ok(())
        });
        if let Err(error) = prepared {
            tracing::debug!(error = %error, "the cycle's record could not be prepared ahead");
        }
    }

    pub async fn health(&self, now: DateTime<Utc>) -> Result<Health> {
        let mut health = Health::default();
        if let Some(row) = sqlx::query(
            "SELECT finished_at, report FROM cycles WHERE ok = 1 ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        {
            health.last_success_at = Some(row.get(0));
            health.last_success = serde_json::from_str(&row.get::<String, _>(1)).ok();
        }
        if let Some(row) = sqlx::query(
            "SELECT finished_at, report FROM cycles WHERE ok = 0 ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        {
            health.last_failure_at = Some(row.get(0));
            health.last_failure_error =
                serde_json::from_str::<serde_json::Value>(&row.get::<String, _>(1))
                    .ok()
                    .and_then(|report| Some(report.get("error")?.as_str()?.to_owned()));
        }
        health.last_cycle_failed =
            sqlx::query_scalar("SELECT ok = 0 FROM cycles ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?
                .unwrap_or(false);
        let pairs = |rows: Vec<sqlx::sqlite::SqliteRow>| {
            rows.iter().map(|r| (r.get(0), r.get(1))).collect()
        };
        health.complaints_by_status = pairs(
            sqlx::query("SELECT status, count(*) FROM complaints GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?,
        );
        health.overdue = sqlx::query_scalar(
            "SELECT count(*) FROM complaints WHERE deadline_at < ? AND status NOT IN ('selesai', 'ditutup')",
        )
        .bind(rfc3339(now))
        .fetch_one(&self.pool)
        .await?;
        health.outbox_by_status = pairs(
            sqlx::query("SELECT status, count(*) FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?,
        );
        health.messages_by_kind = pairs(
            sqlx::query("SELECT kind, count(*) FROM messages WHERE direction = 'in' GROUP BY kind ORDER BY kind")
                .fetch_all(&self.pool)
                .await?,
        );
        health.quarantined = health
            .messages_by_kind
            .iter()
            .find(|(k, _)| k == "quarantined")
            .map_or(0, |(_, n)| *n);
        health.unauthorized = sqlx::query_scalar("SELECT count(*) FROM unauthorized")
            .fetch_one(&self.pool)
            .await?;
        health.cycle_durations_ms =
            sqlx::query_scalar("SELECT duration_ms FROM cycles WHERE ok = 1")
                .fetch_all(&self.pool)
                .await?;
        Ok(health)
    }
}

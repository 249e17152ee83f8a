//! How the worker is doing: recorded cycles and the numbers `status` and the metrics show.

use chrono::{DateTime, Utc};
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
    pub complaints_by_status: Vec<(String, i64)>,
    pub overdue: i64,
    pub outbox_by_status: Vec<(String, i64)>,
    pub quarantined: i64,
    pub messages_by_kind: Vec<(String, i64)>,
    pub unauthorized: i64,
    pub cycle_durations_ms: Vec<i64>,
}

impl Store {
    /// Records a finished cycle, and releases the lock when `release` names its holder
    /// (the end of `run --once`): one commit.
    pub async fn record_cycle(
        &self,
        at: DateTime<Utc>,
        ok: bool,
        duration_ms: u64,
        report: &serde_json::Value,
        release: Option<&LockHolder>,
    ) -> anyhow::Result<()> {
        // On the writer's connection, opened while the cycle's IMAP login was under way
        // ([`Store::open_writer_later`]): this is the last step of an idle cron tick, and
        // sqlx's per-statement hand-offs made it the longest one (0.5-1.7 ms, after
        // the IMAP logout's reply had come back).
        let (writer, at, report) = (self.writer.clone(), rfc3339(at), report.to_string());
        let release = release.cloned();
        tokio::task::spawn_blocking(move || {
            writer.record_cycle(&at, ok, duration_ms, &report, release.as_ref())
        })
        .await?
    }

    /// The work of opening the writer's connection ahead of its first write, for a
    /// blocking thread that has time now (during the IMAP login of a cycle). A failure
    /// is left for that write to report.
    pub fn open_writer_later(&self) -> impl FnOnce() + Send + 'static {
        let writer = self.writer.clone();
        move || {
            if let Err(error) = writer.open_now() {
                tracing::debug!(error = %error, "the writer's connection did not open ahead");
            }
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
        health.last_failure_at = sqlx::query_scalar(
            "SELECT finished_at FROM cycles WHERE ok = 0 ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
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

//! What operators inspect and repair without SQL: quarantined messages, outgoing mail,
//! and consistent backups.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::db::Access;
use super::error::{Result, StoreError};
use super::{Archive, Store};
use crate::clock::rfc3339;
use crate::domain::{Actor, DeliveryOutcome, Event, EventAction};

#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedView {
    pub id: i64,
    pub recorded_at: String,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub subject: String,
    pub reason: String,
    pub size: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxView {
    pub id: i64,
    pub number: Option<String>,
    pub purpose: String,
    pub status: String,
    pub attempts: i64,
    pub to: String,
    pub subject: String,
    pub created_at: String,
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
    /// When a bounce for it arrived (status `bounced`), and why it bounced.
    pub bounced_at: Option<String>,
    pub bounce_reason: Option<String>,
}

impl Store {
    /// Quarantined messages not yet retried, newest first.
    pub async fn quarantined(&self) -> Result<Vec<QuarantinedView>> {
        self.db
            .call(Access::Read, |batch| {
                let mut statement = batch.connection().prepare_cached(
                    "SELECT m.id, m.recorded_at, m.message_id, m.from_email, m.subject, m.quarantine_reason, b.size
                     FROM messages m JOIN blobs b ON b.sha256 = m.raw_sha256
                     WHERE m.kind = 'quarantined' ORDER BY m.id DESC",
                )?;
                let rows = statement.query_map([], |r| {
                    Ok(QuarantinedView {
                        id: r.get(0)?,
                        recorded_at: r.get(1)?,
                        message_id: r.get(2)?,
                        from: r.get(3)?,
                        subject: r.get(4)?,
                        reason: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                        size: r.get(6)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    /// The raw bytes of a quarantined message.
    pub async fn quarantined_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        self.db
            .call(Access::Read, move |batch| {
                let sha256: Option<String> = batch
                    .connection()
                    .prepare_cached(
                        "SELECT raw_sha256 FROM messages WHERE id = ? AND kind = 'quarantined'",
                    )?
                    .query_row([id], |row| row.get(0))
                    .optional()?;
                sha256.map(|sha256| batch.read_blob(&sha256)).transpose()
            })
            .await
    }

    /// Marks a quarantined message as retried and frees its exactly-once key, so the copy
    /// put back in the mailbox is processed afresh. The record stays as evidence.
    pub async fn release_quarantined(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.db
            .call(Access::Write, move |batch| {
                let done = batch
                    .connection()
                    .prepare_cached(
                        "UPDATE messages SET kind = 'retried', message_key = 'retried:' || id || ':' || message_key
                         WHERE id = ? AND kind = 'quarantined'",
                    )?
                    .execute([id])?;
                if done == 1 {
                    let detail =
                        format!("quarantined message #{id} put back in the mailbox by an operator");
                    batch.add_event(&Event {
                        complaint_id: None,
                        at: now,
                        actor: Actor::Operator,
                        action: EventAction::QuarantineRetry,
                        detail,
                    })?;
                }
                Ok(done == 1)
            })
            .await
    }

    pub async fn outbox_rows(&self, status: Option<&str>) -> Result<Vec<OutboxView>> {
        let status = status.map(str::to_owned);
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(
                    "SELECT o.id, c.number, o.purpose, o.status, o.attempts, o.recipients_json, m.subject, o.created_at,
                            o.next_attempt_at, o.sent_at, o.last_error, o.bounced_at, o.bounce_reason
                     FROM outbox o JOIN messages m ON m.id = o.message_row LEFT JOIN complaints c ON c.id = o.complaint_id
                     WHERE (?1 IS NULL OR o.status = ?1) ORDER BY o.id DESC",
                )?;
                let rows = statement.query_map([status], |r| {
                    let recipients: String = r.get(5)?;
                    let to: Vec<String> = serde_json::from_str(&recipients).unwrap_or_default();
                    Ok(OutboxView {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        purpose: r.get(2)?,
                        status: r.get(3)?,
                        attempts: r.get(4)?,
                        to: to.join(", "),
                        subject: r.get(6)?,
                        created_at: r.get(7)?,
                        next_attempt_at: r.get(8)?,
                        sent_at: r.get(9)?,
                        last_error: r.get(10)?,
                        bounced_at: r.get(11)?,
                        bounce_reason: r.get(12)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    /// Puts a failed or uncertain row back in the queue, due now.
    pub async fn outbox_requeue(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        self.db
            .call(Access::Write, move |batch| {
                let found: Option<(Option<i64>, String, String)> = batch
                    .connection()
                    .prepare_cached(
                        "SELECT complaint_id, purpose, status FROM outbox WHERE id = ? AND status IN ('failed', 'uncertain')",
                    )?
                    .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                let Some((complaint_id, purpose, status)) = found else {
                    return Ok(false);
                };
                batch
                    .connection()
                    .prepare_cached(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE id = ?",
                    )?
                    .execute(params![rfc3339(now), id])?;
                let detail = format!("outbox #{id} ({status}) re-queued by an operator");
                batch.add_event(&Event {
                    complaint_id,
                    at: now,
                    actor: Actor::Operator,
                    action: EventAction::Delivery {
                        purpose,
                        outcome: DeliveryOutcome::Requeued,
                    },
                    detail,
                })?;
                Ok(true)
            })
            .await
    }

    /// A consistent copy of the live database (SQLite `VACUUM INTO`), safe while a
    /// worker runs, then its archive beside it (`<path>.archive`). The database is copied
    /// first: every file its rows name was durable before they committed, so the copied
    /// archive holds them all (and perhaps a few newer files, which are harmless).
    /// Returns the archive's directory and how many files were copied.
    pub async fn backup(&self, path: &str) -> Result<(std::path::PathBuf, u64)> {
        let target = path.to_owned();
        self.db
            .call(Access::Read, move |batch| {
                batch.connection().execute("VACUUM INTO ?", [target])?;
                Ok::<_, StoreError>(())
            })
            .await?;
        let (archive, target) = (self.archive.clone(), Archive::beside_path(path.as_ref()));
        let copy = target.clone();
        let copied = tokio::task::spawn_blocking(move || archive.copy_to(&copy))
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e)))??;
        Ok((target, copied))
    }
}

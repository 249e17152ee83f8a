//! Outbox rows: what is waiting to be delivered, and the record of each attempt.

use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite, Transaction};

use super::{Result, Store, insert_event, outgoing_bytes};
use crate::clock::rfc3339;

/// One queued message. Its bytes are read when it is claimed, one message at a time.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub complaint_id: Option<i64>,
    pub purpose: String,
    pub message_id: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub attempts: i64,
}

/// A message the server accepted, to be recorded as sent.
pub struct Accepted<'a> {
    pub row: &'a OutboxRow,
    pub at: DateTime<Utc>,
    pub reply: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParkedAs {
    Failed,
    Uncertain,
}

impl ParkedAs {
    fn as_str(self) -> &'static str {
        match self {
            ParkedAs::Failed => "failed",
            ParkedAs::Uncertain => "uncertain",
        }
    }
}

/// Pending rows due at `?1`, after id `?2`, oldest first, at most `?3`: searched in id
/// order (`outbox_pending_by_id`), so a page costs its own rows however many are queued.
pub(super) const DUE_OUTBOX: &str = "SELECT o.id, o.complaint_id, o.purpose, m.message_id, o.envelope_from, o.recipients_json, o.attempts
     FROM outbox o JOIN messages m ON m.id = o.message_row
     WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND o.id > ?
     ORDER BY o.id LIMIT ?";

impl Store {
    /// Whether a delivery pass at `now` has anything to do: a row due, or one left
    /// `sending` by a run that died (one query).
    pub fn outbox_pending(&self, now: DateTime<Utc>) -> anyhow::Result<bool> {
        self.writer.read(|connection| {
            connection
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'sending')
                     OR EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?)",
                )?
                .query_row([rfc3339(now)], |row| row.get(0))
        })
    }

    /// Pending rows whose next attempt is due, oldest first.
    pub async fn due_outbox(
        &self,
        now: DateTime<Utc>,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>> {
        let rows = sqlx::query(DUE_OUTBOX)
            .bind(rfc3339(now))
            .bind(after_id)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let recipients: String = row.get(5);
                OutboxRow {
                    id: row.get(0),
                    complaint_id: row.get(1),
                    purpose: row.get(2),
                    message_id: row.get::<Option<String>, _>(3).unwrap_or_default(),
                    envelope_from: row.get(4),
                    recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                    attempts: row.get(6),
                }
            })
            .collect())
    }

    /// Claims a row for delivery and returns its bytes; `None` when it is no longer
    /// pending. From here until it is recorded as sent, a crash leaves the row `sending`:
    /// delivery uncertain. The message accepted just before, if any, is recorded as sent
    /// in the same transaction, so a pass commits once per message.
    pub async fn outbox_claim(
        &self,
        id: i64,
        accepted: Option<Accepted<'_>>,
    ) -> Result<Option<Vec<u8>>> {
        let mut tx = self.pool.begin().await?;
        if let Some(accepted) = accepted {
            record_sent(&mut tx, accepted).await?;
        }
        let claimed = sqlx::query("UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ? AND status = 'pending'")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        let raw = if claimed {
            let (sha256, splices): (String, Option<String>) =
                sqlx::query_as("SELECT raw_sha256, splices FROM outbox WHERE id = ?")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            Some(outgoing_bytes(&self.archive, &mut tx, &sha256, splices.as_deref()).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(raw)
    }

    pub async fn outbox_sent(&self, accepted: Accepted<'_>) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        record_sent(&mut tx, accepted).await?;
        tx.commit().await
    }

    /// A transient failure: back to pending, retried at `next_attempt_at`.
    pub async fn outbox_retry_later(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?")
            .bind(rfc3339(next_attempt_at))
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Parks a row that must not be retried by itself: rejected permanently (with the
    /// server's reply), or interrupted so that delivery is uncertain.
    pub async fn outbox_park(
        &self,
        row: &OutboxRow,
        parked: ParkedAs,
        at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        let status = parked.as_str();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE outbox SET status = ?, last_error = ? WHERE id = ?")
            .bind(status)
            .bind(error)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
        let detail = format!("message {}: {error}", row.message_id);
        insert_event(
            &mut *tx,
            row.complaint_id,
            at,
            "worker",
            &format!("{}_{status}", row.purpose),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// Rows left `sending` by a worker that died mid-delivery. The server may or may not
    /// have accepted them; sending again could answer twice, so they are parked as
    /// `uncertain` for an operator to check, never resent automatically.
    pub async fn outbox_park_interrupted(&self, at: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let rows =
            sqlx::query("SELECT id, complaint_id, purpose FROM outbox WHERE status = 'sending'")
                .fetch_all(&mut *tx)
                .await?;
        for row in &rows {
            let id: i64 = row.get(0);
            let purpose: String = row.get(2);
            sqlx::query(
                "UPDATE outbox SET status = 'uncertain',
                 last_error = 'worker stopped during delivery: the server may have accepted it; not resent' WHERE id = ?",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let detail =
                format!("outbox #{id}: worker stopped during delivery; not resent automatically");
            insert_event(
                &mut *tx,
                row.get(1),
                at,
                "worker",
                &format!("{purpose}_uncertain"),
                &detail,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Sent rows not yet copied to the sent mailbox, oldest first, with their bytes.
    pub async fn uncopied_sent(&self, limit: usize) -> Result<Vec<(i64, Vec<u8>)>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, raw_sha256, splices FROM outbox WHERE status = 'sent' AND copied_at IS NULL ORDER BY id LIMIT ?",
        )
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut copies = Vec::with_capacity(rows.len());
        let mut connection = self.pool.acquire().await?;
        for (id, sha256, splices) in rows {
            copies.push((
                id,
                outgoing_bytes(&self.archive, &mut connection, &sha256, splices.as_deref()).await?,
            ));
        }
        Ok(copies)
    }

    pub async fn mark_copied(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE outbox SET copied_at = ? WHERE id = ?")
            .bind(rfc3339(at))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

async fn record_sent(tx: &mut Transaction<'_, Sqlite>, accepted: Accepted<'_>) -> Result<()> {
    let Accepted { row, at, reply } = accepted;
    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?")
        .bind(rfc3339(at))
        .bind(row.id)
        .execute(&mut **tx)
        .await?;
    if row.complaint_id.is_some() {
        let detail = format!("message {} accepted by SMTP: {reply}", row.message_id);
        insert_event(
            &mut **tx,
            row.complaint_id,
            at,
            "worker",
            &format!("{}_sent", row.purpose),
            &detail,
        )
        .await?;
    }
    Ok(())
}

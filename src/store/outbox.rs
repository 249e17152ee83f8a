//! Outbox rows: what is waiting to be delivered, and the record of each attempt.

use crate::domain::{DeliveryOutcome, Event, EventAction};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use sqlx::Row;

use super::{Batch, Result, Store, batch, insert_event};
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
    /// in the same transaction, so a pass commits once per message. The transaction runs
    /// whole on the writer's thread (sqlx would hand each of its statements to its own
    /// thread and back: several hundred thread switches a second for every SMTP session).
    pub async fn outbox_claim(
        &self,
        id: i64,
        accepted: Option<Accepted<'_>>,
    ) -> anyhow::Result<Option<Vec<u8>>> {
        let sent = accepted.map(Sent::from);
        self.batch(move |batch| {
            if let Some(sent) = &sent {
                batch.record_sent(sent)?;
            }
            Ok(batch.claim_outbox(id)?)
        })
        .await
    }

    pub async fn outbox_sent(&self, accepted: Accepted<'_>) -> anyhow::Result<()> {
        let sent = Sent::from(accepted);
        self.batch(move |batch| Ok(batch.record_sent(&sent)?)).await
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
        let outcome = match parked {
            ParkedAs::Failed => DeliveryOutcome::Failed,
            ParkedAs::Uncertain => DeliveryOutcome::Uncertain,
        };
        let action = EventAction::Delivery {
            purpose: row.purpose.clone(),
            outcome,
        };
        insert_event(
            &mut *tx,
            &Event::worker(row.complaint_id, at, action, detail),
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
            let action = EventAction::Delivery {
                purpose,
                outcome: DeliveryOutcome::Uncertain,
            };
            insert_event(&mut *tx, &Event::worker(row.get(1), at, action, detail)).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Sent rows not yet copied to the sent mailbox, oldest first, with their bytes.
    pub async fn uncopied_sent(&self, limit: usize) -> anyhow::Result<Vec<(i64, Vec<u8>)>> {
        self.batch(move |batch| {
            let rows = batch
                .connection()
                .prepare_cached(
                    "SELECT id, raw_sha256, splices FROM outbox WHERE status = 'sent' AND copied_at IS NULL ORDER BY id LIMIT ?",
                )?
                .query_map([limit as i64], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect::<rusqlite::Result<Vec<(i64, String, Option<String>)>>>()?;
            let mut copies = Vec::with_capacity(rows.len());
            for (id, sha256, splices) in rows {
                copies.push((id, batch.outgoing_bytes(&sha256, splices.as_deref())?));
            }
            Ok(copies)
        })
        .await
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

/// [`Accepted`], owned, for the writer's thread.
struct Sent {
    id: i64,
    complaint_id: Option<i64>,
    purpose: String,
    message_id: String,
    at: DateTime<Utc>,
    reply: String,
}

impl From<Accepted<'_>> for Sent {
    fn from(Accepted { row, at, reply }: Accepted<'_>) -> Sent {
        Sent {
            id: row.id,
            complaint_id: row.complaint_id,
            purpose: row.purpose.clone(),
            message_id: row.message_id.clone(),
            at,
            reply: reply.to_owned(),
        }
    }
}

impl Batch<'_> {
    fn record_sent(&mut self, sent: &Sent) -> batch::Result<()> {
        self.connection()
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
            )?
            .execute(params![rfc3339(sent.at), sent.id])?;
        if sent.complaint_id.is_some() {
            let detail = format!(
                "message {} accepted by SMTP: {}",
                sent.message_id, sent.reply
            );
            let action = EventAction::Delivery {
                purpose: sent.purpose.clone(),
                outcome: DeliveryOutcome::Sent,
            };
            self.add_event(&Event::worker(sent.complaint_id, sent.at, action, detail))?;
        }
        Ok(())
    }

    /// Marks a pending row `sending` and returns its bytes; `None` when it is no longer
    /// pending.
    fn claim_outbox(&mut self, id: i64) -> batch::Result<Option<Vec<u8>>> {
        let claimed: Option<(String, Option<String>)> = self
            .connection()
            .prepare_cached(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1
                 WHERE id = ? AND status = 'pending' RETURNING raw_sha256, splices",
            )?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        claimed
            .map(|(sha256, splices)| self.outgoing_bytes(&sha256, splices.as_deref()))
            .transpose()
    }
}

//! `outbox`: what is waiting to be delivered, and the record of each attempt; an
//! outgoing message is recorded (in `messages`) and queued in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::batch::Batch;
use super::db::Access;
use super::error::{Result, StoreError};
use super::{Store, json};
use crate::clock::rfc3339;
use crate::domain::{DeliveryOutcome, EmailAddress, Event, EventAction};
use crate::mail::compose::Outgoing;
use crate::mail::parse::Party;

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

/// What claiming a row for delivery found.
#[derive(Debug)]
pub enum Claim {
    /// The row is `sending`: these are the bytes to send.
    Claimed(Vec<u8>),
    /// It is no longer pending (another pass or the operator took it).
    Gone,
    /// Its stored bytes cannot be read (the archive is damaged or missing): the row stays
    /// `pending`, and the rest of the outbox goes on.
    Unreadable(String),
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
    pub async fn outbox_pending(&self, now: DateTime<Utc>) -> Result<bool> {
        self.db
            .call(Access::Read, move |batch| {
                Ok(batch
                    .connection()
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'sending')
                         OR EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?)",
                    )?
                    .query_row([rfc3339(now)], |row| row.get(0))?)
            })
            .await
    }

    /// Pending rows whose next attempt is due, oldest first.
    pub async fn due_outbox(
        &self,
        now: DateTime<Utc>,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<OutboxRow>> {
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(DUE_OUTBOX)?;
                let rows =
                    statement.query_map(params![rfc3339(now), after_id, limit as i64], |row| {
                        let recipients: String = row.get(5)?;
                        Ok(OutboxRow {
                            id: row.get(0)?,
                            complaint_id: row.get(1)?,
                            purpose: row.get(2)?,
                            message_id: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                            envelope_from: row.get(4)?,
                            recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                            attempts: row.get(6)?,
                        })
                    })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    /// Claims a row for delivery and returns its bytes. From here until it is recorded
    /// as sent, a crash leaves the row `sending`: delivery uncertain. The message
    /// accepted just before, if any, is recorded as sent in the same transaction, so a
    /// pass commits once per message (also when this row's bytes cannot be read).
    pub async fn outbox_claim(&self, id: i64, accepted: Option<Accepted<'_>>) -> Result<Claim> {
        let sent = accepted.map(Sent::from);
        self.db
            .call(Access::Write, move |batch| {
                if let Some(sent) = &sent {
                    batch.record_sent(sent)?;
                }
                batch.claim_outbox(id)
            })
            .await
    }

    pub async fn outbox_sent(&self, accepted: Accepted<'_>) -> Result<()> {
        let sent = Sent::from(accepted);
        self.db
            .call(Access::Write, move |batch| batch.record_sent(&sent))
            .await
    }

    /// A transient failure: back to pending, retried at `next_attempt_at`.
    pub async fn outbox_retry_later(
        &self,
        id: i64,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        let error = error.to_owned();
        self.db
            .call(Access::Write, move |batch| {
                batch
                    .connection()
                    .prepare_cached(
                        "UPDATE outbox SET status = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?",
                    )?
                    .execute(params![rfc3339(next_attempt_at), error, id])?;
                Ok(())
            })
            .await
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
        let detail = format!("message {}: {error}", row.message_id);
        let outcome = match parked {
            ParkedAs::Failed => DeliveryOutcome::Failed,
            ParkedAs::Uncertain => DeliveryOutcome::Uncertain,
        };
        let action = EventAction::Delivery {
            purpose: row.purpose.clone(),
            outcome,
        };
        let event = Event::worker(row.complaint_id, at, action, detail);
        let (id, error) = (row.id, error.to_owned());
        self.db
            .call(Access::Write, move |batch| {
                batch
                    .connection()
                    .prepare_cached("UPDATE outbox SET status = ?, last_error = ? WHERE id = ?")?
                    .execute(params![parked.as_str(), error, id])?;
                batch.add_event(&event)
            })
            .await
    }

    /// Rows left `sending` by a worker that died mid-delivery. The server may or may not
    /// have accepted them; sending again could answer twice, so they are parked as
    /// `uncertain` for an operator to check, never resent automatically.
    pub async fn outbox_park_interrupted(&self, at: DateTime<Utc>) -> Result<u64> {
        self.db
            .call(Access::Write, move |batch| {
                let interrupted = batch
                    .connection()
                    .prepare_cached(
                        "SELECT id, complaint_id, purpose FROM outbox WHERE status = 'sending'",
                    )?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect::<rusqlite::Result<Vec<(i64, Option<i64>, String)>>>()?;
                for (id, complaint_id, purpose) in &interrupted {
                    batch.park_interrupted(*id, *complaint_id, purpose.clone(), at)?;
                }
                Ok(interrupted.len() as u64)
            })
            .await
    }

    /// Sent rows not yet copied to the sent mailbox, oldest first, with their bytes.
    pub async fn uncopied_sent(&self, limit: usize) -> Result<Vec<(i64, Vec<u8>)>> {
        self.db
            .call(Access::Read, move |batch| {
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
        self.db
            .call(Access::Write, move |batch| {
                batch
                    .connection()
                    .prepare_cached("UPDATE outbox SET copied_at = ? WHERE id = ?")?
                    .execute(params![rfc3339(at), id])?;
                Ok(())
            })
            .await
    }
}

/// [`Accepted`], owned, for the register's thread.
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
    /// Records an outgoing message and queues it for delivery, in this transaction.
    pub fn enqueue(
        &mut self,
        complaint_id: Option<i64>,
        outgoing: &Outgoing,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let raw_sha256 = crate::mail::parse::sha256_hex(&outgoing.raw);
        self.put_blob(&raw_sha256, &outgoing.raw)?;
        let to: Vec<Party> = outgoing
            .recipients
            .iter()
            .map(|email| Party {
                name: outgoing.to_name.clone(),
                email: Some(email.clone()),
            })
            .collect();
        let now = rfc3339(now);
        let addressed = outgoing.addressed.as_ref();
        let message_row: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO messages (direction, kind, complaint_id, message_key, message_id, in_reply_to, references_json,
                                       from_email, to_json, subject, date, body_text, raw_sha256, recorded_at,
                                       stage, role, recipient)
                 VALUES ('out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )?
            .query_row(
                params![
                    outgoing.purpose,
                    complaint_id,
                    &outgoing.message_id,
                    &outgoing.message_id,
                    outgoing.in_reply_to.as_deref(),
                    json(&outgoing.references),
                    outgoing.envelope_from.as_str(),
                    json(&to),
                    &outgoing.subject,
                    &now,
                    &outgoing.body_text,
                    &raw_sha256,
                    &now,
                    addressed.map(|a| a.stage.as_str()),
                    addressed.map(|a| a.role.as_str()),
                    addressed.map(|a| a.recipient.as_str()),
                ],
                |row| row.get(0),
            )?;
        let recipients: Vec<&str> = outgoing
            .recipients
            .iter()
            .map(EmailAddress::as_str)
            .collect();
        let id: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO outbox (message_row, complaint_id, purpose, envelope_from, recipients_json, first_recipient,
                                     raw_sha256, splices, status, next_attempt_at, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
            )?
            .query_row(
                params![
                    message_row,
                    complaint_id,
                    outgoing.purpose,
                    outgoing.envelope_from.as_str(),
                    json(&recipients),
                    recipients.first().copied().unwrap_or(""),
                    &raw_sha256,
                    (!outgoing.splices.is_empty()).then(|| json(&outgoing.splices)),
                    &now,
                    &now,
                ],
                |row| row.get(0),
            )?;
        Ok(id)
    }

    /// How many acknowledgments (and answers to status questions, closures' reasons,
    /// thanks for ratings and explanations of the SMS format, which count against the same
    /// limit) were queued to this address since `since`.
    pub fn acknowledgments_since(
        &mut self,
        to: &EmailAddress,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let count: i64 = self
            .connection
            .prepare_cached(
                "SELECT count(*) FROM outbox WHERE purpose IN ('ack', 'status', 'tutup', 'nilai', 'format') AND first_recipient = ? AND created_at > ?",
            )?
            .query_row(params![to.as_str(), rfc3339(since)], |row| row.get(0))?;
        Ok(count as u32)
    }

    fn record_sent(&mut self, sent: &Sent) -> Result<()> {
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

    /// Marks a pending row `sending` and returns its bytes; [`Claim::Gone`] when it is no
    /// longer pending, [`Claim::Unreadable`] (the row left `pending`) when its bytes
    /// cannot be read.
    fn claim_outbox(&mut self, id: i64) -> Result<Claim> {
        let claimed: Option<(String, Option<String>)> = self
            .connection()
            .prepare_cached(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1
                 WHERE id = ? AND status = 'pending' RETURNING raw_sha256, splices",
            )?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        let Some((sha256, splices)) = claimed else {
            return Ok(Claim::Gone);
        };
        match self.outgoing_bytes(&sha256, splices.as_deref()) {
            Ok(bytes) => Ok(Claim::Claimed(bytes)),
            Err(error @ (StoreError::Io(_) | StoreError::Decode(_))) => {
                self.connection()
                    .prepare_cached("UPDATE outbox SET status = 'pending' WHERE id = ?")?
                    .execute([id])?;
                Ok(Claim::Unreadable(format!(
                    "cannot read the stored message: {error}"
                )))
            }
            Err(error) => Err(error),
        }
    }

    fn park_interrupted(
        &mut self,
        id: i64,
        complaint_id: Option<i64>,
        purpose: String,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.connection()
            .prepare_cached(
                "UPDATE outbox SET status = 'uncertain',
                 last_error = 'worker stopped during delivery: the server may have accepted it; not resent' WHERE id = ?",
            )?
            .execute([id])?;
        let detail =
            format!("outbox #{id}: worker stopped during delivery; not resent automatically");
        let action = EventAction::Delivery {
            purpose,
            outcome: DeliveryOutcome::Uncertain,
        };
        self.add_event(&Event::worker(complaint_id, at, action, detail))
    }
}

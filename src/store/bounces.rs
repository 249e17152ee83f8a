//! Bounces tied back to the outbox: the row a bounce names becomes `bounced`, with the
//! reason.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::batch::Batch;
use super::error::Result;
use crate::clock::rfc3339;

/// The outgoing message a bounce returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BouncedRow {
    pub outbox_id: i64,
    pub complaint_id: Option<i64>,
    pub purpose: String,
    pub first_recipient: String,
    pub message_id: String,
}

/// A bounced message as `show` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct BounceView {
    pub at: String,
    pub purpose: String,
    pub to: String,
    pub reason: String,
}

impl Batch<'_> {
    /// The first of these Message-IDs that names a message the worker queued.
    pub fn outbox_by_message_ids(&mut self, ids: &[String]) -> Result<Option<BouncedRow>> {
        let mut statement = self.connection().prepare_cached(
            "SELECT o.id, o.complaint_id, o.purpose, o.first_recipient, m.message_id
             FROM messages m JOIN outbox o ON o.message_row = m.id
             WHERE m.message_key = ? AND m.direction = 'out'",
        )?;
        for id in ids {
            let found = statement
                .query_row([id], |row| {
                    Ok(BouncedRow {
                        outbox_id: row.get(0)?,
                        complaint_id: row.get(1)?,
                        purpose: row.get(2)?,
                        first_recipient: row.get(3)?,
                        message_id: row.get(4)?,
                    })
                })
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Marks a row `bounced`; `false` when it already was (a second report of the same
    /// bounce) or was never accepted.
    pub fn mark_bounced(
        &mut self,
        outbox_id: i64,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let changed = self
            .connection()
            .prepare_cached(
                "UPDATE outbox SET status = 'bounced', bounced_at = ?, bounce_reason = ?
                 WHERE id = ? AND status IN ('sent', 'uncertain', 'sending')",
            )?
            .execute(params![rfc3339(at), reason, outbox_id])?;
        Ok(changed == 1)
    }
}

/// The bounced messages of one complaint, oldest first.
pub(super) fn of_complaint(
    connection: &rusqlite::Connection,
    complaint_id: i64,
) -> rusqlite::Result<Vec<BounceView>> {
    let mut statement = connection.prepare_cached(
        "SELECT bounced_at, purpose, first_recipient, coalesce(bounce_reason, '') FROM outbox
         WHERE complaint_id = ? AND status = 'bounced' ORDER BY id",
    )?;
    let rows = statement.query_map([complaint_id], |r| {
        Ok(BounceView {
            at: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            purpose: r.get(1)?,
            to: r.get(2)?,
            reason: r.get(3)?,
        })
    })?;
    rows.collect()
}

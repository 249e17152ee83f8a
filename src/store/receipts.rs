//! `imap_receipts`: which IMAP message (mailbox, UIDVALIDITY, UID) was recorded as which
//! row, where it goes, and whether it has left the inbox.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::batch::Batch;
use super::db::Access;
use super::error::Result;
use super::{Store, json};
use crate::clock::rfc3339;

/// Where a received IMAP message goes once its record is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Processed,
    Quarantine,
}

impl Destination {
    fn as_str(self) -> &'static str {
        match self {
            Destination::Processed => "processed",
            Destination::Quarantine => "quarantine",
        }
    }

    fn parse(text: &str) -> Destination {
        if text == "quarantine" {
            Destination::Quarantine
        } else {
            Destination::Processed
        }
    }
}

impl Store {
    /// Receipts already recorded for these UIDs: the messages that only need moving.
    pub async fn receipts(
        &self,
        mailbox: &str,
        uid_validity: u32,
        uids: &[u32],
    ) -> Result<HashMap<u32, Destination>> {
        let (mailbox, uids) = (mailbox.to_owned(), json(uids));
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(
                    "SELECT uid, destination FROM imap_receipts WHERE mailbox = ? AND uid_validity = ?
                     AND uid IN (SELECT value FROM json_each(?))",
                )?;
                let rows = statement.query_map(params![mailbox, uid_validity, uids], |row| {
                    Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
                })?;
                let mut found = HashMap::new();
                for row in rows {
                    let (uid, destination) = row?;
                    found.insert(uid, Destination::parse(&destination));
                }
                Ok(found)
            })
            .await
    }

    /// Marks receipts moved: one statement, and no fsync (bookkeeping: a mark lost in a
    /// power failure only means the next run looks the receipt up for a UID the inbox
    /// no longer has).
    pub async fn mark_moved(
        &self,
        mailbox: &str,
        uid_validity: u32,
        uids: &[u32],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let (mailbox, uids) = (mailbox.to_owned(), json(uids));
        self.db
            .call(Access::Bookkeeping, move |batch| {
                batch
                    .connection()
                    .prepare_cached(
                        "UPDATE imap_receipts SET moved_at = ? WHERE mailbox = ? AND uid_validity = ?
                         AND uid IN (SELECT value FROM json_each(?))",
                    )?
                    .execute(params![rfc3339(at), mailbox, uid_validity, uids])?;
                Ok(())
            })
            .await
    }
}

/// Where a message was fetched from: its IMAP identity, the exactly-once key of its
/// fetch.
#[derive(Debug, Clone, Copy)]
pub struct Receipt<'a> {
    pub mailbox: &'a str,
    pub uid_validity: u32,
    pub uid: u32,
}

impl Batch<'_> {
    /// Notes that the message fetched as `receipt` was recorded as `message_row` and goes
    /// to `destination`.
    pub fn record_receipt(
        &mut self,
        receipt: Receipt<'_>,
        (message_row, destination): (i64, Destination),
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
                "INSERT INTO imap_receipts (mailbox, uid_validity, uid, message_row, destination, recorded_at)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                receipt.mailbox,
                receipt.uid_validity,
                receipt.uid,
                message_row,
                destination.as_str(),
                rfc3339(now)
            ])?;
        Ok(())
    }
}

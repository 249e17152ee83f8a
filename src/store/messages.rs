//! `messages` and `attachments`: every message received or sent, recorded once under its
//! key (the Message-ID, or the hash of its bytes), with its files described.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::batch::Batch;
use super::error::Result;
use super::receipts::Destination;
use super::{Location, json};
use crate::clock::rfc3339;
use crate::domain::{EmailAddress, InboundKind};
use crate::mail::identity::content_digest;
use crate::mail::parse::{Attachment, Inbound};

/// An inbound message to record.
pub struct InboundRecord<'a> {
    pub key: &'a str,
    pub kind: InboundKind,
    pub complaint_id: Option<i64>,
    pub inbound: &'a Inbound,
    /// Where the raw bytes were archived as they arrived.
    pub raw: Location,
    pub raw_sha256: &'a str,
    pub quarantine_reason: Option<&'a str>,
    pub note: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// A message the register already holds under some key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMessage {
    pub row: i64,
    pub destination: Destination,
    pub raw_sha256: Option<String>,
}

impl Batch<'_> {
    /// The message recorded under this key (Message-ID or raw hash): its row, where it
    /// went, and the hash of its raw bytes (none for rows from before the archive).
    pub fn message_by_key(&mut self, key: &str) -> Result<Option<KnownMessage>> {
        let found = self
            .connection
            .prepare_cached("SELECT id, kind, raw_sha256 FROM messages WHERE message_key = ?")?
            .query_row([key], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            })
            .optional()?;
        Ok(found.map(|(row, kind, raw_sha256)| KnownMessage {
            row,
            destination: if kind == InboundKind::Quarantined.as_str() {
                Destination::Quarantine
            } else {
                Destination::Processed
            },
            raw_sha256,
        }))
    }

    /// Whether the message archived at `raw` is the one the register knows: the same
    /// bytes, or a second delivery of it (see [`content_digest`]). Both are read back
    /// from the archive only when the bytes differ, which a Message-ID collision is.
    pub fn same_message(
        &mut self,
        known: &KnownMessage,
        raw: Location,
        raw_sha256: &str,
    ) -> Result<bool> {
        let Some(known_sha256) = known.raw_sha256.as_deref() else {
            return Ok(false);
        };
        if known_sha256 == raw_sha256 {
            return Ok(true);
        }
        let (Ok(known_bytes), Ok(bytes)) = (
            self.read_blob(known_sha256),
            self.archive.read(raw, raw_sha256),
        ) else {
            return Ok(false);
        };
        Ok(content_digest(&known_bytes) == content_digest(&bytes))
    }

    /// Records an inbound message, its raw bytes and its attachments. Returns the row id.
    pub fn record_inbound(&mut self, record: &InboundRecord<'_>) -> Result<i64> {
        self.index_blob(record.raw_sha256, record.raw)?;
        let inbound = record.inbound;
        let from = inbound.from.as_ref();
        let id: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO messages (direction, kind, complaint_id, message_key, message_id, in_reply_to, references_json,
                                       from_name, from_email, to_json, subject, date, body_text, raw_sha256,
                                       quarantine_reason, note, recorded_at)
                 VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )?
            .query_row(
                params![
                    record.kind.as_str(),
                    record.complaint_id,
                    record.key,
                    inbound.message_id.as_deref(),
                    inbound.in_reply_to.first().map(String::as_str),
                    json(&inbound.references),
                    from.and_then(|p| p.name.as_deref()),
                    from.and_then(|p| p.email.as_ref()).map(EmailAddress::as_str),
                    json(&inbound.to),
                    &inbound.subject,
                    inbound.date.map(rfc3339),
                    &inbound.body_text,
                    record.raw_sha256,
                    record.quarantine_reason,
                    record.note,
                    rfc3339(record.now),
                ],
                |row| row.get(0),
            )?;
        self.record_attachments(id, &inbound.attachments)?;
        Ok(id)
    }

    fn record_attachments(&mut self, message_row: i64, attachments: &[Attachment]) -> Result<()> {
        // A file's bytes stay inside the raw message (its evidence): forwarding parses
        // them out again, so a decoded copy is never written.
        let mut statement = self.connection.prepare_cached(
            "INSERT INTO attachments (message_row, position, filename, content_type, disposition, size, sha256)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )?;
        for (position, attachment) in attachments.iter().enumerate() {
            statement.execute(params![
                message_row,
                position as i64,
                attachment.filename.as_deref(),
                &attachment.content_type,
                attachment.disposition,
                attachment.size as i64,
                &attachment.sha256,
            ])?;
        }
        Ok(())
    }

    /// The raw bytes of one recorded message (its evidence) and their SHA-256: its files
    /// are parsed out of it when they are sent on.
    pub fn message_raw(&mut self, message_row: i64) -> Result<(String, Vec<u8>)> {
        let sha256: String = self
            .connection()
            .prepare_cached("SELECT raw_sha256 FROM messages WHERE id = ?")?
            .query_row([message_row], |row| row.get(0))?;
        let raw = self.read_blob(&sha256)?;
        Ok((sha256, raw))
    }

    /// The complaint a recorded message belongs to, if any.
    pub fn complaint_of_message(&mut self, message_row: i64) -> Result<Option<i64>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT complaint_id FROM messages WHERE id = ?")?
            .query_row([message_row], |row| row.get(0))
            .optional()?
            .flatten())
    }

    /// The citizen's first message of a complaint (the one that registered it).
    pub fn complaint_message(&mut self, complaint_id: i64) -> Result<Option<i64>> {
        Ok(self
            .connection()
            .prepare_cached(
                "SELECT id FROM messages WHERE complaint_id = ? AND direction = 'in' AND kind = 'complaint' ORDER BY id LIMIT 1",
            )?
            .query_row([complaint_id], |row| row.get(0))
            .optional()?)
    }
}

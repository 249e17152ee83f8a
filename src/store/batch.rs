//! One transaction of ingest (or sweep) work, [`Batch`]: every statement the procedure
//! writes, run synchronously on the writer's connection (`writer.rs`) with its statements
//! prepared once and cached.

use crate::domain::Event;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Archive, BLOB_LOCATION, ComplaintRef, Destination, INSERT_EVENT, InboundRecord, Location,
    NewComplaint, complaint_ref_parts, json,
};
use crate::clock::rfc3339;
use crate::domain::{EmailAddress, InboundKind, RegisterNumber, Status};
use crate::mail::compose::Outgoing;
use crate::mail::identity::content_digest;
use crate::mail::parse::{Attachment, Party};

pub type Result<T> = std::result::Result<T, BatchError>;

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("database: {0}")]
    Decode(String),
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// One transaction of ingest work (see [`super::Store::batch`]).
pub struct Batch<'c> {
    pub(super) connection: &'c Connection,
    pub(super) archive: &'c Archive,
    /// Archive files were named in this transaction: sync them before it commits.
    pub(super) unsynced: bool,
}

/// A message is recorded under its Message-ID (its exactly-once key), so the key's index
/// finds it.
pub(super) const COMPLAINT_BY_MESSAGE_ID: &str =
    "SELECT c.id, c.number, c.status FROM messages m JOIN complaints c ON c.id = m.complaint_id
     WHERE m.message_key = ?";

/// A message the register already holds under some key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownMessage {
    pub row: i64,
    pub destination: Destination,
    pub raw_sha256: Option<String>,
}

/// Why an [`Batch::isolated`] unit of work was undone.
#[derive(Debug, thiserror::Error)]
pub enum Undone {
    #[error("{0:#}")]
    Failed(anyhow::Error),
    #[error("panicked: {0}")]
    Panicked(String),
}

impl Batch<'_> {
    pub(super) fn connection(&self) -> &Connection {
        self.connection
    }

    /// Runs `work` as one unit inside the batch (an SQLite savepoint): when it fails or
    /// panics, everything it wrote is undone and the batch goes on without it. An error
    /// of the savepoint itself fails the batch (the outer `Err`).
    pub fn isolated<T>(
        &mut self,
        work: impl FnOnce(&mut Batch<'_>) -> anyhow::Result<T>,
    ) -> Result<std::result::Result<T, Undone>> {
        self.connection.execute_batch("SAVEPOINT isolated")?;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self)));
        let undone = match outcome {
            Ok(Ok(value)) => {
                self.connection.execute_batch("RELEASE isolated")?;
                return Ok(Ok(value));
            }
            Ok(Err(error)) => Undone::Failed(error),
            Err(panic) => Undone::Panicked(panic_message(panic.as_ref())),
        };
        self.connection
            .execute_batch("ROLLBACK TO isolated; RELEASE isolated")?;
        Ok(Err(undone))
    }

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

    /// The complaint that any of these Message-IDs belongs to (nearest first).
    pub fn complaint_by_message_ids(&mut self, ids: &[&str]) -> Result<Option<ComplaintRef>> {
        let mut statement = self.connection.prepare_cached(COMPLAINT_BY_MESSAGE_ID)?;
        for id in ids {
            if let Some(found) = statement.query_row([id], complaint_ref).optional()? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// The complaint with this number, if it was reported by this address.
    pub fn complaint_by_number_from(
        &mut self,
        number: &RegisterNumber,
        reporter: &EmailAddress,
    ) -> Result<Option<ComplaintRef>> {
        Ok(self
            .connection
            .prepare_cached(
                "SELECT id, number, status FROM complaints WHERE number = ? AND reporter_email = ?",
            )?
            .query_row([number.as_str(), reporter.as_str()], complaint_ref)
            .optional()?)
    }

    /// How many acknowledgments were queued to this address since `since`.
    pub fn acknowledgments_since(
        &mut self,
        to: &EmailAddress,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let count: i64 = self
            .connection
            .prepare_cached(
                "SELECT count(*) FROM outbox WHERE purpose = 'ack' AND first_recipient = ? AND created_at > ?",
            )?
            .query_row(params![to.as_str(), rfc3339(since)], |row| row.get(0))?;
        Ok(count as u32)
    }

    /// Appends bytes to the archive and indexes them under their hash.
    pub fn put_blob(&mut self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let at = self.archive.append(bytes)?;
        self.index_blob(sha256, at)
    }

    /// Indexes bytes already in the archive (the fetch appended them off the reactor)
    /// under their hash, once.
    pub fn index_blob(&mut self, sha256: &str, at: Location) -> Result<()> {
        self.connection
            .prepare_cached(
                "INSERT INTO blobs (sha256, size, pack, pack_offset) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![
                sha256,
                at.size as i64,
                i64::from(at.pack),
                at.offset as i64
            ])?;
        self.unsynced = true;
        Ok(())
    }

    /// The bytes stored under `sha256`: a range of a pack in the archive, or (written by
    /// versions before the archive) chunks in `blob_chunks`.
    pub(super) fn read_blob(&mut self, sha256: &str) -> Result<Vec<u8>> {
        let (size, pack, offset): (i64, Option<i64>, Option<i64>) = self
            .connection
            .prepare_cached(BLOB_LOCATION)?
            .query_row([sha256], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        if let (Some(pack), Some(offset)) = (pack, offset) {
            let at = Location {
                pack: pack as u32,
                offset: offset as u64,
                size: size as u64,
            };
            return Ok(self.archive.read(at, sha256)?);
        }
        let mut statement = self
            .connection
            .prepare_cached("SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY seq")?;
        let mut bytes = Vec::new();
        for chunk in statement.query_map([sha256], |row| row.get::<_, Vec<u8>>(0))? {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(bytes)
    }

    /// The bytes of an outgoing message as it is sent: the stored message (`sha256`) with
    /// the files it names spliced in from their archived messages (`splices`, JSON).
    pub(super) fn outgoing_bytes(
        &mut self,
        sha256: &str,
        splices: Option<&str>,
    ) -> Result<Vec<u8>> {
        let stored = self.read_blob(sha256)?;
        let Some(splices) = splices else {
            return Ok(stored);
        };
        let splices: Vec<crate::mail::compose::Splice> =
            serde_json::from_str(splices).map_err(|e| BatchError::Decode(e.to_string()))?;
        let mut blobs = std::collections::HashMap::new();
        for splice in &splices {
            if !blobs.contains_key(&splice.blob) {
                let bytes = self.read_blob(&splice.blob)?;
                blobs.insert(splice.blob.clone(), bytes);
            }
        }
        crate::mail::compose::expand(&stored, &splices, |blob| blobs.get(blob).map(Vec::as_slice))
            .ok_or_else(|| {
                BatchError::Decode(format!(
                    "outgoing message {sha256}: a file it names is not where it says"
                ))
            })
    }

    /// Takes the next register number of `year` and records the complaint.
    pub fn register_complaint(&mut self, new: &NewComplaint<'_>) -> Result<ComplaintRef> {
        let seq: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO register_sequence (year, last) VALUES (?, 1)
                 ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            )?
            .query_row([new.year], |row| row.get(0))?;
        let number = RegisterNumber::new(new.prefix, new.year, seq);
        let status = Status::MenungguDisposisi;
        let id: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO complaints (number, year, seq, status, channel, reporter_name, reporter_email, subject,
                                         received_at, deadline_at, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )?
            .query_row(
                params![
                    number.as_str(),
                    new.year,
                    seq,
                    status.as_str(),
                    new.channel,
                    new.reporter_name,
                    new.reporter_email.as_str(),
                    new.subject,
                    rfc3339(new.received_at),
                    rfc3339(new.deadline_at),
                    rfc3339(new.now),
                    rfc3339(new.now),
                ],
                |row| row.get(0),
            )?;
        Ok(ComplaintRef { id, number, status })
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

    pub fn record_receipt(
        &mut self,
        mailbox: &str,
        uid_validity: u32,
        uid: u32,
        message_row: i64,
        destination: Destination,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
                "INSERT INTO imap_receipts (mailbox, uid_validity, uid, message_row, destination, recorded_at)
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                mailbox,
                uid_validity,
                uid,
                message_row,
                destination.as_str(),
                rfc3339(now)
            ])?;
        Ok(())
    }

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

    pub fn add_event(&mut self, event: &Event) -> Result<()> {
        self.connection
            .prepare_cached(INSERT_EVENT)?
            .execute(params![
                event.complaint_id,
                rfc3339(event.at),
                event.actor.as_str(),
                event.action.name(),
                event.detail
            ])?;
        Ok(())
    }
}

fn complaint_ref(row: &rusqlite::Row<'_>) -> rusqlite::Result<ComplaintRef> {
    Ok(complaint_ref_parts(
        row.get(0)?,
        row.get(1)?,
        &row.get::<_, String>(2)?,
    ))
}

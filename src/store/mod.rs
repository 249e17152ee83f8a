//! The only code with SQL. SQLite in WAL mode; every batch of inbound mail is written in
//! one transaction; no transaction is ever held across a network call.

mod archive;
mod health;
mod lock;
mod operations;
mod outbox;
mod procedure;
mod register;

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};

pub use archive::{Archive, Location};
pub use health::Health;
pub use lock::LockHolder;
pub use operations::{OutboxView, QuarantinedView};
pub use outbox::{Accepted, OutboxRow, ParkedAs};
pub use register::{AttachmentView, ComplaintDetail, ComplaintSummary, EventView, MessageView};

use crate::clock::rfc3339;
use crate::domain::{EmailAddress, InboundKind, RegisterNumber, Status};
use crate::mail::compose::Outgoing;
use crate::mail::parse::{Attachment, Inbound, Party};

pub type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    archive: Archive,
}

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

/// A complaint as threading sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRef {
    pub id: i64,
    pub number: RegisterNumber,
    pub status: Status,
}

/// A new complaint to register.
pub struct NewComplaint<'a> {
    pub prefix: &'a str,
    pub year: i32,
    pub channel: &'a str,
    pub reporter_name: Option<&'a str>,
    pub reporter_email: &'a EmailAddress,
    pub subject: &'a str,
    pub received_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

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

/// A connection whose fsync is relaxed ([`Store::bookkeeping`]): closed, never pooled,
/// unless it is taken back out after `synchronous = FULL` was restored.
struct Relaxed(Option<sqlx::pool::PoolConnection<Sqlite>>);

impl Drop for Relaxed {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            drop(connection.detach());
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        use anyhow::Context;
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid database.url {url:?}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            // A batch is written in one transaction: with SQLite's 2 MB default, dirty pages
            // spill to the WAL mid-transaction (measured: 15% of bulk-ingest time).
            .pragma("cache_size", "-16384")
            // The WAL grows to the size of the largest batch; give the space back after.
            .pragma("journal_size_limit", "67108864")
            // `run --once` exits without a checkpoint, and the next process reads every
            // WAL frame since the last one to rebuild its index: checkpoint every 64
            // pages (256 KiB) rather than 1000, so that read stays short.
            .pragma("wal_autocheckpoint", "64");
        let database = options.get_filename().to_path_buf();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if in_memory || database.as_os_str().is_empty() {
            anyhow::bail!(
                "database.url {url:?} is not a file: the worker keeps every message's bytes in an archive directory beside the database file"
            );
        }
        if let Some(parent) = database.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).with_context(|| {
                format!("cannot create the database directory {}", parent.display())
            })?;
        }
        // One connection: SQLite has one writer anyway, and sqlx hands a released
        // connection back to the pool in a spawned task, so with room for more every
        // query right after a commit opened (and parsed the schema on) a second
        // connection: 2.5 ms of a 30 ms idle cycle. Nothing here holds a connection
        // while it waits for another.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the database {url}"))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .with_context(|| format!("cannot migrate the database {url}"))?;
        let archive = Archive::beside(&database).context("cannot open the archive of messages")?;
        Ok(Store { pool, archive })
    }

    /// Runs `work` on one connection whose commits skip the fsync (`PRAGMA synchronous =
    /// NORMAL`, still atomic and consistent in WAL mode): for bookkeeping whose loss in a
    /// power failure is harmless, the worker lease and the cycle record, which would
    /// otherwise cost an idle cycle two disk flushes. The connection goes back to the pool
    /// only after `synchronous = FULL` is restored; one that cannot be restored (an error,
    /// or `work` dropped half-way) is closed instead, so no ingest commit ever runs
    /// without its fsync.
    async fn bookkeeping<T>(
        &self,
        work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> Result<T>,
    ) -> Result<T> {
        let mut relaxed = Relaxed(Some(self.pool.acquire().await?));
        let connection = relaxed.0.as_mut().expect("just acquired");
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut **connection)
            .await?;
        let result = work(connection).await;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut **connection)
            .await?;
        // Restored: back to the pool rather than closed.
        drop(relaxed.0.take());
        result
    }

    /// [`Store::bookkeeping`] as one round trip to SQLite's thread: `statements` run in
    /// one transaction, between relaxing the fsync and restoring it, all in a single
    /// multi-statement query (`arguments` bind in order across them). A script that fails
    /// half-way leaves its transaction open and the fsync relaxed, so its connection is
    /// closed rather than pooled.
    async fn bookkeeping_script(
        &self,
        statements: &str,
        arguments: sqlx::sqlite::SqliteArguments<'_>,
    ) -> Result<()> {
        let script = format!(
            "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE; {statements} COMMIT; PRAGMA synchronous = FULL;"
        );
        let mut relaxed = Relaxed(Some(self.pool.acquire().await?));
        let connection = relaxed.0.as_mut().expect("just acquired");
        sqlx::query_with(&script, arguments)
            .execute(&mut **connection)
            .await?;
        drop(relaxed.0.take());
        Ok(())
    }

    /// Where every message's bytes are kept (see [`Archive`]).
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn begin(&self) -> Result<Batch> {
        Ok(Batch {
            tx: self.pool.begin().await?,
            archive: self.archive.clone(),
            unsynced: false,
        })
    }

    /// Receipts already recorded for these UIDs: the messages that only need moving.
    pub async fn receipts(
        &self,
        mailbox: &str,
        uid_validity: u32,
        uids: &[u32],
    ) -> Result<HashMap<u32, Destination>> {
        let mut found = HashMap::new();
        for chunk in uids.chunks(500) {
            let placeholders = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT uid, destination FROM imap_receipts WHERE mailbox = ? AND uid_validity = ? AND uid IN ({placeholders})"
            );
            let mut query = sqlx::query(&sql).bind(mailbox).bind(uid_validity as i64);
            for uid in chunk {
                query = query.bind(*uid as i64);
            }
            for row in query.fetch_all(&self.pool).await? {
                let uid: i64 = row.get(0);
                let destination: String = row.get(1);
                found.insert(uid as u32, Destination::parse(&destination));
            }
        }
        Ok(found)
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
        let uids = json(uids);
        self.bookkeeping(async |connection| {
            sqlx::query(
                "UPDATE imap_receipts SET moved_at = ? WHERE mailbox = ? AND uid_validity = ?
                 AND uid IN (SELECT value FROM json_each(?))",
            )
            .bind(rfc3339(at))
            .bind(mailbox)
            .bind(uid_validity as i64)
            .bind(&uids)
            .execute(connection)
            .await
            .map(|_| ())
        })
        .await
    }

    /// Whether the database answers and its schema is current (for `check`).
    pub async fn ping(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT count(*) FROM complaints")
            .fetch_one(&self.pool)
            .await
    }
}

/// One transaction of ingest work. Dropped without [`Batch::commit`], it rolls back.
pub struct Batch {
    tx: Transaction<'static, Sqlite>,
    archive: Archive,
    /// Archive files were named in this transaction: sync them before it commits.
    unsynced: bool,
}

impl Batch {
    /// Makes the batch's archive files durable, then commits the rows that name them.
    pub async fn commit(self) -> Result<()> {
        if self.unsynced {
            let archive = self.archive.clone();
            blocking(move || archive.sync()).await?;
        }
        self.tx.commit().await
    }

    /// The message recorded under this key (Message-ID or raw hash), and where it went.
    pub async fn message_by_key(&mut self, key: &str) -> Result<Option<(i64, Destination)>> {
        let row = sqlx::query("SELECT id, kind FROM messages WHERE message_key = ?")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|row| {
            let kind: String = row.get(1);
            let destination = if kind == InboundKind::Quarantined.as_str() {
                Destination::Quarantine
            } else {
                Destination::Processed
            };
            (row.get(0), destination)
        }))
    }

    /// The complaint that any of these Message-IDs belongs to (nearest first).
    pub async fn complaint_by_message_ids(&mut self, ids: &[&str]) -> Result<Option<ComplaintRef>> {
        for id in ids {
            let row = sqlx::query(
                "SELECT c.id, c.number, c.status FROM messages m JOIN complaints c ON c.id = m.complaint_id
                 WHERE m.message_id = ? ORDER BY m.id LIMIT 1",
            )
            .bind(*id)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(row) = row {
                return Ok(Some(complaint_ref(&row)));
            }
        }
        Ok(None)
    }

    /// The complaint with this number, if it was reported by this address.
    pub async fn complaint_by_number_from(
        &mut self,
        number: &RegisterNumber,
        reporter: &EmailAddress,
    ) -> Result<Option<ComplaintRef>> {
        let row = sqlx::query(
            "SELECT id, number, status FROM complaints WHERE number = ? AND reporter_email = ?",
        )
        .bind(number.as_str())
        .bind(reporter.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(row.as_ref().map(complaint_ref))
    }

    /// How many acknowledgments were queued to this address since `since`.
    pub async fn acknowledgments_since(
        &mut self,
        to: &EmailAddress,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE purpose = 'ack' AND first_recipient = ? AND created_at > ?",
        )
        .bind(to.as_str())
        .bind(rfc3339(since))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(count as u32)
    }

    /// Appends bytes to the archive and indexes them under their hash.
    pub async fn put_blob(&mut self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let at = self.archive.append(bytes)?;
        self.index_blob(sha256, at).await
    }

    /// Indexes bytes already in the archive (the fetch appended them off the reactor)
    /// under their hash, once.
    pub async fn index_blob(&mut self, sha256: &str, at: Location) -> Result<()> {
        sqlx::query(
            "INSERT INTO blobs (sha256, size, pack, pack_offset) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(at.size as i64)
        .bind(i64::from(at.pack))
        .bind(at.offset as i64)
        .execute(&mut *self.tx)
        .await?;
        self.unsynced = true;
        Ok(())
    }

    /// Takes the next register number of `year` and records the complaint.
    pub async fn register_complaint(&mut self, new: &NewComplaint<'_>) -> Result<ComplaintRef> {
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO register_sequence (year, last) VALUES (?, 1)
             ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(new.year)
        .fetch_one(&mut *self.tx)
        .await?;
        let number = RegisterNumber::new(new.prefix, new.year, seq);
        let status = Status::MenungguDisposisi;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO complaints (number, year, seq, status, channel, reporter_name, reporter_email, subject,
                                     received_at, deadline_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(number.as_str())
        .bind(new.year)
        .bind(seq)
        .bind(status.as_str())
        .bind(new.channel)
        .bind(new.reporter_name)
        .bind(new.reporter_email.as_str())
        .bind(new.subject)
        .bind(rfc3339(new.received_at))
        .bind(rfc3339(new.deadline_at))
        .bind(rfc3339(new.now))
        .bind(rfc3339(new.now))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(ComplaintRef { id, number, status })
    }

    /// Records an inbound message, its raw bytes and its attachments. Returns the row id.
    pub async fn record_inbound(&mut self, record: &InboundRecord<'_>) -> Result<i64> {
        self.index_blob(record.raw_sha256, record.raw).await?;
        let inbound = record.inbound;
        let from = inbound.from.as_ref();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (direction, kind, complaint_id, message_key, message_id, in_reply_to, references_json,
                                   from_name, from_email, to_json, subject, date, body_text, raw_sha256,
                                   quarantine_reason, note, recorded_at)
             VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(record.kind.as_str())
        .bind(record.complaint_id)
        .bind(record.key)
        .bind(inbound.message_id.as_deref())
        .bind(inbound.in_reply_to.first().map(String::as_str))
        .bind(json(&inbound.references))
        .bind(from.and_then(|p| p.name.as_deref()))
        .bind(from.and_then(|p| p.email.as_ref()).map(EmailAddress::as_str))
        .bind(json(&inbound.to))
        .bind(&inbound.subject)
        .bind(inbound.date.map(rfc3339))
        .bind(&inbound.body_text)
        .bind(record.raw_sha256)
        .bind(record.quarantine_reason)
        .bind(record.note)
        .bind(rfc3339(record.now))
        .fetch_one(&mut *self.tx)
        .await?;
        self.record_attachments(id, &inbound.attachments).await?;
        Ok(id)
    }

    async fn record_attachments(
        &mut self,
        message_row: i64,
        attachments: &[Attachment],
    ) -> Result<()> {
        // A file's bytes stay inside the raw message (its evidence): forwarding parses
        // them out again, so a decoded copy is never written.
        for (position, attachment) in attachments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO attachments (message_row, position, filename, content_type, disposition, size, sha256)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(message_row)
            .bind(position as i64)
            .bind(attachment.filename.as_deref())
            .bind(&attachment.content_type)
            .bind(attachment.disposition)
            .bind(attachment.size as i64)
            .bind(&attachment.sha256)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    pub async fn record_receipt(
        &mut self,
        mailbox: &str,
        uid_validity: u32,
        uid: u32,
        message_row: i64,
        destination: Destination,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO imap_receipts (mailbox, uid_validity, uid, message_row, destination, recorded_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(mailbox)
        .bind(uid_validity as i64)
        .bind(uid as i64)
        .bind(message_row)
        .bind(destination.as_str())
        .bind(rfc3339(now))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Records an outgoing message and queues it for delivery, in this transaction.
    pub async fn enqueue(
        &mut self,
        complaint_id: Option<i64>,
        outgoing: &Outgoing,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        let raw_sha256 = crate::mail::parse::sha256_hex(&outgoing.raw);
        self.put_blob(&raw_sha256, &outgoing.raw).await?;
        let to: Vec<Party> = outgoing
            .recipients
            .iter()
            .map(|email| Party {
                name: outgoing.to_name.clone(),
                email: Some(email.clone()),
            })
            .collect();
        let message_row: i64 = sqlx::query_scalar(
            "INSERT INTO messages (direction, kind, complaint_id, message_key, message_id, in_reply_to, references_json,
                                   from_email, to_json, subject, date, body_text, raw_sha256, recorded_at,
                                   stage, role, recipient)
             VALUES ('out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(outgoing.purpose)
        .bind(complaint_id)
        .bind(&outgoing.message_id)
        .bind(&outgoing.message_id)
        .bind(outgoing.in_reply_to.as_deref())
        .bind(json(&outgoing.references))
        .bind(outgoing.envelope_from.as_str())
        .bind(json(&to))
        .bind(&outgoing.subject)
        .bind(rfc3339(now))
        .bind(&outgoing.body_text)
        .bind(&raw_sha256)
        .bind(rfc3339(now))
        .bind(outgoing.addressed.as_ref().map(|a| a.stage.as_str()))
        .bind(outgoing.addressed.as_ref().map(|a| a.role.as_str()))
        .bind(outgoing.addressed.as_ref().map(|a| a.recipient.as_str()))
        .fetch_one(&mut *self.tx)
        .await?;
        let recipients: Vec<&str> = outgoing
            .recipients
            .iter()
            .map(EmailAddress::as_str)
            .collect();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (message_row, complaint_id, purpose, envelope_from, recipients_json, first_recipient,
                                 raw_sha256, splices, status, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
        )
        .bind(message_row)
        .bind(complaint_id)
        .bind(outgoing.purpose)
        .bind(outgoing.envelope_from.as_str())
        .bind(json(&recipients))
        .bind(recipients.first().copied().unwrap_or(""))
        .bind(&raw_sha256)
        .bind((!outgoing.splices.is_empty()).then(|| json(&outgoing.splices)))
        .bind(rfc3339(now))
        .bind(rfc3339(now))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    pub async fn add_event(
        &mut self,
        complaint_id: Option<i64>,
        at: DateTime<Utc>,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<()> {
        insert_event(&mut *self.tx, complaint_id, at, actor, action, detail).await
    }
}

/// The bytes of an outgoing message as it is sent: the stored message (`sha256`) with
/// the files it names spliced in from their archived messages (`splices`, JSON).
async fn outgoing_bytes(
    archive: &Archive,
    connection: &mut sqlx::SqliteConnection,
    sha256: &str,
    splices: Option<&str>,
) -> Result<Vec<u8>> {
    let stored = read_blob(archive, connection, sha256).await?;
    let Some(splices) = splices else {
        return Ok(stored);
    };
    let splices: Vec<crate::mail::compose::Splice> =
        serde_json::from_str(splices).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let mut blobs = std::collections::HashMap::new();
    for splice in &splices {
        if !blobs.contains_key(&splice.blob) {
            let bytes = read_blob(archive, connection, &splice.blob).await?;
            blobs.insert(splice.blob.clone(), bytes);
        }
    }
    crate::mail::compose::expand(&stored, &splices, |blob| blobs.get(blob).map(Vec::as_slice))
        .ok_or_else(|| {
            sqlx::Error::Decode(
                format!("outgoing message {sha256}: a file it names is not where it says").into(),
            )
        })
}

/// The bytes stored under `sha256`: a range of a pack in the archive, or (written by
/// versions before the archive) chunks in `blob_chunks`.
async fn read_blob(
    archive: &Archive,
    connection: &mut sqlx::SqliteConnection,
    sha256: &str,
) -> Result<Vec<u8>> {
    use futures::TryStreamExt;
    let (size, pack, offset): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT size, pack, pack_offset FROM blobs WHERE sha256 = ?")
            .bind(sha256)
            .fetch_one(&mut *connection)
            .await?;
    if let (Some(pack), Some(offset)) = (pack, offset) {
        let at = Location {
            pack: pack as u32,
            offset: offset as u64,
            size: size as u64,
        };
        let (archive, sha256) = (archive.clone(), sha256.to_owned());
        return blocking(move || archive.read(at, &sha256)).await;
    }
    let mut chunks = sqlx::query_scalar::<_, Vec<u8>>(
        "SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY seq",
    )
    .bind(sha256)
    .fetch(&mut *connection);
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.try_next().await? {
        if bytes.is_empty() {
            bytes = chunk;
        } else {
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok(bytes)
}

/// Runs blocking file IO off the async reactor.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(std::io::Error::other)?
        .map_err(sqlx::Error::Io)
}

async fn insert_event<'e, E: sqlx::Executor<'e, Database = Sqlite>>(
    executor: E,
    complaint_id: Option<i64>,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (complaint_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(complaint_id)
    .bind(rfc3339(at))
    .bind(actor)
    .bind(action)
    .bind(detail)
    .execute(executor)
    .await?;
    Ok(())
}

fn complaint_ref(row: &sqlx::sqlite::SqliteRow) -> ComplaintRef {
    let number: String = row.get(1);
    let status: String = row.get(2);
    ComplaintRef {
        id: row.get(0),
        number: RegisterNumber::from_stored(number),
        status: Status::parse(&status).unwrap_or(Status::MenungguDisposisi),
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::{DateTime, EmailAddress, NewComplaint, Store, Utc, read_blob};
    use crate::mail::parse::sha256_hex;

    /// Every connection the pool holds, checked out at once: `PRAGMA synchronous` of each.
    async fn synchronous_of_every_connection(store: &Store) -> Vec<i64> {
        let mut held = Vec::new();
        for _ in 0..store.pool.size().max(1) {
            held.push(store.pool.acquire().await.expect("connection"));
        }
        let mut modes = Vec::new();
        for connection in &mut held {
            modes.push(
                sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                    .fetch_one(&mut **connection)
                    .await
                    .expect("pragma"),
            );
        }
        modes
    }

    #[tokio::test]
    async fn bookkeeping_never_leaves_a_connection_without_fsync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("open");
        let seen = store
            .bookkeeping(async |connection| {
                sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                    .fetch_one(connection)
                    .await
            })
            .await
            .expect("bookkeeping");
        assert_eq!(seen, 1, "NORMAL inside");
        let failed = store
            .bookkeeping(async |connection| {
                sqlx::query("SELECT * FROM no_such_table")
                    .execute(connection)
                    .await
                    .map(|_| ())
            })
            .await;
        assert!(failed.is_err());
        // Dropped half-way (a timeout, a signal): that connection is closed, not returned.
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            store.bookkeeping(async |_connection| {
                std::future::pending::<()>().await;
                Ok(())
            }),
        )
        .await;
        assert!(abandoned.is_err(), "timed out");
        let modes = synchronous_of_every_connection(&store).await;
        assert!(!modes.is_empty());
        assert!(modes.iter().all(|&m| m == 2), "all FULL again: {modes:?}");
    }

    #[tokio::test]
    async fn the_sweep_looks_only_at_complaints_with_a_notice_still_to_come() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("open");
        let now: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().expect("time");
        let reporter = EmailAddress::parse("warga@example.id").expect("address");
        let mut batch = store.begin().await.expect("begin");
        let mut ids = Vec::new();
        for hours_ago in [100, 50, 1] {
            let received_at = now - chrono::Duration::hours(hours_ago + 72);
            let complaint = batch
                .register_complaint(&NewComplaint {
                    prefix: "ADU",
                    year: 2026,
                    channel: "email",
                    reporter_name: None,
                    reporter_email: &reporter,
                    subject: "Jalan rusak",
                    received_at,
                    deadline_at: received_at + chrono::Duration::hours(72),
                    now,
                })
                .await
                .expect("register");
            ids.push(complaint.id);
        }
        batch
            .mark_deadline_notices(ids[0], &["overdue".to_string()], now)
            .await
            .expect("mark");
        batch
            .mark_deadline_notices(ids[1], &["reminder:24".to_string()], now)
            .await
            .expect("mark");
        batch.commit().await.expect("commit");
        let candidates: Vec<i64> = store
            .open_complaints_due_before(now)
            .await
            .expect("candidates")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            candidates,
            vec![ids[1], ids[2]],
            "the overdue-notified one is done"
        );
    }

    #[tokio::test]
    async fn blobs_are_archived_once_indexed_and_chunks_still_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("open");
        let big: Vec<u8> = (0..(3 << 20) + 7).map(|i| (i % 251) as u8).collect();
        let (big_sha, empty_sha) = (sha256_hex(&big), sha256_hex(b""));
        let archived = store.archive().append(&big).expect("append");
        let mut batch = store.begin().await.expect("begin");
        batch.index_blob(&big_sha, archived).await.expect("put");
        batch
            .index_blob(&big_sha, archived)
            .await
            .expect("put again");
        batch.put_blob(&empty_sha, b"").await.expect("put empty");
        batch.commit().await.expect("commit");

        let mut connection = store.pool.acquire().await.expect("connection");
        let blobs: i64 = sqlx::query_scalar("SELECT count(*) FROM blobs")
            .fetch_one(&mut *connection)
            .await
            .expect("count");
        assert_eq!(blobs, 2, "indexed once");
        drop(connection);
        let pack = dir.path().join("t.db.archive").join("00000001.pack");
        assert_eq!(
            std::fs::metadata(&pack).expect("pack").len(),
            big.len() as u64,
            "the bytes are in the pack, once"
        );
        let read = |sha: String| {
            let (store, pool) = (store.clone(), store.pool.clone());
            async move {
                let mut connection = pool.acquire().await.expect("connection");
                read_blob(&store.archive, &mut connection, &sha).await
            }
        };
        assert_eq!(read(big_sha).await.expect("read"), big);
        assert_eq!(read(empty_sha).await.expect("read"), b"");

        // Bytes stored in chunks by an older version are still read.
        let mut connection = store.pool.acquire().await.expect("connection");
        let old = b"an older message".to_vec();
        let old_sha = sha256_hex(&old);
        sqlx::query("INSERT INTO blobs (sha256, size) VALUES (?, ?)")
            .bind(&old_sha)
            .bind(old.len() as i64)
            .execute(&mut *connection)
            .await
            .expect("blob row");
        for (seq, chunk) in old.chunks(5).enumerate() {
            sqlx::query("INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)")
                .bind(&old_sha)
                .bind(seq as i64)
                .bind(chunk)
                .execute(&mut *connection)
                .await
                .expect("chunk");
        }
        drop(connection);
        assert_eq!(read(old_sha).await.expect("read"), old);

        // A database that is not a file has nowhere to keep its archive.
        let error = Store::open("sqlite::memory:")
            .await
            .err()
            .expect("in-memory refused");
        assert!(error.to_string().contains("not a file"), "{error}");
    }
}

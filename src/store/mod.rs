//! The only code with SQL. SQLite in WAL mode; every batch of inbound mail is written in
//! one transaction; no transaction is ever held across a network call.

mod archive;
mod batch;
mod complaints;
mod health;
mod held;
mod lock;
mod operations;
mod outbox;
mod register;
mod writer;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool};

pub use archive::{Archive, Location};
pub use batch::{Batch, BatchError, KnownMessage, Undone};
pub use health::Health;
pub use held::Unlisted;
pub use lock::{Acquired, LockHolder};
pub use operations::{OutboxView, QuarantinedView};
pub use outbox::{Accepted, OutboxRow, ParkedAs};
pub use register::{AttachmentView, ComplaintDetail, ComplaintSummary, EventView, MessageView};

use crate::clock::rfc3339;
use crate::domain::{EmailAddress, InboundKind, RegisterNumber, Status};
use crate::mail::parse::Inbound;

pub type Result<T> = std::result::Result<T, sqlx::Error>;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    archive: Archive,
    writer: Arc<writer::Writer>,
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

/// Settings of every connection, besides WAL, `synchronous = FULL`, foreign keys and a
/// 30 s busy timeout (set by each driver its own way).
const PRAGMAS: [(&str, &str); 4] = [
    ("temp_store", "memory"),
    // A batch is written in one transaction: with SQLite's 2 MB default, dirty pages
    // spill to the WAL mid-transaction (measured: 15% of bulk-ingest time).
    ("cache_size", "-16384"),
    // The WAL grows to the size of the largest batch; give the space back after.
    ("journal_size_limit", "67108864"),
    // `run --once` exits without a checkpoint, and the next process reads every WAL
    // frame since the last one to rebuild its index: checkpoint every 64 pages (256
    // KiB) rather than 1000, so that read stays short.
    ("wal_autocheckpoint", "64"),
];

/// The migrations recorded as applied (version and checksum, in order), or none when the
/// database has no record of any; a failed one makes the list differ from any source.
fn applied_migrations(connection: &rusqlite::Connection) -> rusqlite::Result<Vec<(i64, Vec<u8>)>> {
    let recorded: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations')",
        [],
        |row| row.get(0),
    )?;
    if !recorded {
        return Ok(Vec::new());
    }
    let mut statement = connection
        .prepare("SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version")?;
    let rows = statement.query_map([], |row| {
        let success: bool = row.get(2)?;
        let checksum: Vec<u8> = if success { row.get(1)? } else { Vec::new() };
        Ok((row.get(0)?, checksum))
    })?;
    rows.collect()
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
            .foreign_keys(true);
        let options = PRAGMAS.iter().fold(options, |options, (name, value)| {
            options.pragma(*name, *value)
        });
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
        // while it waits for another. It connects when first used: an idle cycle never
        // uses it (its lease, agenda and record go through the writer), and so never
        // starts sqlx's thread.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options);
        let writer = writer::Writer::new(database.clone());
        let migrator = sqlx::migrate!("./migrations");
        let applied = writer
            .read(applied_migrations)
            .with_context(|| format!("cannot open the database {url}"))?;
        let current = migrator
            .iter()
            .map(|m| (m.version, m.checksum.to_vec()))
            .collect::<Vec<_>>();
        if applied != current {
            // New, behind, or anything sqlx would want to say something about.
            migrator
                .run(&pool)
                .await
                .with_context(|| format!("cannot migrate the database {url}"))?;
        }
        let archive = Archive::beside(&database).context("cannot open the archive of messages")?;
        Ok(Store {
            pool,
            archive,
            writer,
        })
    }

    /// Runs `work` on sqlx's connection with commits that skip the fsync (`PRAGMA
    /// synchronous = NORMAL`, still atomic and consistent in WAL mode): for bookkeeping
    /// whose loss in a power failure is harmless and that happens while a batch may hold
    /// the writer (the receipts' "moved" marks; the lease and the cycle record use the
    /// writer's own, [`writer::Writer::bookkeeping`]). The connection goes back to the
    /// pool only after `synchronous = FULL` is restored; one that cannot be restored (an
    /// error, or `work` dropped half-way) is closed instead, so no commit that needs its
    /// fsync ever runs without it.
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

    /// Where every message's bytes are kept (see [`Archive`]).
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs `work` as one transaction of the register's writer ([`Batch`]) on a blocking
    /// thread, in the caller's tracing span. It commits only if `work` succeeds, after
    /// the archive files it named are synced.
    pub async fn batch<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Batch<'_>) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (writer, archive) = (self.writer.clone(), self.archive.clone());
        let span = tracing::Span::current();
        let done = tokio::task::spawn_blocking(move || {
            span.in_scope(|| writer.transaction(&archive, work))
        })
        .await;
        match done {
            Ok(result) => result,
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => Err(anyhow::anyhow!("the batch was cancelled: {error}")),
        }
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

    /// SQLite's `PRAGMA integrity_check` (for `check`): every page of the file is read,
    /// so this takes time in proportion to the register's size. Returns the problems
    /// found (at most `limit`), none when the file is sound.
    pub async fn integrity_problems(&self, limit: u32) -> Result<Vec<String>> {
        let found: Vec<String> = sqlx::query_scalar(&format!("PRAGMA integrity_check({limit})"))
            .fetch_all(&self.pool)
            .await?;
        // SQLite puts "*** in database main ***" and a line break before the first.
        Ok(found
            .iter()
            .flat_map(|row| row.lines())
            .map(str::trim)
            .filter(|line| !line.is_empty() && *line != "ok" && !line.starts_with("***"))
            .map(str::to_owned)
            .collect())
    }
}

/// Whether `error` says that the database file itself is damaged (SQLite's
/// `SQLITE_CORRUPT` or `SQLITE_NOTADB`, from sqlx or from the writer's connection)
/// rather than that something could not be done with it.
pub fn is_corruption(error: &anyhow::Error) -> bool {
    const SQLITE_CORRUPT: i32 = 11;
    const SQLITE_NOTADB: i32 = 26;
    error.chain().any(|cause| {
        if let Some(sqlx::Error::Database(database)) = cause.downcast_ref::<sqlx::Error>() {
            // The extended result code: its low byte is the primary one.
            let code = database.code().and_then(|code| code.parse::<i32>().ok());
            return code.is_some_and(|code| matches!(code & 0xff, SQLITE_CORRUPT | SQLITE_NOTADB));
        }
        if let Some(rusqlite::Error::SqliteFailure(failure, _)) =
            cause.downcast_ref::<rusqlite::Error>()
        {
            return matches!(
                failure.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            );
        }
        false
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
    let (size, pack, offset): (i64, Option<i64>, Option<i64>) = sqlx::query_as(BLOB_LOCATION)
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

/// One event of a complaint's history (both drivers write them).
const INSERT_EVENT: &str =
    "INSERT INTO events (complaint_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)";

/// Where a blob's bytes are (both drivers read them).
const BLOB_LOCATION: &str = "SELECT size, pack, pack_offset FROM blobs WHERE sha256 = ?";

async fn insert_event<'e, E: sqlx::Executor<'e, Database = Sqlite>>(
    executor: E,
    event: &crate::domain::Event,
) -> Result<()> {
    sqlx::query(INSERT_EVENT)
        .bind(event.complaint_id)
        .bind(rfc3339(event.at))
        .bind(event.actor.as_str())
        .bind(event.action.name())
        .bind(&event.detail)
        .execute(executor)
        .await?;
    Ok(())
}

fn complaint_ref_parts(id: i64, number: String, status: &str) -> ComplaintRef {
    ComplaintRef {
        id,
        number: RegisterNumber::from_stored(number),
        status: Status::parse(status).unwrap_or(Status::MenungguDisposisi),
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::{DateTime, EmailAddress, LockHolder, NewComplaint, Store, Utc, read_blob};
    use crate::mail::parse::sha256_hex;

    /// A new register in a temporary directory (kept while the directory lives).
    async fn scratch() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("open");
        (dir, store)
    }

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

    /// The steps of SQLite's plan for `query`, with `values` bound as text.
    async fn query_plan(store: &Store, query: &str, values: &[&str]) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {query}");
        let statement = values
            .iter()
            .fold(sqlx::query(&explain), |statement, value| {
                statement.bind(*value)
            });
        statement
            .fetch_all(&store.pool)
            .await
            .expect("plan")
            .iter()
            .map(|row| sqlx::Row::get::<String, _>(row, 3))
            .collect()
    }

    /// A queue of any length: each page of due mail is found in id order, never by
    /// reading and sorting every due row (130-200 ms per page at 97,000 queued).
    #[tokio::test]
    async fn due_mail_is_read_in_id_order_without_sorting_the_queue() {
        let (_dir, store) = scratch().await;
        let plan = query_plan(
            &store,
            super::outbox::DUE_OUTBOX,
            &["2026-12-01T00:00:00Z", "0", "100"],
        )
        .await;
        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX outbox_pending_by_id")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }

    /// A Message-ID is indexed once, as the message's exactly-once key: the lookups by
    /// Message-ID search that index, and no second index repeats it (each citizen's
    /// random Message-ID would dirty one more page per message in a batch).
    #[tokio::test]
    async fn message_ids_are_indexed_once_and_found_by_key() {
        let (_dir, store) = scratch().await;
        for query in [
            super::batch::COMPLAINT_BY_MESSAGE_ID,
            super::complaints::NOTIFICATION_BY_MESSAGE_ID,
        ] {
            let plan = query_plan(&store, query, &["a@example.net"]).await;
            assert!(
                plan.iter()
                    .any(|step| step.starts_with("SEARCH m ") && step.contains("(message_key=?)")),
                "{plan:?}"
            );
        }
        let indexed: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages'
             AND sql LIKE '%message_id%'",
        )
        .fetch_all(&store.pool)
        .await
        .expect("indexes");
        assert_eq!(indexed, Vec::<String>::new());
    }

    #[tokio::test]
    async fn bookkeeping_never_leaves_a_connection_without_fsync() {
        let (_dir, store) = scratch().await;
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

    /// `PRAGMA synchronous` of the writer's connection (2 is FULL).
    async fn writer_synchronous(store: &Store) -> i64 {
        store
            .batch(|batch| {
                Ok(batch
                    .connection()
                    .pragma_query_value(None, "synchronous", |row| row.get(0))?)
            })
            .await
            .expect("pragma")
    }

    #[tokio::test]
    async fn the_cycle_record_releases_the_lock_and_leaves_the_writer_with_fsync() {
        let (_dir, store) = scratch().await;
        let now: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().expect("time");
        let me = LockHolder {
            host: "here".into(),
            pid: 7,
            started: "42".into(),
        };
        let acquired = store
            .acquire_lock(&me, now, chrono::Duration::minutes(15), |_, _, _, _| false)
            .expect("lock");
        assert!(matches!(acquired, super::Acquired::Yes));
        store.prepare_cycle_record();
        let report = serde_json::json!({ "fetched": 0 });
        store
            .record_cycle(now, true, 12, &report, Some(&me))
            .expect("record");
        let health = store.health(now).await.expect("health");
        assert_eq!(
            health.last_success_at.as_deref(),
            Some("2026-11-30T10:00:00Z")
        );
        assert_eq!(health.last_success, Some(report.clone()));
        let holders: i64 = sqlx::query_scalar("SELECT count(*) FROM worker_lock")
            .fetch_one(&store.pool)
            .await
            .expect("count");
        assert_eq!(holders, 0, "released in the same commit");
        assert_eq!(
            writer_synchronous(&store).await,
            2,
            "FULL again after the record"
        );

        // A record that fails half-way commits nothing and still restores FULL.
        sqlx::query("DROP TABLE cycles")
            .execute(&store.pool)
            .await
            .expect("drop");
        let failed = store.record_cycle(now, false, 1, &report, None);
        assert!(failed.is_err(), "no cycles table: {failed:?}");
        assert_eq!(writer_synchronous(&store).await, 2, "FULL after a failure");
    }

    #[tokio::test]
    async fn the_sweep_looks_only_at_complaints_with_a_notice_still_to_come() {
        let (_dir, store) = scratch().await;
        let now: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().expect("time");
        let reporter = EmailAddress::parse("warga@example.id").expect("address");
        let ids = store
            .batch(move |batch| {
                let mut ids = Vec::new();
                for hours_ago in [100, 50, 1] {
                    let received_at = now - chrono::Duration::hours(hours_ago + 72);
                    let complaint = batch.register_complaint(&NewComplaint {
                        prefix: "ADU",
                        year: 2026,
                        channel: "email",
                        reporter_name: None,
                        reporter_email: &reporter,
                        subject: "Jalan rusak",
                        received_at,
                        deadline_at: received_at + chrono::Duration::hours(72),
                        now,
                    })?;
                    ids.push(complaint.id);
                }
                batch.mark_deadline_notices(ids[0], &["overdue".to_string()], now)?;
                batch.mark_deadline_notices(ids[1], &["reminder:24".to_string()], now)?;
                Ok(ids)
            })
            .await
            .expect("batch");
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
    async fn a_batch_commits_all_or_nothing_and_survives_a_panic() {
        let (_dir, store) = scratch().await;
        let now: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().expect("time");
        let register = move |batch: &mut super::Batch<'_>| {
            let reporter = EmailAddress::parse("warga@example.id").expect("address");
            batch.register_complaint(&NewComplaint {
                prefix: "ADU",
                year: 2026,
                channel: "email",
                reporter_name: None,
                reporter_email: &reporter,
                subject: "Jalan rusak",
                received_at: now,
                deadline_at: now,
                now,
            })
        };
        let complaints = async || -> i64 {
            sqlx::query_scalar("SELECT count(*) FROM complaints")
                .fetch_one(&store.pool)
                .await
                .expect("count")
        };
        let failed = store
            .batch(move |batch| -> anyhow::Result<()> {
                register(batch)?;
                anyhow::bail!("the second message could not be recorded")
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(complaints().await, 0, "rolled back");
        let panicked = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .batch(move |batch| -> anyhow::Result<()> {
                        register(batch)?;
                        panic!("a bug mid-batch")
                    })
                    .await
            }
        })
        .await;
        assert!(panicked.expect_err("panicked").is_panic());
        assert_eq!(complaints().await, 0, "rolled back");
        let number = store
            .batch(move |batch| Ok(register(batch)?.number))
            .await
            .expect("the writer works after a panic");
        assert_eq!(
            number.as_str(),
            "ADU-2026-00001",
            "the sequence rolled back too"
        );
        assert_eq!(complaints().await, 1);
    }

    #[tokio::test]
    async fn blobs_are_archived_once_indexed_and_chunks_still_read() {
        let (dir, store) = scratch().await;
        let big: Vec<u8> = (0..(3 << 20) + 7).map(|i| (i % 251) as u8).collect();
        let (big_sha, empty_sha) = (sha256_hex(&big), sha256_hex(b""));
        let archived = store.archive().append(&big).expect("append");
        let (sha, empty) = (big_sha.clone(), empty_sha.clone());
        store
            .batch(move |batch| {
                batch.index_blob(&sha, archived)?;
                batch.index_blob(&sha, archived)?;
                batch.put_blob(&empty, b"")?;
                Ok(())
            })
            .await
            .expect("batch");
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
        assert_eq!(read(big_sha.clone()).await.expect("read"), big);
        assert_eq!(read(empty_sha.clone()).await.expect("read"), b"");

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
        assert_eq!(read(old_sha.clone()).await.expect("read"), old);
        // The writer reads both kinds too (it forwards files out of archived messages).
        let (sha, empty) = (big_sha.clone(), empty_sha.clone());
        let through_batch = store
            .batch(move |batch| {
                Ok((
                    batch.read_blob(&sha)?,
                    batch.read_blob(&empty)?,
                    batch.read_blob(&old_sha)?,
                ))
            })
            .await
            .expect("read in a batch");
        assert_eq!(through_batch, (big, Vec::new(), old));

        // A database that is not a file has nowhere to keep its archive.
        let error = Store::open("sqlite::memory:")
            .await
            .err()
            .expect("in-memory refused");
        assert!(error.to_string().contains("not a file"), "{error}");
    }
}

//! The only code with SQL: the register, SQLite in WAL mode, owned by one [`Db`] (its
//! connection on a thread of its own). Every batch of inbound mail is written in one
//! transaction; no transaction is ever held across a network call. The API takes and
//! returns domain types only: no driver type leaves this module.

mod archive;
mod batch;
mod blobs;
mod bounces;
mod complaints;
mod db;
mod error;
mod health;
mod held;
mod lock;
mod messages;
mod migrate;
mod operations;
mod outbox;
mod ratings;
mod receipts;
mod register;
mod report;
mod scans;
mod standard;
mod standing;

pub use archive::{Archive, Location};
pub use batch::{Batch, Undone};
pub use bounces::{BounceView, BouncedRow};
pub use complaints::{ComplaintRef, NewComplaint, Refusal, Reply};
pub use error::{StoreError, is_corruption};
pub use health::{FinishedCycle, Health};
pub use held::Unlisted;
pub use lock::{Acquired, LockHolder};
pub use messages::{InboundRecord, KnownMessage};
pub use operations::{OutboxView, QuarantinedView};
pub use outbox::{Accepted, Claim, OutboxRow, ParkedAs};
pub use ratings::{NewRating, RatingView};
pub use receipts::Destination;
pub use receipts::Receipt;
pub use register::{
    AttachmentView, ComplaintDetail, ComplaintSummary, EventView, MessageView, RegisterQuery,
};
pub use report::{BookEntry, PeriodCounts};
pub use scans::HeldFile;
pub use standing::Standing;

use self::db::{Access, Db};
use self::error::Result;

/// The register: its connection's owner and the archive of message bytes.
#[derive(Clone)]
pub struct Store {
    db: Db,
    archive: Archive,
    database: std::path::PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store> {
        let options = migrate::options(url)?;
        let database = options.get_filename().to_path_buf();
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if in_memory || database.as_os_str().is_empty() {
            return Err(StoreError::Setting(format!(
                "database.url {url:?} is not a file: the worker keeps every message's bytes in an archive directory beside the database file"
            )));
        }
        if let Some(parent) = database.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::from(e).context(format!(
                    "cannot create the database directory {}",
                    parent.display()
                ))
            })?;
        }
        let cannot_open = |e: rusqlite::Error| error::cannot_open(&database, e);
        let connection = db::open(&database).map_err(cannot_open)?;
        if migrate::pending(&connection).map_err(cannot_open)? {
            migrate::run(&options)
                .await
                .map_err(|e| e.context(format!("cannot migrate the database {url}")))?;
        }
        let archive = Archive::beside(&database)
            .map_err(|e| StoreError::from(e).context("cannot open the archive of messages"))?;
        let db = Db::start(database.clone(), connection, archive.clone())?;
        Ok(Store {
            db,
            archive,
            database,
        })
    }

    /// The same register over a second connection on a thread of its own, for reads that
    /// must not wait behind the worker's batches (a metrics scrape): in WAL mode they see
    /// the last committed state while a batch is being written.
    pub fn observer(&self) -> Result<Store> {
        let connection =
            db::open(&self.database).map_err(|e| error::cannot_open(&self.database, e))?;
        let db = Db::start(self.database.clone(), connection, self.archive.clone())?;
        Ok(Store {
            db,
            archive: self.archive.clone(),
            database: self.database.clone(),
        })
    }

    /// Where every message's bytes are kept (see [`Archive`]).
    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Closes the connection (the next use opens it again).
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Runs `work` as one transaction on the register's connection ([`Batch`]), in the
    /// caller's tracing span. It commits only if `work` succeeds, after the archive files
    /// it named are synced; a panic in `work` is resumed here after the rollback.
    pub async fn batch<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Batch<'_>) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.db.call(Access::Write, work).await
    }
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::db::Access;
    use super::{FinishedCycle, LockHolder, NewComplaint, Store, StoreError};
    use crate::domain::EmailAddress;
    use crate::mail::parse::sha256_hex;

    /// A new register in a temporary directory (kept while the directory lives).
    async fn scratch() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.expect("open");
        (dir, store)
    }

    /// Runs `sql` outside any transaction and returns the first column of every row.
    async fn column<T: rusqlite::types::FromSql + Send + 'static>(
        store: &Store,
        sql: &'static str,
    ) -> Vec<T> {
        store
            .db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare(sql)?;
                let rows = statement.query_map([], |row| row.get(0))?;
                Ok::<_, StoreError>(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
            .expect(sql)
    }

    async fn count(store: &Store, sql: &'static str) -> i64 {
        column::<i64>(store, sql).await[0]
    }

    /// `PRAGMA synchronous` of the register's connection (2 is FULL, 1 NORMAL).
    async fn synchronous(store: &Store) -> i64 {
        count(store, "PRAGMA synchronous").await
    }

    /// The steps of SQLite's plan for `query`, with `values` bound as text.
    async fn query_plan(store: &Store, query: &str, values: &[&str]) -> Vec<String> {
        let explain = format!("EXPLAIN QUERY PLAN {query}");
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        store
            .db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare(&explain)?;
                let rows = statement.query_map(rusqlite::params_from_iter(&values), |row| {
                    row.get::<_, String>(3)
                })?;
                Ok::<_, StoreError>(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
            .expect("plan")
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
            super::complaints::COMPLAINT_BY_MESSAGE_ID,
            super::complaints::NOTIFICATION_BY_MESSAGE_ID,
        ] {
            let plan = query_plan(&store, query, &["a@example.net"]).await;
            assert!(
                plan.iter()
                    .any(|step| step.starts_with("SEARCH m ") && step.contains("(message_key=?)")),
                "{plan:?}"
            );
        }
        let indexed: Vec<String> = column(
            &store,
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages'
             AND sql LIKE '%message_id%'",
        )
        .await;
        assert_eq!(indexed, Vec::<String>::new());
    }

    #[tokio::test]
    async fn bookkeeping_never_leaves_the_connection_without_fsync() {
        let (_dir, store) = scratch().await;
        let seen = store
            .db
            .call(Access::Bookkeeping, |batch| {
                Ok::<i64, StoreError>(batch.connection().query_row(
                    "PRAGMA synchronous",
                    [],
                    |row| row.get(0),
                )?)
            })
            .await
            .expect("bookkeeping");
        assert_eq!(seen, 1, "NORMAL inside");
        let failed = store
            .db
            .call(Access::Bookkeeping, |batch| {
                batch
                    .connection()
                    .execute("DELETE FROM no_such_table", [])?;
                Ok::<_, StoreError>(())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(synchronous(&store).await, 2, "FULL after a failure");
        // A caller that stops waiting (a timeout, a signal) leaves the work to finish.
        let abandoned = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            store.db.call(Access::Bookkeeping, |_batch| {
                std::thread::sleep(std::time::Duration::from_millis(200));
                Ok::<_, StoreError>(())
            }),
        )
        .await;
        assert!(abandoned.is_err(), "timed out");
        // A panic half-way.
        let panicked = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .db
                    .call(Access::Bookkeeping, |_batch| -> Result<(), StoreError> {
                        panic!("a bug mid-bookkeeping")
                    })
                    .await
            }
        })
        .await;
        assert!(panicked.expect_err("panicked").is_panic());
        assert_eq!(synchronous(&store).await, 2, "FULL again");
    }

    #[tokio::test]
    async fn the_cycle_record_releases_the_lock_and_leaves_the_connection_with_fsync() {
        let (_dir, store) = scratch().await;
        let now: DateTime<Utc> = "2026-11-30T10:00:00Z".parse().expect("time");
        let me = LockHolder {
            host: "here".into(),
            pid: 7,
            started: "42".into(),
        };
        let acquired = store
            .acquire_lock(&me, now, chrono::Duration::minutes(15), |_, _, _, _| false)
            .await
            .expect("lock");
        assert!(matches!(acquired, super::Acquired::Yes));
        store.prepare_cycle_record().await;
        let report = serde_json::json!({ "fetched": 0 });
        store
            .record_cycle(FinishedCycle {
                at: now,
                ok: true,
                duration_ms: 12,
                report: &report,
                release: Some(&me),
            })
            .await
            .expect("record");
        let health = store.health(now).await.expect("health");
        assert_eq!(
            health.last_success_at.as_deref(),
            Some("2026-11-30T10:00:00Z")
        );
        assert_eq!(health.last_success, Some(report.clone()));
        let holders = count(&store, "SELECT count(*) FROM worker_lock").await;
        assert_eq!(holders, 0, "released in the same commit");
        assert_eq!(synchronous(&store).await, 2, "FULL again after the record");

        // A record that fails half-way commits nothing and still restores FULL.
        store
            .batch(|batch| Ok(batch.connection().execute_batch("DROP TABLE cycles")?))
            .await
            .expect("drop");
        let failed = store
            .record_cycle(FinishedCycle {
                at: now,
                ok: false,
                duration_ms: 1,
                report: &report,
                release: None,
            })
            .await;
        assert!(failed.is_err(), "no cycles table: {failed:?}");
        assert_eq!(synchronous(&store).await, 2, "FULL after a failure");
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
                        channel: crate::domain::Channel::Email,
                        reporter_name: None,
                        reporter_email: &reporter,
                        reporter_phone: None,
                        reporter_nik: None,
                        reporter_address: None,
                        identity_provided: false,
                        documents: 0,
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
        assert!(store.any_open_complaint_due_before(now).await.expect("any"));
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
                channel: crate::domain::Channel::Email,
                reporter_name: None,
                reporter_email: &reporter,
                reporter_phone: None,
                reporter_nik: None,
                reporter_address: None,
                identity_provided: false,
                documents: 0,
                subject: "Jalan rusak",
                received_at: now,
                deadline_at: now,
                now,
            })
        };
        let complaints = async || count(&store, "SELECT count(*) FROM complaints").await;
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
            .expect("the connection works after a panic");
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
        assert_eq!(
            count(&store, "SELECT count(*) FROM blobs").await,
            2,
            "indexed once"
        );
        let pack = dir.path().join("t.db.archive").join("00000001.pack");
        assert_eq!(
            std::fs::metadata(&pack).expect("pack").len(),
            big.len() as u64,
            "the bytes are in the pack, once"
        );

        // Bytes stored in chunks by an older version are still read.
        let old = b"an older message".to_vec();
        let old_sha = sha256_hex(&old);
        let (sha, bytes) = (old_sha.clone(), old.clone());
        store
            .batch(move |batch| {
                let connection = batch.connection();
                connection.execute(
                    "INSERT INTO blobs (sha256, size) VALUES (?, ?)",
                    rusqlite::params![sha, bytes.len() as i64],
                )?;
                for (seq, chunk) in bytes.chunks(5).enumerate() {
                    connection.execute(
                        "INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)",
                        rusqlite::params![sha, seq as i64, chunk],
                    )?;
                }
                Ok(())
            })
            .await
            .expect("chunks");
        let (sha, empty) = (big_sha.clone(), empty_sha.clone());
        let read = store
            .db
            .call(Access::Read, move |batch| {
                Ok::<_, StoreError>((
                    batch.read_blob(&sha)?,
                    batch.read_blob(&empty)?,
                    batch.read_blob(&old_sha)?,
                ))
            })
            .await
            .expect("read");
        assert_eq!(read, (big, Vec::new(), old));

        // A database that is not a file has nowhere to keep its archive.
        let error = Store::open("sqlite::memory:")
            .await
            .err()
            .expect("in-memory refused");
        assert!(error.to_string().contains("not a file"), "{error}");
    }

    /// A damaged file is named as such, through the store's one error type.
    #[tokio::test]
    async fn corruption_is_recognised_in_an_error_chain() {
        let (dir, store) = scratch().await;
        drop(store);
        let path = dir.path().join("t.db");
        std::fs::write(&path, vec![0xA5u8; 8192]).expect("overwrite");
        let _ = std::fs::remove_file(dir.path().join("t.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("t.db-shm"));
        let url = format!("sqlite://{}", path.display());
        let error = anyhow::Error::from(Store::open(&url).await.err().expect("damaged"))
            .context("cannot list");
        assert!(super::is_corruption(&error), "{error:#}");
    }
}

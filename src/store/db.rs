//! [`Db`]: the one owner of the register's connection. The connection lives on one
//! thread of its own; callers hold a cheap handle and send it work ([`Db::call`]), each
//! unit run whole on that thread as a read, an fsync'd transaction or bookkeeping
//! ([`Access`]). A batch of 400 complaints is some 7,000 statements: run where the
//! connection is, they cost no thread switch each.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::error::{Result, StoreError};
use super::{Archive, Batch};

/// Settings of every connection, besides WAL, `synchronous = FULL`, foreign keys and a
/// 30 s busy timeout.
pub(super) const PRAGMAS: [(&str, &str); 4] = [
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

/// How a unit of work runs on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Outside any transaction of its own: reads (a statement that writes commits by
    /// itself, with its fsync; `VACUUM INTO` needs this).
    Read,
    /// One `BEGIN IMMEDIATE` transaction, committed only if the work succeeds, after the
    /// archive files it named are synced; fsync'd (`synchronous = FULL`).
    Write,
    /// One `BEGIN IMMEDIATE` transaction whose commit skips the fsync (`synchronous =
    /// NORMAL`, still atomic and consistent in WAL mode): for bookkeeping whose loss in a
    /// power failure is harmless (the lease, the cycle record, receipts' "moved" marks).
    /// `FULL` is restored before anything else runs; a connection on which it cannot be
    /// restored is closed.
    Bookkeeping,
}

/// A handle on the register's connection and its thread (cheap to clone). The thread
/// ends, closing the connection, when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Db {
    shared: Arc<Shared>,
}

struct Shared {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

type Job = Box<dyn FnOnce(&mut Owner) + Send>;

/// What the thread owns: the connection (reopened when it was closed) and the archive
/// whose files a transaction syncs before it commits.
struct Owner {
    path: PathBuf,
    archive: Archive,
    connection: Option<Connection>,
}

impl Db {
    /// Starts the thread that owns `connection` from now on.
    pub(super) fn start(path: PathBuf, connection: Connection, archive: Archive) -> Result<Db> {
        let (jobs, received) = mpsc::channel::<Job>();
        let owner = Owner {
            path,
            archive,
            connection: Some(connection),
        };
        let thread = std::thread::Builder::new()
            .name("register".into())
            .spawn(move || serve(owner, received))?;
        Ok(Db {
            shared: Arc::new(Shared {
                jobs: Some(jobs),
                thread: Some(thread),
            }),
        })
    }

    /// Runs `work` on the connection as `access` says, in the caller's tracing span. A
    /// panic in `work` is resumed here, after its transaction was rolled back. The work
    /// runs to its end even when the caller stops waiting.
    pub(super) async fn call<T, E>(
        &self,
        access: Access,
        work: impl FnOnce(&mut Batch<'_>) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        self.send(Box::new(move |owner: &mut Owner| {
            let outcome =
                span.in_scope(|| catch_unwind(AssertUnwindSafe(|| owner.run(access, work))));
            if outcome.is_err() {
                owner.recover();
            }
            let _ = reply.send(outcome);
        }))?;
        match answer.await {
            Ok(outcome) => outcome.unwrap_or_else(|panic| resume_unwind(panic)),
            Err(_) => Err(StoreError::Stopped.into()),
        }
    }

    /// Closes the connection (SQLite checkpoints the WAL as its last one closes); the
    /// next call opens it again.
    pub(super) async fn close(&self) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let closing = self.send(Box::new(move |owner: &mut Owner| {
            owner.connection = None;
            let _ = reply.send(());
        }));
        if closing.is_ok() {
            let _ = answer.await;
        }
    }

    fn send(&self, job: Job) -> Result<()> {
        let jobs = self.shared.jobs.as_ref().ok_or(StoreError::Stopped)?;
        jobs.send(job).map_err(|_| StoreError::Stopped)
    }
}

impl Drop for Shared {
    /// Waits for the thread to close the connection, as dropping the connection itself
    /// would (unless this is that thread).
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
    }
}

fn serve(mut owner: Owner, jobs: mpsc::Receiver<Job>) {
    for job in jobs {
        job(&mut owner);
    }
}

impl Owner {
    fn run<T, E: From<StoreError>>(
        &mut self,
        access: Access,
        work: impl FnOnce(&mut Batch<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let connection = connection(&mut self.connection, &self.path)?;
        let mut batch = Batch::new(connection, &self.archive);
        match access {
            Access::Read => work(&mut batch),
            Access::Write => transaction(&mut batch, work),
            Access::Bookkeeping => {
                let result = connection
                    .execute_batch("PRAGMA synchronous = NORMAL")
                    .map_err(|e| E::from(e.into()))
                    .and_then(|()| transaction(&mut batch, work));
                if connection
                    .execute_batch("PRAGMA synchronous = FULL")
                    .is_err()
                {
                    self.connection = None;
                }
                result
            }
        }
    }

    /// After a panic: the transaction it left open is rolled back and `FULL` restored,
    /// or the connection is closed.
    fn recover(&mut self) {
        let Some(connection) = &self.connection else {
            return;
        };
        let rolled_back =
            connection.is_autocommit() || connection.execute_batch("ROLLBACK").is_ok();
        let restored = connection
            .execute_batch("PRAGMA synchronous = FULL")
            .is_ok();
        if !(rolled_back && restored) {
            self.connection = None;
        }
    }
}

/// The connection, opened now if it is not open (or was closed), and outside any
/// transaction.
fn connection<'a>(slot: &'a mut Option<Connection>, path: &Path) -> Result<&'a Connection> {
    if slot.is_none() {
        let opened = open(path).map_err(|e| super::error::cannot_open(path, e))?;
        *slot = Some(opened);
    }
    let connection = slot.as_ref().ok_or(StoreError::Stopped)?;
    if !connection.is_autocommit() {
        connection.execute_batch("ROLLBACK")?;
    }
    Ok(connection)
}

/// Runs `work` in one `BEGIN IMMEDIATE` transaction. It commits only if `work`
/// succeeds, after the archive files the batch named are synced; otherwise (or if the
/// sync or the commit fails) it rolls back.
fn transaction<T, E: From<StoreError>>(
    batch: &mut Batch<'_>,
    work: impl FnOnce(&mut Batch<'_>) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let connection = batch.connection;
    connection
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| E::from(e.into()))?;
    let result = work(batch).and_then(|value| {
        batch.commit()?;
        Ok(value)
    });
    if result.is_err() && !connection.is_autocommit() {
        // The error being returned says what went wrong; a failed rollback is retried
        // by the next unit of work on this connection.
        let _ = connection.execute_batch("ROLLBACK");
    }
    result
}

/// Opens the database file (creating it if needed) with the register's settings.
pub(super) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(30))?;
    // Persistent in the file; set here too because this may be a new database.
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    for (name, value) in PRAGMAS {
        connection.pragma_update(None, name, value)?;
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

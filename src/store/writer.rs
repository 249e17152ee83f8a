//! The register's writer: the connection batches and the worker's bookkeeping are
//! written on. sqlx's SQLite driver hands every statement to its own thread and back, and
//! a batch of 400 complaints is ~7,000 statements; here a whole batch runs on one
//! blocking thread over a rusqlite connection to the same database file.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

use super::batch::Batch;
use super::{Archive, PRAGMAS};

/// The connection batches and the worker's bookkeeping are written on, and an idle
/// cycle reads on, opened by [`super::Store::open`].
pub(super) struct Writer {
    path: PathBuf,
    connection: Mutex<Option<Connection>>,
}

impl Writer {
    pub(super) fn new(path: PathBuf) -> Arc<Writer> {
        Arc::new(Writer {
            path,
            connection: Mutex::new(None),
        })
    }

    /// The connection, opened now if it is not open (or was closed after an error), and
    /// outside any transaction.
    fn connection(&self) -> anyhow::Result<MutexGuard<'_, Option<Connection>>> {
        use anyhow::Context;
        // A panic mid-batch poisons the lock; the transaction it left open is rolled
        // back below, so the connection itself is still sound.
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            let connection = open(&self.path).with_context(|| {
                format!(
                    "cannot open the database {} for writing",
                    self.path.display()
                )
            })?;
            *slot = Some(connection);
        }
        let connection = slot.as_ref().expect("opened above");
        if !connection.is_autocommit() {
            connection.execute_batch("ROLLBACK")?;
        }
        Ok(slot)
    }

    /// Runs `work` outside any transaction of its own (reads; a statement that writes
    /// commits by itself, with its fsync).
    pub(super) fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> anyhow::Result<T> {
        let slot = self.connection()?;
        let connection = slot.as_ref().expect("opened");
        Ok(work(connection)?)
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction whose commit skips the fsync
    /// (`synchronous = NORMAL`, still atomic and consistent in WAL mode): for bookkeeping
    /// whose loss in a power failure is harmless, the worker lease and the cycle record,
    /// which would otherwise cost every idle cron tick two disk flushes.
    /// `synchronous = FULL` is restored before the connection can serve a batch again;
    /// a connection on which it cannot be restored is closed.
    pub(super) fn bookkeeping<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> anyhow::Result<T> {
        let mut slot = self.connection()?;
        let connection = slot.as_ref().expect("opened");
        let result = connection
            .execute_batch("PRAGMA synchronous = NORMAL")
            .and_then(|()| {
                connection.execute_batch("BEGIN IMMEDIATE")?;
                let result = work(connection).and_then(|value| {
                    connection.execute_batch("COMMIT")?;
                    Ok(value)
                });
                if result.is_err() && !connection.is_autocommit() {
                    let _ = connection.execute_batch("ROLLBACK");
                }
                result
            });
        let restored = connection
            .execute_batch("PRAGMA synchronous = FULL")
            .is_ok();
        if !restored {
            *slot = None;
        }
        Ok(result?)
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction. It commits only if `work`
    /// succeeds, after the archive files the batch named are synced; otherwise (or if
    /// the sync or the commit fails) it rolls back.
    pub(super) fn transaction<T>(
        &self,
        archive: &Archive,
        work: impl FnOnce(&mut Batch<'_>) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        use anyhow::Context;
        let slot = self.connection()?;
        let connection = slot.as_ref().expect("opened");
        connection.execute_batch("BEGIN IMMEDIATE")?;
        let mut batch = Batch {
            connection,
            archive,
            unsynced: false,
        };
        let result = work(&mut batch).and_then(|value| {
            if batch.unsynced {
                archive.sync().context("cannot sync the archive")?;
            }
            connection
                .execute_batch("COMMIT")
                .context("cannot commit the batch")?;
            Ok(value)
        });
        if result.is_err() && !connection.is_autocommit() {
            // The error being returned says what went wrong; a failed rollback is
            // retried by the next batch on this connection.
            let _ = connection.execute_batch("ROLLBACK");
        }
        result
    }
}

fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(30))?;
    // Persistent in the file; set here too because this connection may be a new
    // database's first.
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

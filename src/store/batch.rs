//! [`Batch`]: work on the register's connection, run whole on the [`super::db::Db`]'s
//! thread. For the procedure it is one ingest (or sweep) transaction; inside the store
//! every read and write is one too. Its statements are prepared once and cached.

use rusqlite::{Connection, params};

use super::Archive;
use super::error::{Result, StoreError};
use crate::clock::rfc3339;
use crate::domain::Event;
use crate::telemetry::panic_message;

/// One unit of work on the register (see [`super::Store::batch`]).
pub struct Batch<'c> {
    pub(super) connection: &'c Connection,
    pub(super) archive: &'c Archive,
    /// Archive files were named in this transaction: sync them before it commits.
    pub(super) unsynced: bool,
}

/// Why an [`Batch::isolated`] unit of work was undone.
#[derive(Debug, thiserror::Error)]
pub enum Undone {
    #[error("{0:#}")]
    Failed(anyhow::Error),
    #[error("panicked: {0}")]
    Panicked(String),
}

const INSERT_EVENT: &str =
    "INSERT INTO events (complaint_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)";

impl<'c> Batch<'c> {
    pub(super) fn new(connection: &'c Connection, archive: &'c Archive) -> Batch<'c> {
        Batch {
            connection,
            archive,
            unsynced: false,
        }
    }

    pub(super) fn connection(&self) -> &'c Connection {
        self.connection
    }

    /// Commits the transaction, after syncing the archive files it named.
    pub(super) fn commit(&mut self) -> Result<()> {
        if self.unsynced {
            self.archive
                .sync()
                .map_err(|e| StoreError::from(e).context("cannot sync the archive"))?;
            self.unsynced = false;
        }
        self.connection
            .execute_batch("COMMIT")
            .map_err(|e| StoreError::from(e).context("cannot commit the batch"))
    }

    /// Runs `work` as one unit inside the batch (an SQLite savepoint): when it fails or
    /// panics, everything it wrote is undone and the batch goes on without it. An error
    /// of the savepoint itself fails the batch (the outer `Err`).
    pub fn isolated<T>(
        &mut self,
        work: impl FnOnce(&mut Batch<'_>) -> anyhow::Result<T>,
    ) -> Result<std::result::Result<T, Undone>> {
        // Prepared once and cached: a bulk run opens one savepoint per message.
        self.connection
            .prepare_cached("SAVEPOINT isolated")?
            .execute([])?;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self)));
        let undone = match outcome {
            Ok(Ok(value)) => {
                self.connection
                    .prepare_cached("RELEASE isolated")?
                    .execute([])?;
                return Ok(Ok(value));
            }
            Ok(Err(error)) => Undone::Failed(error),
            Err(panic) => Undone::Panicked(panic_message(panic.as_ref())),
        };
        self.connection
            .execute_batch("ROLLBACK TO isolated; RELEASE isolated")?;
        Ok(Err(undone))
    }

    /// One event of a complaint's history.
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

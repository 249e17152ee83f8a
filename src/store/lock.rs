//! `worker_lock`: the worker lease row, written as bookkeeping (one commit without its
//! fsync; see [`Access::Bookkeeping`]).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Store;
use super::db::Access;
use super::error::Result;
use crate::clock::{parse_rfc3339, rfc3339};

/// The outcome of trying to become the worker.
#[derive(Debug)]
pub enum Acquired {
    Yes,
    HeldBy(LockHolder, DateTime<Utc>),
}

/// Who holds (or wants) the worker lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    pub host: String,
    pub pid: u32,
    pub started: String,
}

/// Releases the lock if `me` holds it (binds host, pid, started).
pub(super) const DELETE_LOCK: &str =
    "DELETE FROM worker_lock WHERE id = 1 AND host = ? AND pid = ? AND started = ?";

impl Store {
    /// Takes the lock if it is free, or held by someone `may_take_over` allows: one
    /// short transaction.
    pub async fn acquire_lock(
        &self,
        me: &LockHolder,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        may_take_over: impl Fn(&LockHolder, DateTime<Utc>, &LockHolder, DateTime<Utc>) -> bool
        + Send
        + 'static,
    ) -> Result<Acquired> {
        let me = me.clone();
        self.db
            .call(Access::Bookkeeping, move |batch| {
                Ok(acquire(
                    batch.connection(),
                    &me,
                    now,
                    lease,
                    &may_take_over,
                )?)
            })
            .await
    }

    pub async fn release_lock(&self, me: &LockHolder) -> Result<()> {
        let me = me.clone();
        self.db
            .call(Access::Bookkeeping, move |batch| {
                Ok(delete_lock(batch.connection(), &me)?)
            })
            .await
    }
}

pub(super) fn delete_lock(connection: &Connection, me: &LockHolder) -> rusqlite::Result<()> {
    connection
        .prepare_cached(DELETE_LOCK)?
        .execute(params![me.host, me.pid, me.started])?;
    Ok(())
}

/// Within the caller's `BEGIN IMMEDIATE` transaction, so the row cannot change between
/// the statements.
fn acquire(
    connection: &Connection,
    me: &LockHolder,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    may_take_over: &impl Fn(&LockHolder, DateTime<Utc>, &LockHolder, DateTime<Utc>) -> bool,
) -> rusqlite::Result<Acquired> {
    let expires = rfc3339(now + lease);
    let inserted = connection
        .prepare_cached(
            "INSERT INTO worker_lock (id, host, pid, started, acquired_at, expires_at) VALUES (1, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )?
        .execute(params![me.host, me.pid, me.started, rfc3339(now), expires])?;
    if inserted == 1 {
        return Ok(Acquired::Yes);
    }
    let Some((current, expires_at)) = connection
        .prepare_cached("SELECT host, pid, started, expires_at FROM worker_lock WHERE id = 1")?
        .query_row([], |row| {
            Ok((
                LockHolder {
                    host: row.get(0)?,
                    pid: row.get(1)?,
                    started: row.get(2)?,
                },
                row.get::<_, String>(3)?,
            ))
        })
        .optional()?
    else {
        // The insert above conflicted with this row inside the same transaction.
        return Err(rusqlite::Error::QueryReturnedNoRows);
    };
    let expires_at = parse_rfc3339(&expires_at).unwrap_or(now);
    if !may_take_over(&current, expires_at, me, now) {
        return Ok(Acquired::HeldBy(current, expires_at));
    }
    let taken = connection
        .prepare_cached(
            "UPDATE worker_lock SET host = ?, pid = ?, started = ?, acquired_at = ?, expires_at = ?
             WHERE id = 1 AND host = ? AND pid = ? AND started = ?",
        )?
        .execute(params![
            me.host,
            me.pid,
            me.started,
            rfc3339(now),
            expires,
            current.host,
            current.pid,
            current.started
        ])?;
    Ok(if taken == 1 {
        Acquired::Yes
    } else {
        Acquired::HeldBy(current, expires_at)
    })
}

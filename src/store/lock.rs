//! The worker lease row.

use chrono::{DateTime, Utc};
use sqlx::{Connection, Row, Sqlite, SqliteConnection, Transaction};

use super::{Result, Store};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::lock::Acquired;

/// Who holds (or wants) the worker lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    pub host: String,
    pub pid: u32,
    pub started: String,
}

impl Store {
    /// Takes the lock if it is free, or held by someone `may_take_over` allows.
    pub async fn acquire_lock(
        &self,
        me: &LockHolder,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        may_take_over: impl Fn(&LockHolder, DateTime<Utc>, &LockHolder, DateTime<Utc>) -> bool,
    ) -> Result<Acquired> {
        self.bookkeeping(async |connection| {
            acquire(connection, me, now, lease, &may_take_over).await
        })
        .await
    }

    pub async fn release_lock(&self, me: &LockHolder) -> Result<()> {
        self.bookkeeping(async |connection| {
            let mut tx = connection.begin().await?;
            delete_lock(&mut tx, me).await?;
            tx.commit().await
        })
        .await
    }
}

async fn acquire(
    connection: &mut SqliteConnection,
    me: &LockHolder,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    may_take_over: &impl Fn(&LockHolder, DateTime<Utc>, &LockHolder, DateTime<Utc>) -> bool,
) -> Result<Acquired> {
    {
        let expires = rfc3339(now + lease);
        let inserted = sqlx::query(
            "INSERT INTO worker_lock (id, host, pid, started, acquired_at, expires_at) VALUES (1, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&me.host)
        .bind(me.pid as i64)
        .bind(&me.started)
        .bind(rfc3339(now))
        .bind(&expires)
        .execute(&mut *connection)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Acquired::Yes);
        }
        let Some(row) =
            sqlx::query("SELECT host, pid, started, expires_at FROM worker_lock WHERE id = 1")
                .fetch_optional(&mut *connection)
                .await?
        else {
            // Released between the two statements: try once more from the start.
            return Box::pin(acquire(connection, me, now, lease, may_take_over)).await;
        };
        let current = LockHolder {
            host: row.get(0),
            pid: row.get::<i64, _>(1) as u32,
            started: row.get(2),
        };
        let expires_at = parse_rfc3339(&row.get::<String, _>(3)).unwrap_or(now);
        if !may_take_over(&current, expires_at, me, now) {
            return Ok(Acquired::HeldBy(current, expires_at));
        }
        // Compare-and-swap on the old holder, so two contenders cannot both take over.
        let taken = sqlx::query(
            "UPDATE worker_lock SET host = ?, pid = ?, started = ?, acquired_at = ?, expires_at = ?
             WHERE id = 1 AND host = ? AND pid = ? AND started = ?",
        )
        .bind(&me.host)
        .bind(me.pid as i64)
        .bind(&me.started)
        .bind(rfc3339(now))
        .bind(&expires)
        .bind(&current.host)
        .bind(current.pid as i64)
        .bind(&current.started)
        .execute(&mut *connection)
        .await?;
        Ok(if taken.rows_affected() == 1 {
            Acquired::Yes
        } else {
            Acquired::HeldBy(current, expires_at)
        })
    }
}

/// Releases the lock if `me` holds it (binds host, pid, started).
pub(super) const DELETE_LOCK: &str =
    "DELETE FROM worker_lock WHERE id = 1 AND host = ? AND pid = ? AND started = ?;";

pub(super) async fn delete_lock(tx: &mut Transaction<'_, Sqlite>, me: &LockHolder) -> Result<()> {
    sqlx::query(DELETE_LOCK)
        .bind(&me.host)
        .bind(me.pid as i64)
        .bind(&me.started)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

//! The schema: `migrations/`, embedded at build time and applied by sqlx's migrator when
//! the database opens, only when its record of applied migrations differs from them (an
//! open database that is current asks one query and starts no migrator).

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};

use super::db::PRAGMAS;
use super::error::{Result, StoreError};

/// `database.url` read as SQLite connection options, with the register's settings.
pub(super) fn options(url: &str) -> Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::from(e).context(format!("invalid database.url {url:?}")))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(30))
        .foreign_keys(true);
    Ok(PRAGMAS.iter().fold(options, |options, (name, value)| {
        options.pragma(*name, *value)
    }))
}

/// Whether the migrations recorded as applied in the database (version and checksum, in
/// order) differ from `migrations/`: new, behind, failed half-way, or anything sqlx would
/// want to say something about.
pub(super) fn pending(connection: &rusqlite::Connection) -> rusqlite::Result<bool> {
    let current: Vec<(i64, Vec<u8>)> = sqlx::migrate!("./migrations")
        .iter()
        .map(|m| (m.version, m.checksum.to_vec()))
        .collect();
    Ok(applied(connection)? != current)
}

/// Applies what [`pending`] found, on a connection of sqlx's own, closed after.
pub(super) async fn run(options: &SqliteConnectOptions) -> Result<()> {
    let mut connection = SqliteConnection::connect_with(options).await?;
    sqlx::migrate!("./migrations").run(&mut connection).await?;
    connection.close().await?;
    Ok(())
}

/// The migrations recorded as applied (version and checksum, in order), or none when the
/// database has no record of any; a failed one makes the list differ from any source.
fn applied(connection: &rusqlite::Connection) -> rusqlite::Result<Vec<(i64, Vec<u8>)>> {
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

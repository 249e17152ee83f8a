//! [`StoreError`]: what can go wrong in the register, whichever statement failed.

/// The one error of the store. Callers branch on [`StoreError::is_corruption`]; the
/// rest is reported.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A statement failed (the database's own words).
    #[error("database: {0}")]
    Sql(SqlError),
    /// The archive of message bytes could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A stored value is not what it should be.
    #[error("database: {0}")]
    Decode(String),
    /// `database.url` cannot be used as the register.
    #[error("{0}")]
    Setting(String),
    /// What the store was doing when `source` happened ("cannot open the database …").
    #[error("{what}")]
    Context {
        what: String,
        #[source]
        source: Box<StoreError>,
    },
    /// The database's thread is gone (it panicked outside any work, or the process is
    /// ending).
    #[error("the database thread has stopped")]
    Stopped,
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl StoreError {
    /// Whether the database file itself is damaged (SQLite's `SQLITE_CORRUPT` or
    /// `SQLITE_NOTADB`) rather than that something could not be done with it.
    pub fn is_corruption(&self) -> bool {
        match self {
            StoreError::Sql(error) => error.is_corruption(),
            StoreError::Context { source, .. } => source.is_corruption(),
            _ => false,
        }
    }

    pub(super) fn context(self, what: impl Into<String>) -> StoreError {
        StoreError::Context {
            what: what.into(),
            source: Box::new(self),
        }
    }
}

/// Whether `error` says that the database file is damaged (see
/// [`StoreError::is_corruption`]), wherever in its chain the store's error is.
pub fn is_corruption(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_corruption)
    })
}

/// A driver's error, kept inside the store.
#[derive(Debug)]
pub struct SqlError(Driver);

#[derive(Debug)]
enum Driver {
    Sqlite(rusqlite::Error),
    /// The migrator's (`sqlx`).
    Migrate(sqlx::migrate::MigrateError),
    /// The migrator's connection (`sqlx`).
    Sqlx(sqlx::Error),
}

impl SqlError {
    fn is_corruption(&self) -> bool {
        const SQLITE_CORRUPT: i32 = 11;
        const SQLITE_NOTADB: i32 = 26;
        let database = match &self.0 {
            Driver::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => {
                return matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
                );
            }
            Driver::Migrate(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(d)))
            | Driver::Sqlx(sqlx::Error::Database(d)) => d,
            _ => return false,
        };
        // The extended result code: its low byte is the primary one.
        let code = database.code().and_then(|code| code.parse::<i32>().ok());
        code.is_some_and(|code| matches!(code & 0xff, SQLITE_CORRUPT | SQLITE_NOTADB))
    }
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Driver::Sqlite(error) => error.fmt(f),
            Driver::Migrate(error) => error.fmt(f),
            Driver::Sqlx(error) => error.fmt(f),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Sql(SqlError(Driver::Sqlite(error)))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Sql(SqlError(Driver::Migrate(error)))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        StoreError::Sql(SqlError(Driver::Sqlx(error)))
    }
}

/// The error of opening the database file at `path`, with what its file system says when
/// that is the reason: SQLite reports a full or read-only disk as a bare I/O or open error.
pub(super) fn cannot_open(path: &std::path::Path, error: rusqlite::Error) -> StoreError {
    let error = StoreError::from(error);
    let error = match path.parent().and_then(file_system_trouble) {
        Some(trouble) => error.context(trouble),
        None => error,
    };
    error.context(format!("cannot open the database {}", path.display()))
}

/// "read-only" or "no space left" for the file system holding `dir`, if either is so.
fn file_system_trouble(dir: &std::path::Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let name = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `name` is a NUL-terminated path and `stat` a plain struct statvfs fills in.
    let stat = unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(name.as_ptr(), &mut stat) == 0).then_some(stat)
    }?;
    if stat.f_flag & libc::ST_RDONLY != 0 {
        return Some(format!(
            "the file system holding {} is read-only",
            dir.display()
        ));
    }
    // Less than a page or two: SQLite cannot even create its journal.
    let free = u128::from(stat.f_bavail) * u128::from(stat.f_frsize);
    (free < 64 * 1024).then(|| format!("no space left on the disk holding {}", dir.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_writable_directory_with_room_has_no_trouble() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(super::file_system_trouble(dir.path()), None);
    }
}

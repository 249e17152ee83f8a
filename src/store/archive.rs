//! The archive: the bytes of every message received or sent, kept as evidence,
//! content-addressed: one immutable file per SHA-256 in a directory beside the database
//! (`<database>.archive/ab/cdef…`).
//!
//! The bytes live outside SQLite because SQLite in WAL mode writes every page twice (the
//! WAL, then the checkpoint) and copies a bound value twice in memory; a file is written
//! once, straight from the IMAP read buffer. The database's `blobs` table is the index:
//! a row there means its file is durable, because a batch calls [`Archive::sync`] before
//! it commits the rows that name new files.
//!
//! A file is written under a temporary name and renamed, so a final name never holds a
//! partial write; one left short by a power failure before the sync (its batch never
//! committed) is written again. Reads check the hash: evidence that does not match is an
//! error, never silently served.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
pub struct Archive {
    dir: Arc<PathBuf>,
}

/// Distinguishes temporary files of concurrent writers of the same content.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl Archive {
    /// The archive directory of the database file `database` (created if missing).
    pub fn beside(database: &Path) -> io::Result<Archive> {
        Archive::open(Archive::beside_path(database))
    }

    /// `<database>.archive`: where the archive of the database file `database` lives.
    pub fn beside_path(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".archive");
        PathBuf::from(name)
    }

    pub fn open(dir: PathBuf) -> io::Result<Archive> {
        fs::create_dir_all(&dir).map_err(|e| with_path(e, "cannot create", &dir))?;
        Ok(Archive { dir: Arc::new(dir) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, sha256: &str) -> io::Result<PathBuf> {
        let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{sha256:?} is not a SHA-256 in hex"),
            ));
        }
        Ok(self.dir.join(&sha256[..2]).join(&sha256[2..]))
    }

    /// Writes `bytes` under `sha256` unless a file of that length is already there.
    /// Blocking: call it off the async reactor for large messages. Not durable until
    /// [`Archive::sync`].
    pub fn write(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(sha256)?;
        if fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            return Ok(());
        }
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent).map_err(|e| with_path(e, "cannot create", parent))?;
        let temporary = parent.join(format!(
            ".{}.{}.{}.tmp",
            &sha256[2..],
            std::process::id(),
            TEMPORARY.fetch_add(1, Ordering::Relaxed)
        ));
        let written = fs::File::create(&temporary)
            .and_then(|mut file| file.write_all(bytes))
            .and_then(|()| fs::rename(&temporary, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&temporary);
            return Err(with_path(e, "cannot write", &path));
        }
        Ok(())
    }

    /// The bytes stored under `sha256`, checked against it; `None` when there is no file
    /// (evidence kept inside the database by versions before the archive directory).
    pub fn read(&self, sha256: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(sha256)?;
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(with_path(e, "cannot read", &path)),
        };
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} does not match its SHA-256: the evidence is damaged",
                    path.display()
                ),
            ));
        }
        Ok(Some(bytes))
    }

    /// Makes every file written so far durable: one `syncfs` of the archive file
    /// system (one journal commit, however many files the batch wrote). Blocking.
    pub fn sync(&self) -> io::Result<()> {
        let dir = fs::File::open(&*self.dir).map_err(|e| with_path(e, "cannot open", &self.dir))?;
        rustix::fs::syncfs(&dir).map_err(|e| with_path(e.into(), "cannot sync", &self.dir))
    }

    /// Copies every archive file into `target` (created if missing), skipping files
    /// already there with the same length. Returns how many files were copied.
    pub fn copy_to(&self, target: &Path) -> io::Result<u64> {
        let target = Archive::open(target.to_path_buf())?;
        let mut copied = 0;
        for shard in fs::read_dir(&*self.dir).map_err(|e| with_path(e, "cannot list", &self.dir))? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(shard.path())? {
                let file = file?;
                let name = file.file_name();
                let Some(rest) = name.to_str().filter(|n| !n.starts_with('.')) else {
                    continue;
                };
                let sha256 = format!("{}{rest}", shard.file_name().to_string_lossy());
                let Ok(destination) = target.path(&sha256) else {
                    continue;
                };
                let length = file.metadata()?.len();
                if fs::metadata(&destination).is_ok_and(|m| m.len() == length) {
                    continue;
                }
                let bytes = fs::read(file.path())?;
                target.write(&sha256, &bytes)?;
                copied += 1;
            }
        }
        target.sync()?;
        Ok(copied)
    }
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::Archive;
    use sha2::{Digest, Sha256};

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn written_once_read_back_checked_and_copied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = Archive::open(dir.path().join("e")).expect("open");
        let big = vec![7u8; 3 << 20];
        let key = sha(&big);
        archive.write(&key, &big).expect("write");
        archive.write(&key, &big).expect("write again");
        archive.write(&sha(b""), b"").expect("write empty");
        archive.sync().expect("sync");
        assert_eq!(archive.read(&key).expect("read"), Some(big.clone()));
        assert_eq!(archive.read(&sha(b"")).expect("read"), Some(Vec::new()));
        assert_eq!(archive.read(&sha(b"absent")).expect("read"), None);
        let shard: Vec<_> = std::fs::read_dir(dir.path().join("e").join(&key[..2]))
            .expect("shard")
            .collect();
        assert_eq!(shard.len(), 1, "no temporary file is left behind");

        // A file cut short (a power failure before the sync) is written again...
        let path = dir.path().join("e").join(&key[..2]).join(&key[2..]);
        std::fs::write(&path, &big[..10]).expect("truncate");
        archive.write(&key, &big).expect("rewrite");
        assert_eq!(archive.read(&key).expect("read"), Some(big.clone()));
        // ...and damaged evidence is an error, not served.
        let mut damaged = big.clone();
        damaged[5] = 0;
        std::fs::write(&path, &damaged).expect("damage");
        let error = archive.read(&key).expect_err("damaged");
        assert!(error.to_string().contains("damaged"), "{error}");
        std::fs::write(&path, &big).expect("repair");

        let copy = dir.path().join("backup");
        assert_eq!(archive.copy_to(&copy).expect("copy"), 2);
        assert_eq!(archive.copy_to(&copy).expect("copy again"), 0);
        let copied = Archive::open(copy).expect("open copy");
        assert_eq!(copied.read(&key).expect("read"), Some(big));
        assert!(archive.write("../../etc/passwd", b"x").is_err());
    }
}

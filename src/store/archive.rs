//! The archive: the bytes of every message received or sent, kept as evidence in
//! append-only pack files in a directory beside the database
//! (`<database>.archive/00000001.pack`, …). The database's `blobs` table is the index:
//! content hash → (pack, offset, size).
//!
//! Why packs and not SQLite or a file per message: SQLite in WAL mode writes every page
//! twice (the WAL, then the checkpoint) and copies a bound value twice in memory, and a
//! file per message costs an inode and a directory entry each (three per complaint: the
//! message, the acknowledgment, the notification). A pack is appended to straight from
//! the IMAP read buffer and made durable with one `fdatasync` per batch.
//!
//! Invariants:
//! - Bytes are only ever appended; nothing in a pack is rewritten or deleted.
//! - A `blobs` row names a range only after that range is durable: a batch calls
//!   [`Archive::sync`] before it commits. A range appended by a batch that never commits
//!   (a crash, a rollback) is dead weight, never read.
//! - One process appends to a pack at a time (an exclusive `flock` on it); another
//!   process appending at the same time starts a pack of its own.
//! - Reads check the hash: bytes that do not match are an error, never served.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::mail::parse::sha256_hex;

/// A pack this size or larger gets no more appends; the next append starts a new one.
const PACK_LIMIT: u64 = 1 << 30;

#[derive(Clone, Debug)]
pub struct Archive {
    dir: Arc<PathBuf>,
    writer: Arc<Mutex<Option<Pack>>>,
    /// The database file's owner: what this archive's directory and packs are given when
    /// root creates them (an operator's command), as SQLite does with its -wal and -shm,
    /// so that the worker's own user can still append.
    owner: Option<(u32, u32)>,
}

/// Where a blob's bytes are: a range of one pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub pack: u32,
    pub offset: u64,
    pub size: u64,
}

/// The pack this process appends to.
#[derive(Debug)]
struct Pack {
    number: u32,
    /// Holds the exclusive lock for as long as it is open.
    file: File,
    len: u64,
    /// Appended to since the last sync.
    dirty: bool,
    /// Created by this process: its directory entry is synced once, with its first sync.
    new: bool,
}

impl Archive {
    /// The archive of the database file `database` (its directory is created if missing).
    pub fn beside(database: &Path) -> io::Result<Archive> {
        use std::os::unix::fs::MetadataExt;
        let owner = fs::metadata(database).ok().map(|m| (m.uid(), m.gid()));
        let archive = Archive {
            owner,
            ..Archive::open(Archive::beside_path(database))?
        };
        archive.give_to_owner(&archive.dir);
        Ok(archive)
    }

    /// Gives `path` to the database's owner if it belongs to someone else (only root can,
    /// and only root creates files for another user; anyone else is left alone).
    fn give_to_owner(&self, path: &Path) {
        use std::os::unix::fs::MetadataExt;
        if let (Some((uid, gid)), Ok(meta)) = (self.owner, fs::metadata(path))
            && (meta.uid(), meta.gid()) != (uid, gid)
        {
            let _ = std::os::unix::fs::chown(path, Some(uid), Some(gid));
        }
    }

    /// `<database>.archive`: where the archive of the database file `database` lives.
    pub fn beside_path(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".archive");
        PathBuf::from(name)
    }

    pub fn open(dir: PathBuf) -> io::Result<Archive> {
        fs::create_dir_all(&dir).map_err(|e| with_path(e, "cannot create", &dir))?;
        Ok(Archive {
            dir: Arc::new(dir),
            writer: Arc::new(Mutex::new(None)),
            owner: None,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a pack can be created here (for `check`): creates and removes a probe.
    pub fn check_writable(&self) -> io::Result<()> {
        let probe = self.dir.join(format!(".check.{}", std::process::id()));
        File::create(&probe).map_err(|e| with_path(e, "cannot write in", &self.dir))?;
        fs::remove_file(&probe).map_err(|e| with_path(e, "cannot remove", &probe))
    }

    fn pack_path(&self, number: u32) -> PathBuf {
        self.dir.join(format!("{number:08}.pack"))
    }

    /// Appends `bytes` and returns where they are. Blocking: call it off the async
    /// reactor for large messages. Not durable until [`Archive::sync`].
    pub fn append(&self, bytes: &[u8]) -> io::Result<Location> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if writer.as_ref().is_none_or(|pack| pack.len >= PACK_LIMIT) {
            if let Some(full) = writer.as_mut() {
                full.sync(&self.dir)?;
            }
            *writer = Some(self.writable_pack()?);
        }
        let pack = writer.as_mut().expect("a pack was just opened");
        let offset = pack.len;
        if let Err(e) = pack.file.write_all(bytes) {
            // Whatever part was written is dead weight; the next append starts after it.
            pack.len = pack.file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
            return Err(with_path(
                e,
                "cannot append to",
                &self.pack_path(pack.number),
            ));
        }
        pack.len += bytes.len() as u64;
        pack.dirty = true;
        Ok(Location {
            pack: pack.number,
            offset,
            size: bytes.len() as u64,
        })
    }

    /// The newest pack if no other process holds it and it has room, else a new one.
    fn writable_pack(&self) -> io::Result<Pack> {
        let newest = self.pack_numbers()?.into_iter().max().unwrap_or(0);
        if newest > 0 {
            let path = self.pack_path(newest);
            let file = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| with_path(e, "cannot open", &path))?;
            let len = file.metadata()?.len();
            if len < PACK_LIMIT && file.try_lock().is_ok() {
                return Ok(Pack {
                    number: newest,
                    file,
                    len,
                    dirty: false,
                    new: false,
                });
            }
        }
        let mut number = newest + 1;
        loop {
            let path = self.pack_path(number);
            match OpenOptions::new().append(true).create_new(true).open(&path) {
                Ok(file) => {
                    self.give_to_owner(&path);
                    file.try_lock().map_err(|e| {
                        with_path(io::Error::other(e.to_string()), "cannot lock", &path)
                    })?;
                    return Ok(Pack {
                        number,
                        file,
                        len: 0,
                        dirty: false,
                        new: true,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => number += 1,
                Err(e) => return Err(with_path(e, "cannot create", &path)),
            }
        }
    }

    fn pack_numbers(&self) -> io::Result<Vec<u32>> {
        let mut numbers = Vec::new();
        for entry in fs::read_dir(&*self.dir).map_err(|e| with_path(e, "cannot list", &self.dir))? {
            let name = entry?.file_name();
            if let Some(number) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".pack"))
                .and_then(|n| n.parse().ok())
            {
                numbers.push(number);
            }
        }
        Ok(numbers)
    }

    /// Makes everything appended so far durable: one `fdatasync` of the pack (and, for a
    /// pack this process created, one `fsync` of the directory), then lets the page cache
    /// drop it ([`release`]). Blocking.
    pub fn sync(&self) -> io::Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        match writer.as_mut() {
            Some(pack) => pack.sync(&self.dir),
            None => Ok(()),
        }
    }

    /// Flushes what was appended so far to disk without holding appenders back (the
    /// `fdatasync` runs on a second handle, outside the lock), so that the sync that
    /// makes a batch durable ([`Archive::sync`], which is still required) has less left
    /// to wait for; what it flushed may then leave the page cache ([`release`]). Blocking.
    pub fn write_back(&self) -> io::Result<()> {
        let (handle, len) = {
            let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            match writer.as_ref() {
                Some(pack) if pack.dirty => (pack.file.try_clone()?, pack.len),
                _ => return Ok(()),
            }
        };
        handle.sync_data()?;
        release(&handle, len);
        Ok(())
    }

    /// The bytes at `at`, checked against `sha256`.
    pub fn read(&self, at: Location, sha256: &str) -> io::Result<Vec<u8>> {
        let path = self.pack_path(at.pack);
        let file = File::open(&path).map_err(|e| with_path(e, "cannot open", &path))?;
        let size = usize::try_from(at.size).map_err(io::Error::other)?;
        let mut bytes = vec![0; size];
        file.read_exact_at(&mut bytes, at.offset)
            .map_err(|e| with_path(e, "cannot read", &path))?;
        if sha256_hex(&bytes) != sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} at offset {}: {} bytes that do not match SHA-256 {sha256}: the archive is damaged",
                    path.display(),
                    at.offset,
                    at.size
                ),
            ));
        }
        Ok(bytes)
    }

    /// Copies the packs into `target` (created if missing), skipping packs already there
    /// with the same length, and syncs the copies. Returns how many packs were copied.
    pub fn copy_to(&self, target: &Path) -> io::Result<u64> {
        let target = Archive::open(target.to_path_buf())?;
        let mut copied = 0;
        for number in self.pack_numbers()? {
            let (from, to) = (self.pack_path(number), target.pack_path(number));
            let length = fs::metadata(&from)?.len();
            if fs::metadata(&to).is_ok_and(|m| m.len() == length) {
                continue;
            }
            fs::copy(&from, &to).map_err(|e| with_path(e, "cannot copy", &from))?;
            File::open(&to)?.sync_all()?;
            copied += 1;
        }
        File::open(&*target.dir)?.sync_all()?;
        Ok(copied)
    }
}

impl Pack {
    fn sync(&mut self, dir: &Path) -> io::Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
            release(&self.file, self.len);
        }
        if self.new {
            File::open(dir)?.sync_all()?;
            self.new = false;
        }
        Ok(())
    }
}

/// Drops the first `len` bytes of a pack, on disk now, from the page cache: the archive
/// is written once and read back rarely (a forwarded file, an operator's `show`). So a
/// bulk run's next appends reuse the pages just written out instead of taking fresh ones
/// from the kernel, and 1.5 GB of evidence does not push the register out of the cache
/// (or count against a container's memory). Measured on this project's virtual machine,
/// whose free memory goes back to the host: fresh pages cost up to 3 s of kernel time in
/// a run over 1.5 GB; with this, none of 8 runs paid it, against 4 of 8 without.
/// Advice only: a failure changes nothing.
fn release(file: &File, len: u64) {
    use std::os::fd::AsRawFd;
    let len = libc::off_t::try_from(len).unwrap_or(libc::off_t::MAX);
    // SAFETY: plain advice on an open descriptor; no memory is passed.
    unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, len, libc::POSIX_FADV_DONTNEED) };
}

fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::{Archive, Location};
    use crate::mail::parse::sha256_hex as sha;

    #[test]
    fn packs_root_creates_belong_to_the_database_owner() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let database = dir.path().join("t.db");
        std::fs::write(&database, b"").expect("database file");
        if std::os::unix::fs::chown(&database, Some(12345), Some(12345)).is_err() {
            return; // not root: nothing is created for another user
        }
        let archive = Archive::beside(&database).expect("open");
        let at = archive.append(b"x").expect("append");
        let pack = archive.dir().join(format!("{:08}.pack", at.pack));
        for path in [archive.dir().to_path_buf(), pack] {
            let meta = std::fs::metadata(&path).expect("exists");
            assert_eq!(
                (meta.uid(), meta.gid()),
                (12345, 12345),
                "{}",
                path.display()
            );
        }
    }

    #[test]
    fn appended_read_back_checked_and_copied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let archive = Archive::open(dir.path().join("a")).expect("open");
        let big = vec![7u8; 3 << 20];
        let at = archive.append(&big).expect("append");
        let empty = archive.append(b"").expect("append empty");
        let small = archive.append(b"small").expect("append small");
        archive.sync().expect("sync");
        assert_eq!(
            at,
            Location {
                pack: 1,
                offset: 0,
                size: big.len() as u64
            }
        );
        assert_eq!(small.offset, big.len() as u64, "appended after the others");
        assert_eq!(archive.read(at, &sha(&big)).expect("read"), big);
        assert_eq!(archive.read(empty, &sha(b"")).expect("read"), b"");
        assert_eq!(archive.read(small, &sha(b"small")).expect("read"), b"small");

        // Damaged bytes are an error, not served.
        let error = archive.read(small, &sha(b"other")).expect_err("mismatch");
        assert!(error.to_string().contains("damaged"), "{error}");

        // A second writer (another process) does not append to a pack that is held.
        let other = Archive::open(dir.path().join("a")).expect("open again");
        let elsewhere = other.append(b"other writer").expect("append");
        assert_eq!(elsewhere.pack, 2, "a locked pack is left to its writer");
        other.sync().expect("sync");
        drop((archive, other));
        // Once released, the newest pack is appended to again.
        let later = Archive::open(dir.path().join("a")).expect("open later");
        let next = later.append(b"later").expect("append");
        assert_eq!((next.pack, next.offset), (2, 12));
        later.sync().expect("sync");

        let copy = dir.path().join("backup");
        assert_eq!(later.copy_to(&copy).expect("copy"), 2);
        assert_eq!(later.copy_to(&copy).expect("copy again"), 0);
        let copied = Archive::open(copy).expect("open copy");
        assert_eq!(copied.read(at, &sha(&big)).expect("read copy"), big);
        assert_eq!(
            copied.read(next, &sha(b"later")).expect("read copy"),
            b"later"
        );
    }
}

//! `blobs`: the index of the archive (SHA-256 → pack, offset, size), and `blob_chunks`,
//! where versions before the archive kept the bytes.

use rusqlite::params;

use super::Location;
use super::batch::Batch;
use super::error::{Result, StoreError};

const BLOB_LOCATION: &str = "SELECT size, pack, pack_offset FROM blobs WHERE sha256 = ?";

impl Batch<'_> {
    /// Appends bytes to the archive and indexes them under their hash.
    pub fn put_blob(&mut self, sha256: &str, bytes: &[u8]) -> Result<()> {
        let at = self.archive.append(bytes)?;
        self.index_blob(sha256, at)
    }

    /// Indexes bytes already in the archive (the fetch appended them off the reactor)
    /// under their hash, once.
    pub fn index_blob(&mut self, sha256: &str, at: Location) -> Result<()> {
        self.connection
            .prepare_cached(
                "INSERT INTO blobs (sha256, size, pack, pack_offset) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            )?
            .execute(params![
                sha256,
                at.size as i64,
                i64::from(at.pack),
                at.offset as i64
            ])?;
        self.unsynced = true;
        Ok(())
    }

    /// The bytes stored under `sha256`: a range of a pack in the archive, or (written by
    /// versions before the archive) chunks in `blob_chunks`.
    pub(super) fn read_blob(&mut self, sha256: &str) -> Result<Vec<u8>> {
        let (size, pack, offset): (i64, Option<i64>, Option<i64>) = self
            .connection
            .prepare_cached(BLOB_LOCATION)?
            .query_row([sha256], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        if let (Some(pack), Some(offset)) = (pack, offset) {
            let at = Location {
                pack: pack as u32,
                offset: offset as u64,
                size: size as u64,
            };
            return Ok(self.archive.read(at, sha256)?);
        }
        let mut statement = self
            .connection
            .prepare_cached("SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY seq")?;
        let mut bytes = Vec::new();
        for chunk in statement.query_map([sha256], |row| row.get::<_, Vec<u8>>(0))? {
            bytes.extend_from_slice(&chunk?);
        }
        Ok(bytes)
    }

    /// The bytes of an outgoing message as it is sent: the stored message (`sha256`) with
    /// the files it names spliced in from their archived messages (`splices`, JSON).
    pub(super) fn outgoing_bytes(
        &mut self,
        sha256: &str,
        splices: Option<&str>,
    ) -> Result<Vec<u8>> {
        let stored = self.read_blob(sha256)?;
        let Some(splices) = splices else {
            return Ok(stored);
        };
        let splices: Vec<crate::mail::compose::Splice> =
            serde_json::from_str(splices).map_err(|e| StoreError::Decode(e.to_string()))?;
        let mut blobs = std::collections::HashMap::new();
        for splice in &splices {
            if !blobs.contains_key(&splice.blob) {
                let bytes = self.read_blob(&splice.blob)?;
                blobs.insert(splice.blob.clone(), bytes);
            }
        }
        crate::mail::compose::expand(&stored, &splices, |blob| blobs.get(blob).map(Vec::as_slice))
            .ok_or_else(|| {
                StoreError::Decode(format!(
                    "outgoing message {sha256}: a file it names is not where it says"
                ))
            })
    }
}

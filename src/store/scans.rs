//! What the antivirus found in each file (`scans`): consulted before any file is
//! forwarded, and the files held back until clamd can scan them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::batch::Batch;
use super::db::Access;
use super::error::Result;
use crate::clock::rfc3339;
use crate::domain::{ScreenedFile, Screening};

/// A file held back because clamd could not scan it, and where to read it again.
#[derive(Debug, Clone)]
pub struct HeldFile {
    pub sha256: String,
    /// The message it came in, and its position there.
    pub message_row: i64,
    pub position: usize,
    pub raw_sha256: String,
    pub complaint_id: Option<i64>,
}

impl Batch<'_> {
    /// Records what clamd found. A finding replaces "unscanned", never the reverse: a file
    /// once found clean or infected stays so.
    pub fn record_screenings(&mut self, files: &[ScreenedFile], now: DateTime<Utc>) -> Result<()> {
        let mut statement = self.connection().prepare_cached(
            "INSERT INTO scans (sha256, verdict, signature, problem, scanned_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (sha256) DO UPDATE SET verdict = excluded.verdict,
                 signature = excluded.signature, problem = excluded.problem,
                 scanned_at = excluded.scanned_at
             WHERE scans.verdict = 'unscanned'",
        )?;
        for file in files {
            let (verdict, signature, problem) = match &file.screening {
                Screening::Clean => ("clean", None, None),
                Screening::Infected(name) => ("infected", Some(name.as_str()), None),
                Screening::Unscanned(why) => ("unscanned", None, Some(why.as_str())),
            };
            statement.execute(params![
                file.sha256,
                verdict,
                signature,
                problem,
                rfc3339(now)
            ])?;
        }
        Ok(())
    }

    /// What is known of these files; a file never scanned is absent.
    pub fn screenings(&mut self, sha256s: &[&str]) -> Result<HashMap<String, Screening>> {
        let mut statement = self
            .connection()
            .prepare_cached("SELECT verdict, signature, problem FROM scans WHERE sha256 = ?")?;
        let mut found = HashMap::new();
        for sha256 in sha256s {
            let row = statement
                .query_row([sha256], |row| {
                    let verdict: String = row.get(0)?;
                    let signature: Option<String> = row.get(1)?;
                    let problem: Option<String> = row.get(2)?;
                    Ok(match verdict.as_str() {
                        "clean" => Screening::Clean,
                        "infected" => Screening::Infected(signature.unwrap_or_default()),
                        _ => Screening::Unscanned(problem.unwrap_or_default()),
                    })
                })
                .optional()?;
            if let Some(screening) = row {
                found.insert(sha256.to_string(), screening);
            }
        }
        Ok(found)
    }

    /// Marks held files as forwarded once clean.
    pub fn mark_forwarded(&mut self, sha256: &str, now: DateTime<Utc>) -> Result<()> {
        self.connection()
            .prepare_cached("UPDATE scans SET forwarded_at = ? WHERE sha256 = ?")?
            .execute(params![rfc3339(now), sha256])?;
        Ok(())
    }
}

impl Store {
    /// Whether any file waits for clamd (cheap: a partial index).
    pub async fn has_held_files(&self) -> Result<bool> {
        self.db
            .call(Access::Read, |batch| {
                Ok(batch.connection().query_row(
                    "SELECT EXISTS (SELECT 1 FROM scans WHERE verdict = 'unscanned')",
                    [],
                    |row| row.get(0),
                )?)
            })
            .await
    }

    /// The raw bytes of a recorded message, read back from the archive.
    pub async fn message_bytes(&self, message_row: i64) -> Result<Vec<u8>> {
        self.db
            .call(Access::Read, move |batch| {
                Ok(batch.message_raw(message_row)?.1)
            })
            .await
    }

    /// Files held back because clamd could not scan them, oldest first, with the first
    /// message each came in.
    pub async fn held_files(&self, limit: usize) -> Result<Vec<HeldFile>> {
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(
                    "SELECT s.sha256, a.message_row, a.position, m.raw_sha256, m.complaint_id
                     FROM scans s
                     JOIN attachments a ON a.id = (SELECT min(id) FROM attachments WHERE sha256 = s.sha256)
                     JOIN messages m ON m.id = a.message_row
                     WHERE s.verdict = 'unscanned' ORDER BY s.scanned_at LIMIT ?",
                )?;
                let rows = statement.query_map([limit as i64], |row| {
                    Ok(HeldFile {
                        sha256: row.get(0)?,
                        message_row: row.get(1)?,
                        position: row.get::<_, i64>(2)? as usize,
                        raw_sha256: row.get(3)?,
                        complaint_id: row.get(4)?,
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}

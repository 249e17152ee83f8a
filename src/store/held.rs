//! Complaints held back from the Kepala Dinas because their sender flooded the office:
//! registered, listed in a digest to the admin, released or closed by the admin's reply.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::batch::Batch;
use super::error::Result;
use crate::clock::rfc3339;
use crate::domain::EmailAddress;

/// A held complaint not yet listed in a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlisted {
    pub complaint_id: i64,
    pub reporter: String,
}

impl Batch<'_> {
    /// Complaints from `reporter` received at or after `since` (this batch's included).
    pub fn complaints_from_since(
        &mut self,
        reporter: &EmailAddress,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        Ok(self
            .connection()
            .prepare_cached(
                "SELECT count(*) FROM complaints WHERE reporter_email = ? AND received_at >= ?",
            )?
            .query_row(params![reporter.as_str(), rfc3339(since)], |row| row.get(0))?)
    }

    pub fn hold(&mut self, complaint_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.connection()
            .prepare_cached("UPDATE complaints SET held_at = ? WHERE id = ?")?
            .execute(params![rfc3339(now), complaint_id])?;
        Ok(())
    }

    /// Held complaints that no digest has listed yet, in register order.
    pub fn unlisted_held(&mut self) -> Result<Vec<Unlisted>> {
        let mut statement = self.connection().prepare_cached(
            "SELECT id, reporter_email FROM complaints
             WHERE held_at IS NOT NULL AND held_digest IS NULL ORDER BY id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(Unlisted {
                complaint_id: row.get(0)?,
                reporter: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn list_in_digest(&mut self, complaint_id: i64, digest: &str) -> Result<()> {
        self.connection()
            .prepare_cached("UPDATE complaints SET held_digest = ? WHERE id = ?")?
            .execute(params![digest, complaint_id])?;
        Ok(())
    }

    /// The complaints a digest listed that are still held and open.
    pub fn held_in_digest(&mut self, digest: &str) -> Result<Vec<i64>> {
        let mut statement = self.connection().prepare_cached(
            "SELECT id FROM complaints WHERE held_digest = ? AND held_at IS NOT NULL
               AND status NOT IN ('selesai', 'ditutup') ORDER BY id",
        )?;
        let rows = statement.query_map([digest], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn is_held(&mut self, complaint_id: i64) -> Result<bool> {
        let held: Option<Option<String>> = self
            .connection()
            .prepare_cached("SELECT held_at FROM complaints WHERE id = ?")?
            .query_row([complaint_id], |row| row.get(0))
            .optional()?;
        Ok(held.flatten().is_some())
    }

    pub fn release(&mut self, complaint_id: i64) -> Result<()> {
        self.connection()
            .prepare_cached("UPDATE complaints SET held_at = NULL WHERE id = ?")?
            .execute([complaint_id])?;
        Ok(())
    }
}

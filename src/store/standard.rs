//! The service standard's records of a complaint besides its registration: the
//! requirements a follow-up completes (identity, supporting documents) and the priority
//! that sets the deadline.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::batch::Batch;
use super::error::Result;
use crate::clock::rfc3339;
use crate::domain::{Nik, Priority};

impl Batch<'_> {
    /// What a follow-up brought toward the requirements: an identity (and the NIK, kept
    /// when none was known) and more supporting documents.
    pub fn add_requirements(
        &mut self,
        complaint_id: i64,
        (identity, nik): (bool, Option<&Nik>),
        documents: u32,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
                "UPDATE complaints SET identity_provided = max(identity_provided, ?),
                        reporter_nik = coalesce(reporter_nik, ?), documents = documents + ?,
                        updated_at = ?
                 WHERE id = ?",
            )?
            .execute(params![
                identity,
                nik.map(Nik::expose),
                documents,
                rfc3339(now),
                complaint_id
            ])?;
        Ok(())
    }

    /// The priority the Kepala Dinas gave, and the deadline it sets.
    pub fn set_priority(
        &mut self,
        complaint_id: i64,
        priority: Priority,
        deadline_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
                "UPDATE complaints SET priority = ?, deadline_at = ?, updated_at = ? WHERE id = ?",
            )?
            .execute(params![
                priority.as_str(),
                rfc3339(deadline_at),
                rfc3339(now),
                complaint_id
            ])?;
        Ok(())
    }
}

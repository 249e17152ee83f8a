//! What a citizen may be told about a complaint: the complaint a status question names,
//! and where it stands (closure reason, when it was answered).

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::batch::Batch;
use super::complaints::{ComplaintRef, complaint_ref};
use super::error::Result;
use crate::clock::parse_rfc3339;
use crate::domain::{EmailAddress, RegisterNumber};

/// Where a complaint stands, beyond its state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub closed_reason: Option<String>,
    /// When the answer was approved (and queued to the citizen).
    pub answered_at: Option<DateTime<Utc>>,
}

impl Batch<'_> {
    /// The complaint with this number, whoever asks.
    pub fn complaint_by_number(&mut self, number: &RegisterNumber) -> Result<Option<ComplaintRef>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT id, number, status FROM complaints WHERE number = ?")?
            .query_row([number.as_str()], complaint_ref)
            .optional()?)
    }

    /// The latest complaint reported from this address.
    pub fn latest_complaint_of(&mut self, reporter: &EmailAddress) -> Result<Option<ComplaintRef>> {
        Ok(self
            .connection()
            .prepare_cached(
                "SELECT id, number, status FROM complaints WHERE reporter_email = ?
                 ORDER BY received_at DESC, id DESC LIMIT 1",
            )?
            .query_row([reporter.as_str()], complaint_ref)
            .optional()?)
    }

    pub fn standing(&mut self, complaint_id: i64) -> Result<Standing> {
        let (closed_reason, answered): (Option<String>, Option<String>) = self
            .connection()
            .prepare_cached(
                "SELECT c.closed_reason,
                        (SELECT max(d.at) FROM decisions d WHERE d.complaint_id = c.id AND d.decision = 'setuju')
                 FROM complaints c WHERE c.id = ?",
            )?
            .query_row([complaint_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(Standing {
            closed_reason: closed_reason.filter(|r| !r.trim().is_empty()),
            answered_at: answered.as_deref().and_then(parse_rfc3339),
        })
    }
}

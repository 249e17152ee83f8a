//! Reading the register for the office's books: the complaints received in a period
//! (the monthly report's register and the agenda book) and the month's other counts.
//! Read only; the ratings are written elsewhere.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use serde::Serialize;

use super::db::Access;
use super::error::Result;
use super::{Batch, Store};
use crate::clock::rfc3339;
use crate::mail::compose::Outgoing;

/// One complaint as the books show it: the register's row and when each stage ended.
/// Times are RFC 3339 UTC text.
#[derive(Debug, Clone, Serialize)]
pub struct BookEntry {
    pub number: String,
    pub channel: String,
    pub status: String,
    /// The division the disposition named (`None` before it).
    pub division: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_email: String,
    pub subject: String,
    pub received_at: String,
    pub deadline_at: String,
    /// The first disposition.
    pub disposed_at: Option<String>,
    /// The last draft.
    pub drafted_at: Option<String>,
    /// The approval that sent the answer.
    pub answered_at: Option<String>,
    pub closed_reason: Option<String>,
    /// The satisfaction rating's score on the 1–4 scale.
    pub rating: Option<f64>,
}

/// What else happened in a period: ratings given, mail bounced, replies refused, mail
/// quarantined.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeriodCounts {
    /// The score of every rating given in the period.
    pub rating_scores: Vec<f64>,
    pub bounced: u64,
    pub unauthorized: u64,
    pub quarantined: u64,
}

/// Complaints received in `[?1, ?2)`, in the order they were received.
const BOOK_ENTRIES: &str = "SELECT c.number, c.channel, c.status, c.division, c.reporter_name,
    c.reporter_email, c.subject, c.received_at, c.deadline_at,
    (SELECT min(d.at) FROM dispositions d WHERE d.complaint_id = c.id),
    (SELECT max(d.at) FROM drafts d WHERE d.complaint_id = c.id),
    (SELECT max(d.at) FROM decisions d WHERE d.complaint_id = c.id AND d.decision = 'setuju'),
    c.closed_reason,
    (SELECT r.score FROM ratings r WHERE r.complaint_id = c.id)
    FROM complaints c WHERE c.received_at >= ?1 AND c.received_at < ?2
    ORDER BY c.received_at, c.id";

fn book_entry(row: &Row<'_>) -> rusqlite::Result<BookEntry> {
    Ok(BookEntry {
        number: row.get(0)?,
        channel: row.get(1)?,
        status: row.get(2)?,
        division: row.get(3)?,
        reporter_name: row.get(4)?,
        reporter_email: row.get(5)?,
        subject: row.get(6)?,
        received_at: row.get(7)?,
        deadline_at: row.get(8)?,
        disposed_at: row.get(9)?,
        drafted_at: row.get(10)?,
        answered_at: row.get(11)?,
        closed_reason: row.get(12)?,
        rating: row.get(13)?,
    })
}

impl Store {
    /// The complaints received from `from` (inclusive) to `to` (exclusive).
    pub async fn book_entries(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<BookEntry>> {
        let (from, to) = (rfc3339(from), rfc3339(to));
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(BOOK_ENTRIES)?;
                let rows = statement.query_map(params![from, to], book_entry)?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    /// Ratings, bounced mail, unauthorized replies and quarantined mail of the period
    /// from `from` (inclusive) to `to` (exclusive).
    pub async fn period_counts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<PeriodCounts> {
        let (from, to) = (rfc3339(from), rfc3339(to));
        self.db
            .call(Access::Read, move |batch| {
                Ok(period_counts(batch.connection(), &from, &to)?)
            })
            .await
    }
}

impl Store {
    /// The latest month (YYYY-MM) whose report mail was queued, if any.
    pub async fn last_monthly_report(&self) -> Result<Option<String>> {
        self.db
            .call(Access::Read, |batch| {
                Ok(batch
                    .connection()
                    .prepare_cached("SELECT max(month) FROM monthly_reports")?
                    .query_row([], |row| row.get(0))?)
            })
            .await
    }

    /// Whether the report of `month` (YYYY-MM), which ended at `ended`, is still to be
    /// emailed: not queued yet, and the register was in use before the month ended (a
    /// new installation does not mail a report of the months before it).
    pub async fn monthly_report_due(&self, month: &str, ended: DateTime<Utc>) -> Result<bool> {
        let (month, ended) = (month.to_owned(), rfc3339(ended));
        self.db
            .call(Access::Read, move |batch| {
                Ok(batch
                    .connection()
                    .prepare_cached(
                        "SELECT NOT EXISTS (SELECT 1 FROM monthly_reports WHERE month = ?1)
                        AND EXISTS (SELECT 1 FROM complaints WHERE received_at < ?2)",
                    )?
                    .query_row(params![month, ended], |row| row.get(0))?)
            })
            .await
    }
}

impl Batch<'_> {
    /// Queues the report mail of `month` unless it was queued before: the mark and the
    /// outbox row commit together. Returns whether it was queued now.
    pub fn queue_monthly_report(
        &mut self,
        month: &str,
        outgoing: &Outgoing,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let queued: bool = self
            .connection
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM monthly_reports WHERE month = ?)")?
            .query_row([month], |row| row.get(0))?;
        if queued {
            return Ok(false);
        }
        let outbox_id = self.enqueue(None, outgoing, now)?;
        self.connection
            .prepare_cached(
                "INSERT INTO monthly_reports (month, outbox_id, queued_at) VALUES (?, ?, ?)",
            )?
            .execute(params![month, outbox_id, rfc3339(now)])?;
        Ok(true)
    }
}

fn period_counts(connection: &Connection, from: &str, to: &str) -> rusqlite::Result<PeriodCounts> {
    let count = |sql: &str| -> rusqlite::Result<u64> {
        let n: i64 = connection
            .prepare_cached(sql)?
            .query_row(params![from, to], |row| row.get(0))?;
        Ok(n.max(0) as u64)
    };
    let rating_scores = connection
        .prepare_cached("SELECT score FROM ratings WHERE rated_at >= ?1 AND rated_at < ?2")?
        .query_map(params![from, to], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(PeriodCounts {
        rating_scores,
        bounced: count(
            "SELECT count(*) FROM outbox WHERE status = 'bounced'
             AND created_at >= ?1 AND created_at < ?2",
        )?,
        unauthorized: count("SELECT count(*) FROM unauthorized WHERE at >= ?1 AND at < ?2")?,
        quarantined: count(
            "SELECT count(*) FROM messages WHERE kind = 'quarantined'
             AND recorded_at >= ?1 AND recorded_at < ?2",
        )?,
    })
}

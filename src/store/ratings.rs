//! `ratings`: the satisfaction survey's answers, one per complaint (a later rating
//! replaces the earlier one). The monthly report reads this table.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::batch::Batch;
use super::error::Result;
use crate::clock::rfc3339;

/// A rating to record.
#[derive(Debug, Clone)]
pub struct NewRating<'a> {
    pub complaint_id: i64,
    /// 1–4.
    pub score: f64,
    /// The nine elements' answers, when the full form was filled in.
    pub elements: Option<&'a [u8; 9]>,
    pub comment: Option<&'a str>,
    pub message_row: i64,
    pub at: DateTime<Utc>,
}

/// A complaint's rating as `show --json` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatingView {
    pub score: f64,
    pub comment: Option<String>,
    pub at: String,
}

impl Batch<'_> {
    /// Records a rating, replacing the complaint's earlier one; returns the score it
    /// replaced, if any.
    pub fn record_rating(&mut self, rating: &NewRating<'_>) -> Result<Option<f64>> {
        let earlier: Option<f64> = self
            .connection()
            .prepare_cached("SELECT score FROM ratings WHERE complaint_id = ?")?
            .query_row([rating.complaint_id], |row| row.get(0))
            .optional()?;
        let elements = rating.elements.map(|e| super::json(&e[..]));
        self.connection()
            .prepare_cached(
                "INSERT INTO ratings (complaint_id, score, elements_json, comment, message_row, rated_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (complaint_id) DO UPDATE SET score = excluded.score,
                     elements_json = excluded.elements_json, comment = excluded.comment,
                     message_row = excluded.message_row, rated_at = excluded.rated_at",
            )?
            .execute(params![
                rating.complaint_id,
                rating.score,
                elements,
                rating.comment,
                rating.message_row,
                rfc3339(rating.at),
            ])?;
        Ok(earlier)
    }
}

/// The complaint's rating, if it has one.
pub(super) fn of_complaint(
    connection: &rusqlite::Connection,
    complaint_id: i64,
) -> rusqlite::Result<Option<RatingView>> {
    connection
        .prepare_cached("SELECT score, comment, rated_at FROM ratings WHERE complaint_id = ?")?
        .query_row([complaint_id], |r| {
            Ok(RatingView {
                score: r.get(0)?,
                comment: r.get(1)?,
                at: r.get(2)?,
            })
        })
        .optional()
}

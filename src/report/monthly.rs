//! The monthly report's numbers (pure): from the complaints received in the month and
//! the month's other counts to what `report --format json` prints.
//!
//! The complaints are the month's cohort: those received in the month (office zone),
//! each with what has happened to it by the time the report is made. Ratings, bounced
//! mail, unauthorized replies and quarantined mail count in the month they happened.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ikm::Ikm;
use super::month::Month;
use crate::clock::parse_rfc3339;
use crate::domain::Status;
use crate::store::{BookEntry, PeriodCounts};

/// The key of `by_unit` for complaints without a disposition yet.
pub const NO_UNIT: &str = "belum_didisposisi";

/// The three waiting stages, in the order of the procedure.
pub const STAGES: [&str; 3] = ["disposisi", "jawaban", "persetujuan"];

#[derive(Debug, Clone, Serialize)]
pub struct MonthlyReport {
    pub month: String,
    /// When the report was made (RFC 3339 UTC): the cohort's state as of then.
    pub generated_at: String,
    pub received: u64,
    pub by_channel: BTreeMap<String, u64>,
    /// Every status, zero included.
    pub by_status: BTreeMap<String, u64>,
    pub by_unit: BTreeMap<String, u64>,
    /// Complaints received in the month whose answer was sent.
    pub answered: u64,
    /// Of those, answered by their deadline.
    pub answered_within_deadline: u64,
    /// `answered_within_deadline` / `answered` × 100, one decimal; `null` when none.
    pub answered_within_deadline_percent: Option<f64>,
    /// From receipt to the answer, in hours (two decimals); `null` when none.
    pub median_hours_to_answer: Option<f64>,
    pub p90_hours_to_answer: Option<f64>,
    /// Register numbers not answered by their deadline: answered late, or still open
    /// after it.
    pub overdue: Vec<String>,
    /// Time spent at each stage by the complaints that left it.
    pub stages: BTreeMap<String, StageTime>,
    /// Complaints received on each day of the month (index 0 is the 1st).
    pub received_by_day: Vec<u64>,
    pub ikm: Ikm,
    pub bounced: u64,
    pub unauthorized: u64,
    pub quarantined: u64,
}

/// How long complaints waited at one stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageTime {
    /// Complaints that left the stage.
    pub count: u64,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
}

/// What the report is made from.
pub struct MonthFacts<'a> {
    pub month: Month,
    pub zone: chrono_tz::Tz,
    pub now: DateTime<Utc>,
    pub entries: &'a [BookEntry],
    pub counts: &'a PeriodCounts,
}

impl MonthlyReport {
    pub fn build(facts: &MonthFacts<'_>) -> MonthlyReport {
        let entries = facts.entries;
        let mut by_status: BTreeMap<String, u64> = Status::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect();
        let (mut by_channel, mut by_unit) = (BTreeMap::new(), BTreeMap::new());
        for entry in entries {
            *by_channel.entry(entry.channel.clone()).or_insert(0) += 1;
            *by_status.entry(entry.status.clone()).or_insert(0) += 1;
            let unit = entry.division.clone().unwrap_or_else(|| NO_UNIT.to_owned());
            *by_unit.entry(unit).or_insert(0) += 1;
        }
        let answers: Vec<(f64, bool)> = entries.iter().filter_map(answer_time).collect();
        let within = answers.iter().filter(|(_, on_time)| *on_time).count() as u64;
        let mut hours: Vec<f64> = answers.iter().map(|(h, _)| *h).collect();
        hours.sort_by(f64::total_cmp);
        MonthlyReport {
            month: facts.month.to_string(),
            generated_at: crate::clock::rfc3339(facts.now),
            received: entries.len() as u64,
            by_channel,
            by_status,
            by_unit,
            answered: answers.len() as u64,
            answered_within_deadline: within,
            answered_within_deadline_percent: percent(within, answers.len() as u64),
            median_hours_to_answer: median(&hours).map(two_decimals),
            p90_hours_to_answer: nearest_rank(&hours, 90).map(two_decimals),
            overdue: entries
                .iter()
                .filter(|e| is_overdue(e, facts.now))
                .map(|e| e.number.clone())
                .collect(),
            stages: stage_times(entries),
            received_by_day: received_by_day(facts),
            ikm: Ikm::of(facts.counts.rating_scores.iter().copied()),
            bounced: facts.counts.bounced,
            unauthorized: facts.counts.unauthorized,
            quarantined: facts.counts.quarantined,
        }
    }
}

/// Hours from `from` to `to`, when both are known and in order.
fn hours_between(from: Option<&str>, to: Option<&str>) -> Option<f64> {
    let (from, to) = (parse_rfc3339(from?)?, parse_rfc3339(to?)?);
    let seconds = (to - from).num_seconds();
    (seconds >= 0).then(|| seconds as f64 / 3600.0)
}

/// An answered complaint's hours to answer, and whether it was by the deadline.
fn answer_time(entry: &BookEntry) -> Option<(f64, bool)> {
    let answered = entry.answered_at.as_deref()?;
    let hours = hours_between(Some(&entry.received_at), Some(answered))?;
    Some((hours, answered <= entry.deadline_at.as_str()))
}

fn is_overdue(entry: &BookEntry, now: DateTime<Utc>) -> bool {
    if let Some(answered) = &entry.answered_at {
        return *answered > entry.deadline_at;
    }
    let open = Status::parse(&entry.status).is_some_and(Status::is_open);
    open && parse_rfc3339(&entry.deadline_at).is_some_and(|deadline| deadline < now)
}

fn stage_times(entries: &[BookEntry]) -> BTreeMap<String, StageTime> {
    let spans: [fn(&BookEntry) -> Option<f64>; 3] = [
        |e| hours_between(Some(&e.received_at), e.disposed_at.as_deref()),
        |e| hours_between(e.disposed_at.as_deref(), e.drafted_at.as_deref()),
        |e| hours_between(e.drafted_at.as_deref(), e.answered_at.as_deref()),
    ];
    STAGES
        .iter()
        .zip(spans)
        .map(|(stage, span)| {
            let mut hours: Vec<f64> = entries.iter().filter_map(span).collect();
            hours.sort_by(f64::total_cmp);
            let time = StageTime {
                count: hours.len() as u64,
                median_hours: median(&hours).map(two_decimals),
                p90_hours: nearest_rank(&hours, 90).map(two_decimals),
            };
            (stage.to_string(), time)
        })
        .collect()
}

fn received_by_day(facts: &MonthFacts<'_>) -> Vec<u64> {
    let mut days = vec![0u64; facts.month.days() as usize];
    for entry in facts.entries {
        if let Some(at) = parse_rfc3339(&entry.received_at) {
            let local = at.with_timezone(&facts.zone).date_naive();
            let day = (local - facts.month.first_day()).num_days();
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| days.get_mut(d)) {
                *slot += 1;
            }
        }
    }
    days
}

/// The middle value of sorted `values` (the mean of the two middle ones for an even
/// count).
pub fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The `p`th percentile of sorted `values` by the nearest-rank method: the smallest value
/// with at least `p` percent of the values at or below it.
pub fn nearest_rank(sorted: &[f64], p: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

fn two_decimals(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_percentile_by_hand() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[1.0, 2.0, 10.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
        // Ten values: the 90th percentile is the 9th smallest.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&ten, 90), Some(9.0));
        // Three values: ceil(2.7) = 3rd.
        assert_eq!(nearest_rank(&[1.0, 2.0, 3.0], 90), Some(3.0));
        assert_eq!(nearest_rank(&[7.0], 90), Some(7.0));
        assert_eq!(nearest_rank(&[], 90), None);
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
    }
}

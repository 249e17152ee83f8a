//! The office's accounts of its service, read from the register: the monthly report
//! (`monthly`, its satisfaction index in `ikm`), its charts (`charts`), and the books
//! printed from editable page templates (`pages`, `books`): the report as HTML and CSV,
//! the agenda book, the complaint and disposition sheets. Reads the register only.

pub mod books;
pub mod charts;
pub mod ikm;
pub mod mailing;
pub mod month;
pub mod monthly;
pub mod pages;

use chrono::{DateTime, Utc};

use self::month::Month;
use self::monthly::{MonthFacts, MonthlyReport};
use crate::store::{BookEntry, Store, StoreError};

/// The month's report and the register it was made from.
pub struct Gathered {
    pub report: MonthlyReport,
    pub entries: Vec<BookEntry>,
}

/// Reads the month's complaints and counts and makes the report, as of `now`.
pub async fn gather(
    store: &Store,
    month: Month,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Gathered, StoreError> {
    let (from, to) = month.bounds(zone);
    let entries = store.book_entries(from, to).await?;
    let counts = store.period_counts(from, to).await?;
    let report = MonthlyReport::build(&MonthFacts {
        month,
        zone,
        now,
        entries: &entries,
        counts: &counts,
    });
    Ok(Gathered { report, entries })
}

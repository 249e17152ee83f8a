//! A calendar month in the office's time zone: what `report --month YYYY-MM` names.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// `2026-11`; anything else is an error that says what is expected.
    pub fn parse(text: &str) -> Result<Month, String> {
        let bad = || format!("month {text:?} is not of the form YYYY-MM (e.g. 2026-11)");
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || year < 1970 {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// The month that `at` falls in, in `zone`.
    pub fn of(at: DateTime<Utc>, zone: Tz) -> Month {
        let local = at.with_timezone(&zone);
        Month {
            year: local.year(),
            month: local.month(),
        }
    }

    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// 1 to 12.
    pub fn number(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    pub fn days(self) -> u32 {
        let next = self.next().first_day();
        (next - self.first_day()).num_days() as u32
    }

    /// When the month starts and when the next one starts, in `zone`, as UTC instants.
    pub fn bounds(self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            start_of(self.first_day(), zone),
            start_of(self.next().first_day(), zone),
        )
    }
}

/// Midnight of `day` in `zone` (the first instant of the day where midnight is skipped).
pub fn start_of(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    zone.from_local_datetime(&midnight)
        .earliest()
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_parsed_and_bounded_in_the_office_zone() {
        let month = Month::parse("2026-11").expect("month");
        assert_eq!(month.to_string(), "2026-11");
        let (from, to) = month.bounds(chrono_tz::Asia::Makassar);
        assert_eq!(crate::clock::rfc3339(from), "2026-10-31T16:00:00Z");
        assert_eq!(crate::clock::rfc3339(to), "2026-11-30T16:00:00Z");
        assert_eq!(month.days(), 30);
        assert_eq!(
            Month::parse("2026-12").expect("dec").next().to_string(),
            "2027-01"
        );
        assert_eq!(
            Month::parse("2027-01").expect("jan").previous().to_string(),
            "2026-12"
        );
        let at = crate::clock::parse_rfc3339("2026-11-30T16:30:00Z").expect("time");
        assert_eq!(
            Month::of(at, chrono_tz::Asia::Makassar).to_string(),
            "2026-12"
        );
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "abcd-ef", "2026-00",
        ] {
            let error = Month::parse(bad).expect_err(bad);
            assert!(error.contains("YYYY-MM"), "{error}");
        }
    }
}

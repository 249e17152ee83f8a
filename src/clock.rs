//! The worker's notion of "now", injectable so tests can move time.

use chrono::{DateTime, Utc};

/// Environment variable that pins the clock (RFC 3339). Meant for tests and demos that
/// need deterministic deadlines; the production default is the system clock.
pub const NOW_ENV: &str = "PENGADUAN_NOW";

#[derive(Debug, Clone, Copy)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The system clock, unless `PENGADUAN_NOW` pins it.
    pub fn from_env() -> anyhow::Result<Clock> {
        match std::env::var(NOW_ENV) {
            Ok(value) => {
                let at = DateTime::parse_from_rfc3339(&value).map_err(|e| {
                    anyhow::anyhow!("{NOW_ENV}={value:?} is not an RFC 3339 time: {e}")
                })?;
                Ok(Clock::Fixed(at.with_timezone(&Utc)))
            }
            Err(_) => Ok(Clock::System),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }
}

/// RFC 3339 in UTC with second precision: the one textual time format of the database
/// and of the JSON output. Lexicographic order equals time order.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

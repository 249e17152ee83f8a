//! `[scan]`, validated.

use std::time::Duration;

use super::Validator;
use crate::config::raw::RawScan;
use crate::config::{ClamdAddress, ConfigError, ScanSettings};

impl Validator {
    pub(super) fn scan(&self, raw: RawScan) -> Result<Option<ScanSettings>, ConfigError> {
        let Some(text) = raw.clamd.filter(|t| !t.trim().is_empty()) else {
            return Ok(None);
        };
        let clamd = ClamdAddress::parse(&text).ok_or_else(|| {
            self.error(
                "scan.clamd",
                format!("{text:?} is neither a socket path (\"/run/clamav/clamd.ctl\") nor \"tcp://host:port\""),
            )
        })?;
        let hold_unscanned = match raw.when_unavailable.as_deref().map(str::trim) {
            None | Some("hold") => true,
            Some("forward") => false,
            Some(other) => {
                return Err(self.error(
                    "scan.when_unavailable",
                    format!("invalid value {other:?}, expected \"hold\" or \"forward\""),
                ));
            }
        };
        let timeout = match raw.timeout_seconds.unwrap_or(30) {
            0 => return Err(self.error("scan.timeout_seconds", "must be at least 1")),
            seconds => Duration::from_secs(seconds),
        };
        Ok(Some(ScanSettings {
            clamd,
            timeout,
            hold_unscanned,
        }))
    }
}

//! Validation of `sla.priority_hours`: the deadline per priority the Kepala Dinas may
//! give, never beyond the service standard's 72 hours.

use super::validate::Validator;
use super::{ConfigError, MAX_PRIORITY_HOURS, PriorityHours};

impl Validator {
    pub(super) fn priority_hours(
        &self,
        raw: &std::collections::BTreeMap<String, u32>,
    ) -> Result<PriorityHours, ConfigError> {
        let mut hours = PriorityHours {
            sangat_segera: 24,
            segera: 48,
            biasa: MAX_PRIORITY_HOURS,
        };
        for (key, &value) in raw {
            let slot = match key.as_str() {
                "sangat_segera" => &mut hours.sangat_segera,
                "segera" => &mut hours.segera,
                "biasa" => &mut hours.biasa,
                _ => {
                    return Err(self.error(
                        &format!("sla.priority_hours.{key}"),
                        "unknown priority (sangat_segera, segera, biasa)",
                    ));
                }
            };
            if !(1..=MAX_PRIORITY_HOURS).contains(&value) {
                return Err(self.error(
                    &format!("sla.priority_hours.{key}"),
                    format!("must be 1 to {MAX_PRIORITY_HOURS} hours (3 x 24 hours from receipt at most)"),
                ));
            }
            *slot = value;
        }
        Ok(hours)
    }
}

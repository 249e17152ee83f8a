//! `[report]`: who gets the monthly report.

use super::Validator;
use crate::config::raw::Addresses;
use crate::config::{ConfigError, ReportSettings, Roles};

impl Validator {
    /// `report.recipients`: the listed addresses, or the Kepala Dinas and the admin.
    pub(super) fn report(
        &self,
        recipients: Option<&Addresses>,
        roles: &Roles,
    ) -> Result<ReportSettings, ConfigError> {
        let mut recipients = match recipients {
            Some(listed) => {
                self.addresses("report.recipients", Some(listed), "a list of addresses")?
            }
            None => [&roles.kepala_dinas, &roles.admin]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
        };
        let mut seen = std::collections::HashSet::new();
        recipients.retain(|address| seen.insert(address.clone()));
        Ok(ReportSettings { recipients })
    }
}

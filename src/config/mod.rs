//! Typed settings: `Settings.toml`, then `PENGADUAN__SECTION__KEY` environment variables,
//! validated once at load. Every error names the key and the file it came from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use secrecy::SecretString;

use crate::domain::EmailAddress;
pub use crate::domain::Role;

mod channels;
mod priority;
mod raw;
mod scanning;
mod validate;

pub use channels::{ChannelSettings, SMS_PART_CHARS, SmsSettings};
use raw::Raw;
pub use scanning::{ClamdAddress, ScanSettings};
use validate::Validator;

pub const ENV_PREFIX: &str = "PENGADUAN";
pub const DEFAULT_PATH: &str = "Settings.toml";

/// A configuration problem: which key, in which file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {problem}")]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub problem: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Implicit TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS before any credentials are sent.
    StartTls,
    /// No encryption at all; accepted only for loopback hosts.
    None,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub source: PathBuf,
    pub imap: ImapSettings,
    pub smtp: SmtpSettings,
    pub database: DatabaseSettings,
    pub office: OfficeSettings,
    pub sla: SlaSettings,
    pub security: SecuritySettings,
    pub acknowledgment: AcknowledgmentSettings,
    pub report: ReportSettings,
    pub worker: WorkerSettings,
    pub roles: Roles,
    /// Attachments scanned by clamd before they are forwarded (`[scan]`).
    pub scan: Option<ScanSettings>,
    pub channels: ChannelSettings,
}

/// Who may act on a complaint, by reply. Each role may have several addresses (deputies).
#[derive(Debug, Clone)]
pub struct Roles {
    /// Pengadministrasi Umum: in copy of new complaints; may close a complaint.
    pub admin: Vec<EmailAddress>,
    pub kepala_dinas: Vec<EmailAddress>,
    pub kasubbag_umum: Vec<EmailAddress>,
    /// Divisions that can receive a disposition, by the key officials type (`aptika`);
    /// `roles.sekretaris`, when set, is the division `sekretaris`.
    pub bidang: std::collections::BTreeMap<String, Vec<EmailAddress>>,
}

impl Roles {
    pub fn addresses(&self, role: &Role) -> &[EmailAddress] {
        match role {
            Role::Admin => &self.admin,
            Role::KepalaDinas => &self.kepala_dinas,
            Role::KasubbagUmum => &self.kasubbag_umum,
            Role::Bidang(key) => self.bidang.get(key).map(Vec::as_slice).unwrap_or(&[]),
        }
    }

    /// Every role this address holds.
    pub fn roles_of(&self, address: &EmailAddress) -> Vec<Role> {
        let mut roles = Vec::new();
        for (role, addresses) in [
            (Role::Admin, &self.admin),
            (Role::KepalaDinas, &self.kepala_dinas),
            (Role::KasubbagUmum, &self.kasubbag_umum),
        ] {
            if addresses.contains(address) {
                roles.push(role);
            }
        }
        for (key, addresses) in &self.bidang {
            if addresses.contains(address) {
                roles.push(Role::Bidang(key.clone()));
            }
        }
        roles
    }
}

#[derive(Debug, Clone)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: SecretString,
    pub mailbox: String,
    pub processed_mailbox: String,
    pub quarantine_mailbox: String,
    /// When set, a copy of every sent message is appended here.
    pub sent_mailbox: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The full `From:` of everything the worker sends (display name and address).
    pub from: String,
    pub from_address: EmailAddress,
    pub from_name: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
    /// SMTP sessions used side by side in one delivery pass (1 to 16).
    pub connections: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct OfficeSettings {
    pub name: String,
    pub domain: String,
    pub number_prefix: String,
    pub timezone: Tz,
    pub templates_dir: PathBuf,
    /// Notifications to officials other than the admin show the reporter's name only.
    pub confidential_reporter: bool,
    /// Files are attached to officials' notifications only up to this total size.
    pub forward_attachments_max_bytes: u64,
    /// At most this many complaints from one sender per 24 hours are sent to the Kepala
    /// Dinas one by one; the rest are held and listed in one digest to the admin.
    pub disposition_requests_per_sender_per_day: u32,
}

#[derive(Debug, Clone)]
pub struct SlaSettings {
    pub answer_within_hours: u32,
    /// Hours before the deadline at which the current holder is reminded.
    pub reminders_hours: Vec<u32>,
    /// The deadline, in hours from receipt, for each priority the Kepala Dinas may give
    /// (each at most [`MAX_PRIORITY_HOURS`]).
    pub priority_hours: PriorityHours,
}

/// The service standard's ceiling: 3 x 24 hours from receipt, whatever the priority.
pub const MAX_PRIORITY_HOURS: u32 = 72;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriorityHours {
    pub sangat_segera: u32,
    pub segera: u32,
    pub biasa: u32,
}

impl PriorityHours {
    pub fn of(&self, priority: crate::domain::Priority) -> u32 {
        use crate::domain::Priority;
        let hours = match priority {
            Priority::SangatSegera => self.sangat_segera,
            Priority::Segera => self.segera,
            Priority::Biasa => self.biasa,
        };
        hours.min(MAX_PRIORITY_HOURS)
    }
}

#[derive(Debug, Clone)]
pub struct SecuritySettings {
    pub secret: SecretString,
    /// When set, a reply acts only if this server's Authentication-Results show DKIM or
    /// SPF pass for the sender's domain.
    pub trusted_authserv_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Who gets the monthly report by email (default: the Kepala Dinas and the admin).
    pub recipients: Vec<EmailAddress>,
}

#[derive(Debug, Clone)]
pub struct AcknowledgmentSettings {
    /// At most this many acknowledgments to one sender address per 24 hours.
    pub max_per_sender_per_day: u32,
}

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Most messages fetched, stored and moved as one batch.
    pub batch_messages: usize,
    /// Most bytes (by RFC822.SIZE) fetched as one batch; a single larger message still
    /// forms a batch of its own.
    pub batch_bytes: u64,
    /// Most outbox rows delivered in one cycle.
    pub send_limit: usize,
    /// `status` fails when the last successful cycle is older than this.
    pub stale_after: Duration,
    /// Where the long-running worker serves Prometheus metrics (`GET /metrics`).
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl Settings {
    /// Loads `path`, then overrides from `PENGADUAN__*` environment variables.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let file = path.display().to_string();
        if !path.is_file() {
            return Err(ConfigError {
                file,
                key: "(file)".into(),
                problem: "cannot read the configuration file: not found (set --config or PENGADUAN_CONFIG)".into(),
            });
        }
        let built = config::Config::builder()
            .add_source(config::File::from(path).format(config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix(ENV_PREFIX)
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()
            .map_err(|e| from_config_error(&file, e))?;
        let raw: Raw = built
            .try_deserialize()
            .map_err(|e| from_config_error(&file, e))?;
        Validator { file }.settings(raw, path)
    }
}

fn from_config_error(file: &str, error: config::ConfigError) -> ConfigError {
    match error {
        config::ConfigError::Type {
            unexpected,
            expected,
            key,
            ..
        } => ConfigError {
            file: file.into(),
            key: key.unwrap_or_else(|| "(unknown key)".into()),
            problem: format!("invalid value {unexpected}, expected {expected}"),
        },
        config::ConfigError::At { key, error, .. } => ConfigError {
            file: file.into(),
            key: key.unwrap_or_else(|| "(unknown key)".into()),
            problem: error.to_string(),
        },
        other => ConfigError {
            file: file.into(),
            key: "(file)".into(),
            problem: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;

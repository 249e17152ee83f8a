//! Typed settings: `Settings.toml`, then `PENGADUAN__SECTION__KEY` environment variables,
//! validated once at load. Every error names the key and the file it came from.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::domain::EmailAddress;
pub use crate::domain::Role;

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
    pub worker: WorkerSettings,
    pub roles: Roles,
}

/// Who may act on a complaint, by reply. Each role may have several addresses (deputies).
#[derive(Debug, Clone)]
pub struct Roles {
    /// Pengadministrasi Umum: in copy of new complaints; may close a complaint.
    pub admin: Vec<EmailAddress>,
    pub kepala_dinas: Vec<EmailAddress>,
    pub kasubbag_umum: Vec<EmailAddress>,
    /// Divisions that can receive a disposition, by the key officials type (`aptika`).
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
}

#[derive(Debug, Clone)]
pub struct SecuritySettings {
    pub secret: SecretString,
    /// When set, a reply acts only if this server's Authentication-Results show DKIM or
    /// SPF pass for the sender's domain.
    pub trusted_authserv_id: Option<String>,
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

// ---- raw shapes, as they come from the file and the environment ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw {
    imap: RawImap,
    smtp: RawSmtp,
    database: RawDatabase,
    office: RawOffice,
    sla: RawSla,
    security: RawSecurity,
    acknowledgment: RawAcknowledgment,
    roles: RawRoles,
    worker: RawWorker,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawImap {
    host: Option<String>,
    port: Option<u16>,
    security: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    mailbox: Option<String>,
    processed_mailbox: Option<String>,
    quarantine_mailbox: Option<String>,
    sent_mailbox: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawSmtp {
    host: Option<String>,
    port: Option<u16>,
    security: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<PathBuf>,
    from: Option<String>,
    ca_file: Option<PathBuf>,
    timeout_seconds: Option<u64>,
    connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawDatabase {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawOffice {
    name: Option<String>,
    domain: Option<String>,
    number_prefix: Option<String>,
    timezone: Option<String>,
    templates_dir: Option<PathBuf>,
    confidential_reporter: Option<bool>,
    forward_attachments_max_bytes: Option<u64>,
    disposition_requests_per_sender_per_day: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawSla {
    answer_within_hours: Option<u32>,
    reminders_hours: Option<Hours>,
}

/// A list of hours, or a comma-separated string (how the environment gives lists).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Hours {
    List(Vec<u32>),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawSecurity {
    secret: Option<String>,
    secret_file: Option<PathBuf>,
    trusted_authserv_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawAcknowledgment {
    max_per_sender_per_day: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawRoles {
    admin: Option<Addresses>,
    kepala_dinas: Option<Addresses>,
    kasubbag_umum: Option<Addresses>,
    bidang: std::collections::BTreeMap<String, Addresses>,
}

/// One address, a list, or a comma-separated string (how the environment gives lists).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Addresses {
    One(String),
    Many(Vec<String>),
}

impl Addresses {
    fn items(&self) -> Vec<String> {
        let raw: Vec<&str> = match self {
            Addresses::One(text) => text.split(',').collect(),
            Addresses::Many(list) => list.iter().flat_map(|t| t.split(',')).collect(),
        };
        raw.into_iter()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawWorker {
    batch_messages: Option<usize>,
    batch_bytes: Option<u64>,
    send_limit: Option<usize>,
    stale_after_seconds: Option<u64>,
    metrics_addr: Option<String>,
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

struct Validator {
    file: String,
}

impl Validator {
    fn hours(&self, key: &str, value: Option<Hours>) -> Result<Vec<u32>, ConfigError> {
        let mut hours = match value {
            None => vec![24, 6],
            Some(Hours::List(list)) => list,
            Some(Hours::Text(text)) => text
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| {
                    t.parse()
                        .map_err(|_| self.error(key, format!("{t:?} is not a number of hours")))
                })
                .collect::<Result<_, _>>()?,
        };
        hours.sort_unstable_by(|a, b| b.cmp(a));
        hours.dedup();
        if hours.contains(&0) {
            return Err(self.error(
                key,
                "0 is not a reminder; the overdue notice comes at the deadline",
            ));
        }
        Ok(hours)
    }

    fn addresses(
        &self,
        key: &str,
        value: Option<&Addresses>,
    ) -> Result<Vec<EmailAddress>, ConfigError> {
        let Some(value) = value else {
            return Err(self.error(
                key,
                "missing (required: the address of this role, or a list)",
            ));
        };
        let items = value.items();
        if items.is_empty() {
            return Err(self.error(key, "must name at least one address"));
        }
        items
            .iter()
            .map(|item| {
                EmailAddress::parse(item)
                    .ok_or_else(|| self.error(key, format!("{item:?} is not an email address")))
            })
            .collect()
    }

    fn roles(&self, raw: &RawRoles, office: &EmailAddress) -> Result<Roles, ConfigError> {
        let mut bidang = std::collections::BTreeMap::new();
        for (key, addresses) in &raw.bidang {
            let name = format!("roles.bidang.{key}");
            let valid_key = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_key {
                return Err(self.error(&name, "a division key must be lower-case letters, digits or _ (it is what officials type)"));
            }
            bidang.insert(key.clone(), self.addresses(&name, Some(addresses))?);
        }
        if bidang.is_empty() {
            return Err(self.error(
                "roles.bidang",
                "missing (required: at least one division, e.g. aptika = \"kabid.aptika@…\")",
            ));
        }
        let roles = Roles {
            admin: self.addresses("roles.admin", raw.admin.as_ref())?,
            kepala_dinas: self.addresses("roles.kepala_dinas", raw.kepala_dinas.as_ref())?,
            kasubbag_umum: self.addresses("roles.kasubbag_umum", raw.kasubbag_umum.as_ref())?,
            bidang,
        };
        let all = [&roles.admin, &roles.kepala_dinas, &roles.kasubbag_umum]
            .into_iter()
            .chain(roles.bidang.values())
            .flatten();
        for address in all {
            if address == office {
                return Err(self.error("roles", format!("{address} is the worker's own address (smtp.from); officials need their own")));
            }
        }
        Ok(roles)
    }

    fn error(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    fn required(&self, key: &str, value: Option<String>) -> Result<String, ConfigError> {
        match value {
            Some(v) if !v.trim().is_empty() => Ok(v.trim().to_string()),
            Some(_) => Err(self.error(key, "must not be empty")),
            None => Err(self.error(key, "missing (required)")),
        }
    }

    fn security(
        &self,
        key: &str,
        value: Option<String>,
        host: &str,
    ) -> Result<Security, ConfigError> {
        let value = self.required(key, value)?;
        let security = match value.to_ascii_lowercase().as_str() {
            "tls" => Security::Tls,
            "starttls" => Security::StartTls,
            "none" => Security::None,
            _ => {
                return Err(self.error(
                    key,
                    format!("invalid value {value:?}, expected \"tls\", \"starttls\" or \"none\""),
                ));
            }
        };
        if security == Security::None && !is_loopback(host) {
            return Err(self.error(
                key,
                format!("\"none\" sends passwords and mail in clear text and is only allowed for a loopback host, not {host:?}; use \"tls\" or \"starttls\""),
            ));
        }
        Ok(security)
    }

    fn existing_file(
        &self,
        key: &str,
        path: Option<PathBuf>,
    ) -> Result<Option<PathBuf>, ConfigError> {
        let Some(path) = path else { return Ok(None) };
        let resolved = path;
        if !resolved.is_file() {
            return Err(self.error(key, format!("file {} does not exist", resolved.display())));
        }
        Ok(Some(resolved))
    }

    /// A secret given inline (usually from the environment) or as `<key>_file`.
    fn secret(
        &self,
        key: &str,
        inline: Option<String>,
        file: Option<PathBuf>,
    ) -> Result<Option<SecretString>, ConfigError> {
        match (inline, file) {
            (Some(_), Some(_)) => {
                Err(self.error(key, format!("set either {key} or {key}_file, not both")))
            }
            (Some(value), None) => Ok(Some(SecretString::from(value))),
            (None, Some(path)) => {
                let resolved = path;
                let text = std::fs::read_to_string(&resolved).map_err(|e| {
                    self.error(
                        &format!("{key}_file"),
                        format!("cannot read {}: {e}", resolved.display()),
                    )
                })?;
                Ok(Some(SecretString::from(
                    text.trim_end_matches(['\r', '\n']).to_string(),
                )))
            }
            (None, None) => Ok(None),
        }
    }

    fn settings(&self, raw: Raw, source: &Path) -> Result<Settings, ConfigError> {
        let imap_host = self.required("imap.host", raw.imap.host)?;
        let imap_security = self.security("imap.security", raw.imap.security, &imap_host)?;
        let imap = ImapSettings {
            port: raw.imap.port.unwrap_or(match imap_security {
                Security::Tls => 993,
                _ => 143,
            }),
            security: imap_security,
            username: self.required("imap.username", raw.imap.username)?,
            password: self
                .secret("imap.password", raw.imap.password, raw.imap.password_file)?
                .ok_or_else(|| {
                    self.error(
                        "imap.password",
                        "missing (set PENGADUAN__IMAP__PASSWORD or imap.password_file)",
                    )
                })?,
            mailbox: raw.imap.mailbox.unwrap_or_else(|| "INBOX".into()),
            processed_mailbox: raw
                .imap
                .processed_mailbox
                .unwrap_or_else(|| "Pengaduan/Diproses".into()),
            quarantine_mailbox: raw
                .imap
                .quarantine_mailbox
                .unwrap_or_else(|| "Pengaduan/Karantina".into()),
            sent_mailbox: raw.imap.sent_mailbox.filter(|m| !m.trim().is_empty()),
            ca_file: self.existing_file("imap.ca_file", raw.imap.ca_file)?,
            timeout: Duration::from_secs(raw.imap.timeout_seconds.unwrap_or(60)),
            host: imap_host,
        };
        for (key, name) in [
            ("imap.mailbox", &imap.mailbox),
            ("imap.processed_mailbox", &imap.processed_mailbox),
            ("imap.quarantine_mailbox", &imap.quarantine_mailbox),
        ] {
            if name.trim().is_empty() || name.contains(['"', '\r', '\n', '*', '%']) {
                return Err(self.error(key, format!("invalid mailbox name {name:?}")));
            }
        }
        if imap.processed_mailbox == imap.mailbox || imap.quarantine_mailbox == imap.mailbox {
            return Err(self.error(
                "imap.processed_mailbox",
                "processed_mailbox and quarantine_mailbox must differ from imap.mailbox",
            ));
        }

        let smtp_host = self.required("smtp.host", raw.smtp.host)?;
        let smtp_security = self.security("smtp.security", raw.smtp.security, &smtp_host)?;
        let from = self.required("smtp.from", raw.smtp.from)?;
        let (from_name, from_address) = parse_mailbox(&from).ok_or_else(|| {
            self.error(
                "smtp.from",
                format!("{from:?} is not an address like \"Name <user@domain>\""),
            )
        })?;
        let smtp_password =
            self.secret("smtp.password", raw.smtp.password, raw.smtp.password_file)?;
        if raw.smtp.username.is_some() != smtp_password.is_some() {
            return Err(self.error(
                "smtp.username",
                "set both smtp.username and smtp.password, or neither",
            ));
        }
        let smtp = SmtpSettings {
            port: raw.smtp.port.unwrap_or(match smtp_security {
                Security::Tls => 465,
                Security::StartTls => 587,
                Security::None => 25,
            }),
            security: smtp_security,
            username: raw.smtp.username,
            password: smtp_password,
            from,
            from_address,
            from_name,
            ca_file: self
                .existing_file("smtp.ca_file", raw.smtp.ca_file)?
                .or_else(|| imap.ca_file.clone()),
            timeout: Duration::from_secs(raw.smtp.timeout_seconds.unwrap_or(60)),
            connections: match raw.smtp.connections.unwrap_or(4) {
                n @ 1..=16 => n,
                n => {
                    return Err(self.error(
                        "smtp.connections",
                        format!("{n} is out of range; use 1 to 16 (default 4)"),
                    ));
                }
            },
            host: smtp_host,
        };

        let url = raw
            .database
            .url
            .unwrap_or_else(|| "sqlite://var/pengaduan.db".into());
        if !url.starts_with("sqlite:") {
            return Err(self.error("database.url", format!("{url:?} is not a sqlite: URL")));
        }

        let timezone_name = raw
            .office
            .timezone
            .unwrap_or_else(|| "Asia/Makassar".into());
        let timezone: Tz = timezone_name.parse().map_err(|_| {
            self.error(
                "office.timezone",
                format!("unknown time zone {timezone_name:?} (e.g. \"Asia/Makassar\")"),
            )
        })?;
        let domain = self.required("office.domain", raw.office.domain)?;
        if !domain.contains('.') || domain.contains(['@', ' ', '<', '>']) {
            return Err(self.error("office.domain", format!("{domain:?} is not a domain name")));
        }
        let number_prefix = raw.office.number_prefix.unwrap_or_else(|| "ADU".into());
        if number_prefix.is_empty() || !number_prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(self.error(
                "office.number_prefix",
                format!("{number_prefix:?} must be upper-case letters A-Z"),
            ));
        }
        let office = OfficeSettings {
            name: self.required("office.name", raw.office.name)?,
            domain,
            number_prefix,
            timezone,
            templates_dir: raw
                .office
                .templates_dir
                .unwrap_or_else(|| "templates".into()),
            confidential_reporter: raw.office.confidential_reporter.unwrap_or(true),
            forward_attachments_max_bytes: raw
                .office
                .forward_attachments_max_bytes
                .unwrap_or(10 * 1024 * 1024),
            disposition_requests_per_sender_per_day: match raw
                .office
                .disposition_requests_per_sender_per_day
            {
                Some(0) => {
                    return Err(self.error(
                        "office.disposition_requests_per_sender_per_day",
                        "must be at least 1",
                    ));
                }
                limit => limit.unwrap_or(5),
            },
        };

        let answer_within_hours = raw.sla.answer_within_hours.unwrap_or(72);
        if answer_within_hours == 0 {
            return Err(self.error("sla.answer_within_hours", "must be at least 1"));
        }

        let secret = self
            .secret(
                "security.secret",
                raw.security.secret,
                raw.security.secret_file,
            )?
            .ok_or_else(|| {
                self.error(
                    "security.secret",
                    "missing (set PENGADUAN__SECURITY__SECRET or security.secret_file)",
                )
            })?;
        if let Some(problem) = weak_secret(secret.expose_secret()) {
            return Err(self.error(
                "security.secret",
                format!(
                    "{problem}: it needs at least {SECRET_MIN_CHARS} characters besides \
                     surrounding spaces, {SECRET_MIN_DISTINCT} of them different \
                     (e.g. `head -c 32 /dev/urandom | base64`)"
                ),
            ));
        }

        let worker = WorkerSettings {
            batch_messages: raw.worker.batch_messages.unwrap_or(500).max(1),
            batch_bytes: raw.worker.batch_bytes.unwrap_or(64 * 1024 * 1024).max(1),
            send_limit: raw.worker.send_limit.unwrap_or(10_000).max(1),
            stale_after: Duration::from_secs(raw.worker.stale_after_seconds.unwrap_or(600)),
            metrics_addr: match raw.worker.metrics_addr.filter(|a| !a.trim().is_empty()) {
                None => None,
                Some(text) => Some(text.trim().parse().map_err(|_| {
                    self.error(
                        "worker.metrics_addr",
                        format!("{text:?} is not an address and port, e.g. \"0.0.0.0:9464\""),
                    )
                })?),
            },
        };

        let roles = self.roles(&raw.roles, &smtp.from_address)?;

        Ok(Settings {
            source: source.to_path_buf(),
            imap,
            smtp,
            database: DatabaseSettings { url },
            office,
            sla: SlaSettings {
                answer_within_hours,
                reminders_hours: self.hours("sla.reminders_hours", raw.sla.reminders_hours)?,
            },
            security: SecuritySettings {
                secret,
                trusted_authserv_id: raw
                    .security
                    .trusted_authserv_id
                    .filter(|id| !id.trim().is_empty()),
            },
            acknowledgment: AcknowledgmentSettings {
                max_per_sender_per_day: raw.acknowledgment.max_per_sender_per_day.unwrap_or(5),
            },
            worker,
            roles,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `Name <user@domain>` or a bare address.
fn parse_mailbox(text: &str) -> Option<(Option<String>, EmailAddress)> {
    match (text.find('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => {
            let name = text[..open].trim().trim_matches('"').trim();
            let address = EmailAddress::parse(&text[open + 1..close])?;
            Some(((!name.is_empty()).then(|| name.to_string()), address))
        }
        (None, None) => Some((None, EmailAddress::parse(text)?)),
        _ => None,
    }
}

/// What `security.secret` needs: it keys the tokens that let a reply act, so it must be
/// hard to guess, not merely long.
const SECRET_MIN_CHARS: usize = 16;
const SECRET_MIN_DISTINCT: usize = 8;

/// Why `secret` is too weak to key the reply tokens, or `None` when it is not.
fn weak_secret(secret: &str) -> Option<&'static str> {
    let trimmed = secret.trim();
    if trimmed.chars().count() < SECRET_MIN_CHARS {
        return Some("too short");
    }
    let distinct: std::collections::HashSet<char> = trimmed.chars().collect();
    if distinct.len() < SECRET_MIN_DISTINCT {
        return Some("too few different characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[imap]
host = "imap.example.net"
security = "tls"
username = "diskominfo@kaltaraprov.go.id"
password = "pw"
[smtp]
host = "smtp.example.net"
security = "starttls"
from = "Diskominfo Kaltara <diskominfo@kaltaraprov.go.id>"
[office]
name = "Diskominfo"
domain = "kaltaraprov.go.id"
[security]
secret = "0123456789abcdef0123"
[roles]
admin = ["admin@kaltaraprov.go.id"]
kepala_dinas = "kadis@kaltaraprov.go.id"
kasubbag_umum = "kasubbag@kaltaraprov.go.id"
[roles.bidang]
aptika = "kabid.aptika@kaltaraprov.go.id"
"#;

    fn load(text: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Settings.toml");
        std::fs::write(&path, text).expect("write");
        Settings::load(&path)
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let s = load(MINIMAL).expect("valid");
        assert_eq!(s.imap.port, 993);
        assert_eq!(s.smtp.port, 587);
        assert_eq!(s.imap.mailbox, "INBOX");
        assert_eq!(s.office.number_prefix, "ADU");
        assert_eq!(s.sla.answer_within_hours, 72);
        assert_eq!(s.smtp.from_address.as_str(), "diskominfo@kaltaraprov.go.id");
        assert_eq!(s.smtp.from_name.as_deref(), Some("Diskominfo Kaltara"));
        assert_eq!(s.office.timezone, chrono_tz::Asia::Makassar);
    }

    #[test]
    fn errors_name_the_key() {
        let missing = load(&MINIMAL.replace("host = \"imap.example.net\"", "")).unwrap_err();
        assert_eq!(missing.key, "imap.host");
        assert!(missing.file.ends_with("Settings.toml"));

        let wrong_type =
            load(&MINIMAL.replace("security = \"tls\"", "security = \"tls\"\nport = \"abc\""))
                .unwrap_err();
        assert_eq!(wrong_type.key, "imap.port", "{wrong_type}");

        let clear =
            load(&MINIMAL.replace("security = \"tls\"", "security = \"none\"")).unwrap_err();
        assert_eq!(clear.key, "imap.security");
        assert!(clear.problem.contains("loopback"), "{clear}");

        let bad_zone =
            load(&MINIMAL.replace("[office]", "[office]\ntimezone = \"Mars/Base\"")).unwrap_err();
        assert_eq!(bad_zone.key, "office.timezone");

        let short_secret = load(&MINIMAL.replace("0123456789abcdef0123", "short")).unwrap_err();
        assert_eq!(short_secret.key, "security.secret");

        let sessions = load(&MINIMAL.replace("[smtp]", "[smtp]\nconnections = 0")).unwrap_err();
        assert_eq!(sessions.key, "smtp.connections", "{sessions}");

        let metrics = load(&format!(
            "{MINIMAL}\n[worker]\nmetrics_addr = \"localhost\"\n"
        ))
        .unwrap_err();
        assert_eq!(metrics.key, "worker.metrics_addr", "{metrics}");
    }

    #[test]
    fn roles_take_lists_and_comma_strings() {
        let s = load(&MINIMAL.replace(
            "kepala_dinas = \"kadis@kaltaraprov.go.id\"",
            "kepala_dinas = \"kadis@kaltaraprov.go.id, wakil@kaltaraprov.go.id\"",
        ))
        .expect("valid");
        assert_eq!(s.roles.kepala_dinas.len(), 2);
        let wakil = EmailAddress::parse("wakil@kaltaraprov.go.id").expect("valid");
        assert_eq!(s.roles.roles_of(&wakil), vec![Role::KepalaDinas]);
        assert_eq!(s.roles.addresses(&Role::Bidang("aptika".into())).len(), 1);
        let missing = load(&MINIMAL.replace("kasubbag_umum = \"kasubbag@kaltaraprov.go.id\"", ""))
            .unwrap_err();
        assert_eq!(missing.key, "roles.kasubbag_umum");
        let bad = load(&MINIMAL.replace(
            "aptika = \"kabid.aptika@kaltaraprov.go.id\"",
            "aptika = \"not an address\"",
        ))
        .unwrap_err();
        assert_eq!(bad.key, "roles.bidang.aptika");
    }

    #[test]
    fn none_is_allowed_on_loopback() {
        let text = MINIMAL
            .replace("imap.example.net", "127.0.0.1")
            .replace("security = \"tls\"", "security = \"none\"");
        let s = load(&text).expect("loopback may be plain");
        assert_eq!(s.imap.security, Security::None);
        assert_eq!(s.imap.port, 143);
    }

    #[test]
    fn the_token_secret_must_be_hard_to_guess() {
        for weak in [
            " ".repeat(16),
            format!("{}abc{}", " ".repeat(8), " ".repeat(8)),
            "a".repeat(40),
            "abababababababababab".to_string(),
            "123456 123456 123456 123456".to_string(),
            "\t short-secret \t".to_string(),
        ] {
            let error = load(&MINIMAL.replace("0123456789abcdef0123", &weak)).unwrap_err();
            assert_eq!(error.key, "security.secret", "{weak:?}");
            assert!(
                error.problem.contains("at least 16 characters")
                    && error.problem.contains("8 of them different"),
                "says what is required: {error}"
            );
            if !weak.trim().is_empty() {
                assert!(
                    !error.to_string().contains(weak.trim()),
                    "never shown: {error}"
                );
            }
        }
        for strong in [
            "0123456789abcdef",
            "  kP3#vQ9zL1mX7wR2  ",
            "Tg5rZ8yQ1nB4vC7x",
        ] {
            load(&MINIMAL.replace("0123456789abcdef0123", strong)).expect(strong);
        }
    }

    #[test]
    fn secrets_come_from_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let secret = dir.path().join("imap.pw");
        std::fs::write(&secret, "from-file\n").expect("write");
        let text = MINIMAL.replace(
            "password = \"pw\"",
            &format!("password_file = {:?}", secret.display().to_string()),
        );
        let path = dir.path().join("Settings.toml");
        std::fs::write(&path, text).expect("write");
        let s = Settings::load(&path).expect("valid");
        assert_eq!(s.imap.password.expose_secret(), "from-file");
        assert!(
            !format!("{:?}", s.imap).contains("from-file"),
            "secrets never print"
        );
    }
}

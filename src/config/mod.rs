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
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

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
    fn report_recipients_default_to_the_kepala_dinas_and_the_admin() {
        let addresses = |s: &Settings| -> Vec<String> {
            s.report
                .recipients
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect()
        };
        let default = load(MINIMAL).expect("valid");
        assert_eq!(
            addresses(&default),
            ["kadis@kaltaraprov.go.id", "admin@kaltaraprov.go.id"]
        );
        let listed = load(&format!(
            "{MINIMAL}\n[report]\nrecipients = \"kadis@kaltaraprov.go.id, humas@kaltaraprov.go.id\"\n"
        ))
        .expect("valid");
        assert_eq!(
            addresses(&listed),
            ["kadis@kaltaraprov.go.id", "humas@kaltaraprov.go.id"]
        );
        let bad = load(&format!("{MINIMAL}\n[report]\nrecipients = [\"kadis\"]\n"))
            .expect_err("not an address");
        assert_eq!(bad.key, "report.recipients", "{bad}");
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
    fn the_sms_gateway_is_validated() {
        let s = load(MINIMAL).expect("valid");
        assert!(s.channels.sms.is_none(), "no gateway unless configured");
        let gateway = "[channels.sms]\ngateway_from = \"sms-gateway@kaltaraprov.go.id\"\nreply_to = \"{msisdn}@sms-gateway.kaltaraprov.go.id\"\n";
        let s = load(&format!("{MINIMAL}{gateway}")).expect("valid");
        let sms = s.channels.sms.expect("configured");
        assert_eq!(sms.number_header, "X-SMS-Sender");
        assert_eq!(sms.keyword, "LAPORKALTARA");
        assert_eq!(sms.max_chars(), 3 * 153);
        let phone = crate::domain::Phone::parse("081254310987").expect("valid");
        assert_eq!(
            sms.address_of(&phone).map(|a| a.to_string()).as_deref(),
            Some("6281254310987@sms-gateway.kaltaraprov.go.id")
        );
        for (extra, key) in [
            ("max_parts = 0\n", "channels.sms.max_parts"),
            ("keyword = \"LAPOR KALTARA\"\n", "channels.sms.keyword"),
            (
                "number_pattern = \"dari [0-9]+\"\n",
                "channels.sms.number_pattern",
            ),
            (
                "number_pattern = \"(unclosed\"\n",
                "channels.sms.number_pattern",
            ),
            ("number_header = \"X SMS\"\n", "channels.sms.number_header"),
        ] {
            let error = load(&format!("{MINIMAL}{gateway}{extra}")).unwrap_err();
            assert_eq!(error.key, key, "{extra}: {error}");
        }
        let no_placeholder = gateway.replace("{msisdn}@", "sms@");
        let error = load(&format!("{MINIMAL}{no_placeholder}")).unwrap_err();
        assert_eq!(error.key, "channels.sms.reply_to");
        assert!(error.problem.contains("{msisdn}"), "{error}");
        let no_sender =
            load(&format!("{MINIMAL}[channels.sms]\nkeyword = \"LAPOR\"\n")).unwrap_err();
        assert_eq!(no_sender.key, "channels.sms.gateway_from", "{no_sender}");
    }

    #[test]
    fn priorities_never_go_beyond_72_hours() {
        let s = load(MINIMAL).expect("valid");
        let hours = s.sla.priority_hours;
        assert_eq!(
            (hours.sangat_segera, hours.segera, hours.biasa),
            (24, 48, 72)
        );
        let s = load(&format!("{MINIMAL}[sla.priority_hours]\nsegera = 36\n")).expect("valid");
        assert_eq!(s.sla.priority_hours.of(crate::domain::Priority::Segera), 36);
        for (extra, key) in [
            ("biasa = 96", "sla.priority_hours.biasa"),
            ("segera = 0", "sla.priority_hours.segera"),
            ("penting = 10", "sla.priority_hours.penting"),
        ] {
            let error = load(&format!("{MINIMAL}[sla.priority_hours]\n{extra}\n")).unwrap_err();
            assert_eq!(error.key, key, "{error}");
        }
    }

    #[test]
    fn the_sekretaris_receives_dispositions_as_a_division() {
        let text = MINIMAL.replace(
            "[roles.bidang]",
            "sekretaris = \"sekretaris@kaltaraprov.go.id\"\n[roles.bidang]",
        );
        let s = load(&text).expect("valid");
        let sekretaris = EmailAddress::parse("sekretaris@kaltaraprov.go.id").expect("valid");
        assert_eq!(
            s.roles.roles_of(&sekretaris),
            vec![Role::Bidang("sekretaris".into())]
        );
        let twice = text.replace(
            "[roles.bidang]",
            "[roles.bidang]\nsekretaris = \"sek2@kaltaraprov.go.id\"",
        );
        assert_eq!(load(&twice).unwrap_err().key, "roles.sekretaris");
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

//! Validation of the raw settings: every value checked once, every error naming its key
//! and file.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod report;
mod scan;

use chrono_tz::Tz;
use secrecy::{ExposeSecret, SecretString};

use super::raw::{
    Addresses, Hours, Raw, RawDatabase, RawImap, RawOffice, RawRoles, RawSecurity, RawSla, RawSmtp,
    RawWorker,
};
use super::{
    AcknowledgmentSettings, ConfigError, DatabaseSettings, ImapSettings, OfficeSettings, Roles,
    Security, SecuritySettings, Settings, SlaSettings, SmtpSettings, WorkerSettings,
};
use crate::domain::EmailAddress;

/// The division key under which `roles.sekretaris` receives dispositions.
const SEKRETARIS: &str = "sekretaris";

/// What a role's setting must hold.
const ROLE: &str = "the address of this role, or a list";

pub(super) struct Validator {
    pub(super) file: String,
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

    pub(super) fn addresses(
        &self,
        key: &str,
        value: Option<&Addresses>,
        what: &str,
    ) -> Result<Vec<EmailAddress>, ConfigError> {
        let Some(value) = value else {
            return Err(self.error(key, format!("missing (required: {what})")));
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
            bidang.insert(key.clone(), self.addresses(&name, Some(addresses), ROLE)?);
        }
        // The Sekretaris prepares answers as a division head does (the procedure's
        // "Sekretaris/Kabid"): the Kepala Dinas names them `sekretaris`.
        if let Some(sekretaris) = &raw.sekretaris {
            let addresses = self.addresses("roles.sekretaris", Some(sekretaris), ROLE)?;
            if bidang.contains_key(SEKRETARIS) {
                return Err(self.error(
                    "roles.sekretaris",
                    "roles.bidang.sekretaris is set too: give the Sekretaris in one of them",
                ));
            }
            bidang.insert(SEKRETARIS.to_string(), addresses);
        }
        if bidang.is_empty() {
            return Err(self.error(
                "roles.bidang",
                "missing (required: at least one division, e.g. aptika = \"kabid.aptika@…\")",
            ));
        }
        let roles = Roles {
            admin: self.addresses("roles.admin", raw.admin.as_ref(), ROLE)?,
            kepala_dinas: self.addresses("roles.kepala_dinas", raw.kepala_dinas.as_ref(), ROLE)?,
            kasubbag_umum: self.addresses(
                "roles.kasubbag_umum",
                raw.kasubbag_umum.as_ref(),
                ROLE,
            )?,
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

    pub(super) fn error(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.clone(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    pub(super) fn required(&self, key: &str, value: Option<String>) -> Result<String, ConfigError> {
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

    pub(super) fn settings(&self, raw: Raw, source: &Path) -> Result<Settings, ConfigError> {
        let imap = self.imap(raw.imap)?;
        let smtp = self.smtp(raw.smtp, &imap)?;
        let roles = self.roles(&raw.roles, &smtp.from_address)?;
        let report = self.report(raw.report.recipients.as_ref(), &roles)?;
        Ok(Settings {
            source: source.to_path_buf(),
            database: self.database(raw.database)?,
            office: self.office(raw.office)?,
            sla: self.sla(raw.sla)?,
            security: self.security_settings(raw.security)?,
            acknowledgment: AcknowledgmentSettings {
                max_per_sender_per_day: raw.acknowledgment.max_per_sender_per_day.unwrap_or(5),
            },
            worker: self.worker(raw.worker)?,
            scan: self.scan(raw.scan)?,
            report,
            channels: self.channels(raw.channels)?,
            imap,
            smtp,
            roles,
        })
    }

    fn imap(&self, raw: RawImap) -> Result<ImapSettings, ConfigError> {
        let imap_host = self.required("imap.host", raw.host)?;
        let imap_security = self.security("imap.security", raw.security, &imap_host)?;
        let imap = ImapSettings {
            port: raw.port.unwrap_or(match imap_security {
                Security::Tls => 993,
                _ => 143,
            }),
            security: imap_security,
            username: self.required("imap.username", raw.username)?,
            password: self
                .secret("imap.password", raw.password, raw.password_file)?
                .ok_or_else(|| {
                    self.error(
                        "imap.password",
                        "missing (set PENGADUAN__IMAP__PASSWORD or imap.password_file)",
                    )
                })?,
            mailbox: raw.mailbox.unwrap_or_else(|| "INBOX".into()),
            processed_mailbox: raw
                .processed_mailbox
                .unwrap_or_else(|| "Pengaduan/Diproses".into()),
            quarantine_mailbox: raw
                .quarantine_mailbox
                .unwrap_or_else(|| "Pengaduan/Karantina".into()),
            sent_mailbox: raw.sent_mailbox.filter(|m| !m.trim().is_empty()),
            ca_file: self.existing_file("imap.ca_file", raw.ca_file)?,
            timeout: Duration::from_secs(raw.timeout_seconds.unwrap_or(60)),
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

        Ok(imap)
    }

    fn smtp(&self, raw: RawSmtp, imap: &ImapSettings) -> Result<SmtpSettings, ConfigError> {
        let smtp_host = self.required("smtp.host", raw.host)?;
        let smtp_security = self.security("smtp.security", raw.security, &smtp_host)?;
        let from = self.required("smtp.from", raw.from)?;
        let (from_name, from_address) = parse_mailbox(&from).ok_or_else(|| {
            self.error(
                "smtp.from",
                format!("{from:?} is not an address like \"Name <user@domain>\""),
            )
        })?;
        let smtp_password = self.secret("smtp.password", raw.password, raw.password_file)?;
        if raw.username.is_some() != smtp_password.is_some() {
            return Err(self.error(
                "smtp.username",
                "set both smtp.username and smtp.password, or neither",
            ));
        }
        let smtp = SmtpSettings {
            port: raw.port.unwrap_or(match smtp_security {
                Security::Tls => 465,
                Security::StartTls => 587,
                Security::None => 25,
            }),
            security: smtp_security,
            username: raw.username,
            password: smtp_password,
            from,
            from_address,
            from_name,
            ca_file: self
                .existing_file("smtp.ca_file", raw.ca_file)?
                .or_else(|| imap.ca_file.clone()),
            timeout: Duration::from_secs(raw.timeout_seconds.unwrap_or(60)),
            connections: match raw.connections.unwrap_or(4) {
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

        Ok(smtp)
    }

    fn database(&self, raw: RawDatabase) -> Result<DatabaseSettings, ConfigError> {
        let url = raw
            .url
            .unwrap_or_else(|| "sqlite://var/pengaduan.db".into());
        if !url.starts_with("sqlite:") {
            return Err(self.error("database.url", format!("{url:?} is not a sqlite: URL")));
        }

        Ok(DatabaseSettings { url })
    }

    fn office(&self, raw: RawOffice) -> Result<OfficeSettings, ConfigError> {
        let timezone_name = raw.timezone.unwrap_or_else(|| "Asia/Makassar".into());
        let timezone: Tz = timezone_name.parse().map_err(|_| {
            self.error(
                "office.timezone",
                format!("unknown time zone {timezone_name:?} (e.g. \"Asia/Makassar\")"),
            )
        })?;
        let domain = self.required("office.domain", raw.domain)?;
        if !domain.contains('.') || domain.contains(['@', ' ', '<', '>']) {
            return Err(self.error("office.domain", format!("{domain:?} is not a domain name")));
        }
        let number_prefix = raw.number_prefix.unwrap_or_else(|| "ADU".into());
        if number_prefix.is_empty() || !number_prefix.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(self.error(
                "office.number_prefix",
                format!("{number_prefix:?} must be upper-case letters A-Z"),
            ));
        }
        let office = OfficeSettings {
            name: self.required("office.name", raw.name)?,
            domain,
            number_prefix,
            timezone,
            templates_dir: raw.templates_dir.unwrap_or_else(|| "templates".into()),
            confidential_reporter: raw.confidential_reporter.unwrap_or(true),
            forward_attachments_max_bytes: raw
                .forward_attachments_max_bytes
                .unwrap_or(10 * 1024 * 1024),
            disposition_requests_per_sender_per_day: match raw
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

        Ok(office)
    }

    fn sla(&self, raw: RawSla) -> Result<SlaSettings, ConfigError> {
        let answer_within_hours = raw.answer_within_hours.unwrap_or(72);
        if answer_within_hours == 0 {
            return Err(self.error("sla.answer_within_hours", "must be at least 1"));
        }

        Ok(SlaSettings {
            answer_within_hours,
            reminders_hours: self.hours("sla.reminders_hours", raw.reminders_hours)?,
            priority_hours: self.priority_hours(&raw.priority_hours)?,
        })
    }

    fn security_settings(&self, raw: RawSecurity) -> Result<SecuritySettings, ConfigError> {
        let secret = self
            .secret("security.secret", raw.secret, raw.secret_file)?
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

        Ok(SecuritySettings {
            secret,
            trusted_authserv_id: raw.trusted_authserv_id.filter(|id| !id.trim().is_empty()),
        })
    }

    fn worker(&self, raw: RawWorker) -> Result<WorkerSettings, ConfigError> {
        let worker = WorkerSettings {
            batch_messages: raw.batch_messages.unwrap_or(500).max(1),
            batch_bytes: raw.batch_bytes.unwrap_or(64 * 1024 * 1024).max(1),
            send_limit: raw.send_limit.unwrap_or(10_000).max(1),
            stale_after: Duration::from_secs(raw.stale_after_seconds.unwrap_or(600)),
            metrics_addr: match raw.metrics_addr.filter(|a| !a.trim().is_empty()) {
                None => None,
                Some(text) => Some(text.trim().parse().map_err(|_| {
                    self.error(
                        "worker.metrics_addr",
                        format!("{text:?} is not an address and port, e.g. \"0.0.0.0:9464\""),
                    )
                })?),
            },
        };

        Ok(worker)
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

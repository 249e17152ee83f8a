//! The settings' raw shapes, as they come from the file and the environment, before
//! validation.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Raw {
    pub(super) imap: RawImap,
    pub(super) smtp: RawSmtp,
    pub(super) database: RawDatabase,
    pub(super) office: RawOffice,
    pub(super) sla: RawSla,
    pub(super) security: RawSecurity,
    pub(super) acknowledgment: RawAcknowledgment,
    pub(super) roles: RawRoles,
    pub(super) worker: RawWorker,
    pub(super) scan: RawScan,
    pub(super) report: RawReport,
    pub(super) channels: super::channels::RawChannels,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawImap {
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) security: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) password_file: Option<PathBuf>,
    pub(super) mailbox: Option<String>,
    pub(super) processed_mailbox: Option<String>,
    pub(super) quarantine_mailbox: Option<String>,
    pub(super) sent_mailbox: Option<String>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) timeout_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawSmtp {
    pub(super) host: Option<String>,
    pub(super) port: Option<u16>,
    pub(super) security: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) password_file: Option<PathBuf>,
    pub(super) from: Option<String>,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) timeout_seconds: Option<u64>,
    pub(super) connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawDatabase {
    pub(super) url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawOffice {
    pub(super) name: Option<String>,
    pub(super) domain: Option<String>,
    pub(super) number_prefix: Option<String>,
    pub(super) timezone: Option<String>,
    pub(super) templates_dir: Option<PathBuf>,
    pub(super) confidential_reporter: Option<bool>,
    pub(super) forward_attachments_max_bytes: Option<u64>,
    pub(super) disposition_requests_per_sender_per_day: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawSla {
    pub(super) answer_within_hours: Option<u32>,
    pub(super) reminders_hours: Option<Hours>,
    pub(super) priority_hours: std::collections::BTreeMap<String, u32>,
}

/// A list of hours, or a comma-separated string (how the environment gives lists).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Hours {
    List(Vec<u32>),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawSecurity {
    pub(super) secret: Option<String>,
    pub(super) secret_file: Option<PathBuf>,
    pub(super) trusted_authserv_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawAcknowledgment {
    pub(super) max_per_sender_per_day: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawReport {
    pub(super) recipients: Option<Addresses>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawRoles {
    pub(super) admin: Option<Addresses>,
    pub(super) kepala_dinas: Option<Addresses>,
    pub(super) kasubbag_umum: Option<Addresses>,
    pub(super) sekretaris: Option<Addresses>,
    pub(super) bidang: std::collections::BTreeMap<String, Addresses>,
}

/// One address, a list, or a comma-separated string (how the environment gives lists).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Addresses {
    One(String),
    Many(Vec<String>),
}

impl Addresses {
    pub(super) fn items(&self) -> Vec<String> {
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
pub(super) struct RawWorker {
    pub(super) batch_messages: Option<usize>,
    pub(super) batch_bytes: Option<u64>,
    pub(super) send_limit: Option<usize>,
    pub(super) stale_after_seconds: Option<u64>,
    pub(super) metrics_addr: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawScan {
    pub(super) clamd: Option<String>,
    pub(super) timeout_seconds: Option<u64>,
    pub(super) when_unavailable: Option<String>,
}

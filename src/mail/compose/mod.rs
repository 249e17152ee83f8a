//! The only place that builds outgoing mail: threading headers, Message-IDs, loop-safety
//! headers and the rendered templates.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::domain::{Channel, EmailAddress, Nik, Phone, RegisterNumber, nik};
use crate::mail::templates::{self, TemplateError, Templates};

mod citizen;
mod message;
mod message_id;
mod report;
mod unregistered;

pub use citizen::{Citizen, Letter, Route, ToCitizen};
use message::Draft;
pub use message::{Addressed, OutAttachment, Outgoing, Splice, expand};
pub use message_id::{PURPOSES, is_own_message_id, new_message_id, token_of};
pub use report::{InlineImage, ReportFile, ReportMail};
pub use unregistered::Unregistered;

/// What notifications need to know about a complaint.
#[derive(Debug, Clone)]
pub struct Brief {
    pub id: i64,
    pub number: RegisterNumber,
    pub subject: String,
    pub reporter_name: Option<String>,
    pub reporter_email: EmailAddress,
    pub channel: Channel,
    pub reporter_phone: Option<Phone>,
    /// The postal address the administrator's form gave.
    pub reporter_address: Option<String>,
    pub reporter_nik: Option<Nik>,
    /// The requirements: an identity given, and how many supporting documents.
    pub identity_provided: bool,
    pub documents: u32,
    pub received_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    /// The text of the citizen's first message.
    pub body_text: String,
    /// Message-IDs of the citizen's thread (their messages and our replies), oldest first.
    pub thread: Vec<String>,
    /// The citizen's first Message-ID, if it had one.
    pub first_message_id: Option<String>,
    pub division: Option<String>,
    pub instruction: Option<String>,
}

/// The files left out of a notification and why, for its `attachment_note`.
fn withheld_note(attachments: &[OutAttachment<'_>]) -> String {
    let withheld: Vec<String> = attachments
        .iter()
        .filter_map(|a| {
            a.withheld
                .as_ref()
                .map(|why| format!("{} ({why})", a.filename))
        })
        .collect();
    if withheld.is_empty() {
        return String::new();
    }
    format!("; DITAHAN, tidak diteruskan: {}", withheld.join("; "))
}

impl Brief {
    /// The citizen, for [`Composer::to_citizen`].
    pub fn citizen(&self) -> Citizen<'_> {
        Citizen {
            channel: self.channel,
            email: &self.reporter_email,
            phone: self.reporter_phone.as_ref(),
            name: self.reporter_name.as_deref(),
            postal: self.reporter_address.as_deref(),
        }
    }

    /// How officials may reach the reporter: `SMS +62…` for a reporter reached through
    /// the gateway, else the address (or the phone of a citizen without email).
    fn contact(&self) -> String {
        let phone = self.reporter_phone.as_ref();
        match phone {
            Some(phone)
                if self.channel == Channel::Sms
                    || self.reporter_email.local_part() == phone.msisdn() =>
            {
                format!("SMS {phone}")
            }
            Some(phone) if self.reporter_email.is_reserved() => format!("telepon {phone}"),
            None if self.reporter_email.is_reserved() => "tanpa email".into(),
            _ => self.reporter_email.to_string(),
        }
    }
}

/// A notification to one official, who acts by replying to it.
pub struct Notice<'a> {
    pub template: &'static str,
    pub purpose: &'static str,
    pub brief: &'a Brief,
    pub stage: &'a crate::domain::Stage,
    pub role: &'a crate::config::Role,
    pub recipient: &'a EmailAddress,
    pub cc: &'a [EmailAddress],
    pub extra: minijinja::Value,
    pub attachments: &'a [OutAttachment<'a>],
    /// The reply token over (number, stage, role, recipient), made by the caller's key.
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("cannot build the message: {0}")]
    Build(String),
}

/// What an acknowledgment needs to know about the complaint it acknowledges.
#[derive(Debug, Clone)]
pub struct Acknowledge<'a> {
    pub number: &'a RegisterNumber,
    pub citizen: Citizen<'a>,
    /// The citizen's message this acknowledges (thread parent), without brackets.
    pub parent_message_id: Option<&'a str>,
    pub parent_references: &'a [String],
    pub subject: &'a str,
    pub received_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    /// The requirements so far: an identity given, and how many supporting documents.
    pub requirements: (bool, u32),
}

pub struct Composer<'a> {
    settings: &'a Settings,
    templates: &'a Templates,
}

impl<'a> Composer<'a> {
    pub fn new(settings: &'a Settings, templates: &'a Templates) -> Composer<'a> {
        Composer {
            settings,
            templates,
        }
    }

    pub fn acknowledgment(
        &self,
        ack: &Acknowledge<'_>,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let zone = self.settings.office.timezone;
        let context = minijinja::context! {
            number => ack.number.as_str(),
            reply_subject => reply_subject(ack.subject, ack.number),
            reporter_name => ack.citizen.name.unwrap_or("Bapak/Ibu"),
            office_name => &self.settings.office.name,
            received => templates::tanggal(ack.received_at, zone),
            deadline => templates::tanggal(ack.deadline_at, zone),
            answer_within_hours => self.settings.sla.answer_within_hours,
            identity_provided => ack.requirements.0,
            documents => ack.requirements.1,
        };
        let mut references: Vec<String> = ack.parent_references.to_vec();
        if let Some(parent) = ack.parent_message_id
            && !references.iter().any(|r| r == parent)
        {
            references.push(parent.to_string());
        }
        let message = ToCitizen {
            purpose: "ack",
            template: "acknowledgment",
            too_long: None,
            number: ack.number,
            citizen: ack.citizen,
            context,
            in_reply_to: ack.parent_message_id.map(str::to_string),
            references,
            bcc: &[],
            attachments: &[],
            auto_submitted: Some("auto-replied"),
        };
        self.to_citizen(&message, now)
    }

    /// The common template variables describing a complaint. The reporter's address is
    /// shown only when `show_address` (confidentiality: officials see the name), and a
    /// NIK in full only then too (UU 27/2022: officials see it masked).
    fn brief_context(&self, brief: &Brief, show_address: bool) -> minijinja::Value {
        let zone = self.settings.office.timezone;
        let name = brief
            .reporter_name
            .clone()
            .unwrap_or_else(|| "(tanpa nama)".into());
        let reporter = if show_address || !self.settings.office.confidential_reporter {
            format!("{name} <{}>", brief.contact())
        } else {
            name
        };
        let divisions: Vec<minijinja::Value> = self
            .settings
            .roles
            .bidang
            .iter()
            .map(|(key, addresses)| {
                let joined: Vec<&str> = addresses.iter().map(EmailAddress::as_str).collect();
                minijinja::context! { key => key, addresses => joined.join(", ") }
            })
            .collect();
        minijinja::context! {
            number => brief.number.as_str(),
            subject => &brief.subject,
            reply_subject => reply_subject(&brief.subject, &brief.number),
            reporter => reporter,
            reporter_name => brief.reporter_name.as_deref().unwrap_or("Bapak/Ibu"),
            received => templates::tanggal(brief.received_at, zone),
            deadline => templates::tanggal(brief.deadline_at, zone),
            body => if show_address { brief.body_text.clone() } else { nik::mask_in(&brief.body_text) },
            nik => match (&brief.reporter_nik, show_address) {
                (None, _) => "-".to_string(),
                (Some(nik), true) => nik.expose().to_string(),
                (Some(nik), false) => nik.masked(),
            },
            identity_provided => brief.identity_provided,
            documents => brief.documents,
            division => brief.division.as_deref().unwrap_or("-"),
            instruction => brief.instruction.as_deref().unwrap_or(""),
            divisions => divisions,
            office_name => &self.settings.office.name,
        }
    }

    /// A notification an official acts on by replying: its Message-ID carries the token
    /// for (complaint, stage, role, recipient).
    pub fn notice(
        &self,
        notice: &Notice<'_>,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let show_address = *notice.role == crate::config::Role::Admin;
        let base = self.brief_context(notice.brief, show_address);
        // Officials' mail servers refuse large messages: beyond the limit the files stay in
        // the register and the notification says so.
        let sent = notice.attachments.iter().filter(|a| a.withheld.is_none());
        let total: usize = sent.map(|a| a.size).sum();
        let limit = self.settings.office.forward_attachments_max_bytes;
        let (attachments, mut note) = if total as u64 > limit {
            let mb = |bytes: f64| format!("{:.1}", bytes / 1_048_576.0).replace('.', ",");
            let note = format!(
                " (tidak dilampirkan: {} MB melebihi batas {} MB; tersimpan di register)",
                mb(total as f64),
                mb(limit as f64)
            );
            (&[][..], note)
        } else {
            (notice.attachments, String::new())
        };
        note.push_str(&withheld_note(notice.attachments));
        let count = minijinja::context! { attachment_count => notice.attachments.len(), attachment_note => note };
        let context = minijinja::value::merge_maps([count, notice.extra.clone(), base]);
        let rendered = self.templates.render(notice.template, context)?;
        let stage = notice.stage.key();
        let role = notice.role.key();
        let token = notice.token.clone();
        message::build(
            self.settings,
            Draft {
                purpose: notice.purpose,
                number: &notice.brief.number,
                token: Some(token),
                addressed: Some(Addressed {
                    stage,
                    role,
                    recipient: notice.recipient.clone(),
                }),
                to: notice.recipient,
                to_name: None,
                cc: notice.cc,
                bcc: &[],
                subject: rendered.subject,
                body: rendered.body,
                in_reply_to: None,
                references: Vec::new(),
                auto_submitted: Some("auto-generated"),
                attachments,
                now,
            },
        )
    }

    /// The approved answer, to the citizen, in their thread; admins in Bcc. By SMS, an
    /// answer that does not fit (or comes with files) is replaced by `sms_jawaban_panjang`.
    pub fn answer(
        &self,
        brief: &Brief,
        text: &str,
        attachments: &[OutAttachment<'_>],
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let context = minijinja::context! {
            answer => text,
            attachment_count => attachments.len(),
            ..self.brief_context(brief, true)
        };
        let message = ToCitizen {
            purpose: "jawab",
            template: "jawaban",
            too_long: Some("jawaban_panjang"),
            number: &brief.number,
            citizen: brief.citizen(),
            context,
            in_reply_to: brief
                .first_message_id
                .clone()
                .or_else(|| brief.thread.last().cloned()),
            references: brief.thread.clone(),
            bcc: &self.settings.roles.admin,
            attachments,
            auto_submitted: None,
        };
        self.to_citizen(&message, now)
    }

    /// Information for an official or the admin that asks for no action.
    pub fn info(
        &self,
        template: &'static str,
        brief: &Brief,
        to: &EmailAddress,
        extra: minijinja::Value,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let show_address = self.settings.roles.admin.contains(to);
        let context =
            minijinja::value::merge_maps([extra, self.brief_context(brief, show_address)]);
        let rendered = self.templates.render(template, context)?;
        message::build(
            self.settings,
            Draft {
                purpose: "info",
                number: &brief.number,
                token: None,
                addressed: None,
                to,
                to_name: None,
                cc: &[],
                bcc: &[],
                subject: rendered.subject,
                body: rendered.body,
                in_reply_to: None,
                references: Vec::new(),
                auto_submitted: Some("auto-generated"),
                attachments: &[],
                now,
            },
        )
    }
}

/// `Re: <original> [NUMBER]`, without stacking `Re:` or repeating the number.
pub fn reply_subject(original: &str, number: &RegisterNumber) -> String {
    let mut base = original.trim();
    loop {
        let lower = base.to_ascii_lowercase();
        let stripped = ["re:", "aw:", "balas:", "fwd:", "fw:"]
            .iter()
            .find_map(|p| lower.starts_with(p).then(|| base[p.len()..].trim_start()));
        match stripped {
            Some(rest) => base = rest,
            None => break,
        }
    }
    let tag = format!("[{number}]");
    let base = base.replace(&tag, "");
    let base = base.trim();
    if base.is_empty() {
        format!("Re: Pengaduan {tag}")
    } else {
        format!("Re: {base} {tag}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_subjects() {
        let n = RegisterNumber::new("ADU", 2026, 1);
        assert_eq!(
            reply_subject("Lampu mati", &n),
            "Re: Lampu mati [ADU-2026-00001]"
        );
        assert_eq!(
            reply_subject("RE: Re: Lampu mati [ADU-2026-00001]", &n),
            "Re: Lampu mati [ADU-2026-00001]"
        );
        assert_eq!(reply_subject("", &n), "Re: Pengaduan [ADU-2026-00001]");
    }

    #[test]
    fn kept_files_are_spliced_in_from_their_archived_message() {
        let archived = b"head\r\nQUJD\r\nREVG\r\ntail".as_slice();
        let stored = b"<a>@@@@<b>##<c>".as_slice();
        let splices = [
            Splice {
                at: 3,
                len: 4,
                blob: "m1".into(),
                start: 6,
                end: 16,
            },
            Splice {
                at: 10,
                len: 2,
                blob: "m1".into(),
                start: 0,
                end: 4,
            },
        ];
        let blob = |name: &str| (name == "m1").then_some(archived);
        assert_eq!(
            expand(stored, &splices, blob).expect("fits"),
            b"<a>QUJD\r\nREVG<b>head<c>".to_vec()
        );
        assert_eq!(expand(stored, &[], blob).expect("fits"), stored.to_vec());
        let outside = Splice {
            end: archived.len() + 1,
            ..splices[0].clone()
        };
        assert_eq!(
            expand(stored, &[outside], blob),
            None,
            "outside its message"
        );
        let unknown = Splice {
            blob: "m2".into(),
            ..splices[0].clone()
        };
        assert_eq!(expand(stored, &[unknown], blob), None, "no such message");
        assert_eq!(
            expand(stored, &[splices[1].clone(), splices[0].clone()], blob),
            None,
            "out of order"
        );
    }

    #[test]
    fn own_message_ids_are_recognised() {
        let n = RegisterNumber::new("ADU", 2026, 7);
        let id = new_message_id("ack", &n, "kaltaraprov.go.id");
        assert!(is_own_message_id(&id, "kaltaraprov.go.id"), "{id}");
        assert!(!is_own_message_id(&id, "example.net"));
        assert!(!is_own_message_id(
            "CAF=abc@mail.gmail.com",
            "kaltaraprov.go.id"
        ));
        assert!(!is_own_message_id(
            "12345.staff@kaltaraprov.go.id",
            "kaltaraprov.go.id"
        ));
    }
}

//! The only place that builds outgoing mail: threading headers, Message-IDs, loop-safety
//! headers and the rendered templates.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use rand::RngCore;

use crate::config::Settings;
use crate::domain::{EmailAddress, RegisterNumber};
use crate::mail::templates::{self, TemplateError, Templates};

/// Purposes of outgoing mail; the first label of every Message-ID the worker generates.
pub const PURPOSES: &[&str] = &["ack"];

/// A fully composed outgoing message, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub purpose: &'static str,
    /// Message-ID without angle brackets.
    pub message_id: String,
    pub envelope_from: EmailAddress,
    pub recipients: Vec<EmailAddress>,
    pub to_name: Option<String>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body_text: String,
    pub raw: Vec<u8>,
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
    pub reporter_name: Option<&'a str>,
    pub reporter_email: &'a EmailAddress,
    /// The citizen's message this acknowledges (thread parent), without brackets.
    pub parent_message_id: Option<&'a str>,
    pub parent_references: &'a [String],
    pub subject: &'a str,
    pub received_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
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
        let rendered = self.templates.render(
            "acknowledgment",
            minijinja::context! {
                number => ack.number.as_str(),
                reply_subject => reply_subject(ack.subject, ack.number),
                reporter_name => ack.reporter_name.unwrap_or("Bapak/Ibu"),
                office_name => &self.settings.office.name,
                received => templates::tanggal(ack.received_at, zone),
                deadline => templates::tanggal(ack.deadline_at, zone),
                answer_within_hours => self.settings.sla.answer_within_hours,
            },
        )?;
        let mut references: Vec<String> = ack.parent_references.to_vec();
        if let Some(parent) = ack.parent_message_id
            && !references.iter().any(|r| r == parent)
        {
            references.push(parent.to_string());
        }
        self.build(Draft {
            purpose: "ack",
            number: ack.number,
            to: ack.reporter_email,
            to_name: ack.reporter_name,
            subject: rendered.subject,
            body: rendered.body,
            in_reply_to: ack.parent_message_id.map(str::to_string),
            references,
            auto_submitted: "auto-replied",
            now,
        })
    }

    fn build(&self, draft: Draft<'_>) -> Result<Outgoing, ComposeError> {
        let smtp = &self.settings.smtp;
        let message_id = new_message_id(draft.purpose, draft.number, &self.settings.office.domain);
        let from = Mailbox::new(
            smtp.from_name.clone(),
            parse_lettre_address(&smtp.from_address)?,
        );
        let to = Mailbox::new(
            draft.to_name.map(str::to_string),
            parse_lettre_address(draft.to)?,
        );
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(draft.subject.clone())
            .message_id(Some(format!("<{message_id}>")))
            .date(draft.now.into())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                draft.auto_submitted.to_string(),
            ));
        if let Some(parent) = &draft.in_reply_to {
            builder = builder.in_reply_to(format!("<{parent}>"));
        }
        if !draft.references.is_empty() {
            let joined: Vec<String> = draft.references.iter().map(|r| format!("<{r}>")).collect();
            builder = builder.references(joined.join(" "));
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(draft.body.clone())
            .map_err(|e| ComposeError::Build(e.to_string()))?;
        Ok(Outgoing {
            purpose: draft.purpose,
            message_id,
            envelope_from: smtp.from_address.clone(),
            recipients: vec![draft.to.clone()],
            to_name: draft.to_name.map(str::to_string),
            subject: draft.subject,
            in_reply_to: draft.in_reply_to,
            references: draft.references,
            body_text: draft.body,
            raw: message.formatted(),
        })
    }
}

struct Draft<'a> {
    purpose: &'static str,
    number: &'a RegisterNumber,
    to: &'a EmailAddress,
    to_name: Option<&'a str>,
    subject: String,
    body: String,
    in_reply_to: Option<String>,
    references: Vec<String>,
    auto_submitted: &'static str,
    now: DateTime<Utc>,
}

fn parse_lettre_address(address: &EmailAddress) -> Result<lettre::Address, ComposeError> {
    address
        .as_str()
        .parse()
        .map_err(|e| ComposeError::Build(format!("address {}: {e}", address.masked())))
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

/// `<purpose>.<number>.<random>@<domain>` (returned without brackets).
pub fn new_message_id(purpose: &str, number: &RegisterNumber, domain: &str) -> String {
    let mut token = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut token);
    format!("{purpose}.{number}.{}@{domain}", hex::encode(token))
}

/// Whether a Message-ID has the shape of one the worker generated.
pub fn is_own_message_id(id: &str, domain: &str) -> bool {
    let Some((local, id_domain)) = id.rsplit_once('@') else {
        return false;
    };
    if !id_domain.eq_ignore_ascii_case(domain) {
        return false;
    }
    let mut labels = local.split('.');
    let purpose_known = labels.next().is_some_and(|p| PURPOSES.contains(&p));
    let has_number = labels.next().is_some_and(|n| n.contains('-'));
    let has_token = labels
        .next()
        .is_some_and(|t| t.len() >= 16 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    purpose_known && has_number && has_token
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

//! The only place that builds outgoing mail: threading headers, Message-IDs, loop-safety
//! headers and the rendered templates.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use rand::RngCore;

use crate::config::Settings;
use crate::domain::{EmailAddress, RegisterNumber};
use crate::mail::sanitize;
use crate::mail::templates::{self, TemplateError, Templates};

/// RFC 5322 keeps a header line under 998 bytes; a subject is cut well before.
const MAX_OUTGOING_SUBJECT_CHARS: usize = 400;

/// Purposes of outgoing mail; the first label of every Message-ID the worker generates.
/// `disp`, `tugas`, `setuju`, `kembali`, `ingat` (reminder), `lanjut` (a message in a
/// complaint's thread) and `tahan` (the admin's digest of held complaints) are
/// notifications an official acts on by replying; their Message-IDs carry a token (see
/// `security`).
pub const PURPOSES: &[&str] = &[
    "ack", "disp", "tugas", "setuju", "kembali", "ingat", "lanjut", "tahan", "jawab", "info",
];

/// A fully composed outgoing message, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub purpose: &'static str,
    /// For notifications: the stage, role and recipient their token covers.
    pub addressed: Option<Addressed>,
    /// Message-ID without angle brackets.
    pub message_id: String,
    pub envelope_from: EmailAddress,
    pub recipients: Vec<EmailAddress>,
    pub to_name: Option<String>,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub body_text: String,
    /// The message as stored. Files that are kept in an archived message are not copied
    /// into it: `splices` name where their text goes (see [`expand`]).
    pub raw: Vec<u8>,
    pub splices: Vec<Splice>,
}

/// A file's base64 text that an outgoing message takes from an archived message: the
/// `len` bytes at `at` of the stored message stand for bytes `start..end` of the blob
/// `blob` (SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Splice {
    pub at: usize,
    pub len: usize,
    pub blob: String,
    pub start: usize,
    pub end: usize,
}

/// The message to send: `stored` with every splice replaced by its text, taken from
/// `blob` (the archived messages it names, already checked against their hashes). `None`
/// when a splice does not fit (out of order, or outside its message).
pub fn expand<'b>(
    stored: &[u8],
    splices: &[Splice],
    mut blob: impl FnMut(&str) -> Option<&'b [u8]>,
) -> Option<Vec<u8>> {
    let mut sent = Vec::with_capacity(
        stored.len()
            + splices
                .iter()
                .map(|s| s.end.saturating_sub(s.start))
                .sum::<usize>(),
    );
    let mut from = 0;
    for splice in splices {
        sent.extend_from_slice(stored.get(from..splice.at)?);
        sent.extend_from_slice(blob(&splice.blob)?.get(splice.start..splice.end)?);
        from = splice.at.checked_add(splice.len)?;
    }
    sent.extend_from_slice(stored.get(from..)?);
    Some(sent)
}

/// The stage, role and recipient of a notification (what its token covers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed {
    pub stage: String,
    pub role: String,
    pub recipient: EmailAddress,
}

/// A file sent with outgoing mail: borrowed from the message in hand, or parsed back out
/// of the archived message.
#[derive(Clone)]
pub struct OutAttachment<'a> {
    pub filename: String,
    pub content_type: String,
    /// The decoded file's size.
    pub size: usize,
    /// The file (empty when it is `kept`).
    pub bytes: std::borrow::Cow<'a, [u8]>,
    /// Where the base64 text is kept instead: the raw message with this SHA-256, at this
    /// range (then `bytes` is empty and the outgoing message names it, see [`Splice`]).
    pub kept: Option<(String, std::ops::Range<usize>)>,
}

impl<'a> OutAttachment<'a> {
    /// A file to send; one without a name is called `lampiran-<position>` (1-based).
    pub fn new(
        filename: Option<String>,
        position: usize,
        content_type: String,
        bytes: impl Into<std::borrow::Cow<'a, [u8]>>,
    ) -> OutAttachment<'a> {
        let bytes = bytes.into();
        OutAttachment {
            filename: filename.unwrap_or_else(|| format!("lampiran-{}", position + 1)),
            content_type,
            size: bytes.len(),
            bytes,
            kept: None,
        }
    }

    /// The files of a message that is archived as `raw_sha256`: those whose base64 text
    /// can travel as is are named, not copied; the others are sent decoded.
    pub fn kept_in(
        attachments: &'a [crate::mail::Attachment],
        raw_sha256: &str,
    ) -> Vec<OutAttachment<'a>> {
        attachments
            .iter()
            .enumerate()
            .map(|(i, a)| OutAttachment {
                size: a.size,
                kept: a
                    .encoded
                    .clone()
                    .map(|range| (raw_sha256.to_string(), range)),
                ..OutAttachment::new(a.filename.clone(), i, a.content_type.clone(), &a.bytes[..])
            })
            .collect()
    }
}

impl std::fmt::Debug for OutAttachment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OutAttachment({}, {}, {} bytes)",
            self.filename, self.content_type, self.size
        )
    }
}

/// What notifications need to know about a complaint.
#[derive(Debug, Clone)]
pub struct Brief {
    pub id: i64,
    pub number: RegisterNumber,
    pub subject: String,
    pub reporter_name: Option<String>,
    pub reporter_email: EmailAddress,
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
            token: None,
            addressed: None,
            to: ack.reporter_email,
            to_name: ack.reporter_name,
            cc: &[],
            bcc: &[],
            subject: rendered.subject,
            body: rendered.body,
            in_reply_to: ack.parent_message_id.map(str::to_string),
            references,
            auto_submitted: Some("auto-replied"),
            attachments: &[],
            now,
        })
    }

    /// The common template variables describing a complaint. The reporter's address is
    /// shown only when `show_address` (confidentiality: officials see the name).
    fn brief_context(&self, brief: &Brief, show_address: bool) -> minijinja::Value {
        let zone = self.settings.office.timezone;
        let name = brief
            .reporter_name
            .clone()
            .unwrap_or_else(|| "(tanpa nama)".into());
        let reporter = if show_address || !self.settings.office.confidential_reporter {
            format!("{name} <{}>", brief.reporter_email)
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
            body => &brief.body_text,
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
        let total: usize = notice.attachments.iter().map(|a| a.size).sum();
        let limit = self.settings.office.forward_attachments_max_bytes;
        let (attachments, note) = if total as u64 > limit {
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
        let count = minijinja::context! { attachment_count => notice.attachments.len(), attachment_note => note };
        let context = minijinja::value::merge_maps([count, notice.extra.clone(), base]);
        let rendered = self.templates.render(notice.template, context)?;
        let stage = notice.stage.key();
        let role = notice.role.key();
        let token = notice.token.clone();
        self.build(Draft {
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
        })
    }

    /// The approved answer, to the citizen, in their thread; admins in Bcc.
    pub fn answer(
        &self,
        brief: &Brief,
        text: &str,
        attachments: &[OutAttachment<'_>],
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let context = minijinja::context! { answer => text, ..self.brief_context(brief, true) };
        let rendered = self.templates.render("jawaban", context)?;
        self.build(Draft {
            purpose: "jawab",
            number: &brief.number,
            token: None,
            addressed: None,
            to: &brief.reporter_email,
            to_name: brief.reporter_name.as_deref(),
            cc: &[],
            bcc: &self.settings.roles.admin,
            subject: rendered.subject,
            body: rendered.body,
            in_reply_to: brief
                .first_message_id
                .clone()
                .or_else(|| brief.thread.last().cloned()),
            references: brief.thread.clone(),
            auto_submitted: None,
            attachments,
            now,
        })
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
        self.build(Draft {
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
        })
    }

    fn build(&self, draft: Draft<'_>) -> Result<Outgoing, ComposeError> {
        use lettre::message::{Attachment, Body, MultiPart, SinglePart};
        let smtp = &self.settings.smtp;
        let domain = &self.settings.office.domain;
        let message_id = match &draft.token {
            // A nonce keeps two notices of one stage (a reminder, a forwarded follow-up)
            // distinct; the token is the last label.
            Some(token) => {
                let mut nonce = [0u8; 4];
                rand::thread_rng().fill_bytes(&mut nonce);
                format!(
                    "{}.{}.{}.{token}@{domain}",
                    draft.purpose,
                    draft.number,
                    hex::encode(nonce)
                )
            }
            None => new_message_id(draft.purpose, draft.number, domain),
        };
        let mut recipients = vec![draft.to.clone()];
        for extra in draft.cc.iter().chain(draft.bcc) {
            if !recipients.contains(extra) {
                recipients.push(extra.clone());
            }
        }
        let from_address = parse_lettre_address(&smtp.from_address)?;
        // Given, so that lettre does not parse the headers it was just given back into
        // addresses (its mailbox-list parser was 1.2 % of a bulk run's CPU).
        let envelope = lettre::address::Envelope::new(
            Some(from_address.clone()),
            recipients
                .iter()
                .map(parse_lettre_address)
                .collect::<Result<_, _>>()?,
        )
        .map_err(|e| ComposeError::Build(e.to_string()))?;
        let from = Mailbox::new(smtp.from_name.clone(), from_address);
        // Names, subjects and Message-IDs from inbound mail were made safe when they were
        // parsed; they are checked again here because older rows of the register were
        // stored before that, and a line break would break the header (lettre panics).
        let to_name = draft
            .to_name
            .map(|name| sanitize::one_line(name, sanitize::MAX_NAME_CHARS))
            .filter(|name| !name.is_empty());
        let to = Mailbox::new(to_name, parse_lettre_address(draft.to)?);
        let mut builder = Message::builder()
            .envelope(envelope)
            .from(from)
            .to(to)
            .subject(sanitize::one_line(
                &draft.subject,
                MAX_OUTGOING_SUBJECT_CHARS,
            ))
            .message_id(Some(format!("<{message_id}>")))
            .date(draft.now.into());
        for cc in draft.cc {
            builder = builder.cc(Mailbox::new(None, parse_lettre_address(cc)?));
        }
        for bcc in draft.bcc {
            builder = builder.bcc(Mailbox::new(None, parse_lettre_address(bcc)?));
        }
        if let Some(value) = draft.auto_submitted {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                value.to_string(),
            ));
        }
        let plain = |id: &&String| sanitize::usable_message_id(id).is_some();
        if let Some(parent) = draft.in_reply_to.iter().find(plain) {
            builder = builder.in_reply_to(format!("<{parent}>"));
        }
        let references: Vec<String> = draft
            .references
            .iter()
            .filter(plain)
            .map(|r| format!("<{r}>"))
            .collect();
        if !references.is_empty() {
            builder = builder.references(references.join(" "));
        }
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(draft.body.clone());
        // Kept files stand as a line no one else can write (random per message) until
        // they are spliced in at sending.
        let mut nonce = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut nonce);
        let nonce = hex::encode(nonce);
        let message = if draft.attachments.is_empty() {
            builder.singlepart(text)
        } else {
            let mut parts = MultiPart::mixed().singlepart(text);
            for (index, attachment) in draft.attachments.iter().enumerate() {
                let content_type =
                    ContentType::parse(&attachment.content_type).unwrap_or_else(|_| {
                        ContentType::parse("application/octet-stream")
                            .expect("a valid content type")
                    });
                let body = if attachment.kept.is_some() {
                    Body::dangerous_pre_encoded(
                        placeholder(&nonce, index).into_bytes(),
                        ContentTransferEncoding::Base64,
                    )
                } else {
                    Body::new(attachment.bytes.to_vec())
                };
                parts = parts.singlepart(
                    Attachment::new(attachment.filename.clone()).body(body, content_type),
                );
            }
            builder.multipart(parts)
        }
        .map_err(|e| ComposeError::Build(e.to_string()))?;
        let raw = message.formatted();
        let mut splices = Vec::new();
        for (index, attachment) in draft.attachments.iter().enumerate() {
            if let Some((blob, range)) = &attachment.kept {
                let line = placeholder(&nonce, index);
                let from = splices.last().map_or(0, |s: &Splice| s.at + s.len);
                let at = memchr::memmem::find(&raw[from..], line.as_bytes())
                    .map(|at| from + at)
                    .ok_or_else(|| ComposeError::Build(format!("file {index} went missing")))?;
                splices.push(Splice {
                    at,
                    len: line.len(),
                    blob: blob.clone(),
                    start: range.start,
                    end: range.end,
                });
            }
        }
        Ok(Outgoing {
            purpose: draft.purpose,
            addressed: draft.addressed,
            message_id,
            envelope_from: smtp.from_address.clone(),
            recipients,
            to_name: draft.to_name.map(str::to_string),
            subject: draft.subject,
            in_reply_to: draft.in_reply_to,
            references: draft.references,
            body_text: draft.body,
            splices,
            raw,
        })
    }
}

/// The line that stands for kept file `index` of a message until it is sent.
fn placeholder(nonce: &str, index: usize) -> String {
    format!("pengaduan-file-{nonce}-{index}")
}

struct Draft<'a> {
    purpose: &'static str,
    number: &'a RegisterNumber,
    /// The notification token; `None` for a random Message-ID.
    token: Option<String>,
    addressed: Option<Addressed>,
    to: &'a EmailAddress,
    to_name: Option<&'a str>,
    cc: &'a [EmailAddress],
    bcc: &'a [EmailAddress],
    subject: String,
    body: String,
    in_reply_to: Option<String>,
    references: Vec<String>,
    auto_submitted: Option<&'static str>,
    attachments: &'a [OutAttachment<'a>],
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

/// `<purpose>.<number>.<random>@<domain>` (returned without brackets). Notifications
/// are `<purpose>.<number>.<nonce>.<token>@<domain>`.
pub fn new_message_id(purpose: &str, number: &RegisterNumber, domain: &str) -> String {
    let mut token = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut token);
    format!("{purpose}.{number}.{}@{domain}", hex::encode(token))
}

/// The token label of one of the worker's Message-IDs (`purpose.number.token@domain`).
pub fn token_of(message_id: &str) -> Option<&str> {
    let local = message_id.rsplit_once('@')?.0;
    local.rsplit('.').next()
}

/// Whether a Message-ID has the shape of one the worker generated.
pub fn is_own_message_id(id: &str, domain: &str) -> bool {
    let Some((local, id_domain)) = id.rsplit_once('@') else {
        return false;
    };
    if !id_domain.eq_ignore_ascii_case(domain) {
        return false;
    }
    let labels: Vec<&str> = local.split('.').collect();
    let [purpose, number, .., token] = labels.as_slice() else {
        return false;
    };
    labels.len() <= 4
        && PURPOSES.contains(purpose)
        && number.contains('-')
        && token.len() >= 16
        && token.bytes().all(|b| b.is_ascii_hexdigit())
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

//! An outgoing message built from a [`Draft`]: headers (threading, loop safety), the
//! text, and files either attached or kept in the archive as [`Splice`]s.

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use rand::RngCore;

use super::ComposeError;
use super::message_id::new_message_id;
use crate::config::Settings;
use crate::domain::{EmailAddress, RegisterNumber};
use crate::mail::sanitize;

/// RFC 5322 keeps a header line under 998 bytes; a subject is cut well before.
const MAX_OUTGOING_SUBJECT_CHARS: usize = 400;

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
    /// Why the file must not leave (the antivirus found it infected, or could not scan
    /// it yet): it is then left out of the message, whatever the caller does.
    pub withheld: Option<String>,
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
            withheld: None,
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

pub(super) fn build(settings: &Settings, draft: Draft<'_>) -> Result<Outgoing, ComposeError> {
    // A withheld file never leaves, whichever message names it.
    let cleared: Vec<OutAttachment<'_>>;
    let draft = if draft.attachments.iter().any(|a| a.withheld.is_some()) {
        cleared = (draft.attachments.iter())
            .filter(|a| a.withheld.is_none())
            .cloned()
            .collect();
        Draft {
            attachments: &cleared,
            ..draft
        }
    } else {
        draft
    };
    let smtp = &settings.smtp;
    let message_id = message_id(&draft, &settings.office.domain);
    let recipients = recipients(&draft);
    let builder = headers(settings, &draft, &recipients, &message_id)?;
    // Kept files stand as a line no one else can write (random per message) until they
    // are spliced in at sending.
    let mut nonce = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let raw = body(builder, &draft, &nonce)?.formatted();
    let splices = splices(&raw, draft.attachments, &nonce)?;
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

fn message_id(draft: &Draft<'_>, domain: &str) -> String {
    match &draft.token {
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
    }
}

/// To, Cc and Bcc, each once.
fn recipients(draft: &Draft<'_>) -> Vec<EmailAddress> {
    let mut recipients = vec![draft.to.clone()];
    for extra in draft.cc.iter().chain(draft.bcc) {
        if !recipients.contains(extra) {
            recipients.push(extra.clone());
        }
    }
    recipients
}

fn headers(
    settings: &Settings,
    draft: &Draft<'_>,
    recipients: &[EmailAddress],
    message_id: &str,
) -> Result<lettre::message::MessageBuilder, ComposeError> {
    let smtp = &settings.smtp;
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
    // Names, subjects and Message-IDs from inbound mail were made safe when they were
    // parsed; they are checked again here because older rows of the register were stored
    // before that, and a line break would break the header (lettre panics).
    let to_name = draft
        .to_name
        .map(|name| sanitize::one_line(name, sanitize::MAX_NAME_CHARS))
        .filter(|name| !name.is_empty());
    let mut builder = Message::builder()
        .envelope(envelope)
        .from(Mailbox::new(smtp.from_name.clone(), from_address))
        .to(Mailbox::new(to_name, parse_lettre_address(draft.to)?))
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
    Ok(threading(builder, draft))
}

/// `In-Reply-To` and `References`, with only plain Message-IDs.
fn threading(
    mut builder: lettre::message::MessageBuilder,
    draft: &Draft<'_>,
) -> lettre::message::MessageBuilder {
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
    builder
}

/// The text, and the files: attached, or a placeholder line each for kept ones.
fn body(
    builder: lettre::message::MessageBuilder,
    draft: &Draft<'_>,
    nonce: &str,
) -> Result<Message, ComposeError> {
    use lettre::message::{Attachment, Body, MultiPart, SinglePart};
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(draft.body.clone());
    if draft.attachments.is_empty() {
        return builder
            .singlepart(text)
            .map_err(|e| ComposeError::Build(e.to_string()));
    }
    let mut parts = MultiPart::mixed().singlepart(text);
    for (index, attachment) in draft.attachments.iter().enumerate() {
        let content_type = ContentType::parse(&attachment.content_type)
            .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
        let body = if attachment.kept.is_some() {
            Body::dangerous_pre_encoded(
                placeholder(nonce, index).into_bytes(),
                ContentTransferEncoding::Base64,
            )
        } else {
            Body::new(attachment.bytes.to_vec())
        };
        parts =
            parts.singlepart(Attachment::new(attachment.filename.clone()).body(body, content_type));
    }
    builder
        .multipart(parts)
        .map_err(|e| ComposeError::Build(e.to_string()))
}

/// Where each kept file's placeholder line ended up in the formatted message.
fn splices(
    raw: &[u8],
    attachments: &[OutAttachment<'_>],
    nonce: &str,
) -> Result<Vec<Splice>, ComposeError> {
    let mut splices = Vec::new();
    for (index, attachment) in attachments.iter().enumerate() {
        if let Some((blob, range)) = &attachment.kept {
            let line = placeholder(nonce, index);
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
    Ok(splices)
}

/// The line that stands for kept file `index` of a message until it is sent.
fn placeholder(nonce: &str, index: usize) -> String {
    format!("pengaduan-file-{nonce}-{index}")
}

pub(super) struct Draft<'a> {
    pub(super) purpose: &'static str,
    pub(super) number: &'a RegisterNumber,
    /// The notification token; `None` for a random Message-ID.
    pub(super) token: Option<String>,
    pub(super) addressed: Option<Addressed>,
    pub(super) to: &'a EmailAddress,
    pub(super) to_name: Option<&'a str>,
    pub(super) cc: &'a [EmailAddress],
    pub(super) bcc: &'a [EmailAddress],
    pub(super) subject: String,
    pub(super) body: String,
    pub(super) in_reply_to: Option<String>,
    pub(super) references: Vec<String>,
    pub(super) auto_submitted: Option<&'static str>,
    pub(super) attachments: &'a [OutAttachment<'a>],
    pub(super) now: DateTime<Utc>,
}

pub(super) fn parse_lettre_address(
    address: &EmailAddress,
) -> Result<lettre::Address, ComposeError> {
    address
        .as_str()
        .parse()
        .map_err(|e| ComposeError::Build(format!("address {}: {e}", address.masked())))
}

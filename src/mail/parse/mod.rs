//! Raw RFC 5322 bytes → [`Inbound`]: headers, the text of the message, and its
//! attachments. This is the single place HTML becomes text.

use chrono::{DateTime, Utc};
use mail_parser::{MessageParser, MessagePart, MimeHeaders, PartType};
use serde::Serialize;
use sha2::{Digest, Sha256};

mod charset;
mod headers;
mod returned;
mod set_aside;

use super::sanitize::{MAX_SUBJECT_CHARS, file_name, is_media_type, one_line, usable_message_id};
use crate::domain::EmailAddress;
pub use headers::MAX_EXTENSION_HEADERS;
use headers::{
    ambiguous_from, authentication_results, extension_headers, first_party, header_text,
    message_ids, parties,
};
pub use returned::Returned;
use set_aside::{SetAside, base64_text};

/// A parsed inbound message. Owns its data: it outlives the raw bytes it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Inbound {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: Option<Party>,
    pub to: Vec<Party>,
    pub cc: Vec<Party>,
    pub subject: String,
    pub date: Option<DateTime<Utc>>,
    pub body_text: String,
    /// The HTML the text was converted from, when the message had no text/plain body.
    /// Reply extraction cuts quoted history out of it before converting.
    #[serde(skip)]
    pub body_html: Option<String>,
    pub attachments: Vec<Attachment>,
    #[serde(skip)]
    pub signals: LoopSignals,
    /// `Authentication-Results` headers, as the receiving servers wrote them, each with
    /// its place in the message's trace (see [`AuthenticationResults`]).
    #[serde(skip)]
    pub authentication_results: Vec<AuthenticationResults>,
    /// The message has more than one `From:` header, or more than one address in it:
    /// mail clients show one sender, the parser may keep another. Such a message can
    /// never act on a complaint.
    #[serde(skip)]
    pub ambiguous_from: bool,
    /// Extension headers (`X-…`), name and one-line value, for the channels that read
    /// one (the SMS gateway's number); at most [`MAX_EXTENSION_HEADERS`].
    #[serde(skip)]
    pub extension_headers: Vec<(String, String)>,
    /// Why this message cannot be understood, if it cannot.
    #[serde(skip)]
    pub defect: Option<String>,
    /// What a bounce returns (read only from messages that look like one).
    #[serde(skip)]
    pub returned: Option<Returned>,
}

/// One `Authentication-Results` header and how many `Received:` headers lie above it.
/// The server that delivered the message adds its results on top of the trace; results
/// further down arrived with the message, and anyone could have written them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationResults {
    pub received_above: usize,
    /// The header's value, unfolded.
    pub value: String,
}

/// A name and address from an address header. `email` is `None` when the header held
/// something that is not a usable address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub name: Option<String>,
    pub email: Option<EmailAddress>,
}

#[derive(Clone, Serialize)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    /// `attachment`, `inline`, or `message` for an attached email.
    pub disposition: &'static str,
    /// Of the decoded file.
    pub size: usize,
    /// Of the decoded file.
    pub sha256: String,
    /// The decoded file; empty when its base64 text can travel as it came (`encoded`).
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Where the part's base64 text lies in the raw message, when it can be forwarded
    /// without decoding or encoding it again: a notification then names that range of
    /// the archived message instead of carrying a copy.
    #[serde(skip)]
    pub encoded: Option<std::ops::Range<usize>>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// Header evidence that a message was sent by a machine (RFC 3834 and friends).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopSignals {
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub has_list_id: bool,
    pub has_x_autoreply: bool,
    pub null_return_path: bool,
    pub is_delivery_report: bool,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Parses one message. Never fails: what cannot be understood is reported in
/// [`Inbound::defect`], so the caller can quarantine it with that reason.
pub fn parse(raw: &[u8]) -> Inbound {
    parse_setting_aside(charset::without_mbox_from_line(raw), SET_ASIDE_FROM)
}

/// Base64 text of a file at least this long is decoded here rather than by the MIME
/// parser (see [`SetAside`]).
const SET_ASIDE_FROM: usize = 16 << 10;

fn parse_setting_aside(raw: &[u8], from: usize) -> Inbound {
    if let Some(aside) = SetAside::find(raw, from)
        && let Some(message) = MessageParser::default().parse(&aside.masked)
        && aside.verified(&message)
    {
        return inbound_of(raw, &aside.masked, message, &aside);
    }
    match MessageParser::default().parse(raw) {
        Some(message) => inbound_of(raw, raw, message, &SetAside::default()),
        None => Inbound::defective("not an email: the parser found no message"),
    }
}

/// The [`Inbound`] of `message`, parsed from `parsed`: `raw` itself, or `raw` with the
/// files in `aside` cut out.
fn inbound_of(
    raw: &[u8],
    parsed: &[u8],
    message: mail_parser::Message<'_>,
    aside: &SetAside,
) -> Inbound {
    if message.headers().is_empty() || !looks_like_headers(raw) {
        return Inbound::defective("not an email: no header section");
    }
    let (signals, defect) = loop_signals(&message);
    let (body_text, body_html) = body_text(&message);
    // What each attachment is, read while the message is borrowed; the bytes are moved
    // out afterwards, so a large decoded file exists once.
    let described: Vec<Described<'_>> = message
        .attachments
        .iter()
        .filter_map(|&id| {
            Some(describe(
                id as usize,
                message.parts.get(id as usize)?,
                parsed,
            ))
        })
        .collect();
    let mut inbound = Inbound {
        message_id: message
            .message_id()
            .and_then(|id| usable_message_id(id.trim())),
        in_reply_to: message_ids(message.in_reply_to()),
        references: message_ids(message.references()),
        from: message.from().and_then(first_party),
        to: parties(message.to()),
        cc: parties(message.cc()),
        subject: one_line(&charset::subject(&message), MAX_SUBJECT_CHARS),
        date: message
            .date()
            .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
        body_text,
        body_html,
        attachments: Vec::with_capacity(described.len()),
        authentication_results: authentication_results(&message),
        ambiguous_from: ambiguous_from(&message),
        returned: None,
        extension_headers: extension_headers(&message),
        signals,
        defect,
    };
    if inbound.looks_like_a_bounce() {
        inbound.returned = returned::read(raw);
    }
    let mut message = message;
    for file in described {
        let part = &mut message.parts[file.id];
        inbound.attachments.push(file.take(part, aside, parsed));
    }
    inbound
}

/// Header evidence of a machine sender, and a defect of the MIME structure if any.
fn loop_signals(message: &mail_parser::Message<'_>) -> (LoopSignals, Option<String>) {
    let mut signals = LoopSignals {
        auto_submitted: header_text(message, "Auto-Submitted"),
        precedence: header_text(message, "Precedence"),
        has_list_id: message.header_raw("List-Id").is_some(),
        has_x_autoreply: message.header_raw("X-Autoreply").is_some()
            || message.header_raw("X-Autorespond").is_some(),
        null_return_path: message
            .header_raw("Return-Path")
            .is_some_and(|v| v.trim() == "<>" || v.trim().is_empty()),
        is_delivery_report: false,
    };
    let mut defect = None;
    if let Some(ct) = message.root_part().content_type()
        && ct.c_type.eq_ignore_ascii_case("multipart")
    {
        if ct.attribute("boundary").is_none_or(|b| b.is_empty()) {
            defect = Some("malformed MIME: multipart without boundary".to_string());
        }
        signals.is_delivery_report = ct
            .c_subtype
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    }
    (signals, defect)
}

/// What an attachment is, before its bytes are taken out of the parsed message.
struct Described<'p> {
    id: usize,
    filename: Option<String>,
    content_type: String,
    disposition: &'static str,
    /// Its base64 text in `parsed`, when it can travel as it came, and the length it
    /// decodes to.
    text: Option<(&'p [u8], usize)>,
}

fn describe<'p>(id: usize, part: &MessagePart<'_>, parsed: &'p [u8]) -> Described<'p> {
    let content_type = part
        .content_type()
        .map(|ct| match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub),
            None => ct.c_type.to_string(),
        })
        .filter(|ct| is_media_type(ct))
        .unwrap_or_else(|| "application/octet-stream".into())
        .to_ascii_lowercase();
    let disposition = if matches!(part.body, PartType::Message(_)) {
        "message"
    } else if part
        .content_disposition()
        .is_some_and(|cd| cd.c_type.eq_ignore_ascii_case("inline"))
        || matches!(part.body, PartType::InlineBinary(_))
    {
        "inline"
    } else {
        "attachment"
    };
    let filename = part
        .attachment_name()
        .map(str::to_string)
        .or_else(|| {
            part.message()
                .and_then(|m| m.subject())
                .map(|s| format!("{s}.eml"))
        })
        .map(|name| file_name(&name))
        .filter(|name| !name.is_empty());
    Described {
        id,
        filename,
        content_type,
        disposition,
        text: base64_text(parsed, part),
    }
}

impl Described<'_> {
    /// The attachment, its decoded bytes moved out of `part` unless they need no copy.
    fn take(self, part: &mut MessagePart<'_>, aside: &SetAside, parsed: &[u8]) -> Attachment {
        let (size, sha256, bytes, encoded) = match aside.at(part.offset_body as usize) {
            // Set aside: decoded and hashed when it was cut out.
            Some(region) => (
                region.size,
                region.sha256.clone(),
                Vec::new(),
                Some(region.raw.clone()),
            ),
            None => {
                let decoded = take_contents(&mut part.body);
                let (size, sha256) = (decoded.len(), sha256_hex(&decoded));
                // A file whose base64 text can travel as is keeps no copy at all: it is
                // named by its place in the raw message.
                match self.text.filter(|&(_, length)| length == size) {
                    Some((text, _)) => {
                        let start = aside.to_raw(text.as_ptr() as usize - parsed.as_ptr() as usize);
                        (size, sha256, Vec::new(), Some(start..start + text.len()))
                    }
                    None => (size, sha256, decoded, None),
                }
            }
        };
        Attachment {
            filename: self.filename,
            content_type: self.content_type,
            disposition: self.disposition,
            size,
            sha256,
            bytes,
            encoded,
        }
    }
}

/// The decoded bytes of a part, moved out of the parsed message (copied only when they
/// were not encoded, so still borrowed from the raw message).
fn take_contents(body: &mut PartType<'_>) -> Vec<u8> {
    match std::mem::take(body) {
        PartType::Text(text) | PartType::Html(text) => text.into_owned().into_bytes(),
        PartType::Binary(bytes) | PartType::InlineBinary(bytes) => bytes.into_owned(),
        PartType::Message(message) => message.raw_message().to_vec(),
        PartType::Multipart(_) => Vec::new(),
    }
}

impl Inbound {
    /// A delivery report, a null return path, or a mailer daemon's message.
    fn looks_like_a_bounce(&self) -> bool {
        let daemon = self.sender().is_some_and(|a| {
            let local = a.local_part().to_ascii_lowercase();
            local == "mailer-daemon" || local == "postmaster"
        });
        self.signals.is_delivery_report || self.signals.null_return_path || daemon
    }

    fn defective(reason: &str) -> Inbound {
        Inbound {
            message_id: None,
            in_reply_to: Vec::new(),
            references: Vec::new(),
            from: None,
            to: Vec::new(),
            cc: Vec::new(),
            subject: String::new(),
            date: None,
            body_text: String::new(),
            body_html: None,
            attachments: Vec::new(),
            signals: LoopSignals::default(),
            authentication_results: Vec::new(),
            ambiguous_from: false,
            extension_headers: Vec::new(),
            defect: Some(reason.to_string()),
            returned: None,
        }
    }

    /// The first extension header named `name` (case-insensitive).
    pub fn extension_header(&self, name: &str) -> Option<&str> {
        self.extension_headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The sender's address, when there is a usable one.
    pub fn sender(&self) -> Option<&EmailAddress> {
        self.from.as_ref().and_then(|p| p.email.as_ref())
    }

    /// Every Message-ID this message names as its ancestors, nearest first.
    pub fn thread_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.in_reply_to.iter().map(String::as_str).collect();
        for id in self.references.iter().rev() {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        ids
    }
}

/// The header section must start with `Name:`; mail-parser is lenient enough to accept
/// a body of junk as a message with one odd header.
fn looks_like_headers(raw: &[u8]) -> bool {
    let first_line = raw.split(|&b| b == b'\n').next().unwrap_or(b"");
    match first_line.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => first_line[..colon]
            .iter()
            .all(|&b| b.is_ascii_graphic() && b != b':'),
        _ => first_line.starts_with(b"From "),
    }
}

/// The message's text: every text/plain body part; HTML converted only where a body has
/// no plain-text alternative. Also returns that HTML, when HTML was converted.
fn body_text(message: &mail_parser::Message<'_>) -> (String, Option<String>) {
    let mut pieces: Vec<String> = Vec::new();
    let mut html_pieces: Vec<String> = Vec::new();
    for &id in &message.text_body {
        let Some(part) = message.parts.get(id as usize) else {
            continue;
        };
        let reread = charset::undeclared_text(message, part);
        match &part.body {
            PartType::Text(text) => pieces.push(reread.unwrap_or_else(|| text.to_string())),
            PartType::Html(html) => {
                let html = reread.unwrap_or_else(|| html.to_string());
                pieces.push(html_to_text(&html));
                html_pieces.push(html);
            }
            _ => {}
        }
    }
    let html = (!html_pieces.is_empty()).then(|| html_pieces.join("\n"));
    (normalize_text(&pieces.join("\n\n")), html)
}

/// The single HTML → text path of the worker.
pub fn html_to_text(html: &str) -> String {
    html2text::config::plain()
        .string_from_read(html.as_bytes(), 100)
        .unwrap_or_else(|_| html.to_string())
}

/// Unix line endings, no-break spaces as spaces, no trailing whitespace on lines (but the
/// signature delimiter `-- `), no leading/trailing blank lines.
pub fn normalize_text(text: &str) -> String {
    let text = text.replace('\u{a0}', " ");
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| {
            let line = line.trim_end_matches('\r');
            // "-- " is the signature delimiter (RFC 3676); keep its space.
            if line == "-- " {
                line
            } else {
                line.trim_end_matches([' ', '\t'])
            }
        })
        .collect();
    lines.join("\n").trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests;

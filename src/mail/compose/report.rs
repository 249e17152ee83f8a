//! The monthly report by email: a text and an HTML body whose charts are inline PNG
//! images (`cid:`), with the report page and the register attached.
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain                 (template laporan_bulanan.txt)
//! │   └── multipart/related
//! │       ├── text/html              (the page, <img src="cid:…">)
//! │       └── image/png …            (Content-ID, inline)
//! └── the files (the HTML report, the CSV register)
//! ```

use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use rand::RngCore;

use super::message::parse_lettre_address;
use super::{ComposeError, Composer, Outgoing};
use crate::domain::EmailAddress;
use crate::mail::sanitize;

/// A chart in the HTML body: `<img src="cid:{content_id}">`.
pub struct InlineImage {
    /// Without angle brackets, e.g. `grafik-kanal.2026-11@kaltaraprov.go.id`.
    pub content_id: String,
    pub png: Vec<u8>,
}

/// A file attached to the report mail.
pub struct ReportFile {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// What the monthly report mail carries, rendered by its caller except for the text
/// (template `laporan_bulanan`, given `context`).
pub struct ReportMail<'a> {
    /// `2026-11`: part of the Message-ID.
    pub month: &'a str,
    pub recipients: &'a [EmailAddress],
    pub context: minijinja::Value,
    pub html: String,
    pub images: &'a [InlineImage],
    pub files: &'a [ReportFile],
    pub now: DateTime<Utc>,
}

impl Composer<'_> {
    pub fn monthly_report(&self, mail: &ReportMail<'_>) -> Result<Outgoing, ComposeError> {
        let settings = self.settings;
        if mail.recipients.is_empty() {
            return Err(ComposeError::Build("the report has no recipient".into()));
        }
        let rendered = self.templates.render("laporan_bulanan", &mail.context)?;
        let message_id = report_message_id(mail.month, &settings.office.domain);
        let from = parse_lettre_address(&settings.smtp.from_address)?;
        let mut builder = Message::builder()
            .from(Mailbox::new(settings.smtp.from_name.clone(), from))
            .subject(sanitize::one_line(&rendered.subject, 400))
            .message_id(Some(format!("<{message_id}>")))
            .date(mail.now.into())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_string(),
            ));
        for to in mail.recipients {
            builder = builder.to(Mailbox::new(None, parse_lettre_address(to)?));
        }
        let message = builder
            .multipart(body(&rendered.body, mail)?)
            .map_err(|e| ComposeError::Build(e.to_string()))?;
        Ok(Outgoing {
            purpose: "laporan",
            addressed: None,
            message_id,
            envelope_from: settings.smtp.from_address.clone(),
            recipients: mail.recipients.to_vec(),
            to_name: None,
            subject: rendered.subject,
            in_reply_to: None,
            references: Vec::new(),
            body_text: rendered.body,
            raw: message.formatted(),
            splices: Vec::new(),
        })
    }
}

fn body(text: &str, mail: &ReportMail<'_>) -> Result<MultiPart, ComposeError> {
    let png = ContentType::parse("image/png").map_err(|e| ComposeError::Build(e.to_string()))?;
    let mut related = MultiPart::related().singlepart(SinglePart::html(mail.html.clone()));
    for image in mail.images {
        related = related.singlepart(
            Attachment::new_inline(image.content_id.clone()).body(image.png.clone(), png.clone()),
        );
    }
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(text.to_owned()))
        .multipart(related);
    let mut mixed = MultiPart::mixed().multipart(alternative);
    for file in mail.files {
        let content_type = ContentType::parse(file.content_type)
            .map_err(|e| ComposeError::Build(e.to_string()))?;
        mixed = mixed.singlepart(
            Attachment::new(file.filename.clone()).body(file.bytes.clone(), content_type),
        );
    }
    Ok(mixed)
}

/// `laporan.<month>.<random>@<domain>`: recognised as the worker's own mail.
fn report_message_id(month: &str, domain: &str) -> String {
    let mut random = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut random);
    format!("laporan.{month}.{}@{domain}", hex::encode(random))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_report_mail_is_recognised_as_the_workers_own() {
        let id = super::report_message_id("2026-11", "kaltaraprov.go.id");
        assert!(id.starts_with("laporan.2026-11."), "{id}");
        assert!(
            super::super::is_own_message_id(&id, "kaltaraprov.go.id"),
            "{id}"
        );
    }
}

//! Mail to a citizen that is neither the acknowledgment nor the answer: the status on
//! request, the closure's reason, the delay notice, the reply to someone who is not the
//! reporter. All of it is built by [`Composer::letter`].

use chrono::{DateTime, Utc};

use super::message::{self, Draft};
use super::{Brief, ComposeError, Composer, Outgoing, reply_subject};
use crate::domain::{EmailAddress, RegisterNumber};

/// A message to a citizen, rendered from `template`.
pub struct Letter<'a> {
    pub template: &'static str,
    /// The first label of its Message-ID.
    pub purpose: &'static str,
    /// The complaint it is about, when the recipient may know about it (its reporter);
    /// `None` tells nothing about any complaint.
    pub brief: Option<&'a Brief>,
    /// The number its Message-ID and subject carry.
    pub number: &'a RegisterNumber,
    pub to: &'a EmailAddress,
    /// The message it answers (Message-ID, its References, its subject); `None` puts it
    /// in the complaint's thread.
    pub answering: Option<(Option<&'a str>, &'a [String], &'a str)>,
    pub extra: minijinja::Value,
}

impl Composer<'_> {
    /// The one builder of the letters in this module's doc.
    pub fn letter(
        &self,
        letter: &Letter<'_>,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let (in_reply_to, references, subject, auto_submitted) = match letter.answering {
            Some((parent, references, subject)) => {
                let mut references = references.to_vec();
                if let Some(parent) = parent
                    && !references.iter().any(|r| r == parent)
                {
                    references.push(parent.to_string());
                }
                (
                    parent.map(str::to_string),
                    references,
                    subject,
                    "auto-replied",
                )
            }
            None => {
                let brief = letter.brief;
                let thread = brief.map(|b| b.thread.clone()).unwrap_or_default();
                let parent = brief.and_then(|b| {
                    b.first_message_id
                        .clone()
                        .or_else(|| b.thread.last().cloned())
                });
                let subject = brief.map_or("", |b| b.subject.as_str());
                (parent, thread, subject, "auto-generated")
            }
        };
        let base = match letter.brief {
            Some(brief) => self.brief_context(brief, true),
            None => minijinja::context! { office_name => &self.settings.office.name },
        };
        let context = minijinja::value::merge_maps([
            minijinja::context! {
                number => letter.number.as_str(),
                reply_subject => reply_subject(subject, letter.number),
            },
            letter.extra.clone(),
            base,
        ]);
        let rendered = self.templates.render(letter.template, context)?;
        let to_name = letter.brief.and_then(|b| b.reporter_name.as_deref());
        message::build(
            self.settings,
            Draft {
                purpose: letter.purpose,
                number: letter.number,
                token: None,
                addressed: None,
                to: letter.to,
                to_name,
                cc: &[],
                bcc: &[],
                subject: rendered.subject,
                body: rendered.body,
                in_reply_to,
                references,
                auto_submitted: Some(auto_submitted),
                attachments: &[],
                now,
            },
        )
    }
}

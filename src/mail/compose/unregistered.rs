//! Replies that belong to no complaint: the SMS that explains the SMS format, and the
//! administrator's form answered (blank, or with what is wrong).

use chrono::{DateTime, Utc};

use super::message::{self, Draft};
use super::{ComposeError, Composer, Outgoing};
use crate::domain::{EmailAddress, RegisterNumber};
use crate::mail::sms::{gsm7, septets};

/// A reply to one message that registered nothing. The Message-ID names number 0 of
/// the year in place of a complaint's.
pub struct Unregistered<'a> {
    pub purpose: &'static str,
    pub template: &'static str,
    pub to: &'a EmailAddress,
    pub context: minijinja::Value,
    pub in_reply_to: Option<String>,
    pub number: &'a RegisterNumber,
}

impl Composer<'_> {
    /// A reply to the administrator (the blank form, or what is wrong with a form).
    pub fn unregistered(
        &self,
        reply: &Unregistered<'_>,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let context = minijinja::context! {
            office_name => &self.settings.office.name,
            ..reply.context.clone()
        };
        let rendered = self.templates.render(reply.template, context)?;
        message::build(
            self.settings,
            Draft {
                purpose: reply.purpose,
                number: reply.number,
                token: None,
                addressed: None,
                to: reply.to,
                to_name: None,
                cc: &[],
                bcc: &[],
                subject: rendered.subject,
                body: rendered.body,
                in_reply_to: reply.in_reply_to.clone(),
                references: reply.in_reply_to.iter().cloned().collect(),
                auto_submitted: Some("auto-replied"),
                attachments: &[],
                now,
            },
        )
    }
}

/// The text of the SMS that explains how to write a complaint by SMS, to `to` (the
/// gateway address of the sender's number).
pub struct SmsFormat<'a> {
    pub to: &'a EmailAddress,
    pub in_reply_to: Option<String>,
    /// Stands in for a register number in the Message-ID (there is no complaint).
    pub number: &'a RegisterNumber,
}

impl Composer<'_> {
    /// One SMS explaining the format (`sms_format`): nothing was registered.
    pub fn sms_format(
        &self,
        message: &SmsFormat<'_>,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let Some(sms) = self.settings.channels.sms.as_ref() else {
            return Err(ComposeError::Build("channels.sms is not set up".into()));
        };
        let context = minijinja::context! {
            keyword => &sms.keyword,
            office_name => &self.settings.office.name,
        };
        let mut rendered = self.templates.render("sms_format", context)?;
        rendered.body = gsm7(&rendered.body);
        if septets(&rendered.body) > sms.max_chars() {
            return Err(ComposeError::Build(format!(
                "template sms_format makes an SMS of {} characters; channels.sms.max_parts allows {}",
                septets(&rendered.body),
                sms.max_chars()
            )));
        }
        message::build(
            self.settings,
            Draft {
                purpose: "format",
                number: message.number,
                token: None,
                addressed: None,
                to: message.to,
                to_name: None,
                cc: &[],
                bcc: &[],
                subject: rendered.subject,
                body: rendered.body,
                in_reply_to: message.in_reply_to.clone(),
                references: Vec::new(),
                auto_submitted: Some("auto-replied"),
                attachments: &[],
                now,
            },
        )
    }
}

//! Replies to the administrator that belong to no complaint: the form answered (blank,
//! or with what is wrong). The SMS that explains the SMS format goes to a citizen, by
//! `Composer::to_citizen`.

use chrono::{DateTime, Utc};

use super::message::{self, Draft};
use super::{ComposeError, Composer, Outgoing};
use crate::domain::{EmailAddress, RegisterNumber};

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

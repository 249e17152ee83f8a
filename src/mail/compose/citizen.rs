//! Messages to the citizen, and the one decision of how they travel: [`Route::of`].
//!
//! Every message a citizen receives (acknowledgment, answer, and any later one) is
//! built by [`Composer::to_citizen`], which asks [`Route::of`] whether it goes by email
//! or as an SMS through the office's gateway. An SMS is rendered from the SMS twin of the
//! email template (`sms_<name>.txt`), made GSM-7, and never cut: a text that does not fit
//! the configured parts is replaced by its `too_long` template, which says how to get it
//! in full, or fails to compose.

use chrono::{DateTime, Utc};

use super::message::{self, Draft};
use super::{ComposeError, Composer, OutAttachment, Outgoing};
use crate::config::Settings;
use crate::domain::{Channel, EmailAddress, Phone, RegisterNumber};
use crate::mail::sms::{gsm7, septets};
use crate::mail::templates::Rendered;

/// Who a message to the citizen is for, as the register knows them.
#[derive(Debug, Clone, Copy)]
pub struct Citizen<'a> {
    pub channel: Channel,
    pub email: &'a EmailAddress,
    pub phone: Option<&'a Phone>,
    pub name: Option<&'a str>,
}

/// How a message to the citizen travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Email(EmailAddress),
    /// An email to the gateway's address for the citizen's number, which the gateway
    /// sends on as an SMS of at most `max_chars` GSM-7 characters.
    Sms {
        to: EmailAddress,
        max_chars: usize,
    },
}

impl Route {
    /// The one decision: an SMS complaint is answered by SMS while the gateway is set
    /// up; everything else goes to the citizen's email address.
    pub fn of(settings: &Settings, citizen: &Citizen<'_>) -> Route {
        let sms = settings.channels.sms.as_ref();
        match (citizen.channel, citizen.phone, sms) {
            (Channel::Sms, Some(phone), Some(sms)) => match sms.address_of(phone) {
                Some(to) => Route::Sms {
                    to,
                    max_chars: sms.max_chars(),
                },
                None => Route::Email(citizen.email.clone()),
            },
            _ => Route::Email(citizen.email.clone()),
        }
    }
}

/// A message to the citizen, before its route is known.
pub struct ToCitizen<'a> {
    pub purpose: &'static str,
    /// The email template; an SMS is rendered from `sms_<template>`.
    pub template: &'static str,
    /// The SMS template used when `sms_<template>` does not fit, or files cannot travel
    /// by SMS (`sms_<too_long>`): it must say how to get the message in full.
    pub too_long: Option<&'static str>,
    pub number: &'a RegisterNumber,
    pub citizen: Citizen<'a>,
    pub context: minijinja::Value,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub bcc: &'a [EmailAddress],
    pub attachments: &'a [OutAttachment<'a>],
    pub auto_submitted: Option<&'static str>,
}

impl Composer<'_> {
    /// Builds a message to the citizen for the route [`Route::of`] decides.
    pub fn to_citizen(
        &self,
        message: &ToCitizen<'_>,
        now: DateTime<Utc>,
    ) -> Result<Outgoing, ComposeError> {
        let route = Route::of(self.settings, &message.citizen);
        let (to, to_name, rendered, attachments) = match &route {
            Route::Email(to) => {
                let rendered = self.templates.render(message.template, &message.context)?;
                (to, message.citizen.name, rendered, message.attachments)
            }
            Route::Sms { to, max_chars } => {
                (to, None, self.sms_text(message, *max_chars)?, &[][..])
            }
        };
        message::build(
            self.settings,
            Draft {
                purpose: message.purpose,
                number: message.number,
                token: None,
                addressed: None,
                to,
                to_name,
                cc: &[],
                bcc: message.bcc,
                subject: rendered.subject,
                body: rendered.body,
                in_reply_to: message.in_reply_to.clone(),
                references: message.references.clone(),
                auto_submitted: message.auto_submitted,
                attachments,
                now,
            },
        )
    }

    /// The SMS text: `sms_<template>` when it fits and no file goes with it, else
    /// `sms_<too_long>`; never cut.
    fn sms_text(
        &self,
        message: &ToCitizen<'_>,
        max_chars: usize,
    ) -> Result<Rendered, ComposeError> {
        let keyword = self
            .settings
            .channels
            .sms
            .as_ref()
            .map_or("", |sms| sms.keyword.as_str());
        let context = minijinja::context! { keyword => keyword, ..message.context.clone() };
        let render = |name: String| -> Result<(Rendered, String), ComposeError> {
            let mut rendered = self.templates.render(&name, &context)?;
            rendered.body = gsm7(&rendered.body);
            Ok((rendered, name))
        };
        let (first, name) = render(format!("sms_{}", message.template))?;
        let fits = |rendered: &Rendered| septets(&rendered.body) <= max_chars;
        if fits(&first) && message.attachments.is_empty() {
            return Ok(first);
        }
        let (rendered, name) = match message.too_long {
            Some(fallback) => render(format!("sms_{fallback}"))?,
            None => (first, name),
        };
        if fits(&rendered) {
            Ok(rendered)
        } else {
            Err(ComposeError::Build(format!(
                "template {name} makes an SMS of {} characters; channels.sms.max_parts allows {max_chars}",
                septets(&rendered.body)
            )))
        }
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

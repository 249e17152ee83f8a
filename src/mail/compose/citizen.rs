//! Messages to the citizen, and the one decision of how they travel: [`Route::of`].
//!
//! Every message a citizen receives (acknowledgment, answer, the official's question, and
//! the letters of [`Composer::letter`]: the status on request, the reply to someone who
//! is not the reporter, the closure's reason, the delay notice, the thanks for a rating)
//! is built by [`Composer::to_citizen`], which asks [`Route::of`] whether it goes by email,
//! as an SMS through the office's gateway, or on paper (a printable copy to the
//! administrator, for a citizen registered at the counter with neither). An SMS is
//! rendered from the SMS twin of the email template (`sms_<name>.txt`), made GSM-7, and
//! never cut: a text that does not fit the configured parts is replaced by its
//! `too_long` template, which says how to get it in full, or fails to compose. A paper
//! copy is rendered from the printable twin (`cetak_<name>.txt`).

use chrono::{DateTime, Utc};

use super::message::{self, Draft};
use super::{Brief, ComposeError, Composer, OutAttachment, Outgoing, reply_subject};
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
    /// The postal address the administrator's form gave.
    pub postal: Option<&'a str>,
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
    /// A printable copy to the administrators, who hand it over or post it: the citizen
    /// has no email address and no SMS can reach them.
    Paper {
        to: Vec<EmailAddress>,
    },
}

impl Route {
    /// The one decision: an SMS complaint is answered by SMS while the gateway is set
    /// up; otherwise the citizen's email address, else an SMS to their number, else
    /// paper through the administrators.
    pub fn of(settings: &Settings, citizen: &Citizen<'_>) -> Route {
        let sms = |phone: Option<&Phone>| {
            let gateway = settings.channels.sms.as_ref()?;
            Some(Route::Sms {
                to: gateway.address_of(phone?)?,
                max_chars: gateway.max_chars(),
            })
        };
        let by_sms = sms(citizen.phone);
        // A citizen without email is registered under the gateway address of their
        // number: that address is their SMS, not an email address.
        let gateway_address = matches!(&by_sms, Some(Route::Sms { to, .. }) if to == citizen.email);
        let email = (!citizen.email.is_reserved() && !gateway_address)
            .then(|| Route::Email(citizen.email.clone()));
        let preferred = match citizen.channel {
            Channel::Sms => by_sms.or(email),
            _ => email.or(by_sms),
        };
        preferred.unwrap_or_else(|| Route::Paper {
            to: settings.roles.admin.clone(),
        })
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

/// A letter to a citizen besides the acknowledgment, the answer and the question, rendered
/// from `template` (by SMS from `sms_<template>`, on paper from `cetak_<template>`).
pub struct Letter<'a> {
    pub template: &'static str,
    /// The first label of its Message-ID.
    pub purpose: &'static str,
    /// The complaint it is about, when the recipient may know about it (its reporter);
    /// `None` tells nothing about any complaint.
    pub brief: Option<&'a Brief>,
    /// The number its Message-ID and subject carry.
    pub number: &'a RegisterNumber,
    /// Who it goes to: the reporter of `brief`, or whoever asked.
    pub citizen: Citizen<'a>,
    /// The message it answers (Message-ID, its References, its subject); `None` puts it
    /// in the complaint's thread.
    pub answering: Option<(Option<&'a str>, &'a [String], &'a str)>,
    pub extra: minijinja::Value,
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
            Route::Paper { to } => {
                let Some(first) = to.first() else {
                    return Err(ComposeError::Build("roles.admin names nobody".into()));
                };
                let context = minijinja::context! {
                    reporter_address => message.citizen.postal.unwrap_or("-"),
                    reporter_phone => message.citizen.phone.map(Phone::as_str).unwrap_or("-"),
                    ..message.context.clone()
                };
                let name = format!("cetak_{}", message.template);
                let rendered = self.templates.render(&name, context)?;
                (first, None, rendered, message.attachments)
            }
        };
        let bcc = match &route {
            Route::Paper { to } => to,
            _ => message.bcc,
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
                bcc,
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

    /// The letters in this module's doc: threaded, then sent by [`Composer::to_citizen`].
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
                let parent = parent.map(str::to_string);
                (parent, references, subject, "auto-replied")
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
        let message = ToCitizen {
            purpose: letter.purpose,
            template: letter.template,
            too_long: None,
            number: letter.number,
            citizen: letter.citizen,
            context,
            in_reply_to,
            references,
            bcc: &[],
            attachments: &[],
            auto_submitted: Some(auto_submitted),
        };
        self.to_citizen(&message, now)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(sms: bool) -> Settings {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("Settings.toml");
        let gateway = "[channels.sms]\ngateway_from = \"sms-gateway@kaltaraprov.go.id\"\n\
                       reply_to = \"{msisdn}@sms-gateway.kaltaraprov.go.id\"\n";
        let text = format!(
            "[imap]\nhost = \"imap.example.net\"\nsecurity = \"tls\"\nusername = \"d@kaltaraprov.go.id\"\npassword = \"pw\"\n\
             [smtp]\nhost = \"smtp.example.net\"\nsecurity = \"tls\"\nfrom = \"d@kaltaraprov.go.id\"\n\
             [office]\nname = \"Diskominfo\"\ndomain = \"kaltaraprov.go.id\"\n\
             [security]\nsecret = \"0123456789abcdef0123\"\n\
             [roles]\nadmin = \"admin@kaltaraprov.go.id\"\nkepala_dinas = \"kadis@kaltaraprov.go.id\"\n\
             kasubbag_umum = \"kasubbag@kaltaraprov.go.id\"\n[roles.bidang]\naptika = \"kabid@kaltaraprov.go.id\"\n{}",
            if sms { gateway } else { "" }
        );
        std::fs::write(&path, text).expect("write");
        Settings::load(&path).expect("valid")
    }

    fn citizen<'a>(
        channel: Channel,
        email: &'a EmailAddress,
        phone: Option<&'a Phone>,
    ) -> Citizen<'a> {
        Citizen {
            channel,
            email,
            phone,
            name: None,
            postal: None,
        }
    }

    #[test]
    fn one_decision_routes_every_message_to_the_citizen() {
        let email = EmailAddress::parse("warga@example.net").expect("valid");
        let phone = Phone::parse("081254310987").expect("valid");
        let gateway =
            EmailAddress::parse("6281254310987@sms-gateway.kaltaraprov.go.id").expect("valid");
        let nobody = EmailAddress::none_given();
        let (with_sms, without) = (settings(true), settings(false));
        let sms = Route::Sms {
            to: gateway.clone(),
            max_chars: 459,
        };
        let admins = Route::Paper {
            to: without.roles.admin.clone(),
        };
        for (settings, who, expected) in [
            (
                &with_sms,
                citizen(Channel::Sms, &gateway, Some(&phone)),
                sms.clone(),
            ),
            (
                &with_sms,
                citizen(Channel::Email, &email, None),
                Route::Email(email.clone()),
            ),
            (
                &with_sms,
                citizen(Channel::Surat, &email, Some(&phone)),
                Route::Email(email.clone()),
            ),
            (
                &with_sms,
                citizen(Channel::Telepon, &gateway, Some(&phone)),
                sms.clone(),
            ),
            (
                &with_sms,
                citizen(Channel::Langsung, &nobody, Some(&phone)),
                sms,
            ),
            (
                &without,
                citizen(Channel::Langsung, &nobody, Some(&phone)),
                admins.clone(),
            ),
            (&without, citizen(Channel::Langsung, &nobody, None), admins),
            (
                &without,
                citizen(Channel::Sms, &gateway, Some(&phone)),
                Route::Email(gateway.clone()),
            ),
        ] {
            assert_eq!(Route::of(settings, &who), expected, "{who:?}");
        }
    }
}

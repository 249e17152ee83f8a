//! Mail from the SMS gateway: whether a message really is one (the sender check), and
//! the citizen it speaks for.

use crate::domain::{EmailAddress, RegisterNumber};
use crate::mail::sms::{self, GatewaySms, SmsText};
use crate::mail::{Classification, Inbound};
use crate::office::Context;
use crate::office::security;

/// How a message arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// By email (including mail that claims to be the gateway's and fails the check).
    Mail,
    /// An SMS through the gateway: the text, and the gateway address of the number, which
    /// stands for the citizen in the register (threads, rate limits, replies).
    Sms(SmsText, EmailAddress),
    /// The gateway's mail, but no SMS can be read from it: the quarantine reason.
    Unreadable(String),
}

impl Arrival {
    pub fn sms(&self) -> Option<&SmsText> {
        match self {
            Arrival::Sms(text, _) => Some(text),
            _ => None,
        }
    }
}

/// Reads how `inbound` arrived. Only a person's message (not an auto-reply or bounce)
/// from a configured gateway address, with a single From, and, when
/// `security.trusted_authserv_id` is set, DKIM or SPF pass for the gateway's domain, is
/// read as SMS.
pub fn arrival(ctx: &Context, inbound: &Inbound, classification: &Classification) -> Arrival {
    let settings = &ctx.settings;
    let (Some(gateway), Some(sender)) = (&settings.channels.sms, inbound.sender()) else {
        return Arrival::Mail;
    };
    if *classification != Classification::Person || !gateway.gateway_from.contains(sender) {
        return Arrival::Mail;
    }
    let authenticated = match &settings.security.trusted_authserv_id {
        Some(id) => security::authenticated(&inbound.authentication_results, id, sender),
        None => true,
    };
    if inbound.ambiguous_from || !authenticated {
        tracing::warn!("mail from the SMS gateway's address fails the sender check; read as email");
        return Arrival::Mail;
    }
    match sms::read(gateway, inbound) {
        GatewaySms::NoNumber(reason) => Arrival::Unreadable(reason),
        GatewaySms::Text(text) => match gateway.address_of(&text.phone) {
            Some(address) => Arrival::Sms(text, address),
            None => {
                Arrival::Unreadable("the number makes no address with channels.sms.reply_to".into())
            }
        },
    }
}

/// A register number anywhere in an SMS (`LAPORKALTARA ADU-2026-00001 …`).
pub fn number_in(prefix: &str, text: &str) -> Option<RegisterNumber> {
    text.split(|c: char| c.is_whitespace() || "[](),;:".contains(c))
        .map(|word| word.trim_end_matches('.'))
        .find_map(|word| RegisterNumber::parse(prefix, word))
}

/// The SMS as the register keeps it: `inbound` with the text the citizen wrote (the
/// keyword stripped) and a subject that names no number.
pub fn as_recorded(inbound: &Inbound, text: &SmsText) -> Inbound {
    let mut recorded = inbound.clone();
    let preview = crate::mail::sanitize::one_line(&text.text, 60);
    recorded.subject = format!("SMS 1708: {preview}");
    recorded.body_text = text.text.clone();
    recorded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_found_anywhere_in_an_sms() {
        let found = number_in("ADU", "LAPORKALTARA adu-2026-00001: sudah diperbaiki?");
        assert_eq!(
            found.map(|n| n.to_string()).as_deref(),
            Some("ADU-2026-00001")
        );
        assert_eq!(number_in("ADU", "ADU-2026-1 belum"), None);
        assert_eq!(number_in("ADU", "LAPORKALTARA lampu mati"), None);
    }
}

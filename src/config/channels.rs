//! The office's channels besides email: `[channels.sms]`, the SMS-to-email gateway of
//! the 1708 short code.

use serde::Deserialize;

use super::ConfigError;
use super::raw::Addresses;
use super::validate::Validator;
use crate::domain::{EmailAddress, Phone};

/// Characters in one part of a multi-part SMS (GSM-7).
pub const SMS_PART_CHARS: usize = 153;

#[derive(Debug, Clone, Default)]
pub struct ChannelSettings {
    /// The SMS gateway, when the office has one.
    pub sms: Option<SmsSettings>,
}

/// The SMS gateway: it turns each SMS to 1708 into an email to the office mailbox, and
/// each email to `reply_to` (with the number filled in) into an SMS.
#[derive(Debug, Clone)]
pub struct SmsSettings {
    /// The gateway's sender addresses; mail from anyone else is never read as SMS.
    pub gateway_from: Vec<EmailAddress>,
    /// The header that carries the sender's number.
    pub number_header: String,
    /// A pattern on the subject whose one group is the number, used when the header is
    /// absent.
    pub number_pattern: Option<regex::Regex>,
    /// The first word of a complaint by SMS (`LAPORKALTARA`), upper case.
    pub keyword: String,
    /// The gateway address of a number: `{msisdn}` is the number without `+`.
    pub reply_to: String,
    /// An SMS to the citizen is at most this many parts of 153 characters.
    pub max_parts: u32,
}

impl SmsSettings {
    /// The address that turns an email into an SMS to `phone`.
    pub fn address_of(&self, phone: &Phone) -> Option<EmailAddress> {
        EmailAddress::parse(&self.reply_to.replace("{msisdn}", phone.msisdn()))
    }

    /// The most GSM-7 characters an SMS to the citizen may have.
    pub fn max_chars(&self) -> usize {
        self.max_parts as usize * SMS_PART_CHARS
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawChannels {
    pub(super) sms: RawSms,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RawSms {
    pub(super) gateway_from: Option<Addresses>,
    pub(super) number_header: Option<String>,
    pub(super) number_pattern: Option<String>,
    pub(super) keyword: Option<String>,
    pub(super) reply_to: Option<String>,
    pub(super) max_parts: Option<u32>,
}

impl RawSms {
    fn is_empty(&self) -> bool {
        self.gateway_from.is_none()
            && self.number_header.is_none()
            && self.number_pattern.is_none()
            && self.keyword.is_none()
            && self.reply_to.is_none()
            && self.max_parts.is_none()
    }
}

impl Validator {
    pub(super) fn channels(&self, raw: RawChannels) -> Result<ChannelSettings, ConfigError> {
        if raw.sms.is_empty() {
            return Ok(ChannelSettings::default());
        }
        Ok(ChannelSettings {
            sms: Some(self.sms(raw.sms)?),
        })
    }

    fn sms(&self, raw: RawSms) -> Result<SmsSettings, ConfigError> {
        let gateway_from = self.addresses(
            "channels.sms.gateway_from",
            raw.gateway_from.as_ref(),
            "the gateway's sender address, or a list",
        )?;
        let number_header = match raw.number_header.as_deref().map(str::trim) {
            None => "X-SMS-Sender".to_string(),
            Some(name) if is_header_name(name) => name.to_string(),
            Some(name) => {
                return Err(self.error(
                    "channels.sms.number_header",
                    format!(
                        "{name:?} is not an extension header name (X-…: letters, digits and -)"
                    ),
                ));
            }
        };
        let number_pattern = match raw.number_pattern {
            None => None,
            Some(pattern) => Some(self.number_pattern(&pattern)?),
        };
        let keyword = raw.keyword.as_deref().map_or("LAPORKALTARA", str::trim);
        if keyword.is_empty() || !keyword.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(self.error(
                "channels.sms.keyword",
                "must be one word of letters and digits (what citizens type first)",
            ));
        }
        let sms = SmsSettings {
            gateway_from,
            number_header,
            number_pattern,
            keyword: keyword.to_ascii_uppercase(),
            reply_to: self.reply_to(raw.reply_to)?,
            max_parts: raw.max_parts.unwrap_or(3),
        };
        if !(1..=10).contains(&sms.max_parts) {
            return Err(self.error("channels.sms.max_parts", "must be 1 to 10"));
        }
        Ok(sms)
    }

    fn number_pattern(&self, pattern: &str) -> Result<regex::Regex, ConfigError> {
        let key = "channels.sms.number_pattern";
        let regex = regex::Regex::new(pattern)
            .map_err(|e| self.error(key, format!("not a valid pattern: {e}")))?;
        if regex.captures_len() != 2 {
            return Err(self.error(
                key,
                "must have exactly one group (…) around the number, e.g. \"dari (\\+?[0-9]+)\"",
            ));
        }
        Ok(regex)
    }

    fn reply_to(&self, value: Option<String>) -> Result<String, ConfigError> {
        let key = "channels.sms.reply_to";
        let value = self.required(key, value)?;
        let example = Phone::parse("+6281234567890").map(|p| p.msisdn().to_string());
        let filled = value.replace("{msisdn}", example.as_deref().unwrap_or("6281234567890"));
        if !value.contains("{msisdn}") || EmailAddress::parse(&filled).is_none() {
            return Err(self.error(
                key,
                format!("{value:?} must be an address with {{msisdn}} where the number goes, e.g. \"{{msisdn}}@sms-gateway.kaltaraprov.go.id\""),
            ));
        }
        Ok(value)
    }
}

/// An extension header (`X-…`): the only headers the parser keeps for channels.
fn is_header_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.len() > 2
        && name[..2].eq_ignore_ascii_case("x-")
}

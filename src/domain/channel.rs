//! How a complaint reached the office, and the citizen's phone number.

use std::fmt;

use serde::Serialize;

/// The channel a complaint came in by. The strings are stored and part of the JSON
/// contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An email from the citizen to the office mailbox.
    Email,
    /// An SMS to 1708, through the office's SMS-to-email gateway.
    Sms,
    /// A letter, registered by the administrator.
    Surat,
    /// A walk-in, registered by the administrator.
    Langsung,
    /// A phone call, registered by the administrator.
    Telepon,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Sms,
        Channel::Surat,
        Channel::Langsung,
        Channel::Telepon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Surat => "surat",
            Channel::Langsung => "langsung",
            Channel::Telepon => "telepon",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Indonesian phone number in international form, `+62…` (8 to 13 digits after the
/// country code).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Reads `+62812…`, `62812…`, `0812…` or `812…`, with spaces, dots, dashes or
    /// parentheses between the digits.
    pub fn parse(text: &str) -> Option<Phone> {
        let text = text.trim();
        let plus = text.starts_with('+');
        let body = text.strip_prefix('+').unwrap_or(text);
        if !body
            .chars()
            .all(|c| c.is_ascii_digit() || " .-()".contains(c))
        {
            return None;
        }
        let digits: String = body.chars().filter(char::is_ascii_digit).collect();
        let national = if let Some(rest) = digits.strip_prefix("62") {
            rest
        } else if plus {
            return None;
        } else if let Some(rest) = digits.strip_prefix('0') {
            rest
        } else {
            digits.as_str()
        };
        let valid = (8..=13).contains(&national.len()) && !national.starts_with('0');
        valid.then(|| Phone(format!("+62{national}")))
    }

    /// A number read back from the register, where only valid numbers are written.
    pub(crate) fn from_stored(text: String) -> Phone {
        Phone(text)
    }

    /// `+6281254310987`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number without `+` (`6281254310987`), as SMS gateways address it.
    pub fn msisdn(&self) -> &str {
        &self.0[1..]
    }

    /// `+62812*****987`: what logs may say about a citizen's number.
    pub fn masked(&self) -> String {
        let digits = self.msisdn();
        let (head, tail) = (&digits[..5], &digits[digits.len() - 3..]);
        format!("+{head}{}{tail}", "*".repeat(digits.len() - 8))
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Phone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_plus_62() {
        for text in [
            "+6281254310987",
            "6281254310987",
            "081254310987",
            "81254310987",
            "+62 812-5431-0987",
            "(0812) 5431.0987",
        ] {
            assert_eq!(
                Phone::parse(text).map(|p| p.to_string()).as_deref(),
                Some("+6281254310987"),
                "{text}"
            );
        }
        for bad in [
            "",
            "+1 202 555 0100",
            "0812",
            "62",
            "0812543109871234",
            "0812abc",
            "+620812345678",
        ] {
            assert_eq!(Phone::parse(bad), None, "{bad:?}");
        }
        let phone = Phone::parse("081254310987").expect("valid");
        assert_eq!(phone.msisdn(), "6281254310987");
        assert_eq!(phone.masked(), "+62812*****987");
    }

    #[test]
    fn channels_round_trip() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("fax"), None);
    }
}

//! SMS as the gateway carries it: reading an SMS out of the gateway's email (the
//! number, the keyword, the text), and making text the gateway can send (GSM-7).
//! Pure: whether the mail really comes from the gateway is `office::intake`'s check.

use crate::config::SmsSettings;
use crate::domain::Phone;
use crate::mail::Inbound;

/// An SMS read from the gateway's email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewaySms {
    /// The sender's number and what they wrote.
    Text(SmsText),
    /// No usable number: the header is missing (and the subject pattern finds none) or
    /// holds something that is not an Indonesian number.
    NoNumber(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsText {
    pub phone: Phone,
    /// The text without the keyword, trimmed.
    pub text: String,
    /// The text started with the keyword.
    pub keyword: bool,
}

/// The SMS in a message from the gateway.
pub fn read(sms: &SmsSettings, inbound: &Inbound) -> GatewaySms {
    let number = match inbound.extension_header(&sms.number_header) {
        Some(value) => Some(value.to_string()),
        None => sms.number_pattern.as_ref().and_then(|pattern| {
            let captures = pattern.captures(&inbound.subject)?;
            Some(captures.get(1)?.as_str().to_string())
        }),
    };
    let Some(number) = number else {
        return GatewaySms::NoNumber(format!(
            "SMS gateway mail without a number ({} header or subject pattern)",
            sms.number_header
        ));
    };
    let Some(phone) = Phone::parse(&number) else {
        return GatewaySms::NoNumber(format!(
            "SMS gateway mail whose number is not an Indonesian phone number ({} characters)",
            number.chars().count()
        ));
    };
    let (keyword, text) = strip_keyword(&sms.keyword, &inbound.body_text);
    GatewaySms::Text(SmsText {
        phone,
        text: text.to_string(),
        keyword,
    })
}

/// Whether `text` starts with `keyword` (any case, followed by a space, `:`, `.` or the
/// end), and the text after it.
fn strip_keyword<'t>(keyword: &str, text: &'t str) -> (bool, &'t str) {
    let text = text.trim();
    let Some(head) = text.get(..keyword.len()) else {
        return (false, text);
    };
    let rest = &text[keyword.len()..];
    let ends =
        rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == ':' || c == '.');
    if head.eq_ignore_ascii_case(keyword) && ends {
        (true, rest.trim_start_matches([':', '.']).trim())
    } else {
        (false, text)
    }
}

/// GSM-7's basic characters besides ASCII letters, digits and space.
const GSM7_BASIC: &str = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n";
/// GSM-7's extension characters: each takes two of a part's 153 places.
const GSM7_EXTENSION: &str = "^{}\\[~]|€";

/// `text` as the gateway can send it in GSM-7: typographic quotes and dashes made plain,
/// accents the alphabet lacks dropped from their letters, and whatever else it cannot
/// carry (emoji, other scripts, control characters) left out. Runs of spaces become one.
pub fn gsm7(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '`' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => out.push('"'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '\u{2022}' | '\u{00B7}' => out.push('*'),
            '\r' => {}
            '\n' => {
                out.truncate(out.trim_end_matches(' ').len());
                out.push('\n');
            }
            c if c.is_whitespace() => {
                if !(out.is_empty() || out.ends_with([' ', '\n'])) {
                    out.push(' ');
                }
            }
            c if c.is_ascii_alphanumeric() || GSM7_BASIC.contains(c) => out.push(c),
            c if GSM7_EXTENSION.contains(c) => out.push(c),
            c => out.extend(without_accent(c)),
        }
    }
    out.trim().to_string()
}

/// The base letter of a Latin letter with an accent GSM-7 does not have.
fn without_accent(c: char) -> Option<char> {
    const FROM: &str = "áâãāăąÁÂÃĀĂĄçćčĆČêëēėęÊËĒĖĘíîïīįÍÎÏĪĮóôõōÓÔÕŌúûūųÚÛŪŲýÿÝñńŃšśŠŚžźżŽŹŻ";
    const TO: &str = "aaaaaaAAAAAAcccCCeeeeeEEEEEiiiiiIIIIIooooOOOOuuuuUUUUyyYnnNssSSzzzZZZ";
    FROM.chars()
        .position(|x| x == c)
        .and_then(|i| TO.chars().nth(i))
}

/// The places `text` takes in SMS parts (an extension character takes two).
pub fn septets(text: &str) -> usize {
    text.chars()
        .map(|c| if GSM7_EXTENSION.contains(c) { 2 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmsSettings {
        SmsSettings {
            gateway_from: Vec::new(),
            number_header: "X-SMS-Sender".into(),
            number_pattern: Some(regex::Regex::new(r"dari (\+?[0-9]+)").expect("valid")),
            keyword: "LAPORKALTARA".into(),
            reply_to: "{msisdn}@sms-gateway.kaltaraprov.go.id".into(),
            max_parts: 3,
        }
    }

    fn gateway_mail(headers: &str, subject: &str, body: &str) -> Inbound {
        let raw = format!(
            "From: sms-gateway@kaltaraprov.go.id\r\n{headers}Subject: {subject}\r\n\r\n{body}\r\n"
        );
        crate::mail::parse(raw.as_bytes())
    }

    #[test]
    fn the_number_comes_from_the_header_or_the_subject() {
        let sms = settings();
        let by_header = gateway_mail(
            "X-SMS-Sender: 081254310987\r\n",
            "SMS",
            "laporkaltara: jalan rusak",
        );
        let GatewaySms::Text(text) = read(&sms, &by_header) else {
            panic!("a number")
        };
        assert_eq!(text.phone.as_str(), "+6281254310987");
        assert_eq!(text.text, "jalan rusak");
        assert!(text.keyword);
        let by_subject = gateway_mail("", "SMS 1708 dari +6281254310987", "lampu mati");
        let GatewaySms::Text(text) = read(&sms, &by_subject) else {
            panic!("a number")
        };
        assert_eq!(text.phone.as_str(), "+6281254310987");
        assert!(!text.keyword, "no keyword");
        assert_eq!(text.text, "lampu mati");
        let none = gateway_mail("", "SMS masuk", "LAPORKALTARA x");
        assert!(matches!(read(&sms, &none), GatewaySms::NoNumber(_)));
        let bad = gateway_mail("X-SMS-Sender: 12ab\r\n", "SMS", "LAPORKALTARA x");
        assert!(matches!(read(&sms, &bad), GatewaySms::NoNumber(_)));
        assert_eq!(
            strip_keyword("LAPORKALTARA", "LAPORKALTARAX y"),
            (false, "LAPORKALTARAX y")
        );
        assert_eq!(strip_keyword("LAPORKALTARA", " LAPORKALTARA "), (true, ""));
        assert_eq!(strip_keyword("LAPORKALTARA", "é"), (false, "é"));
    }

    #[test]
    fn text_is_made_gsm7() {
        assert_eq!(
            gsm7(
                "Jalan \u{201C}rusak\u{201D} \u{2014} mohon\u{2026} \u{1F600}\u{1F44D} café naïve Ñ"
            ),
            "Jalan \"rusak\" - mohon... café naive Ñ"
        );
        assert_eq!(gsm7("a\t\t b\r\nc  \u{00A0}d"), "a b\nc d");
        assert_eq!(gsm7("日本 ok"), "ok");
        assert_eq!(septets("a{b}€"), 8);
    }
}

//! Where mail-parser's reading of text falls short: an mbox `From ` line before the
//! message, RFC 2047 words split in the middle of a character (each word is decoded on
//! its own there), and 8-bit text whose charset nobody declared (read as UTF-8 with
//! replacement characters there). Charsets are those of the WHATWG encoding standard,
//! through `encoding_rs`; an undeclared one is guessed by `chardetng`.

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

/// An mbox export (and some forwarders and IMAP appends) puts a `From sender date` line
/// before the message: the message is what follows it.
pub(super) fn without_mbox_from_line(raw: &[u8]) -> &[u8] {
    if !raw.starts_with(b"From ") {
        return raw;
    }
    match raw.iter().position(|&b| b == b'\n') {
        Some(end) => &raw[end + 1..],
        None => raw,
    }
}

/// The Subject, decoded here when its raw value has encoded words or 8-bit bytes;
/// otherwise as mail-parser read it.
pub(super) fn subject(message: &Message<'_>) -> String {
    let parsed = message.subject().unwrap_or("");
    let Some(raw) = raw_header(message, "Subject") else {
        return parsed.to_string();
    };
    if raw.is_ascii() && !contains(raw, b"=?") {
        return parsed.to_string();
    }
    if std::str::from_utf8(raw).is_ok() {
        return decode_header(raw, UTF_8);
    }
    // A few 8-bit bytes of a subject say little; the whole message says more.
    let sample = &message.raw_message[..message.raw_message.len().min(GUESS_SAMPLE)];
    decode_header(raw, guess(sample))
}

/// How much of a message is read to guess the charset of its undeclared 8-bit header.
const GUESS_SAMPLE: usize = 64 << 10;

fn raw_header<'a>(message: &'a Message<'_>, name: &str) -> Option<&'a [u8]> {
    let header = message
        .headers()
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))?;
    message
        .raw_message
        .get(header.offset_start as usize..header.offset_end as usize)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An RFC 2047 header value: adjacent encoded words of one charset are joined before
/// they are decoded (so a character split between two words comes out whole); the
/// whitespace between encoded words is dropped; raw 8-bit text is UTF-8 or, if it is
/// not, read as `undeclared`.
pub(super) fn decode_header(raw: &[u8], undeclared: &'static Encoding) -> String {
    let mut out = String::new();
    // Decoded bytes of the encoded words seen so far, and their charset.
    let mut pending: Option<(&'static Encoding, Vec<u8>)> = None;
    let mut pos = 0;
    while pos < raw.len() {
        if let Some((word, len)) = encoded_word(&raw[pos..]) {
            match &mut pending {
                Some((encoding, bytes)) if *encoding == word.0 => bytes.extend(word.1),
                _ => {
                    flush(&mut out, pending.take());
                    pending = Some(word);
                }
            }
            pos += len;
            continue;
        }
        let next = raw[pos + 1..]
            .windows(2)
            .position(|w| w == b"=?")
            .map_or(raw.len(), |p| pos + 1 + p);
        let text = &raw[pos..next];
        let between_words = pending.is_some()
            && next < raw.len()
            && text.iter().all(u8::is_ascii_whitespace)
            && encoded_word(&raw[next..]).is_some();
        if !between_words {
            flush(&mut out, pending.take());
            let text = match std::str::from_utf8(text) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => undeclared.decode_without_bom_handling(text).0,
            };
            out.push_str(&unfold(&text));
        }
        pos = next;
    }
    flush(&mut out, pending);
    out.trim().to_string()
}

fn flush(out: &mut String, pending: Option<(&'static Encoding, Vec<u8>)>) {
    if let Some((encoding, bytes)) = pending {
        out.push_str(&encoding.decode_without_bom_handling(&bytes).0);
    }
}

fn unfold(text: &str) -> String {
    text.replace("\r\n", "").replace('\n', "")
}

/// `=?charset?B|Q?text?=` at the start of `raw`: its charset, its decoded bytes, and its
/// length. An unknown charset is read as UTF-8.
fn encoded_word(raw: &[u8]) -> Option<((&'static Encoding, Vec<u8>), usize)> {
    let rest = raw.strip_prefix(b"=?")?;
    let charset_end = rest.iter().take(64).position(|&b| b == b'?')?;
    let charset = &rest[..charset_end];
    // RFC 2231 language suffix: "utf-8*id".
    let charset = charset.split(|&b| b == b'*').next().unwrap_or(charset);
    let kind = *rest.get(charset_end + 1)?;
    if rest.get(charset_end + 2) != Some(&b'?') {
        return None;
    }
    let text_start = charset_end + 3;
    let text_len = rest[text_start..].windows(2).position(|w| w == b"?=")?;
    let text = &rest[text_start..text_start + text_len];
    if text.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let bytes = match kind.to_ascii_uppercase() {
        b'B' => BASE64.decode(text).ok()?,
        b'Q' => q_decode(text),
        _ => return None,
    };
    let encoding = Encoding::for_label(charset).unwrap_or(UTF_8);
    Some(((encoding, bytes), 2 + text_start + text_len + 2))
}

/// Encoded words in the wild are padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn q_decode(text: &[u8]) -> Vec<u8> {
    let hex = |at: usize| text.get(at).and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match (text[i], hex(i + 1), hex(i + 2)) {
            (b'_', ..) => out.push(b' '),
            (b'=', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            (b, ..) => out.push(b),
        }
        i += 1;
    }
    out
}

/// Text whose charset was not declared: UTF-8 when it is, otherwise the likeliest
/// legacy charset for it.
pub(super) fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => guess(bytes)
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The likeliest charset of `bytes`, judged as if from an Indonesian site: where the
/// text leaves it open, the Latin charset used here (windows-1252) is preferred over
/// Central European ones.
fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    detector.guess(Some(b"id"), Utf8Detection::Allow)
}

/// The text of a text part whose charset was not declared and whose bytes are not
/// UTF-8, read again in the guessed charset. None when mail-parser's reading stands:
/// a declared charset, UTF-8 or ASCII text, or a transfer encoding that is not 7bit or
/// 8bit.
pub(super) fn undeclared_text(message: &Message<'_>, part: &MessagePart<'_>) -> Option<String> {
    if !matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
        return None;
    }
    if part
        .content_type()
        .is_some_and(|ct| ct.attribute("charset").is_some())
    {
        return None;
    }
    let transfer = part
        .content_transfer_encoding()
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    if !matches!(transfer.as_str(), "7bit" | "8bit" | "binary") {
        return None;
    }
    let raw = message
        .raw_message
        .get(part.offset_body as usize..part.offset_end as usize)?;
    if std::str::from_utf8(raw).is_ok() {
        return None;
    }
    Some(text_of(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_in_a_character_are_joined() {
        // "日本語" in UTF-8, split after its fourth byte.
        assert_eq!(
            decode_header(b"=?UTF-8?B?5pel5pw=?= =?UTF-8?B?rOiqng==?=", UTF_8),
            "日本語"
        );
        assert_eq!(
            decode_header(b"=?utf-8?q?caf=C3?=\r\n =?utf-8?q?=A9_ok?=", UTF_8),
            "café ok"
        );
        assert_eq!(
            decode_header(b"Re: =?GB2312?B?1tDOxA==?= [ADU-2026-00001]", UTF_8),
            "Re: 中文 [ADU-2026-00001]"
        );
        assert_eq!(decode_header(b"=?Big5?B?pKSk5Q==?=", UTF_8), "中文");
        assert_eq!(
            decode_header(b"=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", UTF_8),
            "日本語"
        );
        assert_eq!(decode_header(b"=?koi8-r?B?8NLJ18XU?=", UTF_8), "Привет");
        assert_eq!(decode_header(b"=?x-unknown?Q?abc?= def", UTF_8), "abc def");
    }

    #[test]
    fn odd_words_never_panic() {
        for raw in [
            &b"=?"[..],
            b"=?utf-8",
            b"=?utf-8?",
            b"=?utf-8?B",
            b"=?utf-8?B?",
            b"=?utf-8?B?%%?=",
            b"=?utf-8?Q?=",
            b"=?utf-8?Q?=4?=",
            b"a =?utf-8?Q?x?= =?",
            b"\xff\xfe",
        ] {
            let _ = decode_header(raw, UTF_8);
        }
    }

    #[test]
    fn undeclared_eight_bit_is_guessed() {
        assert_eq!(
            text_of(b"caf\xe9 cr\xe8me br\xfbl\xe9e"),
            "café crème brûlée"
        );
        assert_eq!(text_of("sudah".as_bytes()), "sudah");
        let latin = Encoding::for_label(b"windows-1252").unwrap_or(UTF_8);
        assert_eq!(
            decode_header(b"Lampu mati di caf\xe9", latin),
            "Lampu mati di café"
        );
    }

    #[test]
    fn mbox_from_line_is_skipped() {
        let raw = b"From budi@example.net Mon Nov 30 10:00:00 2026\r\nFrom: budi@example.net\r\n";
        assert_eq!(without_mbox_from_line(raw), b"From: budi@example.net\r\n");
        assert_eq!(without_mbox_from_line(b"From: a\r\n"), b"From: a\r\n");
    }
}

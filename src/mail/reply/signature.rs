//! Signatures phones and webmail apps add at the end of a reply ("Sent from my iPhone",
//! "Von meinem iPhone gesendet", "Get Outlook for Android", …), taken off with the link
//! footnotes html2text wrote for them.

use super::is_blank;
use super::lexicon::{DEVICES, SENT_WORDS};

/// Takes "Sent from my iPhone" and its kin off the end, with the blank lines around them.
/// HTML replies end with html2text's link footnotes (`[1]: https://…`): they are set
/// aside while looking, and the footnotes of removed lines go with them.
pub(super) fn strip_mobile_signature(lines: &mut Vec<&str>) {
    trim_blank_end(lines);
    let body_len = lines.len()
        - lines
            .iter()
            .rev()
            .take_while(|l| is_blank(l) || is_footnote(l))
            .count();
    let footnotes: Vec<&str> = lines.split_off(body_len);
    let before = lines.len();
    loop {
        trim_blank_end(lines);
        match lines.last() {
            Some(last) if is_mobile_signature(last) => {
                lines.pop();
            }
            _ => break,
        }
    }
    if lines.len() == before {
        lines.extend(footnotes);
        return;
    }
    let referenced: std::collections::HashSet<&str> =
        lines.iter().flat_map(|l| footnote_marks(l)).collect();
    let still_referenced: Vec<&str> = footnotes
        .into_iter()
        .filter(|note| {
            let mark = note.trim().split(':').next().unwrap_or_default();
            referenced.contains(mark)
        })
        .collect();
    if !still_referenced.is_empty() {
        lines.push("");
        lines.extend(still_referenced);
    }
}

fn trim_blank_end(lines: &mut Vec<&str>) {
    while lines.last().is_some_and(|l| is_blank(l)) {
        lines.pop();
    }
}

/// Just after a `[`: the length of the `1]` that completes html2text's footnote mark
/// `[1]`, if that is what follows.
fn footnote_mark_len(after_bracket: &str) -> Option<usize> {
    let digits = after_bracket.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && after_bracket[digits..].starts_with(']')).then_some(digits + 1)
}

/// The `[1]` marks html2text puts after link texts.
fn footnote_marks(line: &str) -> impl Iterator<Item = &str> {
    line.match_indices('[').filter_map(move |(at, _)| {
        footnote_mark_len(&line[at + 1..]).map(|len| &line[at..at + 1 + len])
    })
}

/// `[1]: https://…`, as html2text lists the targets of links.
fn is_footnote(line: &str) -> bool {
    line.trim().strip_prefix('[').is_some_and(|rest| {
        footnote_mark_len(rest).is_some_and(|len| rest[len..].starts_with(": "))
    })
}

/// Signatures phone and webmail apps add: "Sent from …", "Sent via …", "Get Outlook for
/// …"; in any language, a short line that names a device or an app and says "sent" or
/// "get" ("Von meinem iPhone gesendet", "iPhoneから送信", "Enviado desde mi Galaxy").
/// "Dikirim dari …" only when it names a device or an app (or ends in "saya"), since
/// "Dikirim dari kantor …" could be a sentence.
fn is_mobile_signature(line: &str) -> bool {
    let words = undecorate_link(line.trim());
    let line = words.trim_end_matches(['.', '。']).trim();
    if line.is_empty() || line.chars().count() > 70 {
        return false;
    }
    let lower = line.to_lowercase();
    const PREFIXES: &[&str] = &[
        "sent from ",
        "sent via ",
        "get outlook for ",
        "dapatkan outlook untuk ",
    ];
    if PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    if let Some(rest) = lower.strip_prefix("dikirim dari ") {
        return DEVICES.iter().any(|d| rest.starts_with(d)) || rest.ends_with(" saya");
    }
    lower.split_whitespace().count() <= 9
        && DEVICES.iter().any(|d| contains_word(&lower, d))
        && SENT_WORDS.iter().any(|w| contains_word(&lower, w))
}

/// `word` occurs in `text` where no letter of an alphabet written with spaces (Latin,
/// Greek, Cyrillic) comes just before it: "sent" is not found in "present", but
/// "iphone" is found in "发自我的iphone".
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() || u32::from(c) >= 0x530)
    })
}

/// "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows" → the
/// line without its `<http…>` targets.
fn without_link_targets(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("<http") {
        out.push_str(&rest[..at]);
        rest = match rest[at..].find('>') {
            Some(end) => &rest[at + end + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// "[Get Outlook for iOS][1]" or "Get [Outlook for iOS][1]" (links as html2text writes
/// them) and "Get Outlook for Android<https://aka.ms/…>" (Outlook's text part) → the
/// words only.
fn undecorate_link(line: &str) -> String {
    let line = without_link_targets(line);
    let line = line.as_str();
    let mut words = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('[') {
        words.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        rest = footnote_mark_len(after).map_or(after, |len| &after[len..]);
    }
    words.push_str(rest);
    words.replace(']', "")
}

//! Values taken from inbound mail that travel into outgoing headers (names, subjects,
//! file names, Message-IDs) are made safe here, where they enter: one line, no control
//! or invisible formatting characters, bounded length. Pure.

/// Names and subjects longer than this are cut (they travel into outgoing headers).
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_SUBJECT_CHARS: usize = 300;
/// Longer Message-IDs are not used for threading (RFC 5322 lines are at most 998 bytes).
const MAX_MESSAGE_ID_BYTES: usize = 250;
/// At most this many ancestors are read from `In-Reply-To` and `References`.
pub const MAX_THREAD_IDS: usize = 100;

/// A Message-ID the worker can look up and put into outgoing `References`: printable
/// ASCII without spaces or angle brackets, of a sane length. Anything else is treated as
/// absent (the raw message keeps it as evidence).
pub fn usable_message_id(id: &str) -> Option<String> {
    let usable = !id.is_empty()
        && id.len() <= MAX_MESSAGE_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    usable.then(|| id.to_string())
}

/// `text` as one line fit for a header: control and invisible formatting characters
/// (line breaks, NUL, bidi overrides, zero-width marks) become spaces, runs of white
/// space one space, and at most `max_chars` characters are kept.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let mut line = String::with_capacity(text.len().min(max_chars * 4));
    let mut chars = 0;
    for c in text.chars() {
        let c = if is_invisible(c) { ' ' } else { c };
        if c.is_whitespace() && (line.is_empty() || line.ends_with(' ')) {
            continue;
        }
        if chars == max_chars {
            break;
        }
        line.push(if c.is_whitespace() { ' ' } else { c });
        chars += 1;
    }
    line.truncate(line.trim_end().len());
    line
}

/// An attachment's name fit for a `Content-Disposition` header and a file system: one
/// line, no path separators, at most [`MAX_NAME_CHARS`] characters.
pub fn file_name(name: &str) -> String {
    one_line(&name.replace(['/', '\\'], "_"), MAX_NAME_CHARS)
}

/// `type/subtype` made of RFC 2045 token characters.
pub fn is_media_type(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    text.len() <= 127
        && text
            .split_once('/')
            .is_some_and(|(t, sub)| token(t) && token(sub))
}

/// Control characters and the format characters that can reorder or hide text.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_one_bounded_line() {
        assert_eq!(one_line("Budi\nSantoso", 100), "Budi Santoso");
        assert_eq!(one_line("  Budi\r\n\tSantoso \0 ", 100), "Budi Santoso");
        assert_eq!(one_line("Siti\u{202E}moc.live", 100), "Siti moc.live");
        assert_eq!(one_line("a\u{200B}b\u{2028}c", 100), "a b c");
        assert_eq!(one_line(&"é".repeat(500), 100).chars().count(), 100);
        assert_eq!(one_line("\n\r\t", 100), "");
        assert_eq!(one_line("abc  def", 4), "abc");
    }

    #[test]
    fn message_ids_must_be_plain() {
        assert_eq!(
            usable_message_id("a1@x.example").as_deref(),
            Some("a1@x.example")
        );
        assert_eq!(usable_message_id("a 1@x"), None);
        assert_eq!(usable_message_id("a\n1@x"), None);
        assert_eq!(usable_message_id("a>b<@x"), None);
        assert_eq!(usable_message_id(&"a".repeat(251)), None);
        assert_eq!(usable_message_id(""), None);
    }

    #[test]
    fn file_names_and_media_types() {
        assert_eq!(file_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(file_name("surat\r\nBcc: x.pdf"), "surat Bcc: x.pdf");
        assert!(is_media_type("image/jpeg"));
        assert!(!is_media_type("image/jpeg\r\nX: y"));
        assert!(!is_media_type("text"));
        assert!(!is_media_type("a/b;c"));
    }
}

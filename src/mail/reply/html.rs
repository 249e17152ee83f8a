//! HTML replies: the quote containers mail clients mark (Gmail's gmail_quote, Outlook's
//! divRplyFwdMsg, Yahoo's yahoo_quoted, `<blockquote type="cite">`, …) are cut out of the
//! HTML before it is converted to text.

use super::lexicon::{FORWARD_INTROS, FORWARDED_MESSAGE};

/// What to do with an element that marks quoted history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// The element and everything after it (Gmail's gmail_quote, Outlook's
    /// divRplyFwdMsg/appendonsend, Yahoo's yahoo_quoted, signature containers).
    Rest,
    /// Just the element (`<blockquote type="cite">`, Thunderbird's cite prefix), so
    /// answers written between quotes survive.
    Element,
    /// The element and the rest, if nothing visible follows it (a plain `<blockquote>`
    /// at the end).
    ElementIfLast,
    /// Not a quote but the writer's own indentation (Gmail's indent button makes a
    /// borderless `<blockquote>`) or a forwarded message (Apple Mail quotes it): becomes
    /// a `<div>`, so it does not turn into `>` lines.
    Unwrap,
}

/// Removes quoted history from an HTML body. A tag scanner, not a DOM: what remains may
/// have unclosed tags, which the HTML → text conversion tolerates. Linear in the size of
/// the HTML: the tags are scanned once, and elements matched with a stack.
pub(super) fn cut_html(html: &str) -> String {
    // ASCII lowercasing keeps every byte offset, so positions found in `lower` slice
    // `html` at the same places (always at '<' or just after '>').
    let lower = html.to_ascii_lowercase();
    let tags = scan_tags(&lower);
    let closes = matching_closes(&tags);
    let visible_until = last_visible_text_end(&lower, &tags);
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    // Closing tags of unwrapped blockquotes, by index in `tags`.
    let mut unwrapped = vec![false; tags.len()];
    for (i, tag) in tags.iter().enumerate() {
        if tag.start < copied {
            continue; // inside an element already removed
        }
        if tag.kind == TagKind::Close && unwrapped[i] {
            out.push_str(&html[copied..tag.start]);
            out.push_str("</div>");
            copied = tag.end;
        }
        if tag.kind != TagKind::Open {
            continue;
        }
        let Some(cut) = quote_cut(tag) else {
            continue;
        };
        let cut = if forwards_a_message(&lower, tag) {
            Cut::Unwrap
        } else {
            cut
        };
        let close = closes[i];
        let end = close.map_or(lower.len(), |c| tags[c].end);
        match cut {
            Cut::Rest => {
                out.push_str(&html[copied..tag.start]);
                return out;
            }
            Cut::Element => {
                out.push_str(&html[copied..tag.start]);
                copied = end;
            }
            Cut::ElementIfLast if end >= visible_until => {
                out.push_str(&html[copied..tag.start]);
                return out;
            }
            Cut::ElementIfLast => {}
            Cut::Unwrap => {
                if let Some(c) = close {
                    unwrapped[c] = true;
                }
                out.push_str(&html[copied..tag.start]);
                out.push_str("<div>");
                copied = tag.end;
            }
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// Lowercased, as they are compared. The mobile signature containers (Outlook mobile,
/// Samsung Email, Yahoo on Android, iOS Mail) hold only "Sent from …" and come just
/// before the quote.
const REST_IDS: &[&str] = &[
    "divrplyfwdmsg",
    "appendonsend",
    "mail-editor-reference-message-container",
    "zwchr",
    "olk_src_body_section",
    "ms-outlook-mobile-signature",
    "composer_signature",
    "ymail_android_signature",
    "linebreakatbeginningofsignature",
];

const REST_CLASSES: &[&str] = &[
    "gmail_quote",
    "gmail_quote_container",
    "gmail_attr",
    "gmail_signature",
    "gmail_signature_prefix",
    "yahoo_quoted",
    "protonmail_quote",
    "moz-signature",
    "outlookmessageheader",
];

/// The box Outlook (Windows and Mac) draws above the header block of the message it
/// quotes: `<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm
/// 0cm 0cm">`. `style` is without whitespace.
fn is_outlook_header_box(name: &str, style: &str) -> bool {
    name == "div"
        && style.contains("border:none")
        && style.contains("border-top:solid")
        && style.contains("padding:3.0pt0")
}

fn quote_cut(tag: &Tag<'_>) -> Option<Cut> {
    let attrs = tag.attributes();
    let value = |name: &str| {
        attrs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_default()
    };
    let id = value("id");
    if id == "reply-intro" {
        return Some(Cut::Element);
    }
    if REST_IDS.contains(&id) || id.contains("yahoo_quoted") {
        return Some(Cut::Rest);
    }
    if matches!(value("data-marker"), "__quoted_text__" | "__headers__") {
        return Some(Cut::Rest);
    }
    let mut classes = value("class").split_ascii_whitespace();
    if classes
        .clone()
        .any(|c| REST_CLASSES.contains(&c) || c.contains("yahoo_quoted"))
    {
        return Some(Cut::Rest);
    }
    if classes.any(|c| c == "moz-cite-prefix") {
        return Some(Cut::Element);
    }
    let style: String = value("style").split_ascii_whitespace().collect();
    if is_outlook_header_box(tag.name, &style) {
        return Some(Cut::Rest);
    }
    if tag.name == "blockquote" {
        if value("type") == "cite" {
            return Some(Cut::Element);
        }
        return Some(if style.contains("border:none") {
            Cut::Unwrap
        } else {
            Cut::ElementIfLast
        });
    }
    None
}

/// How far before a blockquote "Begin forwarded message:" is looked for, and how far
/// into a quote container its forward separator, in bytes. The separator is the first
/// thing Gmail writes in its container; a reply's attribution comes before any quoted
/// separator and is longer than this.
const FORWARD_REACH_BEFORE: usize = 400;
const FORWARD_REACH_INTO: usize = 150;

/// Whether a quote container holds (or follows) a forward separator ("---------- Forwarded
/// message ---------" in Gmail's gmail_quote, "Begin forwarded message:" before Apple
/// Mail's blockquote): the message is passed on, not quoted.
fn forwards_a_message(lower: &str, tag: &Tag<'_>) -> bool {
    let floor = |mut at: usize| {
        while !lower.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let before = &lower[floor(tag.start.saturating_sub(FORWARD_REACH_BEFORE))..tag.start];
    let after = &lower[tag.end..floor((tag.end + FORWARD_REACH_INTO).min(lower.len()))];
    let has = |text: &str, phrases: &[&str]| phrases.iter().any(|p| text.contains(p));
    has(after, FORWARDED_MESSAGE) || (tag.name == "blockquote" && has(before, FORWARD_INTROS))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    Open,
    Close,
    /// A comment, doctype or processing instruction.
    Other,
}

/// One tag found in lowercased HTML. `start` is at its `<`, `end` just after its `>`
/// (for `<style>`/`<script>`, after the closing tag: their content is not markup).
#[derive(Debug)]
struct Tag<'a> {
    kind: TagKind,
    start: usize,
    end: usize,
    name: &'a str,
    /// The text between the name and the closing `>`.
    attrs: &'a str,
}

impl<'a> Tag<'a> {
    /// `(name, value)` pairs; values without their quotes, not entity-decoded.
    fn attributes(&self) -> Vec<(&'a str, &'a str)> {
        let s = self.attrs;
        let bytes = s.as_bytes();
        let mut found = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            let name_start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=/>".contains(&bytes[i])
            {
                i += 1;
            }
            let name = &s[name_start..i];
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let mut value = "";
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let quote = bytes[i];
                    let value_start = i + 1;
                    let value_end = bytes[value_start..]
                        .iter()
                        .position(|&b| b == quote)
                        .map_or(bytes.len(), |p| value_start + p);
                    value = &s[value_start..value_end];
                    i = (value_end + 1).min(bytes.len());
                } else {
                    let value_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = &s[value_start..i];
                }
            }
            if name.is_empty() {
                // Stray '=' or the like: step over it so the loop always advances.
                i += 1;
            } else {
                found.push((name, value));
            }
        }
        found
    }
}

/// The next tag at or after `from` in lowercased HTML. A `<` that does not start a tag
/// ("a < b") is text. An unterminated tag ends the scan.
fn next_tag(lower: &str, from: usize) -> Option<Tag<'_>> {
    let bytes = lower.as_bytes();
    let mut pos = from;
    loop {
        let start = pos + lower.get(pos..)?.find('<')?;
        let rest = &lower[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let end = comment
                .find("-->")
                .map_or(lower.len(), |p| start + 4 + p + 3);
            return Some(Tag {
                kind: TagKind::Other,
                start,
                end,
                name: "",
                attrs: "",
            });
        }
        let next = bytes.get(start + 1).copied().unwrap_or(b' ');
        let (kind, name_start) = match next {
            b'!' | b'?' => (TagKind::Other, start + 1),
            b'/' => (TagKind::Close, start + 2),
            b if b.is_ascii_alphabetic() => (TagKind::Open, start + 1),
            _ => {
                pos = start + 1;
                continue;
            }
        };
        let name_end = name_start
            + bytes[name_start.min(bytes.len())..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
                .count();
        let close = tag_close(bytes, name_end)?;
        let name = &lower[name_start.min(name_end)..name_end];
        let mut tag = Tag {
            kind,
            start,
            end: close + 1,
            name,
            attrs: &lower[name_end..close],
        };
        if kind == TagKind::Open && matches!(name, "style" | "script") {
            let closing = format!("</{name}");
            tag.end = lower[tag.end..]
                .find(&closing)
                .and_then(|p| {
                    let at = tag.end + p;
                    lower[at..].find('>').map(|q| at + q + 1)
                })
                .unwrap_or(lower.len());
        }
        return Some(tag);
    }
}

/// The index of the `>` that closes the tag whose attributes start at `from`, honouring
/// quoted attribute values.
fn tag_close(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

/// Every tag of the document, in order.
fn scan_tags(lower: &str) -> Vec<Tag<'_>> {
    let mut tags = Vec::new();
    let mut pos = 0;
    while let Some(tag) = next_tag(lower, pos) {
        pos = tag.end;
        tags.push(tag);
    }
    tags
}

/// For each opening tag, the index of its closing tag (the next closing tag of the same
/// name at the same depth of that name), if it has one.
fn matching_closes(tags: &[Tag<'_>]) -> Vec<Option<usize>> {
    let mut closes = vec![None; tags.len()];
    let mut open: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (i, tag) in tags.iter().enumerate() {
        match tag.kind {
            TagKind::Open => open.entry(tag.name).or_default().push(i),
            TagKind::Close => {
                if let Some(o) = open.get_mut(tag.name).and_then(Vec::pop) {
                    closes[o] = Some(i);
                }
            }
            TagKind::Other => {}
        }
    }
    closes
}

/// Where the last text a reader would see ends (0 when there is none). Tags, comments,
/// styles and whitespace, including `&nbsp;`, are not visible.
fn last_visible_text_end(lower: &str, tags: &[Tag<'_>]) -> usize {
    let mut last = 0;
    let mut pos = 0;
    for tag in tags.iter().map(Some).chain([None]) {
        let text_end = tag.map_or(lower.len(), |t| t.start);
        let visible = lower[pos..text_end]
            .replace("&nbsp;", " ")
            .replace("&#160;", " ")
            .chars()
            .any(|c| !c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{200b}' | '\u{feff}'));
        if visible {
            last = text_end;
        }
        if let Some(tag) = tag {
            pos = tag.end;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_with_or_without_quotes() {
        let tag = next_tag(r#"<a b = "c d" e='f' g=h i/>"#, 0).expect("a tag");
        assert_eq!(
            tag.attributes(),
            vec![("b", "c d"), ("e", "f"), ("g", "h"), ("i", "")]
        );
    }
}

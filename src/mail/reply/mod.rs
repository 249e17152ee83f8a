//! The new text of a reply: what an official (or a citizen) typed, without the quoted
//! history, attribution lines, forwarded blocks and signatures their mail client added.
//! Knows what Gmail, Outlook (desktop, web, mobile), Thunderbird, Apple Mail and iOS,
//! Samsung Email, Yahoo, Zimbra, Roundcube and mail.ru write around a quote, in the
//! languages they ship in (the word lists are in `lexicon`). Pure: text in, text out;
//! never fails.
//!
//! HTML-only replies are cut in the HTML first (the quote containers those clients
//! mark), then converted by the single HTML → text path in
//! [`crate::mail::parse`](mod@crate::mail::parse), and then go through the same text
//! rules as plain-text replies.

mod html;
mod lexicon;
mod markers;
mod signature;

use crate::mail::parse::{html_to_text, normalize_text};
use html::cut_html;
use markers::{Attribution, attribution_at, is_forward_start, starts_history};
use signature::strip_mobile_signature;

/// The new text an official (or citizen) wrote in a reply: quoted history, attribution
/// lines, forwarded/original-message blocks, `-- ` signatures and mobile signatures removed.
/// `body_text` is `Inbound::body_text` (text/plain preferred, or HTML converted to text);
/// `body_html` is `Inbound::body_html` (Some only when the message had no text/plain body).
///
/// The result is trimmed, has Unix newlines, and every line in it is a line of the text
/// (after [`normalize_text`]), unchanged. A reply that is nothing but quote gives the
/// empty string. Never panics; linear in the size of the input.
pub fn reply_text(body_text: &str, body_html: Option<&str>) -> String {
    cut_text(&prepared(body_text, body_html), Forward::Keep)
}

/// The words the writer wrote themself: [`reply_text`] without a message they forward.
/// For judging the writer (is this an out-of-office reply?), not for reading what
/// they pass on.
pub fn own_text(body_text: &str, body_html: Option<&str>) -> String {
    cut_text(&prepared(body_text, body_html), Forward::Drop)
}

fn prepared(body_text: &str, body_html: Option<&str>) -> String {
    let text = match body_html {
        Some(html) => html_to_text(&cut_html(html)),
        None => body_text.to_string(),
    };
    normalize_text(&unix_newlines(&text))
}

/// What to do with a forwarded message below the writer's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forward {
    Keep,
    Drop,
}

/// CRLF and lone CR (old Mac mail) both become LF.
fn unix_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

// ---------------------------------------------------------------------------------------
// Text rules
// ---------------------------------------------------------------------------------------

/// Keeps the lines a person wrote. Walks the lines once:
/// - `>` lines are dropped wherever they are, so answers written between quotes (or
///   below them) are kept;
/// - an attribution ("On … wrote:", "Pada … menulis:", "Le … a écrit :", …) that
///   introduces a `>` block is dropped with it; one that introduces unquoted history,
///   or ends the text, ends the reply;
/// - a `-- ` signature delimiter, an "Original Message" separator, a header block
///   ("From:/Sent:", "Von:/Gesendet:", …, possibly after a rule) or a mailing-list
///   footer ends the reply;
/// - a forward separator ("---------- Forwarded message ---------") keeps everything
///   from there on as it is: the writer passes that message on;
/// - finally mobile signatures ("Sent from my iPhone", "Envoyé de mon iPhone", …) are
///   taken off the end.
fn cut_text(text: &str, forwarded: Forward) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = Vec::new();
    // Set when lines were dropped, so the blank lines around them collapse into one.
    let mut after_gap = false;
    let mut forward: &[&str] = &[];
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_quoted(line) {
            after_gap = true;
            i += 1;
            continue;
        }
        if let Some((len, kind)) = attribution_at(&lines[i..]) {
            let rest = &lines[i + len..];
            if next_content_is_quoted(rest) {
                after_gap = true;
                i += len;
                continue;
            }
            if kind == Attribution::Certain || rest.iter().all(|l| is_blank(l)) {
                break;
            }
        }
        if is_forward_start(line) {
            forward = &lines[i..];
            break;
        }
        if starts_history(&lines[i..]) {
            break;
        }
        if is_blank(line) {
            if after_gap && kept.last().is_none_or(|l| is_blank(l)) {
                i += 1;
                continue;
            }
        } else {
            after_gap = false;
        }
        kept.push(line);
        i += 1;
    }
    strip_mobile_signature(&mut kept);
    if !forward.is_empty() && forwarded == Forward::Keep {
        let gap = lines.len() - forward.len();
        if gap > 0 && is_blank(lines[gap - 1]) {
            kept.push("");
        }
        kept.extend(forward);
    }
    kept.join("\n").trim().to_string()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn next_content_is_quoted(lines: &[&str]) -> bool {
    lines
        .iter()
        .find(|l| !is_blank(l))
        .is_some_and(|l| is_quoted(l))
}

#[cfg(test)]
mod tests;

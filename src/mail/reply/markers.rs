//! Recognisers of the lines where quoted history begins: attributions ("On … wrote:" in
//! every language), header blocks ("From:/Sent:" and translations), "-----Original
//! Message-----" separators, forward separators (which are kept) and mailing-list
//! footers. Each looks at the lines from one position on; none allocates unless the
//! line could be one.

use super::lexicon::{
    ATTRIBUTION_VERBS, FORWARD_INTROS, FORWARDED_MESSAGE, FROM_LABELS, HEADER_LABELS, LIST_FOOTERS,
    LIST_MARKS, ORIGINAL_MESSAGE,
};
use super::{is_blank, is_quoted};

/// How sure a line is to be a quote attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attribution {
    /// An attribution verb with an address or a time: history follows, quoted or not.
    Certain,
    /// A date or an address ending in ':' (Gmail in Japanese, Yandex, mail.ru), or a
    /// short "Name wrote:": only when a quote or nothing at all follows.
    Likely,
}

/// Gmail wraps a long attribution; three lines are enough for the longest names.
const MAX_ATTRIBUTION_LINES: usize = 3;

/// The attribution at the start of `lines`, with the number of lines it takes.
pub(super) fn attribution_at(lines: &[&str]) -> Option<(usize, Attribution)> {
    attribution_within(lines, MAX_ATTRIBUTION_LINES)
}

/// The attribution that starts at the first of `lines` and ends within `max` lines. A
/// likely one ending in "<address>" is taken only if no longer one ends in a verb
/// ("On …, Name" / "<address>" / "wrote:").
fn attribution_within(lines: &[&str], max: usize) -> Option<(usize, Attribution)> {
    let first = lines.first()?.trim();
    if first.is_empty() || is_quoted(first) {
        return None;
    }
    // Most lines: none of the next few ends like an attribution.
    if !lines
        .iter()
        .take(max)
        .any(|l| ends_like_attribution(l.trim()))
    {
        return None;
    }
    let mut likely = None;
    for len in 1..=max.min(lines.len()) {
        let last = lines[len - 1].trim();
        if len > 1 && !continues(first, lines[len - 2].trim(), last) {
            break;
        }
        if !ends_like_attribution(last) {
            continue;
        }
        // A later line that opens with a date and is an attribution on its own is where
        // it starts ("Salam" / "On 30 Nov 2026, … wrote:").
        let later = &lines[1..];
        if len > 1
            && !first.ends_with('<')
            && later
                .first()
                .is_some_and(|l| has_date(l) || has_clock_time(l))
            && attribution_within(later, len - 1).is_some()
        {
            break;
        }
        let kind = if len == 1 {
            classify(first)
        } else {
            let joined: Vec<&str> = lines[..len].iter().map(|l| l.trim()).collect();
            classify(&joined.join(" "))
        };
        match kind {
            Some(Attribution::Certain) => return Some((len, Attribution::Certain)),
            Some(Attribution::Likely) => {
                likely = likely.or(Some((len, Attribution::Likely)));
            }
            None => break,
        }
    }
    likely
}

/// Whether `last` can be the next line of an attribution that starts with `first` and
/// has `previous` just before `last`. Gmail breaks "Name <" / "address> wrote:".
fn continues(first: &str, previous: &str, last: &str) -> bool {
    let opens =
        has_date(first) || has_clock_time(first) || first.contains('@') || first.ends_with('<');
    opens && !last.is_empty() && !is_quoted(last) && !ends_sentence(previous)
}

fn ends_sentence(line: &str) -> bool {
    line.ends_with(['.', '!', '?', ':', '：', '。'])
}

fn ends_like_attribution(line: &str) -> bool {
    let line = line.trim_end_matches(is_bidi_mark);
    line.ends_with([':', '：']) || (line.ends_with('>') && line.contains('@'))
}

/// Bidirectional marks Outlook and Gmail put around names and addresses in Arabic,
/// Hebrew and Persian text.
fn is_bidi_mark(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn classify(line: &str) -> Option<Attribution> {
    if line.len() > 600 {
        return None;
    }
    let line: String = line.chars().filter(|c| !is_bidi_mark(*c)).collect();
    let lower = line.to_lowercase();
    let address = line.contains('@');
    let time = has_clock_time(&line);
    let date = has_date(&line);
    let colon = line.ends_with([':', '：']);
    let verb = colon && ATTRIBUTION_VERBS.iter().any(|v| lower.contains(v));
    // Clients write the address in brackets, and a date with the time; prose that
    // mentions an address or a time ("… ke dinas@x.go.id, lalu mereka menulis:") is
    // at most likely.
    if verb && (bracketed_address(&line) || time && date) {
        return Some(Attribution::Certain);
    }
    if verb && (date || time || address) || address && (time || date) {
        return Some(Attribution::Likely);
    }
    let bare = lower
        .trim_end_matches([':', '：', ' '])
        .trim_end_matches("(a)");
    let short = line.chars().count() <= 80;
    (colon && short && ATTRIBUTION_VERBS.iter().any(|v| bare.ends_with(v)))
        .then_some(Attribution::Likely)
}

/// An address as clients write it in an attribution: `<a@b>`, `(a@b)`, `[mailto:a@b]`.
fn bracketed_address(line: &str) -> bool {
    line.match_indices('@').any(|(at, _)| {
        let before = line[..at].rfind(|c: char| c.is_whitespace() || "<([".contains(c));
        let after = line[at..].find(|c: char| c.is_whitespace() || ">)]".contains(c));
        let opens = before.is_some_and(|b| line[b..].starts_with(['<', '(', '[']))
            || line[..at].ends_with("mailto:")
            || before.is_some_and(|b| line[b + 1..at].starts_with("mailto:"));
        let closes = after.is_some_and(|a| line[at + a..].starts_with(['>', ')', ']']));
        opens && closes
    })
}

/// Contains something like `10:00` or `10.00`.
fn has_clock_time(line: &str) -> bool {
    line.as_bytes().windows(4).any(|w| {
        w[0].is_ascii_digit()
            && (w[1] == b':' || w[1] == b'.')
            && w[2].is_ascii_digit()
            && w[3].is_ascii_digit()
    })
}

/// Contains a year (19xx, 20xx), a numeric date (30/11/26, 2026-11-30, 30.11.2026) or
/// a CJK date.
fn has_date(line: &str) -> bool {
    if line.contains(['年', '년']) {
        return true;
    }
    let bytes = line.as_bytes();
    // The last two digit runs before the current one: (start, len).
    let mut before: [Option<(usize, usize)>; 2] = [None, None];
    let mut i = 0;
    while i < bytes.len() {
        let len = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if len > 0 {
            let run = &bytes[i..i + len];
            if len == 4 && (run.starts_with(b"19") || run.starts_with(b"20")) {
                return true;
            }
            if let [Some(a), Some(b)] = before
                && numeric_date(bytes, [a, b, (i, len)])
            {
                return true;
            }
            before = [before[1], Some((i, len))];
        }
        i += len.max(1);
    }
    false
}

/// Three digit runs joined by one '/', '.' or '-' each: d/m/y, m/d/y or y-m-d.
fn numeric_date(bytes: &[u8], runs: [(usize, usize); 3]) -> bool {
    let joined = |a: (usize, usize), b: (usize, usize)| {
        b.0 == a.0 + a.1 + 1 && matches!(bytes[a.0 + a.1], b'/' | b'.' | b'-')
    };
    let shape = matches!(
        (runs[0].1, runs[1].1, runs[2].1),
        (1..=2, 1..=2, 2 | 4) | (4, 1..=2, 1..=2)
    );
    shape && joined(runs[0], runs[1]) && joined(runs[1], runs[2])
}

/// Whether the quoted history (or a signature, or a list footer) starts at the first
/// of `lines`.
pub(super) fn starts_history(lines: &[&str]) -> bool {
    let Some(&line) = lines.first() else {
        return false;
    };
    if line == "-- "
        || header_block_at(lines)
        || is_list_footer(lines)
        || is_flattened_attribution(line)
    {
        return true;
    }
    match dashed_title(line) {
        Some(title) if ORIGINAL_MESSAGE.contains(&title.as_str()) => return true,
        Some(title) if !FORWARDED_MESSAGE.contains(&title.as_str()) => {
            return header_block_at(after_blanks(&lines[1..]));
        }
        _ => {}
    }
    is_rule(line) && header_block_at(after_blanks(&lines[1..]))
}

/// Yahoo Mail's text part puts the quoted message on the line of its attribution:
/// "  On Mon, 30 Nov 2026 at 10:00, Name<a@b> wrote:   Yth. …".
fn is_flattened_attribution(line: &str) -> bool {
    line.find(":   ")
        .is_some_and(|at| classify(line[..=at].trim()) == Some(Attribution::Certain))
}

fn after_blanks<'a, 'b>(lines: &'a [&'b str]) -> &'a [&'b str] {
    let skip = lines.iter().take_while(|l| is_blank(l)).count();
    &lines[skip..]
}

/// "---------- Forwarded message ---------", "-------- Weitergeleitete Nachricht
/// --------", "Begin forwarded message:": what follows is passed on, and kept.
pub(super) fn is_forward_start(line: &str) -> bool {
    if let Some(title) = dashed_title(line) {
        return FORWARDED_MESSAGE.contains(&title.as_str());
    }
    let line = line.trim();
    if !line.ends_with([':', '：']) || line.len() > 120 {
        return false;
    }
    let lower = line.to_lowercase();
    let intro = lower.trim_end_matches([':', '：']).trim_end();
    FORWARD_INTROS.contains(&intro)
}

/// The lowercased title of "-----Original Message-----", "-------- Pesan asli
/// --------": at least two dashes on each side.
fn dashed_title(line: &str) -> Option<String> {
    let line = line.trim();
    if !line.starts_with("--") || !line.ends_with("--") || line.len() > 120 {
        return None;
    }
    let inner = line.trim_matches('-');
    let title = inner.trim();
    (!title.is_empty() && line.len() - inner.len() >= 4).then(|| title.to_lowercase())
}

/// A line of underscores or dashes (Outlook's "______…" above its header block; an HTML
/// `<hr>` turned into text).
fn is_rule(line: &str) -> bool {
    let line = line.trim();
    line.chars().count() >= 8 && line.chars().all(|c| matches!(c, '_' | '-' | '─' | '—'))
}

/// An Outlook/Samsung/forwarding header block: "From:" (in any language) and, on the
/// next line or the one after a wrapped address, another header label. One "Dari: …"
/// line in prose is not a header block.
fn header_block_at(lines: &[&str]) -> bool {
    from_first(lines) || date_first(lines)
}

fn from_first(lines: &[&str]) -> bool {
    match lines {
        [first, second, rest @ ..] if has_label(first, FROM_LABELS) => {
            has_label(second, HEADER_LABELS)
                || (!is_blank(second)
                    && label(second).is_none()
                    && rest.first().is_some_and(|l| has_label(l, HEADER_LABELS)))
        }
        _ => false,
    }
}

/// "Date: …" / "From: …" / "To: …": some forwarding clients put the date first.
fn date_first(lines: &[&str]) -> bool {
    match lines {
        [first, second, third, ..] => {
            has_label(second, FROM_LABELS)
                && has_label(first, HEADER_LABELS)
                && has_label(third, HEADER_LABELS)
        }
        _ => false,
    }
}

fn has_label(line: &str, labels: &[&str]) -> bool {
    label(line).is_some_and(|l| labels.contains(&l.as_str()))
}

/// The lowercased label of a header line: "From: x", "**Dari:** x" (Outlook's bold as
/// html2text renders it), "*From:* x", "De : x", "发件人：x".
fn label(line: &str) -> Option<String> {
    let line = line.trim_start().trim_start_matches(['*', '_']);
    let colon = line
        .char_indices()
        .take(30)
        .find(|(_, c)| matches!(c, ':' | '：'))?
        .0;
    let name = line[..colon]
        .trim_matches(|c: char| c == '*' || c == '_' || c.is_whitespace() || is_bidi_mark(c));
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// A mailing-list or notification footer: "You received this message because you are
/// subscribed to …", "To unsubscribe …", or a rule / "--" / "—" above "… mailing list"
/// and ".../listinfo/…".
fn is_list_footer(lines: &[&str]) -> bool {
    let first = lines[0].trim();
    if first.is_empty() || first.len() > 400 {
        return false;
    }
    let starts_footer = |line: &str| {
        let line = line.trim();
        // Most lines start with a letter no footer starts with: no lowercasing for them.
        let Some(initial) = line.chars().next().and_then(|c| c.to_lowercase().next()) else {
            return false;
        };
        if !LIST_FOOTERS.iter().any(|f| f.starts_with(initial)) {
            return false;
        }
        let lower = line.to_lowercase();
        LIST_FOOTERS.iter().any(|f| lower.starts_with(f))
    };
    if first.starts_with(|c: char| c.is_alphabetic()) {
        return starts_footer(first);
    }
    if !(matches!(first, "--" | "—" | "---" | "–") || is_rule(first)) {
        return false;
    }
    lines[1..].iter().filter(|l| !is_blank(l)).take(3).any(|l| {
        let lower = l.to_lowercase();
        starts_footer(l) || LIST_MARKS.iter().any(|m| lower.contains(m))
    })
}

//! The lifecycle of a complaint as a pure state machine: what an official's reply says
//! ([`read`]), and what it does to the complaint ([`apply`]). No IO here.
//!
//! ```text
//! menunggu_disposisi ──Disposition──▶ menunggu_jawaban ──Draft──▶ menunggu_persetujuan
//! menunggu_persetujuan ──Approve──▶ selesai (answer sent to the citizen)
//! menunggu_persetujuan ──Reject──▶ menunggu_jawaban (round + 1)
//! any open status ──Close (admin)──▶ ditutup
//! ```

pub use crate::domain::lifecycle::{Stage, State};
use crate::domain::{Priority, Role, Status};

/// What a verified reply asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Disposition {
        /// The unit that prepares the answer.
        division: String,
        /// Further units named, which get a copy for information.
        copies: Vec<String>,
        instruction: String,
        priority: Option<Priority>,
    },
    Draft {
        text: String,
    },
    Approve {
        corrected: Option<String>,
    },
    Reject {
        note: String,
    },
    Close {
        reason: String,
    },
    /// The holder asks the citizen a question (`TANYA <pertanyaan>`).
    Ask {
        question: String,
    },
    /// The division hands a misrouted task back to the Kepala Dinas
    /// (`KEMBALIKAN: <alasan>`).
    HandBack {
        reason: String,
    },
}

/// Why a reply from the right person could not be read as a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misread {
    /// The Kepala Dinas named no known division (or several).
    UnknownDivision { said: String },
    /// Nothing but quoted history.
    Empty,
    /// The Kasubbag wrote neither SETUJU nor TOLAK; the admin did not write TUTUP.
    NoKeyword { expected: &'static str },
    /// `SETUJU DENGAN PERBAIKAN` with no corrected text after it.
    EmptyCorrection,
}

/// Reads the new text of a reply from `role` at `stage`. `divisions` are the configured
/// keys with their addresses.
pub fn read(
    role: &Role,
    stage: &Stage,
    text: &str,
    divisions: &[(&str, Vec<&str>)],
) -> Result<Command, Misread> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Misread::Empty);
    }
    let (first, rest) = first_word(text);
    if first.eq_ignore_ascii_case("tanya") && *role != Role::Admin {
        return match rest.trim() {
            "" => Err(Misread::NoKeyword {
                expected: "TANYA <pertanyaan untuk pelapor>",
            }),
            question => Ok(Command::Ask {
                question: question.to_string(),
            }),
        };
    }
    match (role, stage) {
        (Role::Admin, _) => {
            if first.eq_ignore_ascii_case("tutup") {
                Ok(Command::Close {
                    reason: rest.to_string(),
                })
            } else {
                Err(Misread::NoKeyword {
                    expected: "TUTUP <alasan>",
                })
            }
        }
        (Role::KepalaDinas, Stage::Disposisi) => {
            let Some((mut units, rest)) = units(text, divisions) else {
                return Err(Misread::UnknownDivision {
                    said: first.to_string(),
                });
            };
            let division = units.remove(0);
            let (priority, instruction) = Priority::strip(rest);
            Ok(Command::Disposition {
                division,
                copies: units,
                instruction: instruction.to_string(),
                priority,
            })
        }
        (Role::Bidang(_), Stage::Jawaban(_)) => match hand_back_reason(text) {
            Some("") => Err(Misread::NoKeyword {
                expected: "KEMBALIKAN: <alasan>",
            }),
            Some(reason) => Ok(Command::HandBack {
                reason: reason.to_string(),
            }),
            None => Ok(Command::Draft {
                text: text.to_string(),
            }),
        },
        (Role::KasubbagUmum, Stage::Persetujuan(_)) => decision(text, first, rest),
        _ => Err(Misread::NoKeyword {
            expected: "balasan sesuai tahap pengaduan",
        }),
    }
}

/// The reason after `KEMBALIKAN:` (or `KEMBALIKAN -`, any case) when the reply opens
/// with it; a draft that merely starts with the word ("Kembalikan dana …") is a draft.
fn hand_back_reason(text: &str) -> Option<&str> {
    let text = text.trim_start_matches(['*', '"', '\'']);
    let head = text.get(..10)?;
    if !head.eq_ignore_ascii_case("kembalikan") {
        return None;
    }
    let rest = text[10..].trim_start_matches(['*', ' ', '\t']);
    let rest = rest.strip_prefix([':', '-', '\u{2013}'])?;
    Some(rest.trim())
}

/// The configured division a word names: its key or one of its addresses (any case),
/// when exactly one matches.
fn division_of(word: &str, divisions: &[(&str, Vec<&str>)]) -> Option<String> {
    let word = word.to_ascii_lowercase();
    let matches: Vec<&str> = divisions
        .iter()
        .filter(|(key, addresses)| {
            *key == word || addresses.iter().any(|a| a.eq_ignore_ascii_case(&word))
        })
        .map(|(key, _)| *key)
        .collect();
    match matches.as_slice() {
        [division] => Some(division.to_string()),
        _ => None,
    }
}

/// The units a disposition opens with (`aptika`, `aptika, sekretariat`, `aptika dan
/// sekretariat`, `aptika + sekretariat`; the lead first) and the text after them; `None`
/// when the first word names no unit.
fn units<'t>(text: &'t str, divisions: &[(&str, Vec<&str>)]) -> Option<(Vec<String>, &'t str)> {
    let mut units: Vec<String> = Vec::new();
    let mut current = text;
    loop {
        let (word, rest) = first_word(current);
        let Some(unit) = division_of(word, divisions) else {
            break;
        };
        if !units.contains(&unit) {
            units.push(unit);
        }
        // Another unit follows only a list separator: `,`, `+`, `&` or `dan`.
        let separator = &text[offset(text, word) + word.len()..offset(text, rest)];
        let (next, after) = first_word(rest);
        current = if separator.contains(',') {
            rest
        } else if let Some(after_sign) = rest.strip_prefix(['+', '&']) {
            after_sign.trim_start()
        } else if next.eq_ignore_ascii_case("dan")
            && division_of(first_word(after).0, divisions).is_some()
        {
            after
        } else {
            current = rest;
            break;
        };
    }
    (!units.is_empty()).then_some((units, current))
}

/// Where `part` (a slice of `text`) starts in `text`.
fn offset(text: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len())
}

/// What the Kasubbag's reply may say; the approval request repeats it.
const DECISIONS: &str = "SETUJU, SETUJU DENGAN PERBAIKAN: <teks jawaban>, atau TOLAK <catatan>";

/// The Kasubbag's decision. `SETUJU` approves the draft exactly as it is, whatever
/// courtesy or signature follows the word; only a reply that opens with
/// [`CORRECTION_MARKER`] replaces the draft, with everything after the marker.
fn decision(text: &str, first: &str, rest: &str) -> Result<Command, Misread> {
    if let Some(corrected) = after_correction_marker(text) {
        return match corrected.trim() {
            "" => Err(Misread::EmptyCorrection),
            corrected => Ok(Command::Approve {
                corrected: Some(corrected.to_string()),
            }),
        };
    }
    if first.eq_ignore_ascii_case("setuju") {
        Ok(Command::Approve { corrected: None })
    } else if first.eq_ignore_ascii_case("tolak") {
        Ok(Command::Reject {
            note: rest.to_string(),
        })
    } else {
        Err(Misread::NoKeyword {
            expected: DECISIONS,
        })
    }
}

/// The words that open a corrected answer (any case, any spacing on one line, then an
/// optional `:` or `-`).
const CORRECTION_MARKER: [&str; 3] = ["setuju", "dengan", "perbaikan"];

/// The text after [`CORRECTION_MARKER`] when `text` opens with it.
fn after_correction_marker(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches(['*', '"', '“', '\'', '‘']);
    for word in CORRECTION_MARKER {
        rest = rest.trim_start_matches([' ', '\t']);
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = &rest[word.len()..];
        if rest.chars().next().is_some_and(char::is_alphanumeric) {
            return None;
        }
    }
    Some(
        rest.trim_start_matches(['*', ' ', '\t'])
            .trim_start_matches([':', '-', '–']),
    )
}

/// The first word (letters, digits, `_`, `.`, `@`, `-` inside a word) and the rest after
/// separators such as ` - `, `:`, `,`, `.` and line breaks.
fn first_word(text: &str) -> (&str, &str) {
    // HTML replies converted to text may mark emphasis (`**aptika**`) or quote the word.
    let text = text.trim_start_matches(['*', '"', '“', '\'', '‘']);
    let end = text
        .char_indices()
        .find(|(i, c)| {
            !(c.is_alphanumeric()
                || *c == '_'
                || *c == '@'
                || ((*c == '.' || *c == '-') && is_inner(text, *i)))
        })
        .map_or(text.len(), |(i, _)| i);
    let (first, rest) = text.split_at(end);
    let rest = rest.trim_start_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '-' | ':' | ',' | '.' | ';' | '!' | '–' | '—' | '*' | '"' | '”' | '\'' | '’'
            )
    });
    (first, rest.trim_end())
}

/// A `.` or `-` followed by an alphanumeric character (as in an address) is part of a word.
fn is_inner(text: &str, at: usize) -> bool {
    text[at + 1..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric)
}

/// What an accepted command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// → ask the division for a draft (by the priority's deadline, when given); send
    /// the other units named a copy.
    Disposed {
        division: String,
        copies: Vec<String>,
        instruction: String,
        priority: Option<Priority>,
    },
    /// → ask the Kasubbag to approve it.
    Drafted {
        text: String,
    },
    /// → send exactly `text` to the citizen.
    Approved {
        text: String,
    },
    /// → send the draft back to the division with the note.
    Rejected {
        note: String,
    },
    Closed {
        reason: String,
    },
    /// → send the question to the citizen; their reply reaches the holder as a
    /// follow-up. The status does not change.
    Asked {
        question: String,
    },
    /// → ask the Kepala Dinas for a new disposition, with the division's reason.
    HandedBack {
        division: String,
        reason: String,
    },
}

/// Why a command cannot apply to the complaint as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

pub fn apply(state: &State, command: Command) -> Result<(State, Transition), Refusal> {
    let mut next = state.clone();
    let transition = match (state.status, command) {
        (status, Command::Ask { question }) if status.is_open() => Transition::Asked { question },
        (status, Command::Close { reason }) if status.is_open() => {
            next.status = Status::Ditutup;
            next.draft = None;
            Transition::Closed { reason }
        }
        (
            Status::MenungguDisposisi,
            Command::Disposition {
                division,
                copies,
                instruction,
                priority,
            },
        ) => {
            next.status = Status::MenungguJawaban;
            next.division = Some(division.clone());
            // A new round each time, so a task handed back earlier is stale.
            next.round = state.round + 1;
            Transition::Disposed {
                division,
                copies,
                instruction,
                priority,
            }
        }
        (Status::MenungguJawaban, Command::HandBack { reason }) => {
            next.status = Status::MenungguDisposisi;
            next.division = None;
            next.draft = None;
            Transition::HandedBack {
                division: state.division.clone().unwrap_or_default(),
                reason,
            }
        }
        (Status::MenungguJawaban, Command::Draft { text }) => {
            next.status = Status::MenungguPersetujuan;
            next.draft = Some(text.clone());
            Transition::Drafted { text }
        }
        (Status::MenungguPersetujuan, Command::Approve { corrected }) => {
            let text = corrected
                .or_else(|| state.draft.clone())
                .ok_or(Refusal("no draft to approve"))?;
            next.status = Status::Selesai;
            next.draft = None;
            Transition::Approved { text }
        }
        (Status::MenungguPersetujuan, Command::Reject { note }) => {
            next.status = Status::MenungguJawaban;
            next.round = state.round + 1;
            next.draft = None;
            Transition::Rejected { note }
        }
        _ => {
            return Err(Refusal(
                "this reply does not fit the complaint's current stage",
            ));
        }
    };
    Ok((next, transition))
}

#[cfg(test)]
mod tests;

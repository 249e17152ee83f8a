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
mod tests {
    use super::*;

    fn divisions() -> Vec<(&'static str, Vec<&'static str>)> {
        vec![
            ("aptika", vec!["kabid.aptika@kaltaraprov.go.id"]),
            ("sekretariat", vec!["sekretaris@kaltaraprov.go.id"]),
        ]
    }

    fn state(status: Status) -> State {
        State {
            status,
            division: Some("aptika".into()),
            round: 1,
            draft: Some("Draf jawaban.".into()),
        }
    }

    #[test]
    fn kepala_dinas_names_a_division_naturally() {
        let read = |text| read(&Role::KepalaDinas, &Stage::Disposisi, text, &divisions());
        assert_eq!(
            read("aptika - mohon ditindaklanjuti"),
            Ok(Command::Disposition {
                division: "aptika".into(),
                copies: Vec::new(),
                instruction: "mohon ditindaklanjuti".into(),
                priority: None,
            })
        );
        assert_eq!(
            read("Aptika."),
            Ok(Command::Disposition {
                division: "aptika".into(),
                copies: Vec::new(),
                instruction: String::new(),
                priority: None,
            })
        );
        assert_eq!(
            read("kabid.aptika@kaltaraprov.go.id: segera"),
            Ok(Command::Disposition {
                division: "aptika".into(),
                copies: Vec::new(),
                instruction: String::new(),
                priority: Some(Priority::Segera),
            }),
            "a priority, not an instruction"
        );
        assert_eq!(
            read("humas tolong"),
            Err(Misread::UnknownDivision {
                said: "humas".into()
            })
        );
        assert_eq!(read("  "), Err(Misread::Empty));
        assert_eq!(
            read("**sekretariat** - koordinasikan"),
            Ok(Command::Disposition {
                division: "sekretariat".into(),
                copies: Vec::new(),
                instruction: "koordinasikan".into(),
                priority: None,
            }),
            "bold from an HTML reply"
        );
        assert_eq!(
            read("aptika – mohon dicek"),
            Ok(Command::Disposition {
                division: "aptika".into(),
                copies: Vec::new(),
                instruction: "mohon dicek".into(),
                priority: None,
            }),
            "Outlook's AutoCorrect dash"
        );
    }

    #[test]
    fn a_disposition_may_name_several_units_the_lead_first() {
        let read = |text| read(&Role::KepalaDinas, &Stage::Disposisi, text, &divisions());
        let disposition = |division: &str, copies: &[&str], instruction: &str, priority| {
            Ok(Command::Disposition {
                division: division.into(),
                copies: copies.iter().map(|c| c.to_string()).collect(),
                instruction: instruction.into(),
                priority,
            })
        };
        assert_eq!(
            read("aptika, sekretariat segera - koordinasikan"),
            disposition(
                "aptika",
                &["sekretariat"],
                "koordinasikan",
                Some(Priority::Segera)
            )
        );
        assert_eq!(
            read("Sekretariat dan aptika: cek bersama"),
            disposition("sekretariat", &["aptika"], "cek bersama", None)
        );
        assert_eq!(
            read("aptika + sekretaris@kaltaraprov.go.id"),
            disposition("aptika", &["sekretariat"], "", None)
        );
        assert_eq!(
            read("aptika - sekretariat sudah tahu, mohon dicek"),
            disposition("aptika", &[], "sekretariat sudah tahu, mohon dicek", None),
            "after a dash, words are the instruction"
        );
        assert_eq!(
            read("aptika, mohon dicek dan aptika lagi"),
            disposition("aptika", &[], "mohon dicek dan aptika lagi", None)
        );
        assert_eq!(read("aptika, aptika"), disposition("aptika", &[], "", None));
    }

    #[test]
    fn a_division_hands_a_misrouted_task_back() {
        let read = |text| {
            read(
                &Role::Bidang("aptika".into()),
                &Stage::Jawaban(1),
                text,
                &divisions(),
            )
        };
        assert_eq!(
            read("KEMBALIKAN: ini urusan Dinas PU"),
            Ok(Command::HandBack {
                reason: "ini urusan Dinas PU".into()
            })
        );
        assert!(matches!(
            read("kembalikan -"),
            Err(Misread::NoKeyword { .. })
        ));
        assert_eq!(
            read("Kembalikan dana warga sudah diproses."),
            Ok(Command::Draft {
                text: "Kembalikan dana warga sudah diproses.".into()
            }),
            "a draft that starts with the word"
        );
        let (next, transition) = apply(
            &state(Status::MenungguJawaban),
            Command::HandBack {
                reason: "salah".into(),
            },
        )
        .expect("handed back");
        assert_eq!(
            (next.status, next.division.clone(), next.round),
            (Status::MenungguDisposisi, None, 1)
        );
        assert_eq!(
            transition,
            Transition::HandedBack {
                division: "aptika".into(),
                reason: "salah".into()
            }
        );
        let (again, _) = apply(
            &next,
            Command::Disposition {
                division: "sekretariat".into(),
                copies: Vec::new(),
                instruction: String::new(),
                priority: None,
            },
        )
        .expect("disposed again");
        assert_eq!(again.round, 2, "the old task's round is stale");
    }

    #[test]
    fn kasubbag_approves_corrects_or_rejects() {
        let read = |text| {
            read(
                &Role::KasubbagUmum,
                &Stage::Persetujuan(1),
                text,
                &divisions(),
            )
        };
        assert_eq!(read("Setuju."), Ok(Command::Approve { corrected: None }));
        assert_eq!(read("SETUJU"), Ok(Command::Approve { corrected: None }));
        assert_eq!(
            read("Setuju, terima kasih.\n\nSalam,\nBudi\nKasubbag Umum"),
            Ok(Command::Approve { corrected: None }),
            "courtesy and a signature after SETUJU approve the draft as it is"
        );
        assert_eq!(
            read("setuju:\nTeks lain di bawahnya."),
            Ok(Command::Approve { corrected: None }),
            "only the marker replaces the draft"
        );
        assert_eq!(
            read("SETUJU DENGAN PERBAIKAN:\nTeks perbaikan.\n\nSalam."),
            Ok(Command::Approve {
                corrected: Some("Teks perbaikan.\n\nSalam.".into())
            })
        );
        assert_eq!(
            read("**Setuju  dengan perbaikan** - Teks perbaikan."),
            Ok(Command::Approve {
                corrected: Some("Teks perbaikan.".into())
            }),
            "any case and spacing, bold from HTML"
        );
        assert_eq!(
            read("SETUJU DENGAN PERBAIKAN:\n   "),
            Err(Misread::EmptyCorrection)
        );
        assert_eq!(
            read("Setuju dengan perbaikannya nanti."),
            Ok(Command::Approve { corrected: None }),
            "a longer word is not the marker"
        );
        assert_eq!(
            read("TOLAK - lengkapi lokasi"),
            Ok(Command::Reject {
                note: "lengkapi lokasi".into()
            })
        );
        assert!(matches!(read("Baik pak"), Err(Misread::NoKeyword { .. })));
        assert!(
            matches!(read("Setujui"), Err(Misread::NoKeyword { .. })),
            "a different word is not SETUJU"
        );
    }

    #[test]
    fn admin_closes_with_a_reason() {
        assert_eq!(
            read(
                &Role::Admin,
                &Stage::Jawaban(1),
                "TUTUP: spam",
                &divisions()
            ),
            Ok(Command::Close {
                reason: "spam".into()
            })
        );
    }

    #[test]
    fn the_lifecycle_runs_to_the_answer() {
        let start = State {
            status: Status::MenungguDisposisi,
            division: None,
            round: 0,
            draft: None,
        };
        let (s, t) = apply(
            &start,
            Command::Disposition {
                division: "aptika".into(),
                copies: Vec::new(),
                instruction: "cek".into(),
                priority: None,
            },
        )
        .expect("dispose");
        assert_eq!(
            (s.status, s.round, s.division.as_deref()),
            (Status::MenungguJawaban, 1, Some("aptika"))
        );
        assert!(matches!(t, Transition::Disposed { .. }));
        let (s, _) = apply(
            &s,
            Command::Draft {
                text: "Draf 1".into(),
            },
        )
        .expect("draft");
        assert_eq!(s.status, Status::MenungguPersetujuan);
        let (s, t) = apply(
            &s,
            Command::Reject {
                note: "kurang".into(),
            },
        )
        .expect("reject");
        assert_eq!((s.status, s.round), (Status::MenungguJawaban, 2));
        assert_eq!(
            t,
            Transition::Rejected {
                note: "kurang".into()
            }
        );
        let (s, _) = apply(
            &s,
            Command::Draft {
                text: "Draf 2".into(),
            },
        )
        .expect("draft");
        let (s, t) = apply(&s, Command::Approve { corrected: None }).expect("approve");
        assert_eq!(s.status, Status::Selesai);
        assert_eq!(
            t,
            Transition::Approved {
                text: "Draf 2".into()
            }
        );
    }

    #[test]
    fn corrected_text_replaces_the_draft() {
        let (_, t) = apply(
            &state(Status::MenungguPersetujuan),
            Command::Approve {
                corrected: Some("Perbaikan".into()),
            },
        )
        .expect("approve");
        assert_eq!(
            t,
            Transition::Approved {
                text: "Perbaikan".into()
            }
        );
    }

    #[test]
    fn commands_out_of_stage_are_refused() {
        assert!(
            apply(
                &state(Status::MenungguDisposisi),
                Command::Approve { corrected: None }
            )
            .is_err()
        );
        assert!(
            apply(
                &state(Status::Selesai),
                Command::Close { reason: "x".into() }
            )
            .is_err()
        );
        assert!(
            apply(
                &state(Status::MenungguJawaban),
                Command::Disposition {
                    division: "a".into(),
                    copies: Vec::new(),
                    instruction: String::new(),
                    priority: None,
                }
            )
            .is_err()
        );
        assert_eq!(
            State {
                round: 3,
                ..state(Status::MenungguJawaban)
            }
            .stage(),
            Some(Stage::Jawaban(3))
        );
        assert_eq!(state(Status::Ditutup).stage(), None);
    }
}

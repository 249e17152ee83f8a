//! The lifecycle's vocabulary, shared by the layers: who acts ([`Role`]), at which step
//! ([`Stage`]), where a complaint stands ([`State`]), and a notification a reply names
//! ([`Referenced`]). The rules that move a complaint are in `office::workflow`.

use super::Status;

/// A role in the procedure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    KepalaDinas,
    KasubbagUmum,
    Bidang(String),
}

impl Role {
    /// The stable name stored with notifications and used in tokens.
    pub fn key(&self) -> String {
        match self {
            Role::Admin => "admin".into(),
            Role::KepalaDinas => "kepala_dinas".into(),
            Role::KasubbagUmum => "kasubbag_umum".into(),
            Role::Bidang(key) => format!("bidang:{key}"),
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        match key {
            "admin" => Some(Role::Admin),
            "kepala_dinas" => Some(Role::KepalaDinas),
            "kasubbag_umum" => Some(Role::KasubbagUmum),
            _ => key
                .strip_prefix("bidang:")
                .map(|k| Role::Bidang(k.to_string())),
        }
    }
}

/// How urgent the Kepala Dinas says a complaint is: it sets the deadline
/// (`sla.priority_hours`, never beyond 72 hours from receipt). The strings are stored
/// and part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    SangatSegera,
    Segera,
    Biasa,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::SangatSegera => "sangat_segera",
            Priority::Segera => "segera",
            Priority::Biasa => "biasa",
        }
    }

    /// How officials read it.
    pub fn label(self) -> &'static str {
        match self {
            Priority::SangatSegera => "sangat segera",
            Priority::Segera => "segera",
            Priority::Biasa => "biasa",
        }
    }

    /// The priority that `text` opens with (`sangat segera`, `segera`, `biasa`, any case,
    /// as whole words), and the text after it.
    pub fn strip(text: &str) -> (Option<Priority>, &str) {
        let mut words = text.split_whitespace();
        let word = |w: Option<&str>| {
            w.map(|w| {
                w.trim_end_matches([',', '.', ':', ';'])
                    .to_ascii_lowercase()
            })
        };
        let (priority, used) = match (word(words.next()).as_deref(), word(words.next()).as_deref())
        {
            (Some("sangat"), Some("segera")) => (Priority::SangatSegera, 2),
            (Some("segera"), _) => (Priority::Segera, 1),
            (Some("biasa"), _) => (Priority::Biasa, 1),
            _ => return (None, text),
        };
        let mut rest = text.trim_start();
        for _ in 0..used {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = rest[end..].trim_start();
        }
        let rest = rest
            .trim_start_matches(['-', '\u{2013}', '\u{2014}', ':', ','])
            .trim_start();
        (Some(priority), rest)
    }
}

/// What the worker knows of a complaint's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    pub division: Option<String>,
    /// Draft round: 0 before the disposition, 1 after it, +1 per rejection.
    pub round: u32,
    /// The latest draft's text, when one is waiting for approval.
    pub draft: Option<String>,
}

/// The step a notification asks its recipient to take. Tokens cover it, so a reply to
/// an earlier step cannot act on a later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Disposisi,
    Jawaban(u32),
    Persetujuan(u32),
}

impl Stage {
    pub fn key(&self) -> String {
        match self {
            Stage::Disposisi => "disposisi".into(),
            Stage::Jawaban(round) => format!("jawaban:{round}"),
            Stage::Persetujuan(round) => format!("persetujuan:{round}"),
        }
    }

    /// The role that acts at this stage.
    pub fn holder(&self, division: Option<&str>) -> Option<Role> {
        match self {
            Stage::Disposisi => Some(Role::KepalaDinas),
            Stage::Jawaban(_) => division.map(|d| Role::Bidang(d.to_string())),
            Stage::Persetujuan(_) => Some(Role::KasubbagUmum),
        }
    }
}

impl State {
    /// The stage the complaint waits at; `None` once it is finished.
    pub fn stage(&self) -> Option<Stage> {
        match self.status {
            Status::MenungguDisposisi => Some(Stage::Disposisi),
            Status::MenungguJawaban => Some(Stage::Jawaban(self.round)),
            Status::MenungguPersetujuan => Some(Stage::Persetujuan(self.round)),
            Status::Selesai | Status::Ditutup => None,
        }
    }
}

/// A notification named by a reply's In-Reply-To/References, as recorded when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referenced {
    pub complaint_id: i64,
    pub number: String,
    pub stage: String,
    pub role: String,
    pub recipient: String,
    /// The first label of its Message-ID (`disp`, `tahan`, …; see `compose::PURPOSES`).
    pub purpose: String,
    /// The token found in the Message-ID the reply named.
    pub token: String,
}

/// The Kasubbag's decision on a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// `text` goes to the citizen exactly; `sha256` is its hash.
    Approved { text: &'a str, sha256: &'a str },
    /// The draft goes back with `note`.
    Rejected { note: &'a str },
}

impl Decision<'_> {
    /// As stored and shown (`show --json` `decisions[].decision`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Approved { .. } => "setuju",
            Decision::Rejected { .. } => "tolak",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_priority_opens_the_instruction() {
        assert_eq!(
            Priority::strip("Sangat segera - cek lokasi"),
            (Some(Priority::SangatSegera), "cek lokasi")
        );
        assert_eq!(
            Priority::strip("segera, mohon dicek"),
            (Some(Priority::Segera), "mohon dicek")
        );
        assert_eq!(Priority::strip("BIASA"), (Some(Priority::Biasa), ""));
        assert_eq!(Priority::strip("- mohon segera"), (None, "- mohon segera"));
        assert_eq!(Priority::strip("sangat penting"), (None, "sangat penting"));
        assert_eq!(Priority::strip("segeralah"), (None, "segeralah"));
    }
}

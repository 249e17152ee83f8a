//! A citizen asking where their complaint stands (`STATUS`, `cek status ADU-2026-00042`,
//! "bagaimana perkembangan laporan saya?"). [`read`] is pure: it recognises a message
//! that is *only* that question, so a real follow-up that also asks is never swallowed.
//!
//! The rule: the message's new text (or, when it has none, its subject), with register
//! numbers taken out, is at most [`MAX_WORDS`] words; it has at least one word that asks
//! for the status ([`ASKING`], or "sampai mana"); every other word is one of the few words such a question
//! is written with ([`FILLER`]: greetings, courtesy, "laporan saya", "sudah sampai
//! mana"). A last line of at most three words (a name under the question) is read as a
//! signature and ignored. A message with any other word, or with files, is a follow-up.

use crate::domain::RegisterNumber;

/// A status question is short.
pub const MAX_WORDS: usize = 16;

/// Words that ask for the status; a question has at least one.
const ASKING: &[&str] = &[
    "status",
    "statusnya",
    "cekstatus",
    "perkembangan",
    "perkembangannya",
    "progres",
    "progress",
    "progresnya",
    "kabar",
    "kabarnya",
    "sejauh",
    "ditindaklanjuti",
    "diproses",
    "prosesnya",
];

/// Words a status question is written with, besides the asking ones.
const FILLER: &[&str] = &[
    "cek",
    "check",
    "mohon",
    "minta",
    "info",
    "informasi",
    "tolong",
    "bagaimana",
    "bagaimanakah",
    "gimana",
    "bgmn",
    "bgm",
    "apa",
    "apakah",
    "sudah",
    "udah",
    "sdh",
    "belum",
    "blm",
    "sampai",
    "sampe",
    "mana",
    "laporan",
    "laporannya",
    "pengaduan",
    "pengaduannya",
    "aduan",
    "keluhan",
    "saya",
    "sy",
    "kami",
    "aku",
    "nomor",
    "no",
    "nomer",
    "register",
    "registrasi",
    "yth",
    "halo",
    "hai",
    "hallo",
    "selamat",
    "pagi",
    "siang",
    "sore",
    "malam",
    "assalamualaikum",
    "terima",
    "kasih",
    "makasih",
    "trims",
    "thanks",
    "tks",
    "pak",
    "bu",
    "bapak",
    "ibu",
    "admin",
    "min",
    "dengan",
    "untuk",
    "atas",
    "dari",
    "yang",
    "ini",
    "itu",
    "tersebut",
    "ya",
    "dong",
    "sih",
    "kah",
    "bisa",
    "dan",
    "di",
    "ke",
    "proses",
    "tindak",
    "lanjut",
    "tentang",
    "mengenai",
    "terkini",
    "terakhir",
    "saat",
    "sekarang",
    "how",
    "is",
    "my",
    "complaint",
    "what",
    "the",
    "of",
    "please",
    "hari",
    "kapan",
    "dijawab",
    "jawaban",
    "lapor",
    "tanya",
    "menanyakan",
    "ingin",
    "mau",
];

/// What a status question names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inquiry {
    /// The register number written in the question, if any.
    pub number: Option<RegisterNumber>,
}

/// Whether `text` (a message's new text, or its subject when that is empty) is only a
/// status question; `prefix` is the register numbers' prefix.
pub fn read(prefix: &str, text: &str, subject: &str) -> Option<Inquiry> {
    let mut number = RegisterNumber::find_in_subject(prefix, subject);
    let body = text.trim();
    let source = if body.is_empty() {
        strip_reply_prefixes(subject)
    } else {
        body
    };
    let lines: Vec<&str> = source.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut words: Vec<Vec<String>> = lines.iter().map(|l| words_of(l)).collect();
    if words.len() > 1 && words.last().is_some_and(|last| last.len() <= 3) {
        words.pop();
    }
    let all: Vec<&String> = words.iter().flatten().collect();
    // "sudah sampai mana?" asks without an asking word.
    let mut asked = all
        .windows(2)
        .any(|w| matches!(w[0].as_str(), "sampai" | "sampe") && w[1] == "mana");
    let mut count = 0;
    for word in all {
        if let Some(found) = RegisterNumber::parse(prefix, word) {
            number = Some(found);
            continue;
        }
        count += 1;
        if ASKING.contains(&word.as_str()) {
            asked = true;
        } else if !FILLER.contains(&word.as_str()) {
            return None;
        }
    }
    (asked && count <= MAX_WORDS).then_some(Inquiry { number })
}

/// The words of a line, lower case, without surrounding punctuation; a register number
/// (`ADU-2026-00042`, also in brackets) stays one word.
fn words_of(line: &str) -> Vec<String> {
    line.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// A subject without `Re:`/`Fwd:` prefixes and without the bracketed register number.
fn strip_reply_prefixes(subject: &str) -> &str {
    let mut rest = subject.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        match ["re:", "aw:", "balas:", "fwd:", "fw:"]
            .iter()
            .find(|p| lower.starts_with(**p))
        {
            Some(p) => rest = rest[p.len()..].trim_start(),
            None => return rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(text: &str) -> bool {
        read("ADU", text, "").is_some()
    }

    #[test]
    fn short_status_questions_are_recognised() {
        for text in [
            "STATUS",
            "status?",
            "cek status ADU-2026-00042",
            "bagaimana perkembangan laporan saya",
            "Selamat pagi, bagaimana perkembangan laporan saya? Terima kasih",
            "Mohon info status pengaduan [ADU-2026-00042]",
            "Sudah sampai mana pengaduan saya?",
            "Bagaimana perkembangan laporan saya?\n\nAhmad Fauzi",
        ] {
            assert!(asks(text), "{text}");
        }
        assert_eq!(
            read("ADU", "cek status ADU-2026-00042", "").map(|i| i.number),
            Some(Some(RegisterNumber::new("ADU", 2026, 42)))
        );
        assert_eq!(
            read("ADU", "", "Re: STATUS [ADU-2026-00007]").map(|i| i.number),
            Some(Some(RegisterNumber::new("ADU", 2026, 7))),
            "an empty body asks with its subject"
        );
    }

    #[test]
    fn follow_ups_that_also_ask_are_not_swallowed() {
        for text in [
            "Bagaimana perkembangan laporan saya? Lubangnya makin besar.",
            "Status: jalan sudah rusak lagi di depan rumah nomor 5",
            "Saya lampirkan foto terbaru",
            "terima kasih",
            "Mohon info, apakah laporan saya sudah diteruskan ke dinas PU? Saya juga ingin menambahkan bahwa lampu jalan mati",
            "",
        ] {
            assert!(!asks(text), "{text}");
        }
    }

    #[test]
    fn a_long_question_is_a_follow_up() {
        let long = "mohon info ".repeat(MAX_WORDS) + "status";
        assert!(!asks(&long));
    }
}

//! The satisfaction survey (Survei Kepuasan Masyarakat, PermenPAN-RB 14/2017) by reply to
//! the answer: [`read`] is pure and recognises a rating, so anything else stays a
//! follow-up.
//!
//! A rating is either a single digit 1–4 (alone on the first line, or followed by a
//! separator and a comment: `4`, `3 - cukup cepat`, `Nilai: 4`), or the full form of
//! nine elements, one line each (`U1 Persyaratan: 4` … `U9 Sarana dan prasarana: 3`),
//! all nine answered 1–4; its score is their mean. Other lines are the comment (a
//! `Saran:` label is dropped). "3 tiang lampu masih mati" is not a rating.

/// The nine elements of the survey, in order (the form's labels).
pub const ELEMENTS: [&str; 9] = [
    "Persyaratan",
    "Sistem, mekanisme, dan prosedur",
    "Waktu penyelesaian",
    "Biaya/tarif",
    "Produk spesifikasi jenis pelayanan",
    "Kompetensi pelaksana",
    "Perilaku pelaksana",
    "Penanganan pengaduan, saran dan masukan",
    "Sarana dan prasarana",
];

const MAX_COMMENT_CHARS: usize = 2000;

/// A citizen's rating of how their complaint was handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// The nine answers of the full form; one digit stands for all nine.
    pub elements: Option<[u8; 9]>,
    /// The single digit, when that is what they answered.
    pub digit: Option<u8>,
    pub comment: Option<String>,
}

impl Rating {
    /// 1–4: the digit, or the mean of the nine elements.
    pub fn score(&self) -> f64 {
        match (self.digit, &self.elements) {
            (Some(digit), _) => f64::from(digit),
            (None, Some(elements)) => {
                f64::from(elements.iter().map(|&e| u32::from(e)).sum::<u32>()) / 9.0
            }
            (None, None) => 0.0,
        }
    }
}

/// Reads a reply's new text as a rating, if it is one.
pub fn read(text: &str) -> Option<Rating> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let first = *lines.first()?;
    if let Some(rating) = full_form(&lines) {
        return Some(rating);
    }
    let (score, rest) = single_digit(first)?;
    let mut comment: Vec<&str> = Vec::new();
    if !rest.is_empty() {
        comment.push(rest);
    }
    comment.extend(lines[1..].iter().copied());
    Some(Rating {
        digit: Some(score),
        elements: None,
        comment: joined(&comment),
    })
}

/// `4`, `4.`, `4 - komentar`, `nilai: 4`, `skor 3, komentar`: the digit and the comment
/// after it on the line.
fn single_digit(line: &str) -> Option<(u8, &str)> {
    let lower = line.to_lowercase();
    let mut rest = line;
    for label in ["nilai", "skor", "rating", "penilaian"] {
        if lower.starts_with(label) {
            rest = line[label.len()..].trim_start_matches([' ', ':', '=']);
            break;
        }
    }
    let mut chars = rest.chars();
    let digit = chars.next()?.to_digit(10)?;
    if !(1..=4).contains(&digit) {
        return None;
    }
    let after = chars.as_str();
    let comment = match after.chars().next() {
        None => "",
        Some(c) if matches!(c, '-' | ':' | '.' | ',' | ')' | '/' | '–') => {
            after[c.len_utf8()..].trim_start_matches(['-', ' ']).trim()
        }
        Some(' ') => {
            let trimmed = after.trim_start();
            let next = trimmed.chars().next();
            if next.is_some_and(|c| matches!(c, '-' | ':' | '–' | '(')) {
                trimmed[next.map_or(0, char::len_utf8)..].trim()
            } else {
                return None;
            }
        }
        Some(_) => return None,
    };
    Some((digit as u8, comment))
}

/// All nine `U<n> …: <1-4>` lines; the other lines are the comment.
fn full_form(lines: &[&str]) -> Option<Rating> {
    let mut elements = [0u8; 9];
    let mut comment = Vec::new();
    for line in lines {
        match element(line) {
            Some((index, value)) => elements[index] = value,
            None => comment.push(*line),
        }
    }
    if elements.contains(&0) {
        return None;
    }
    Some(Rating {
        digit: None,
        elements: Some(elements),
        comment: joined(&comment),
    })
}

/// `U3 Waktu penyelesaian: 4` → (2, 4).
fn element(line: &str) -> Option<(usize, u8)> {
    let mut chars = line.chars();
    if !matches!(chars.next()?, 'U' | 'u') {
        return None;
    }
    let number = chars.next()?.to_digit(10)?;
    if !(1..=9).contains(&number) || chars.next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    let value = line.rsplit([':', ' ', '=']).next()?.trim();
    let value: u8 = value.parse().ok()?;
    (1..=4)
        .contains(&value)
        .then_some((number as usize - 1, value))
}

fn joined(lines: &[&str]) -> Option<String> {
    let text = lines
        .iter()
        .map(|l| {
            let lower = l.to_lowercase();
            if lower.starts_with("saran") {
                l[5..].trim_start_matches([' ', ':']).trim()
            } else {
                l
            }
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    (!text.is_empty()).then(|| text.chars().take(MAX_COMMENT_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_digit_is_a_rating() {
        assert_eq!(read("4").map(|r| r.score()), Some(4.0));
        let rated = read("3 - cukup cepat, terima kasih").expect("a rating");
        assert_eq!(rated.score(), 3.0);
        assert_eq!(rated.comment.as_deref(), Some("cukup cepat, terima kasih"));
        assert_eq!(read("Nilai: 2").map(|r| r.score()), Some(2.0));
        let with_lines = read("1\nJawaban tidak menyelesaikan masalah").expect("a rating");
        assert_eq!(
            with_lines.comment.as_deref(),
            Some("Jawaban tidak menyelesaikan masalah")
        );
    }

    #[test]
    fn the_full_form_is_averaged() {
        let form = "U1 Persyaratan: 4\nU2 Prosedur: 4\nU3 Waktu: 3\nU4 Biaya: 4\nU5 Produk: 3\n\
                    U6 Kompetensi: 4\nU7 Perilaku: 4\nU8 Pengaduan: 3\nU9 Sarana: 4\nSaran: pertahankan";
        let rated = read(form).expect("a rating");
        assert_eq!(rated.elements, Some([4, 4, 3, 4, 3, 4, 4, 3, 4]));
        assert!((rated.score() - 33.0 / 9.0).abs() < 1e-9);
        assert_eq!(rated.comment.as_deref(), Some("pertahankan"));
    }

    #[test]
    fn follow_ups_are_not_ratings() {
        for text in [
            "3 tiang lampu masih mati",
            "5",
            "0",
            "Terima kasih",
            "12 Desember saya ke kantor",
            "U1 Persyaratan: 4\nU2 Prosedur: 4",
            "",
        ] {
            assert_eq!(read(text), None, "{text}");
        }
    }
}

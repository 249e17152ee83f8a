//! The NIK (Nomor Induk Kependudukan), a citizen's identity number: personal data
//! (UU 27/2022), shown in full only where the office needs it.

use std::fmt;

use chrono::NaiveDate;

/// Province codes of the NIK's first two digits (Kemendagri), Papua's newest included.
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53, 61, 62, 63, 64, 65,
    71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96,
];

/// A NIK whose structure is valid: 16 digits, a real province code, a date of birth
/// that exists (the day plus 40 for women), a serial other than 0000.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nik(String);

/// Why a text is not a valid NIK (said to the administrator in Bahasa Indonesia).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NikProblem {
    NotSixteenDigits,
    UnknownProvince,
    NoSuchBirthDate,
    ZeroSerial,
}

impl NikProblem {
    pub fn explain(self) -> &'static str {
        match self {
            NikProblem::NotSixteenDigits => "NIK harus 16 angka",
            NikProblem::UnknownProvince => "dua angka pertama NIK bukan kode provinsi",
            NikProblem::NoSuchBirthDate => {
                "angka ke-7 s.d. ke-12 NIK bukan tanggal lahir yang sah (DDMMYY; perempuan DD+40)"
            }
            NikProblem::ZeroSerial => "empat angka terakhir NIK tidak boleh 0000",
        }
    }
}

impl Nik {
    /// Reads a NIK, allowing spaces, dots and dashes between the digits.
    pub fn parse(text: &str) -> Result<Nik, NikProblem> {
        let text = text.trim();
        if !text
            .chars()
            .all(|c| c.is_ascii_digit() || " .-".contains(c))
        {
            return Err(NikProblem::NotSixteenDigits);
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if digits.len() != 16 {
            return Err(NikProblem::NotSixteenDigits);
        }
        let number = |range: std::ops::Range<usize>| digits[range].parse::<u32>().unwrap_or(0);
        if !PROVINCES.contains(&(number(0..2) as u8)) {
            return Err(NikProblem::UnknownProvince);
        }
        let day = match number(6..8) {
            day @ 41..=71 => day - 40,
            day => day,
        };
        let (month, year) = (number(8..10), number(10..12) as i32);
        let exists = [1900, 2000]
            .iter()
            .any(|century| NaiveDate::from_ymd_opt(century + year, month, day).is_some());
        if !exists {
            return Err(NikProblem::NoSuchBirthDate);
        }
        if number(12..16) == 0 {
            return Err(NikProblem::ZeroSerial);
        }
        Ok(Nik(digits))
    }

    /// The full number: only for the register and the administrator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `6504********0003`: what logs, officials and JSON see.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..4], &self.0[12..])
    }

    /// A number read back from the register, where only valid numbers are written.
    pub(crate) fn from_stored(text: String) -> Nik {
        Nik(text)
    }
}

/// Runs of exactly 16 digits in `text` (not part of a longer number), with their range.
fn sixteen_digit_runs(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            if !bytes[at].is_ascii_digit() {
                at += 1;
                continue;
            }
            let start = at;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                at += 1;
            }
            if at - start == 16 {
                return Some((start..at, &text[start..at]));
            }
        }
        None
    })
}

/// The first valid NIK written in `text` (16 digits in a row).
pub fn find_in(text: &str) -> Option<Nik> {
    sixteen_digit_runs(text).find_map(|(_, digits)| Nik::parse(digits).ok())
}

/// `text` with every valid NIK in it masked (what officials and JSON see of a citizen's
/// message).
pub fn mask_in(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut from = 0;
    for (range, digits) in sixteen_digit_runs(text) {
        if let Ok(nik) = Nik::parse(digits) {
            masked.push_str(&text[from..range.start]);
            masked.push_str(&nik.masked());
            from = range.end;
        }
    }
    masked.push_str(&text[from..]);
    masked
}

/// Masked, so that a NIK never reaches a log by accident.
impl fmt::Debug for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nik({})", self.masked())
    }
}

impl fmt::Display for Nik {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn niks_are_found_and_masked_in_text() {
        let text = "NIK saya 6504015208900003, HP 081254310987, rek 65040152089000031.";
        assert_eq!(
            find_in(text).map(|n| n.expose().to_string()).as_deref(),
            Some("6504015208900003")
        );
        assert_eq!(
            mask_in(text),
            "NIK saya 6504********0003, HP 081254310987, rek 65040152089000031."
        );
        assert_eq!(find_in("9904011208900003 only an invalid one"), None);
        assert_eq!(mask_in("tanpa nomor"), "tanpa nomor");
    }

    #[test]
    fn a_nik_has_a_province_a_birth_date_and_a_serial() {
        let man = Nik::parse("6504 0112 0890 0003").expect("valid");
        assert_eq!(man.expose(), "6504011208900003");
        assert_eq!(man.masked(), "6504********0003");
        assert_eq!(
            format!("{man} {man:?}"),
            "6504********0003 Nik(6504********0003)"
        );
        Nik::parse("6504015208900003").expect("a woman born on the 12th: 52");
        Nik::parse("6504012902000001").expect("29 February 2000");
        for (text, problem) in [
            ("650401120890000", NikProblem::NotSixteenDigits),
            ("65040112089000031", NikProblem::NotSixteenDigits),
            ("650401120890000a", NikProblem::NotSixteenDigits),
            ("9904011208900003", NikProblem::UnknownProvince),
            ("6504013208900003", NikProblem::NoSuchBirthDate),
            ("6504017208900003", NikProblem::NoSuchBirthDate),
            ("6504011213900003", NikProblem::NoSuchBirthDate),
            ("6504013102900003", NikProblem::NoSuchBirthDate),
            ("6504011208900000", NikProblem::ZeroSerial),
        ] {
            assert_eq!(Nik::parse(text), Err(problem), "{text}");
        }
    }
}

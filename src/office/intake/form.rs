//! The administrator's form: a letter, walk-in or phone complaint registered by email.
//!
//! ```text
//! DAFTAR langsung
//! Nama: Siti Rahmawati
//! NIK: 6504015208900003
//! Alamat: Jl. Sengkawit No. 5, Tanjung Selor
//! Telepon: 0812 5431 0987
//! Email:
//! Isi: Lampu jalan di depan rumah saya mati sejak seminggu.
//! ```
//!
//! The first line names the channel; each field is optional but `Nama:`, one of
//! `Telepon:` or `Email:`, and `Isi:` (everything after it, to the end). Pure.

use crate::domain::{Channel, EmailAddress, Nik, Phone};

/// What the new text of an administrator's message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormReading {
    /// It does not start with `DAFTAR`: not a form.
    NotAForm,
    /// `DAFTAR` and nothing else: the administrator asks for the blank form.
    Blank,
    Filled(Form),
    /// What is wrong, in Bahasa Indonesia, one line each.
    Wrong(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub channel: Channel,
    pub name: String,
    pub nik: Option<Nik>,
    pub address: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<EmailAddress>,
    pub text: String,
}

/// The blank form, as `pengaduan form` prints it and a reply to an empty `DAFTAR` gives.
pub const BLANK: &str = "DAFTAR langsung\nNama: \nNIK: \nAlamat: \nTelepon: \nEmail: \nIsi: \n";

const LABELS: [&str; 5] = ["nama", "nik", "alamat", "telepon", "email"];

/// Reads the form in `text` (the new text of the administrator's message).
pub fn read(text: &str) -> FormReading {
    let mut lines = text.lines().map(str::trim).skip_while(|l| l.is_empty());
    let Some(first) = lines.next() else {
        return FormReading::NotAForm;
    };
    let mut words = first.split_whitespace();
    if !words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("daftar"))
    {
        return FormReading::NotAForm;
    }
    let kind = words.next().map(str::to_ascii_lowercase);
    let rest: Vec<&str> = lines.collect();
    if kind.is_none() && rest.iter().all(|l| l.is_empty()) {
        return FormReading::Blank;
    }
    let known_kind = matches!(kind.as_deref(), Some("surat" | "langsung" | "telepon"));
    let labelled = rest.iter().any(|line| {
        line.split_once(':').is_some_and(|(label, _)| {
            let label = label.trim().to_ascii_lowercase();
            label == "isi" || LABELS.contains(&label.as_str())
        })
    });
    // "Daftar penerima bansos …" from an administrator writing as a citizen is no form.
    if !known_kind && !labelled {
        return FormReading::NotAForm;
    }
    let mut problems = Vec::new();
    let channel = match kind.as_deref() {
        Some("surat") => Some(Channel::Surat),
        Some("langsung") => Some(Channel::Langsung),
        Some("telepon") => Some(Channel::Telepon),
        _ => {
            problems.push(
                "baris pertama harus DAFTAR surat, DAFTAR langsung, atau DAFTAR telepon"
                    .to_string(),
            );
            None
        }
    };
    let fields = fields(&rest, &mut problems);
    match (channel, form(channel, fields, &mut problems)) {
        (Some(_), Some(form)) if problems.is_empty() => FormReading::Filled(form),
        _ => FormReading::Wrong(problems),
    }
}

/// The labelled values (lower-case label → value) and the text after `Isi:`.
struct Fields {
    values: Vec<(String, String)>,
    text: Option<String>,
}

fn fields(lines: &[&str], problems: &mut Vec<String>) -> Fields {
    let mut found = Fields {
        values: Vec::new(),
        text: None,
    };
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            problems.push(format!(
                "baris \"{}\" tidak berlabel (contoh: Nama: ...)",
                short(line)
            ));
            continue;
        };
        let label = label.trim().to_ascii_lowercase();
        if label == "isi" {
            let mut text = value.trim().to_string();
            for more in &lines[i + 1..] {
                text.push('\n');
                text.push_str(more);
            }
            found.text = Some(text.trim().to_string());
            break;
        }
        if !LABELS.contains(&label.as_str()) {
            problems.push(format!(
                "label \"{}\" tidak dikenal (Nama, NIK, Alamat, Telepon, Email, Isi)",
                short(&label)
            ));
        } else if found.values.iter().any(|(l, _)| *l == label) {
            problems.push(format!("label \"{label}\" ditulis dua kali"));
        } else {
            found.values.push((label, value.trim().to_string()));
        }
    }
    found
}

fn form(channel: Option<Channel>, fields: Fields, problems: &mut Vec<String>) -> Option<Form> {
    let value = |label: &str| {
        fields
            .values
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let name = value("nama").map(str::to_string);
    if name.is_none() {
        problems.push("Nama: wajib diisi".into());
    }
    let nik = value("nik").and_then(|text| match Nik::parse(text) {
        Ok(nik) => Some(nik),
        Err(problem) => {
            problems.push(format!("NIK: {}", problem.explain()));
            None
        }
    });
    let phone = value("telepon").and_then(|text| {
        let phone = Phone::parse(text);
        if phone.is_none() {
            problems.push("Telepon: bukan nomor telepon Indonesia (contoh: 0812 5431 0987)".into());
        }
        phone
    });
    let email = value("email").and_then(|text| {
        let email = EmailAddress::parse(text).filter(|e| !e.is_reserved());
        if email.is_none() {
            problems.push("Email: bukan alamat email (contoh: nama@gmail.com)".into());
        }
        email
    });
    if value("telepon").is_none() && value("email").is_none() {
        problems.push("Telepon: atau Email: wajib diisi salah satu".into());
    }
    let text = fields.text.filter(|t| !t.is_empty());
    if text.is_none() {
        problems.push("Isi: wajib diisi (isi pengaduan, setelah \"Isi:\" sampai akhir)".into());
    }
    Some(Form {
        channel: channel?,
        name: name?,
        nik,
        address: value("alamat").map(str::to_string),
        phone,
        email,
        text: text?,
    })
}

/// A line as quoted back in a problem: at most 40 characters.
fn short(line: &str) -> String {
    line.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filled_form_is_read() {
        let text = "daftar Langsung\r\nNama: Siti Rahmawati\nNIK: 6504015208900003\nAlamat: Jl. Sengkawit 5\n\
                    Telepon: 0812 5431 0987\nEmail:\nIsi: Lampu jalan mati.\nSudah seminggu.\n\n-- \nAdmin";
        let FormReading::Filled(form) = read(text) else {
            panic!("{:?}", read(text))
        };
        assert_eq!(form.channel, Channel::Langsung);
        assert_eq!(form.name, "Siti Rahmawati");
        assert_eq!(
            form.phone.map(|p| p.to_string()).as_deref(),
            Some("+6281254310987")
        );
        assert_eq!(form.email, None);
        assert!(form.nik.is_some());
        assert!(
            form.text.starts_with("Lampu jalan mati.\nSudah seminggu."),
            "{}",
            form.text
        );
    }

    #[test]
    fn empty_daftar_asks_for_the_form_and_mistakes_are_listed() {
        assert_eq!(read("\n  DAFTAR \n\n"), FormReading::Blank);
        assert_eq!(read("Mohon didaftarkan"), FormReading::NotAForm);
        assert_eq!(read(""), FormReading::NotAForm);
        let FormReading::Wrong(problems) = read("DAFTAR fax\nNama:\nNIK: 1234\nHP: 0812\nIsi:")
        else {
            panic!("wrong")
        };
        let all = problems.join("\n");
        for expected in [
            "DAFTAR surat",
            "Nama: wajib",
            "NIK harus 16 angka",
            "label \"hp\"",
            "Telepon: atau Email:",
            "Isi: wajib",
        ] {
            assert!(all.contains(expected), "{expected} in {all}");
        }
        let FormReading::Wrong(problems) =
            read("DAFTAR surat\nNama: Budi\nEmail: bukan-alamat\nIsi: x")
        else {
            panic!("wrong")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(read(BLANK) != FormReading::NotAForm);
        assert_eq!(
            read("Daftar penerima bansos di RT 03 tidak sesuai."),
            FormReading::NotAForm,
            "an ordinary sentence that starts with the word"
        );
    }
}

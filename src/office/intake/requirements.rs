//! The service standard's requirements in a citizen's message: an identity (a valid NIK
//! written in it, or a file named as a KTP) and supporting documents. Pure.

use crate::domain::Nik;
use crate::domain::nik;
use crate::mail::Inbound;

/// What one message brings toward the requirements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// A valid NIK written in the message (or given in the administrator's form).
    pub nik: Option<Nik>,
    /// A file whose name says it is a KTP (`ktp-budi.jpg`, `Scan KTP.pdf`).
    pub ktp: bool,
    /// Other files: the supporting documents (inline images, such as a signature's
    /// logo, are not counted).
    pub documents: u32,
}

impl Requirements {
    pub fn identity(&self) -> bool {
        self.nik.is_some() || self.ktp
    }
}

/// The requirements `inbound` brings, reading its (new) `text`.
pub fn of(inbound: &Inbound, text: &str) -> Requirements {
    let mut found = Requirements {
        nik: nik::find_in(text),
        ..Requirements::default()
    };
    for file in &inbound.attachments {
        let named_ktp = file.filename.as_deref().is_some_and(names_ktp);
        if named_ktp {
            found.ktp = true;
        } else if !(file.disposition == "inline" && file.content_type.starts_with("image/")) {
            found.documents += 1;
        }
    }
    found
}

/// `KTP` as a word of a file name (`ktp.jpg`, `scan_KTP-budi.pdf`), not inside one.
fn names_ktp(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("ktp") || word.eq_ignore_ascii_case("ektp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_named_ktp_are_identity_and_the_others_documents() {
        assert!(
            names_ktp("KTP.jpg") && names_ktp("scan_ktp-budi.pdf") && names_ktp("e-KTP Budi.png")
        );
        assert!(!names_ktp("foto-jalan.jpg") && !names_ktp("aktpx.pdf"));
        let raw = "From: w@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                   --b\r\nContent-Type: text/plain\r\n\r\nNIK 6504015208900003\r\n\
                   --b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"KTP.jpg\"\r\n\r\nxx\r\n\
                   --b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"surat.pdf\"\r\n\r\nyy\r\n\
                   --b\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename=\"logo.png\"\r\n\r\nzz\r\n--b--\r\n";
        let inbound = crate::mail::parse(raw.as_bytes());
        let found = of(&inbound, &inbound.body_text);
        assert!(found.ktp && found.nik.is_some() && found.identity());
        assert_eq!(
            found.documents, 1,
            "the PDF; the KTP and the inline logo are not documents"
        );
        assert_eq!(
            of(
                &crate::mail::parse(b"From: w@example.net\r\n\r\nhalo\r\n"),
                "halo"
            ),
            Requirements::default()
        );
    }
}

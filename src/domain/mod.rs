//! Domain values that are parsed once at the edge and trusted afterwards.

pub mod channel;
pub mod event;
pub mod lifecycle;
pub mod nik;

pub use channel::{Channel, Phone};
pub use event::{Actor, DeliveryOutcome, Event, EventAction};
pub use lifecycle::{Decision, Priority, Referenced, Role, Stage, State};
pub use nik::{Nik, NikProblem};

use std::fmt;

use serde::Serialize;

/// A complaint's register number, `{prefix}-{year}-{5 digits}`, e.g. `ADU-2026-00042`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegisterNumber(String);

impl RegisterNumber {
    pub fn new(prefix: &str, year: i32, seq: i64) -> RegisterNumber {
        RegisterNumber(format!("{prefix}-{year}-{seq:05}"))
    }

    /// Parses a complete register number with the given prefix (case-insensitive prefix).
    pub fn parse(prefix: &str, text: &str) -> Option<RegisterNumber> {
        let text = text.trim();
        let (head, rest) = text.split_at_checked(prefix.len())?;
        if !head.eq_ignore_ascii_case(prefix) {
            return None;
        }
        let rest = rest.strip_prefix('-')?;
        let (year, seq) = rest.split_once('-')?;
        let valid = year.len() == 4
            && seq.len() >= 5
            && year.bytes().all(|b| b.is_ascii_digit())
            && seq.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| RegisterNumber(format!("{prefix}-{year}-{seq}")))
    }

    /// Finds `[PREFIX-YYYY-NNNNN]` in a subject line.
    pub fn find_in_subject(prefix: &str, subject: &str) -> Option<RegisterNumber> {
        let mut rest = subject;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            if let Some(close) = after.find(']')
                && let Some(number) = RegisterNumber::parse(prefix, &after[..close])
            {
                return Some(number);
            }
            rest = after;
        }
        None
    }

    /// A number read back from the register, where only valid numbers are written.
    pub(crate) fn from_stored(text: String) -> RegisterNumber {
        RegisterNumber(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegisterNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mailbox address, normalised to lower case (`local@domain`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Option<EmailAddress> {
        let text = text.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = text.rsplit_once('@')?;
        let plausible = !local.is_empty()
            && !domain.is_empty()
            && domain.contains('.') | domain.eq_ignore_ascii_case("localhost")
            && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && text.len() <= 254
            // What outgoing mail can be addressed to: anything else would fail (or
            // worse) when the acknowledgment is composed.
            && text.parse::<lettre::Address>().is_ok();
        plausible.then(|| EmailAddress(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(local, _)| local)
    }

    /// The register's stand-in for a citizen who gave no email address: in the reserved
    /// `.invalid` domain (RFC 6761), so no message is ever sent to or taken from it.
    pub fn none_given() -> EmailAddress {
        EmailAddress("tanpa-email@pengaduan.invalid".into())
    }

    /// An address in the reserved `.invalid` domain: nobody's.
    pub fn is_reserved(&self) -> bool {
        self.0.ends_with(".invalid")
    }

    /// `w***@gmail.com`: what logs may say about a citizen.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

/// `text` (a mail server's reply, say) with every address in it masked as
/// [`EmailAddress::masked`] masks it: what a log may carry of text from outside.
pub fn mask_addresses(text: &str) -> String {
    let boundary = |c: char| c.is_whitespace() || "<>\"'(),;:[]".contains(c);
    let mut masked = String::with_capacity(text.len());
    for piece in text.split_inclusive(boundary) {
        let token = piece.trim_end_matches(boundary);
        let word = token.trim_end_matches('.');
        match EmailAddress::parse(word).filter(|_| word.contains('@')) {
            Some(address) => {
                masked.push_str(&address.masked());
                masked.push_str(&piece[word.len()..]);
            }
            None => masked.push_str(piece),
        }
    }
    masked
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Lifecycle status of a complaint. The strings are part of the CLI/JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    MenungguDisposisi,
    MenungguJawaban,
    MenungguPersetujuan,
    Selesai,
    Ditutup,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::MenungguDisposisi,
        Status::MenungguJawaban,
        Status::MenungguPersetujuan,
        Status::Selesai,
        Status::Ditutup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::MenungguDisposisi => "menunggu_disposisi",
            Status::MenungguJawaban => "menunggu_jawaban",
            Status::MenungguPersetujuan => "menunggu_persetujuan",
            Status::Selesai => "selesai",
            Status::Ditutup => "ditutup",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Status::Selesai | Status::Ditutup)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an inbound message became. Exactly one per message; the strings are stored and
/// appear in JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundKind {
    Complaint,
    FollowUp,
    AutoReply,
    Bounce,
    Quarantined,
    /// An official's reply that acted (or was read) on a complaint.
    StaffReply,
    /// A reply that tried to act without the right to.
    Unauthorized,
    /// A message in a complaint's thread from someone who is neither its reporter nor
    /// an official.
    ThirdParty,
    /// A message that only asks where a complaint stands (see `office::inquiry`).
    StatusRequest,
    /// The reporter's satisfaction rating, by reply to the answer (see `office::survey`).
    Rating,
    /// Not a complaint by its channel's rules (an SMS without the keyword or without
    /// text): answered with how to write one, nothing registered.
    Declined,
}

impl InboundKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InboundKind::Complaint => "complaint",
            InboundKind::FollowUp => "follow_up",
            InboundKind::AutoReply => "auto_reply",
            InboundKind::Bounce => "bounce",
            InboundKind::Quarantined => "quarantined",
            InboundKind::StaffReply => "staff_reply",
            InboundKind::Unauthorized => "unauthorized",
            InboundKind::ThirdParty => "third_party",
            InboundKind::StatusRequest => "status_request",
            InboundKind::Rating => "rating",
            InboundKind::Declined => "declined",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_a_server_reply_are_masked() {
        assert_eq!(
            mask_addresses(
                "5.7.1 <Budi.Santoso@gmail.com>: Recipient address rejected; see budi@x.go.id."
            ),
            "5.7.1 <b***@gmail.com>: Recipient address rejected; see b***@x.go.id."
        );
        assert_eq!(
            mask_addresses("452 4.2.2 mailbox full (rcpt=siti@example.net)"),
            "452 4.2.2 mailbox full (r***@example.net)"
        );
        let plain = "421 4.3.0 try again later: @ is not an address";
        assert_eq!(mask_addresses(plain), plain);
    }

    #[test]
    fn register_number_is_zero_padded_and_found_in_subjects() {
        assert_eq!(
            RegisterNumber::new("ADU", 2026, 42).as_str(),
            "ADU-2026-00042"
        );
        let found = RegisterNumber::find_in_subject("ADU", "Re: Lampu [x] mati [ADU-2026-00001]");
        assert_eq!(found.map(|n| n.to_string()), Some("ADU-2026-00001".into()));
        assert_eq!(
            RegisterNumber::find_in_subject("ADU", "Re: [ADU-26-1]"),
            None
        );
        assert_eq!(
            RegisterNumber::find_in_subject("ADU", "ADU-2026-00001 no brackets"),
            None
        );
        let lower = RegisterNumber::find_in_subject("ADU", "[adu-2026-00007]");
        assert_eq!(lower.map(|n| n.to_string()), Some("ADU-2026-00007".into()));
    }

    #[test]
    fn email_addresses_are_normalised_and_masked() {
        let a = EmailAddress::parse(" <Warga.Satu@Gmail.COM> ").expect("valid");
        assert_eq!(a.as_str(), "warga.satu@gmail.com");
        assert_eq!(a.masked(), "w***@gmail.com");
        assert_eq!(EmailAddress::parse("no-at-sign"), None);
        assert_eq!(EmailAddress::parse("a b@example.net"), None);
        assert_eq!(EmailAddress::parse("x@nodot"), None);
        assert_eq!(
            EmailAddress::parse("a,b@example.net"),
            None,
            "what outgoing mail could not be addressed to"
        );
        assert_eq!(
            EmailAddress::parse(&format!("{}@example.net", "a".repeat(250))),
            None
        );
    }

    #[test]
    fn statuses_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert!(Status::MenungguJawaban.is_open());
        assert!(!Status::Ditutup.is_open());
    }
}

/// What the antivirus (ClamAV's clamd, `scan.clamd`) made of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screening {
    Clean,
    /// The signature clamd named, e.g. `Eicar-Test-Signature`.
    Infected(String),
    /// clamd gave no finding; why.
    Unscanned(String),
}

/// A file of an inbound message (by the SHA-256 of its decoded bytes) and its screening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenedFile {
    pub sha256: String,
    pub screening: Screening,
}

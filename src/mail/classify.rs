//! What kind of sender wrote an inbound message: a person, a machine answering
//! automatically (RFC 3834), a delivery report, the worker itself, or nothing we can
//! understand. Pure: looks only at the parsed message.

mod forms;

use crate::domain::EmailAddress;
use crate::mail::compose;
use crate::mail::parse::Inbound;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    /// Written by a person: a new complaint or a follow-up, decided by threading.
    Person,
    /// Out-of-office, list or bulk mail, or the worker's own mail coming back: recorded,
    /// never answered.
    AutoReply(&'static str),
    /// Delivery status notification or mail from a mailer daemon: recorded, never answered.
    Bounce(&'static str),
    /// Cannot be understood; kept in quarantine with this reason.
    Quarantine(String),
}

pub fn classify(inbound: &Inbound, own_address: &EmailAddress, own_domain: &str) -> Classification {
    if let Some(defect) = &inbound.defect
        && defect.starts_with("not an email")
    {
        return Classification::Quarantine(defect.clone());
    }
    let signals = &inbound.signals;
    let sender_local = inbound
        .sender()
        .map(|a| a.local_part().to_ascii_lowercase());
    if signals.is_delivery_report {
        return Classification::Bounce("multipart/report delivery status");
    }
    if signals.null_return_path {
        return Classification::Bounce("null return path");
    }
    if matches!(
        sender_local.as_deref(),
        Some("mailer-daemon" | "postmaster")
    ) {
        return Classification::Bounce("sent by a mailer daemon");
    }
    if let Some(form) = forms::bounce_form(inbound) {
        return Classification::Bounce(form);
    }
    if inbound.sender() == Some(own_address)
        || inbound
            .message_id
            .as_deref()
            .is_some_and(|id| compose::is_own_message_id(id, own_domain))
    {
        return Classification::AutoReply("the worker's own mail");
    }
    if signals.auto_submitted.as_deref().is_some_and(|v| v != "no") {
        return Classification::AutoReply("Auto-Submitted");
    }
    if let Some(precedence) = signals.precedence.as_deref()
        && ["bulk", "junk", "list"].contains(&precedence)
    {
        return Classification::AutoReply("Precedence bulk/junk/list");
    }
    if signals.has_list_id {
        return Classification::AutoReply("mailing list (List-Id)");
    }
    if signals.has_x_autoreply {
        return Classification::AutoReply("X-Autoreply/X-Autorespond");
    }
    if let Some(defect) = &inbound.defect {
        return Classification::Quarantine(defect.clone());
    }
    if inbound.sender().is_none() {
        return Classification::Quarantine("no usable From address".to_string());
    }
    if inbound.subject.is_empty()
        && inbound.body_text.trim().is_empty()
        && inbound.attachments.is_empty()
    {
        return Classification::Quarantine(
            "empty message: no subject, text or attachments".to_string(),
        );
    }
    if let Some(wording) = auto_reply_wording(inbound) {
        return Classification::AutoReply(wording);
    }
    Classification::Person
}

/// Subjects that automatic replies put before the original subject (followed by `:`,
/// or alone): Outlook's "Automatic reply:" / "Balasan otomatis:" / "Otomatis:",
/// Exchange's and Notes' "Out of Office:", webmail autoresponders' "Auto-Reply:".
const AUTOMATIC_SUBJECTS: [&str; 16] = [
    "out of office autoreply",
    "out of office reply",
    "automatic reply",
    "automatic response",
    "automated reply",
    "automated response",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto response",
    "auto-response",
    "out of office",
    "balasan otomatis",
    "jawaban otomatis",
    "tanggapan otomatis",
    "otomatis",
];

/// Subjects an absent person's autoresponder is often given: not enough alone (a
/// citizen may write "Sedang cuti - ..."), only together with an absence in the text.
const ABSENCE_SUBJECTS: [&str; 11] = [
    "out of the office",
    "away from the office",
    "on leave",
    "on vacation",
    "sedang cuti",
    "cuti",
    "di luar kantor",
    "sedang di luar kantor",
    "tidak di kantor",
    "sedang tidak di kantor",
    "dinas luar",
];

/// A message that says of itself that it is automatic.
const AUTOMATIC_STATEMENTS: [&str; 13] = [
    "this is an automatic reply",
    "this is an automatic response",
    "this is an automated reply",
    "this is an automated response",
    "this is an auto-reply",
    "this is an autoreply",
    "this is an auto reply",
    "this is an automatically generated",
    "ini adalah balasan otomatis",
    "ini balasan otomatis",
    "ini merupakan balasan otomatis",
    "ini adalah jawaban otomatis",
    "ini adalah pesan balasan otomatis",
];

/// Who is away, and how: "I am out of the office", "saya sedang cuti".
const ABSENT_PEOPLE: [&str; 7] = [
    "i am ",
    "i'm ",
    "i am currently ",
    "i'm currently ",
    "i will be ",
    "i am presently ",
    "i'll be ",
];
const ABSENCES: [&str; 9] = [
    "out of the office",
    "out of office",
    "away from the office",
    "away from my desk",
    "on leave",
    "on annual leave",
    "on vacation",
    "on holiday",
    "on sick leave",
];
const ABSENT_PEOPLE_ID: [&str; 5] = [
    "saya sedang ",
    "saya saat ini sedang ",
    "saya saat ini ",
    "saya akan ",
    "saya ",
];
const ABSENCES_ID: [&str; 8] = [
    "cuti",
    "tidak berada di kantor",
    "tidak di kantor",
    "berada di luar kantor",
    "di luar kantor",
    "dinas luar",
    "tugas luar",
    "perjalanan dinas",
];

/// What an absent person's autoresponder says about the mail it answers (not "untuk
/// keperluan mendesak ...": a citizen may write that too).
const REPLY_PROMISES: [&str; 17] = [
    "i will reply",
    "i will respond",
    "i will get back to you",
    "i'll get back to you",
    "limited access to email",
    "limited access to my email",
    "limited email access",
    "upon my return",
    "for urgent matters",
    "in my absence",
    "akan membalas email",
    "akan membalas pesan",
    "akan saya balas",
    "akan segera saya balas",
    "akan saya tanggapi",
    "akses email terbatas",
    "akses surel terbatas",
];

/// How much of the new text of a message is read for its wording.
const OPENING_CHARS: usize = 600;

/// Automatic replies sent without RFC 3834 headers, recognised by their wording (English
/// and Indonesian): an automatic-reply subject, a text that says it is automatic, or an
/// absence ("saya sedang cuti") together with an absence subject or a promise about
/// the mail ("akan saya balas setelah ..."). Merely mentioning leave is not enough:
/// citizens write about it. Only the new text counts, not quoted or forwarded mail.
fn auto_reply_wording(inbound: &Inbound) -> Option<&'static str> {
    let subject = words(&inbound.subject, usize::MAX);
    if starts_with_any(&subject, &AUTOMATIC_SUBJECTS, |rest| {
        rest.is_empty() || rest.starts_with([':', ']', ')'])
    }) {
        return Some("automatic-reply subject");
    }
    // A cheap first look at the text as it came (one pass, no copy); the wording is
    // read, and the new text cut out, only when it finds a word every phrase has.
    if !mentions_absence_or_automation(&inbound.body_text) {
        return None;
    }
    let raw_opening = words(&inbound.body_text, OPENING_CHARS * 4);
    if !(has_automatic_statement(&raw_opening) || has_absence(&raw_opening)) {
        return None;
    }
    let new_text = crate::mail::reply::own_text(&inbound.body_text, inbound.body_html.as_deref());
    let opening = words(&new_text, OPENING_CHARS);
    if has_automatic_statement(&opening) {
        return Some("automatic-reply text");
    }
    let absence_subject = starts_with_any(&subject, &ABSENCE_SUBJECTS, ends_absence_subject);
    let promise = REPLY_PROMISES.iter().any(|p| opening.contains(p));
    (has_absence(&opening) && (absence_subject || promise)).then_some("out-of-office text")
}

/// Words of which every phrase of [`AUTOMATIC_STATEMENTS`], [`ABSENCES`] and
/// [`ABSENCES_ID`] contains at least one, in any case.
const GATE_WORDS: [&str; 11] = [
    "auto", "otomatis", "office", "away", "leave", "vacation", "holiday", "cuti", "kantor", "luar",
    "dinas",
];
const GATE_BYTES: usize = 64 << 10;

/// Whether the start of `text` has any of [`GATE_WORDS`]: without one, no wording rule
/// can match, and the text is not read further.
fn mentions_absence_or_automation(text: &str) -> bool {
    static GATE: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let gate = GATE.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(GATE_WORDS)
            .ok()
    });
    let opening = &text.as_bytes()[..text.len().min(GATE_BYTES)];
    // Without the automaton (it cannot fail to build from fixed words), read everything.
    gate.as_ref().is_none_or(|gate| gate.is_match(opening))
}

/// `text` lower-cased with its whitespace runs made single spaces, up to about `limit`
/// bytes; quoted lines (`>`) left out.
fn words(text: &str, limit: usize) -> String {
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('>')) {
        for word in line.split_whitespace() {
            if out.len() >= limit {
                return out;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
    out
}

/// Whether `text` starts with one of `phrases` (after an opening bracket) and `rest`
/// accepts what follows it.
fn starts_with_any(text: &str, phrases: &[&str], rest: impl Fn(&str) -> bool) -> bool {
    let text = text.trim_start_matches(['[', '(', ' ']);
    phrases.iter().any(|phrase| {
        text.strip_prefix(phrase)
            .is_some_and(|after| rest(after.trim_start()))
    })
}

/// What may follow an absence subject: nothing, a separator, or when.
fn ends_absence_subject(rest: &str) -> bool {
    const WHEN: [&str; 9] = [
        "sampai", "hingga", "s.d", "s/d", "until", "till", "from", "dari", "tanggal",
    ];
    rest.is_empty()
        || rest.starts_with([':', '-', '–', '—', '(', '[', '|', '/', ','])
        || rest.starts_with(|c: char| c.is_ascii_digit())
        || WHEN.iter().any(|w| rest.starts_with(w))
}

fn has_automatic_statement(text: &str) -> bool {
    AUTOMATIC_STATEMENTS.iter().any(|s| text.contains(s))
}

fn has_absence(text: &str) -> bool {
    let said = |people: &[&str], absences: &[&str]| {
        people.iter().any(|who| {
            text.match_indices(who).any(|(at, _)| {
                let word_start = text[..at].ends_with(' ') || at == 0;
                let after = &text[at + who.len()..];
                word_start && absences.iter().any(|a| after.starts_with(a))
            })
        })
    };
    said(&ABSENT_PEOPLE, &ABSENCES) || said(&ABSENT_PEOPLE_ID, &ABSENCES_ID)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::parse::parse;

    fn kind(raw: &str) -> Classification {
        let own = EmailAddress::parse("diskominfo@kaltaraprov.go.id").expect("valid");
        classify(&parse(raw.as_bytes()), &own, "kaltaraprov.go.id")
    }

    #[test]
    fn people_and_machines() {
        assert_eq!(
            kind("From: a@example.net\r\nSubject: x\r\n\r\nhalo"),
            Classification::Person
        );
        assert_eq!(
            kind("From: a@example.net\r\nAuto-Submitted: no\r\nSubject: x\r\n\r\nhalo"),
            Classification::Person
        );
        assert!(matches!(
            kind("From: a@example.net\r\nAuto-Submitted: auto-replied\r\n\r\nOOO"),
            Classification::AutoReply(_)
        ));
        assert!(matches!(
            kind("From: a@example.net\r\nPrecedence: Bulk\r\n\r\nnews"),
            Classification::AutoReply(_)
        ));
        assert!(matches!(
            kind("From: a@example.net\r\nList-Id: <x.example.net>\r\n\r\nnews"),
            Classification::AutoReply(_)
        ));
        assert!(matches!(
            kind("From: a@example.net\r\nX-Autorespond: yes\r\n\r\nnews"),
            Classification::AutoReply(_)
        ));
        assert!(matches!(
            kind("From: Diskominfo <diskominfo@kaltaraprov.go.id>\r\n\r\nour own"),
            Classification::AutoReply(_)
        ));
    }

    fn message(subject: &str, body: &str) -> Classification {
        kind(&format!(
            "From: Pegawai <pegawai@example.net>\r\nSubject: {subject}\r\n\r\n{body}"
        ))
    }

    #[test]
    fn auto_replies_without_headers_are_known_by_their_wording() {
        let replies = [
            (
                "Automatic reply: Pengaduan Anda telah kami terima [ADU-2026-00003]",
                "Thanks for writing. I am out of the office until 14 December.",
            ),
            (
                "Balasan otomatis: Permohonan disposisi [ADU-2026-00004]",
                "Terima kasih. Saya sedang dinas luar ke Tarakan.",
            ),
            ("Otomatis: Tidak di kantor", "Terima kasih atas email Anda."),
            ("[Auto-Reply] Lampu jalan mati", "Pesan Anda sudah sampai."),
            ("Auto Reply", "Halo."),
            (
                "Out of Office: Re: Permohonan disposisi [ADU-2026-00007]",
                "Back on Monday.",
            ),
            (
                "Out of Office AutoReply: Lampu jalan mati",
                "I will be away from the office this week.",
            ),
            (
                "Sedang cuti",
                "Yth. Bapak/Ibu,\r\nsaya sedang cuti melahirkan hingga 20 Januari 2027.",
            ),
            (
                "Di luar kantor (7-11 Desember)",
                "Mohon maaf, saya sedang tidak berada di kantor sampai 11 Desember.",
            ),
            (
                "Re: Lampu jalan mati [ADU-2026-00009]",
                "Saya sedang cuti tahunan sampai 5 Januari, dengan akses email terbatas.",
            ),
            (
                "Re: Lampu jalan mati",
                "Selamat siang. Saya saat ini di luar kantor; email Anda akan saya balas \
                 setelah saya kembali.",
            ),
            (
                "Away",
                "I'm currently away from the office and have limited access to email.",
            ),
            (
                "Thanks for your email",
                "This is an automatic reply: your message has been received.",
            ),
            (
                "Terima kasih",
                "Ini adalah balasan otomatis. Email Anda sudah kami terima.",
            ),
        ];
        for (subject, body) in replies {
            assert!(
                matches!(message(subject, body), Classification::AutoReply(_)),
                "{subject:?} / {body:?}"
            );
        }
    }

    #[test]
    fn every_phrase_passes_the_first_look() {
        for phrase in AUTOMATIC_STATEMENTS
            .iter()
            .chain(&ABSENCES)
            .chain(&ABSENCES_ID)
        {
            assert!(
                GATE_WORDS.iter().any(|w| phrase.contains(w)),
                "{phrase} has no gate word"
            );
            assert!(mentions_absence_or_automation(&phrase.to_uppercase()));
        }
        assert!(!mentions_absence_or_automation(
            "Jalan di depan rumah rusak berat."
        ));
    }

    #[test]
    fn citizens_who_write_about_leave_are_people() {
        let people = [
            (
                "Tunjangan cuti melahirkan belum dibayar",
                "Saya sedang cuti melahirkan sejak Oktober, tetapi tunjangan saya belum \
                 dibayar. Mohon ditindaklanjuti.",
            ),
            (
                "Sedang cuti tapi dipanggil rapat terus",
                "Saya pegawai kontrak di kecamatan dan hak cuti saya tidak dihormati.",
            ),
            (
                "Sedang cuti",
                "Mohon info, apakah layanan KTP tetap buka saat petugas sedang cuti bersama?",
            ),
            (
                "Balasan otomatis tidak pernah datang",
                "Saya sudah tiga kali mengirim pengaduan tetapi tidak menerima balasan otomatis.",
            ),
            (
                "Jadwal pemasangan internet",
                "Saya tidak di kantor saat petugas datang, mohon dijadwalkan ulang. Untuk \
                 keperluan mendesak hubungi 0812 5555 0101.",
            ),
            (
                "Internet down",
                "I am on leave from my job this month and the village internet is down.",
            ),
            (
                "Re: Lampu jalan mati [ADU-2026-00001]",
                "Tambahan: foto terlampir.\r\n\r\n> Saya sedang cuti sampai 5 Januari, \
                 akan saya balas setelah kembali.",
            ),
            (
                "Fwd: Automatic reply: Lampu jalan mati",
                "Mohon dicek, hanya ini jawaban yang saya terima dari dinas.\r\n\r\n\
                 ---------- Forwarded message ---------\r\n\
                 From: Dinas PU <pu@example.net>\r\n\
                 Subject: Automatic reply: Lampu jalan mati\r\n\r\n\
                 I am out of the office and will reply upon my return.\r\n",
            ),
            (
                "Pegawai selalu di luar kantor",
                "Setiap saya datang, pegawainya sedang dinas luar. I am out of patience.",
            ),
        ];
        for (subject, body) in people {
            assert_eq!(
                message(subject, body),
                Classification::Person,
                "{subject:?} / {body:?}"
            );
        }
    }

    #[test]
    fn bounces() {
        assert!(matches!(
            kind("Return-Path: <>\r\nFrom: a@example.net\r\n\r\nbounce"),
            Classification::Bounce(_)
        ));
        assert!(matches!(
            kind("From: MAILER-DAEMON@example.net\r\n\r\nbounce"),
            Classification::Bounce(_)
        ));
        assert!(matches!(
            kind(
                "From: a@example.net\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"
            ),
            Classification::Bounce(_)
        ));
    }

    #[test]
    fn quarantine_reasons() {
        assert_eq!(
            kind("Subject: no sender\r\n\r\nhalo"),
            Classification::Quarantine("no usable From address".into())
        );
        assert!(matches!(
            kind("From: a@example.net\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nhalo\r\n"),
            Classification::Quarantine(reason) if reason.contains("boundary")
        ));
    }
}

//! Non-delivery reports that carry none of the standard marks (no multipart/report, a
//! non-null Return-Path, a sender that is not `MAILER-DAEMON@…`): qmail's "failure
//! notice", Exchange's plain-text "Undeliverable:", older Postfix and Sendmail
//! transcripts, Gmail's "Delivery Status Notification", and daemons that send as
//! "MAILER-DAEMON" with no domain or as Exchange's `MicrosoftExchange…@` mailbox.

use crate::mail::parse::Inbound;

/// Display names and bare addresses mailer daemons send as, lowercase.
const DAEMON_NAMES: &[&str] = &[
    "mailer-daemon",
    "mail delivery subsystem",
    "mail delivery system",
    "postmaster",
];

/// How the subjects of non-delivery reports start, lowercase.
const SUBJECTS: &[&str] = &[
    "undeliverable",
    "undelivered mail",
    "undeliverable mail",
    "returned mail",
    "failure notice",
    "delivery status notification",
    "mail delivery failed",
    "mail delivery failure",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "nondeliverable",
    "non-deliverable",
    "non delivery",
    "mail system error",
    "message not delivered",
    "message delivery failure",
    "unzustellbar",
    "non remis",
    "non distribuable",
    "no se puede entregar",
    "tidak dapat dikirim",
    "tidak terkirim",
    "pesan tidak terkirim",
];

/// Sentences of the body of those reports, lowercase.
const SENTENCES: &[&str] = &[
    "this is the qmail-send program",
    "message below could not be delivered",
    "this is the mail system at host",
    "this is the postfix program at host",
    "your message did not reach some or all of the intended recipients",
    "your message could not be delivered to one or more recipients",
    "the original message was received at",
    "the following addresses had permanent fatal errors",
    "transcript of session follows",
    "delivery has failed to these recipients or groups",
    "your message couldn't be delivered",
    "your message wasn't delivered",
    "could not be delivered to one or more recipients",
    "could not be delivered to one or more of its recipients",
    "delivery to the following recipient failed permanently",
    "delivery to the following recipients failed",
    "message not delivered",
    "address not found",
    "this message was created automatically by mail delivery software",
    "delivery to the following recipients has been delayed",
    "the recipient server did not accept our requests",
    "the email account that you tried to reach does not exist",
];

/// How far into the text the sentences are looked for.
const OPENING_BYTES: usize = 4 << 10;

/// Why `inbound` is a non-delivery report by its form, if it is one.
pub(super) fn bounce_form(inbound: &Inbound) -> Option<&'static str> {
    if let Some(from) = &inbound.from {
        let name = from.name.as_deref().unwrap_or_default().to_lowercase();
        if DAEMON_NAMES
            .iter()
            .any(|d| name == *d || name.starts_with(&format!("{d} ")))
        {
            return Some("sent by a mailer daemon");
        }
        let local = from
            .email
            .as_ref()
            .map(|e| e.local_part().to_ascii_lowercase());
        if local.is_some_and(|l| l.starts_with("microsoftexchange")) {
            return Some("sent by Exchange's system mailbox");
        }
    }
    let subject = inbound.subject.trim().to_lowercase();
    if !SUBJECTS.iter().any(|s| subject.starts_with(s)) {
        return None;
    }
    let mut end = inbound.body_text.len().min(OPENING_BYTES);
    while !inbound.body_text.is_char_boundary(end) {
        end -= 1;
    }
    let opening = inbound.body_text[..end].to_lowercase();
    let opening = opening.split_whitespace().collect::<Vec<_>>().join(" ");
    SENTENCES
        .iter()
        .any(|s| opening.contains(s))
        .then_some("non-delivery report text")
}

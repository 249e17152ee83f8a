//! What kind of sender wrote an inbound message: a person, a machine answering
//! automatically (RFC 3834), a delivery report, the worker itself, or nothing we can
//! understand. Pure: looks only at the parsed message.

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
    Classification::Person
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

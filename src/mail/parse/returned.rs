//! What a bounce says about the message it returns: the Message-IDs named in the
//! returned headers (a DSN's `text/rfc822-headers` or `message/rfc822` part, or a
//! non-standard bounce that quotes them in its text) and the reason (RFC 3464
//! `Status` and `Diagnostic-Code`, or the first lines of the text).

use memchr::memmem;

use crate::mail::sanitize::usable_message_id;

/// At most this many Message-IDs are read from one bounce.
const MAX_RETURNED_IDS: usize = 20;
/// A bounce is read up to this many bytes (the returned headers come early).
const MAX_SCANNED: usize = 256 << 10;
const MAX_REASON_CHARS: usize = 300;

/// What a bounce returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returned {
    /// Message-IDs named after the bounce's own header section, without brackets.
    pub message_ids: Vec<String>,
    /// Why delivery failed, in one line.
    pub reason: String,
    /// `false` for a report that only says delivery is delayed (or succeeded).
    pub failed: bool,
}

/// Reads a bounce's raw bytes; `None` when it names no Message-ID.
pub fn read(raw: &[u8]) -> Option<Returned> {
    let raw = &raw[..raw.len().min(MAX_SCANNED)];
    let body_at = memmem::find(raw, b"\r\n\r\n")
        .map(|at| at + 4)
        .or_else(|| memmem::find(raw, b"\n\n").map(|at| at + 2))?;
    let text = String::from_utf8_lossy(&raw[body_at..]);
    let mut message_ids = Vec::new();
    let mut fields = Fields::default();
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        if lower.contains("message-id") || lower.contains("message id") {
            for id in bracketed(line) {
                if message_ids.len() < MAX_RETURNED_IDS && !message_ids.contains(&id) {
                    message_ids.push(id);
                }
            }
        }
        fields.read(line, &lower);
    }
    if message_ids.is_empty() {
        return None;
    }
    let failed = fields.actions.is_empty() || fields.actions.iter().any(|a| a == "failed");
    Some(Returned {
        message_ids,
        failed,
        reason: fields.reason(&text),
    })
}

/// RFC 3464 per-recipient fields (the first of each).
#[derive(Default)]
struct Fields {
    status: Option<String>,
    diagnostic: Option<String>,
    recipient: Option<String>,
    /// Every `Action:` value, lower case.
    actions: Vec<String>,
}

impl Fields {
    fn read(&mut self, line: &str, lower: &str) {
        let value = || line.split_once(':').map(|(_, v)| v.trim().to_string());
        if lower.starts_with("status:") && self.status.is_none() {
            self.status = value();
        } else if lower.starts_with("diagnostic-code:") && self.diagnostic.is_none() {
            self.diagnostic = value();
        } else if lower.starts_with("action:") {
            self.actions.extend(value().map(|v| v.to_ascii_lowercase()));
        } else if lower.starts_with("final-recipient:") && self.recipient.is_none() {
            self.recipient = value().map(|v| v.rsplit(';').next().unwrap_or("").trim().to_string());
        }
    }

    /// `5.1.1 (smtp; 550 5.1.1 user unknown)`, or the first non-empty lines of a
    /// non-standard bounce.
    fn reason(self, text: &str) -> String {
        let reason = match (self.status, self.diagnostic) {
            (Some(status), Some(diagnostic)) => format!("{status} ({diagnostic})"),
            (Some(status), None) => status,
            (None, Some(diagnostic)) => diagnostic,
            (None, None) => text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("--") && !l.contains(':'))
                .take(2)
                .collect::<Vec<_>>()
                .join(" "),
        };
        let reason = match self.recipient {
            Some(recipient) if !recipient.is_empty() => format!("{recipient}: {reason}"),
            _ => reason,
        };
        let reason = crate::domain::mask_addresses(&reason);
        crate::mail::sanitize::one_line(&reason, MAX_REASON_CHARS)
    }
}

/// Every `<…>` in a line that is a usable Message-ID.
fn bracketed(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else { break };
        if let Some(id) = usable_message_id(after[..close].trim()) {
            found.push(id);
        }
        rest = &after[close + 1..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dsn_names_the_returned_message_and_the_reason() {
        let dsn = b"From: MAILER-DAEMON@mx.example.net\r\nMessage-ID: <dsn-1@mx.example.net>\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
Final-Recipient: rfc822; siti.aminah@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\
Diagnostic-Code: smtp; 550 5.1.1 <siti.aminah@example.net>: user unknown\r\n\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: office@kaltaraprov.go.id\r\n\
Message-ID: <jawab.ADU-2026-00001.abcdef0123456789abcdef01@kaltaraprov.go.id>\r\n\r\n--b--\r\n";
        let returned = read(dsn).expect("a DSN");
        assert!(returned.failed);
        let delayed = String::from_utf8_lossy(dsn).replace("Action: failed", "Action: delayed");
        assert!(!read(delayed.as_bytes()).expect("a DSN").failed);
        assert_eq!(
            returned.message_ids,
            vec!["jawab.ADU-2026-00001.abcdef0123456789abcdef01@kaltaraprov.go.id".to_string()],
            "its own Message-ID (in the top header section) is not returned"
        );
        assert_eq!(
            returned.reason,
            "s***@example.net: 5.1.1 (smtp; 550 5.1.1 <s***@example.net>: user unknown)"
        );
    }

    #[test]
    fn a_non_standard_bounce_quoting_the_id_is_read() {
        let bounce = b"From: postmaster@example.org\r\nSubject: Undeliverable\r\n\r\n\
Delivery has failed to these recipients.\r\nThe mailbox is full\r\n\r\n\
Original message ID: <ack.ADU-2026-00002.00112233445566778899aabb@kaltaraprov.go.id>\r\n";
        let returned = read(bounce).expect("read");
        assert_eq!(returned.message_ids.len(), 1);
        assert_eq!(
            returned.reason,
            "Delivery has failed to these recipients. The mailbox is full"
        );
        assert_eq!(read(b"From: x@y.z\r\n\r\nno ids here\r\n"), None);
        assert_eq!(read(b"garbage without a header end"), None);
    }
}

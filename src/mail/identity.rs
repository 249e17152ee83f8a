//! When two messages are the same message. A Message-ID alone does not say it: web forms
//! reuse fixed ones and anyone can copy another's. Two copies of one message differ only
//! in the trace fields servers add on the way (`Received:`, `Return-Path:`,
//! `Delivered-To:`, authentication results), so the content digest leaves those out.
//! Pure.

use sha2::{Digest, Sha256};

/// Header fields added in transit, not by the author.
const TRACE_FIELDS: &[&str] = &[
    "received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "x-delivered-to",
    "authentication-results",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "received-spf",
    "x-spam-status",
    "x-spam-score",
    "x-spam-flag",
    "x-spam-level",
    "x-virus-scanned",
];

/// SHA-256 (hex) of the message without its trace fields: equal for two deliveries of
/// one message, different for two messages that only share a Message-ID.
pub fn content_digest(raw: &[u8]) -> String {
    let mut hasher = Sha256::new();
    let mut in_trace = false;
    let mut rest = raw;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        if line == b"\r\n" || line == b"\n" {
            // The body, as it is.
            hasher.update(rest);
            break;
        }
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if !continuation {
            in_trace = is_trace_field(line);
        }
        if !in_trace {
            hasher.update(line);
        }
        rest = after;
    }
    hex::encode(hasher.finalize())
}

fn is_trace_field(line: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let name = String::from_utf8_lossy(&line[..colon])
        .trim()
        .to_ascii_lowercase();
    TRACE_FIELDS.contains(&name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"From: Budi <budi@example.net>\r\nSubject: Lampu mati\r\n\
        Message-ID: <form-1@lapor.example>\r\n\r\nLampu jalan mati sejak Senin.\r\n";

    #[test]
    fn deliveries_of_one_message_share_a_digest() {
        let mut delivered = b"Return-Path: <budi@example.net>\r\nDelivered-To: diskominfo@kaltaraprov.go.id\r\n\
            Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n\tby mx.kaltaraprov.go.id;\r\n\
            \tMon, 30 Nov 2026 10:00:00 +0800\r\n"
            .to_vec();
        delivered.extend_from_slice(MESSAGE);
        assert_eq!(content_digest(&delivered), content_digest(MESSAGE));
    }

    #[test]
    fn a_reused_message_id_with_other_content_differs() {
        let other = b"From: Siti <siti@example.org>\r\nSubject: Jalan rusak\r\n\
            Message-ID: <form-1@lapor.example>\r\n\r\nJalan berlubang.\r\n";
        assert_ne!(content_digest(other), content_digest(MESSAGE));
        let same_headers_other_body = b"From: Budi <budi@example.net>\r\nSubject: Lampu mati\r\n\
            Message-ID: <form-1@lapor.example>\r\n\r\nLampu jalan mati sejak Selasa.\r\n";
        assert_ne!(
            content_digest(same_headers_other_body),
            content_digest(MESSAGE)
        );
    }
}

//! Mail as the tests handle it: fixtures, headers read from raw bytes, the messages a
//! user received, and an official's reply as a mail client writes it.

use std::path::Path;

use std::time::Duration;

use super::office::{OFFICE, Office};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ingest")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The From address of a raw message, as an envelope sender ("" when there is none).
pub fn envelope_sender(raw: &[u8]) -> String {
    let parsed = pengaduan::mail::parse(raw);
    parsed.sender().map(|a| a.to_string()).unwrap_or_default()
}

/// A header's value from raw message bytes (unfolded), if present.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_string())
    })
}

/// The `n`th message (1-based) in `user`'s INBOX, once it has arrived.
pub async fn nth(office: &Office, user: &str, n: usize) -> Vec<u8> {
    let messages = office
        .stack
        .wait_for_messages(user, "INBOX", n, Duration::from_secs(20))
        .await;
    messages.into_iter().nth(n - 1).expect("arrived")
}

/// A reply as a mail client writes it: new text on top, quoted history below.
pub fn reply(from: &str, to_notification: &[u8], text: &str, id: &str) -> Vec<u8> {
    let parent = header(to_notification, "Message-ID").expect("Message-ID");
    let subject = header(to_notification, "Subject").expect("Subject");
    let quoted: String = pengaduan::mail::parse(to_notification)
        .body_text
        .lines()
        .map(|l| format!("> {l}\r\n"))
        .collect();
    format!(
        "From: {from}\r\nTo: Diskominfo Kaltara <{OFFICE}>\r\nSubject: Re: {subject}\r\nMessage-ID: <{id}@mail.kaltaraprov.go.id>\r\n\
         In-Reply-To: {parent}\r\nReferences: {parent}\r\nDate: Mon, 30 Nov 2026 11:00:00 +0800\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\r\nPada Sen, 30 Nov 2026 pukul 10.00, Diskominfo Kaltara <{OFFICE}> menulis:\r\n{quoted}"
    )
    .into_bytes()
}

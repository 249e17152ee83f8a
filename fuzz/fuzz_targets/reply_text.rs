//! Any text as the body of a reply, plain and as HTML: the extracted text is trimmed
//! and every line of it comes from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pengaduan::mail::parse::normalize_text;
use pengaduan::mail::reply::{own_text, reply_text};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let plain = reply_text(&text, None);
    assert_eq!(plain, plain.trim());
    let input = normalize_text(&text.replace("\r\n", "\n").replace('\r', "\n"));
    for line in plain.lines() {
        assert!(
            line.trim().is_empty() || input.contains(line),
            "{line:?} is not from the input"
        );
    }
    let own = own_text(&text, None);
    assert!(
        plain.starts_with(&own),
        "the own text is not the start of the reply text"
    );
    let _ = reply_text("", Some(&text));
});

//! Any bytes as an inbound message: parsed, classified, and read as `pengaduan parse`
//! reads it (reply text included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pengaduan::domain::EmailAddress;
use pengaduan::mail::{Reading, classify, parse};

fuzz_target!(|raw: &[u8]| {
    let Ok(own) = EmailAddress::parse("diskominfo@kaltaraprov.go.id") else {
        return;
    };
    let inbound = parse(raw);
    let _ = classify(&inbound, &own, "kaltaraprov.go.id");
    let _ = Reading::new(raw, &own, "kaltaraprov.go.id", "ADU");
});

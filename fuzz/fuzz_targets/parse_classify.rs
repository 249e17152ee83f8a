//! Any bytes as an inbound message: parsed, classified, and read as `pengaduan parse`
//! reads it (reply text included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pengaduan::domain::EmailAddress;
use pengaduan::mail::Reading;

fuzz_target!(|raw: &[u8]| {
    let Some(own) = EmailAddress::parse("diskominfo@kaltaraprov.go.id") else {
        return;
    };
    let _ = Reading::new(raw, &own, "kaltaraprov.go.id", "ADU");
});

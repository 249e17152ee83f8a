//! The executable keeps the platform's exploit mitigations: it is position-independent
//! (ASLR moves its own image too) and fully RELRO (its relocations are resolved at load
//! and then made read-only). Read with binutils' `readelf`.

use std::process::Command;

fn readelf(flag: &str) -> String {
    let output = Command::new("readelf")
        .args(["-W", flag, env!("CARGO_BIN_EXE_pengaduan")])
        .output()
        .expect("readelf (binutils) runs");
    assert!(output.status.success(), "readelf {flag} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_executable_is_pie_with_full_relro() {
    let header = readelf("-h");
    assert!(
        header
            .lines()
            .any(|l| l.contains("Type:") && l.contains("DYN")),
        "not position-independent:\n{header}"
    );
    let segments = readelf("-l");
    assert!(segments.contains("GNU_RELRO"), "no RELRO segment");
    let dynamic = readelf("-d");
    assert!(
        dynamic
            .lines()
            .any(|l| l.contains("BIND_NOW") || (l.contains("FLAGS_1") && l.contains("NOW"))),
        "relocations are not resolved at load (partial RELRO):\n{dynamic}"
    );
}

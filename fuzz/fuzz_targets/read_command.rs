//! Any text as an official's reply, read at every stage by every role.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pengaduan::domain::{Role, Stage};
use pengaduan::office::workflow::read;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let divisions = [
        ("aptika", vec!["kabid.aptika@kaltaraprov.go.id"]),
        ("sekretariat", vec!["sekretaris@kaltaraprov.go.id"]),
    ];
    let roles = [
        Role::Admin,
        Role::KepalaDinas,
        Role::KasubbagUmum,
        Role::Bidang("aptika".into()),
    ];
    let stages = [Stage::Disposisi, Stage::Jawaban(1), Stage::Persetujuan(2)];
    for role in &roles {
        for stage in &stages {
            let _ = read(role, stage, &text, &divisions);
        }
    }
});

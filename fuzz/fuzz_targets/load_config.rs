//! Any bytes as Settings.toml: loading gives settings or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pengaduan::config::Settings;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("pengaduan-fuzz-{}.toml", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = Settings::load(&path);
    }
});

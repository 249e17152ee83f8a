//! The golden corpus: every `fixtures/**/*.eml` is parsed as `pengaduan parse --json`
//! would, and compared with the `.json` beside it. On a mismatch the actual output is
//! written beside it as `.actual.json`. `PENGADUAN_BLESS=1` (re)writes the expectations.

use std::path::{Path, PathBuf};

use pengaduan::domain::EmailAddress;
use pengaduan::mail::Reading;

fn eml_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            eml_files(&path, found);
        } else if path.extension().is_some_and(|x| x == "eml") {
            found.push(path);
        }
    }
}

#[test]
fn golden_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut files = Vec::new();
    eml_files(&root, &mut files);
    let own = EmailAddress::parse("diskominfo@kaltaraprov.go.id").expect("valid address");
    let bless = std::env::var_os("PENGADUAN_BLESS").is_some();
    let mut mismatches = Vec::new();
    for eml in &files {
        let raw = std::fs::read(eml).expect("readable fixture");
        let report = Reading::new(&raw, &own, "kaltaraprov.go.id", "ADU");
        let actual = serde_json::to_string_pretty(&report).expect("serialisable") + "\n";
        let expected_path = eml.with_extension("json");
        let actual_path = eml.with_extension("actual.json");
        if bless {
            std::fs::write(&expected_path, &actual).expect("write expectation");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {
                let _ = std::fs::remove_file(&actual_path);
            }
            _ => {
                std::fs::write(&actual_path, &actual).expect("write actual output");
                mismatches.push(eml.display().to_string());
            }
        }
    }
    assert!(
        files.len() > 20,
        "the corpus ran only {} cases",
        files.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} fixtures differ from their .json (see the .actual.json beside each): {mismatches:#?}",
        mismatches.len(),
        files.len()
    );
}

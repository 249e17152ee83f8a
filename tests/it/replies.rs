//! The reply corpus: every `fixtures/replies/*.eml` (one reply per mail client style) is
//! parsed, its new text extracted with `mail::reply::reply_text`, and compared with the
//! hand-written `.reply.txt` beside it, both trimmed. On a mismatch the actual text is
//! written beside it as `.reply.actual.txt`; all mismatches are listed in one failure.

use std::path::{Path, PathBuf};

use pengaduan::mail::reply::reply_text;

fn reply_fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

#[test]
fn reply_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/replies");
    let files = reply_fixtures(&dir);
    let mut mismatches = Vec::new();
    for eml in &files {
        let name = eml
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name");
        let raw = std::fs::read(eml).expect("readable fixture");
        let inbound = pengaduan::mail::parse(&raw);
        if let Some(defect) = &inbound.defect {
            mismatches.push(format!("{name}: the parser found a defect: {defect}"));
            continue;
        }
        let actual = reply_text(&inbound.body_text, inbound.body_html.as_deref());
        let expected_path = dir.join(format!("{name}.reply.txt"));
        let actual_path = dir.join(format!("{name}.reply.actual.txt"));
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected.replace("\r\n", "\n").trim() == actual.trim() => {
                let _ = std::fs::remove_file(&actual_path);
            }
            found => {
                std::fs::write(&actual_path, format!("{}\n", actual.trim()))
                    .expect("write actual output");
                mismatches.push(match found {
                    Ok(_) => format!("{name}: differs (see {name}.reply.actual.txt)"),
                    Err(e) => format!("{name}: cannot read {name}.reply.txt: {e}"),
                });
            }
        }
    }
    assert!(
        files.len() > 15,
        "the reply corpus ran only {} cases",
        files.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} replies differ from their .reply.txt:\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
}

/// Most fixtures also carry an HTML alternative. Cut and converted on its own (as if it
/// were an HTML-only reply), it must give the same words as the expected text: this
/// checks the HTML cutting on what Gmail, Outlook, Apple Mail, iOS and Samsung Email
/// really produce. Only the words are compared, since html2text wraps and spaces text
/// its own way.
#[test]
fn html_alternatives_give_the_same_words() {
    use mail_parser::{MessageParser, PartType};

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/replies");
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for eml in reply_fixtures(&dir) {
        let name = eml
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name")
            .to_string();
        let raw = std::fs::read(&eml).expect("readable fixture");
        let message = MessageParser::default()
            .parse(&raw)
            .expect("fixture parses");
        let html: Vec<&str> = message
            .html_body
            .iter()
            .filter_map(|&id| match &message.parts.get(id as usize)?.body {
                PartType::Html(html) => Some(html.as_ref()),
                _ => None,
            })
            .collect();
        if html.is_empty() {
            continue;
        }
        checked += 1;
        let actual = reply_text("", Some(&html.join("\n")));
        let expected = std::fs::read_to_string(dir.join(format!("{name}.reply.txt")))
            .unwrap_or_else(|e| panic!("cannot read {name}.reply.txt: {e}"));
        if words(&actual) != words(&expected) {
            mismatches.push(format!("{name}:\n{actual}\n"));
        }
    }
    assert!(checked > 10, "only {checked} fixtures have an HTML part");
    assert!(
        mismatches.is_empty(),
        "the HTML part gives other words than the .reply.txt:\n{}",
        mismatches.join("\n")
    );
}

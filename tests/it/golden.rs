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

/// `fixtures/ingest/world/`: complaints in legacy charsets, after an mbox `From ` line,
/// with an RFC 2047 word split in a character, an RFC 2231 file name, and undeclared
/// 8-bit text (made by `fixtures/tools/make_world_ingest.py`).
#[test]
fn world_charsets_are_decoded() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ingest/world");
    let cases: &[(&str, &str, &str)] = &[
        (
            "01-gb2312-subject-gbk-body",
            "路灯坏了",
            "丹绒塞洛尔的路灯从星期四开始就不亮了。",
        ),
        ("02-gb18030", "道路积水 €", "塔拉坎市场前的道路积水严重。"),
        ("03-big5", "路燈故障", "丹戎塞洛爾的路燈已經壞了三天。"),
        (
            "04-iso-2022-jp",
            "街灯が消えています",
            "タンジュンセロールの街灯が木曜日から消えています。",
        ),
        (
            "05-shift-jis",
            "道路の穴",
            "市場の前の道路に大きな穴があります。",
        ),
        (
            "06-euc-kr",
            "가로등 고장",
            "탄중셀로르의 가로등이 목요일부터 꺼져 있습니다.",
        ),
        (
            "07-koi8-r",
            "Не горят фонари",
            "Фонари на улице Сенгкавит не горят с четверга.",
        ),
        (
            "08-windows-1251",
            "Яма на дороге",
            "На дороге у рынка большая яма.",
        ),
        (
            "09-windows-1256",
            "إنارة الشارع معطلة",
            "إنارة الشارع معطلة منذ يوم الخميس.",
        ),
        (
            "10-iso-8859-2",
            "Zepsute latarnie",
            "latarnie na ulicy Sengkawit nie świecą od czwartku.",
        ),
        ("11-windows-874", "ไฟถนนดับ", "ไฟถนนดับตั้งแต่วันพฤหัสบดี"),
        (
            "20-mbox-from-line",
            "Lampu jalan mati",
            "Lampu jalan di Jl. Sengkawit mati sejak Kamis.",
        ),
        (
            "21-rfc2047-split-character",
            "Jalan berlubang di depan 市场",
            "Mohon diperbaiki.",
        ),
        (
            "22-rfc2231-filename",
            "Foto lampu jalan",
            "Foto lokasi terlampir.",
        ),
        (
            "23-undeclared-windows-1252",
            "Keluhan: parkir liar di depan café Tepian",
            "Parkir liar di depan café «Tepian», Tarakan.",
        ),
        (
            "24-undeclared-gbk",
            "路灯坏了",
            "丹绒塞洛尔的路灯从星期四开始就不亮了。",
        ),
    ];
    for (name, subject, text) in cases {
        let raw = std::fs::read(dir.join(format!("{name}.eml"))).expect("readable fixture");
        let inbound = pengaduan::mail::parse(&raw);
        assert_eq!(inbound.defect, None, "{name}");
        assert_eq!(inbound.subject, *subject, "{name}");
        assert!(
            inbound.body_text.contains(text),
            "{name}: {:?}",
            inbound.body_text
        );
    }
    let raw = std::fs::read(dir.join("22-rfc2231-filename.eml")).expect("readable fixture");
    let names: Vec<_> = pengaduan::mail::parse(&raw)
        .attachments
        .into_iter()
        .map(|a| a.filename)
        .collect();
    assert_eq!(
        names,
        vec![Some("foto lampu jalan Jl. Sengkawit–malam.jpg".to_string())]
    );
}

/// Non-delivery reports in the forms real servers send them, without the standard
/// marks (qmail, Exchange text, Sendmail and Postfix from a bare "MAILER-DAEMON",
/// Gmail, Exchange Online), are bounces; a citizen forwarding one is not.
#[test]
fn world_bounce_forms_are_bounces() {
    use pengaduan::mail::{Classification, classify};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ingest/world");
    let own = EmailAddress::parse("diskominfo@kaltaraprov.go.id").expect("valid address");
    let kind = |name: &str| {
        let raw = std::fs::read(dir.join(name)).expect("readable fixture");
        classify(&pengaduan::mail::parse(&raw), &own, "kaltaraprov.go.id")
    };
    for name in [
        "30-bounce-qmail.eml",
        "31-bounce-exchange-text.eml",
        "32-bounce-sendmail-no-domain.eml",
        "33-bounce-postfix-old.eml",
        "34-bounce-gmail-text.eml",
        "35-bounce-exchange-online.eml",
    ] {
        assert!(
            matches!(kind(name), Classification::Bounce(_)),
            "{name}: {:?}",
            kind(name)
        );
    }
    for name in [
        "36-forwarded-bounce-is-a-person.eml",
        "37-returned-mail-subject-is-a-person.eml",
    ] {
        assert_eq!(kind(name), Classification::Person, "{name}");
    }
}

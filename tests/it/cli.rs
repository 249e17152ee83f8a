//! The command-line contract: exit statuses, one clear line for configuration errors
//! naming the key and the file, environment overrides, `parse`, and `list` by pages.

use std::path::Path;
use std::process::{Command, Output};

use crate::ingest::numbers;
use crate::support::office::{OFFICE, OFFLINE_SETTINGS, Office};
use serde_json::Value;

fn pengaduan(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pengaduan"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("PENGADUAN_CONFIG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("cannot run pengaduan")
}

fn config_dir(settings: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Settings.toml"), settings).expect("write Settings.toml");
    dir
}

/// Exit status 2 and exactly one stderr line naming `key` and the file.
fn assert_config_error(output: &Output, key: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one clear line, got: {stderr}");
    assert!(
        lines[0].contains("Settings.toml"),
        "names the file: {stderr}"
    );
    assert!(lines[0].contains(key), "names the key {key}: {stderr}");
}

#[test]
fn configuration_errors_name_the_key_and_the_file() {
    let missing = config_dir(&OFFLINE_SETTINGS.replace(
        "host = \"127.0.0.1\"\nport = 1\nsecurity = \"none\"\nusername",
        "port = 1\nsecurity = \"none\"\nusername",
    ));
    assert_config_error(&pengaduan(missing.path(), &["list"], &[]), "imap.host");

    let dir = config_dir(OFFLINE_SETTINGS);
    let bad_port = pengaduan(dir.path(), &["list"], &[("PENGADUAN__IMAP__PORT", "abc")]);
    assert_config_error(&bad_port, "imap.port");

    let remote_plain = pengaduan(
        dir.path(),
        &["list"],
        &[("PENGADUAN__SMTP__HOST", "smtp.example.net")],
    );
    assert_config_error(&remote_plain, "smtp.security");

    let no_secret = config_dir(&OFFLINE_SETTINGS.replace("secret = \"0123456789abcdef0123\"", ""));
    assert_config_error(
        &pengaduan(no_secret.path(), &["run", "--once"], &[]),
        "security.secret",
    );

    let no_file = tempfile::tempdir().expect("tempdir");
    assert_config_error(&pengaduan(no_file.path(), &["list"], &[]), "Settings.toml");
}

#[test]
fn a_token_secret_without_entropy_is_a_configuration_error() {
    let dir = config_dir(OFFLINE_SETTINGS);
    for weak in [
        " ".repeat(16),
        "x".repeat(32),
        "abcabcabcabcabcabc".to_string(),
    ] {
        let output = pengaduan(
            dir.path(),
            &["list"],
            &[("PENGADUAN__SECURITY__SECRET", weak.as_str())],
        );
        assert_config_error(&output, "security.secret");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("at least 16 characters") && stderr.contains("8 of them different"),
            "says what is required: {stderr}"
        );
    }
}

#[test]
fn environment_overrides_the_file() {
    let dir = config_dir(OFFLINE_SETTINGS);
    // The file's database is register.db; the environment moves it.
    let output = pengaduan(
        dir.path(),
        &["list", "--json"],
        &[("PENGADUAN__DATABASE__URL", "sqlite://other.db")],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "[]");
    assert!(dir.path().join("other.db").exists());
    assert!(!dir.path().join("register.db").exists());
    // PENGADUAN_CONFIG names the file.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("Settings.toml");
    let output = pengaduan(
        elsewhere.path(),
        &["list"],
        &[("PENGADUAN_CONFIG", config.to_str().expect("utf-8 path"))],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn connection_errors_fail_the_cycle_with_one_line() {
    let dir = config_dir(OFFLINE_SETTINGS);
    let output = pengaduan(dir.path(), &["--log-format", "json", "run", "--once"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("cannot connect to IMAP server 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "no secret in output: {stderr}");
}

#[test]
fn parse_explains_what_the_worker_would_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ingest");
    let garbage = fixtures.join("12-garbage-not-email.eml");
    let output = pengaduan(
        dir.path(),
        &["parse", garbage.to_str().expect("utf-8"), "--json"],
        &[],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["kind"], "quarantined");
    assert!(
        report["quarantine_reason"]
            .as_str()
            .expect("reason")
            .contains("not an email")
    );

    let attachments = fixtures.join("04-mixed-pdf-jpeg.eml");
    let output = pengaduan(
        dir.path(),
        &["parse", attachments.to_str().expect("utf-8"), "--json"],
        &[],
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["kind"], "complaint");
    assert_eq!(report["from"]["email"], "ahmad.fauzi@example.net");
    assert_eq!(
        report["attachments"].as_array().expect("attachments").len(),
        2
    );
    assert_eq!(report["attachments"][0]["size"], 1010);
    assert!(report["quarantine_reason"].is_null());
    for key in [
        "message_id",
        "in_reply_to",
        "references",
        "to",
        "subject",
        "date",
        "body_text",
    ] {
        assert!(report.get(key).is_some(), "parse --json has {key}");
    }
    assert!(
        !dir.path().join("var").exists(),
        "parse touches no database"
    );
}

/// `list` prints a page of the register in number order and says when there is more;
/// `--all` and `--json` list every complaint.
#[tokio::test]
async fn list_prints_a_page_and_says_when_there_is_more() {
    let office = Office::start().await;
    for k in 1..=3 {
        let raw = format!(
            "From: Warga {k} <warga{k}@example.net>\r\nTo: {OFFICE}\r\nSubject: Jalan rusak nomor {k}\r\n\
             Message-ID: <page{k}@example.net>\r\nDate: Fri, 4 Dec 2026 08:0{k}:00 +0700\r\n\r\n\
             Jalan di depan rumah saya rusak, mohon diperbaiki.\r\n"
        );
        office
            .submit(&format!("warga{k}@example.net"), raw.as_bytes())
            .await;
    }
    office.wait_inbox(3).await;
    office.run_once();
    let text = |args: &[&str]| {
        let output = office.output(args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    };

    let page = text(&["list", "--limit", "2"]);
    let lines: Vec<&str> = page.lines().collect();
    assert_eq!(lines.len(), 3, "{page}");
    assert!(lines[0].starts_with("ADU-2026-00001"), "{page}");
    assert!(lines[1].starts_with("ADU-2026-00002"), "{page}");
    assert_eq!(lines[2], "(the first 2; more with --limit N or --all)");

    let all = text(&["list", "--all"]);
    assert_eq!(all.lines().count(), 3, "{all}");
    assert!(!all.contains("more with"), "{all}");
    let exact = text(&["list", "--limit", "3", "--status", "menunggu_disposisi"]);
    assert_eq!(exact.lines().count(), 3, "{exact}");
    assert!(!exact.contains("more with"), "{exact}");

    assert_eq!(office.list().len(), 3, "--json lists every complaint");
    let limited: Vec<Value> =
        serde_json::from_str(&text(&["list", "--json", "--limit", "1"])).expect("JSON array");
    assert_eq!(numbers(&limited), ["ADU-2026-00001"]);
    let conflict = office.output(&["list", "--limit", "1", "--all"]);
    assert!(!conflict.status.success(), "--limit and --all conflict");
}

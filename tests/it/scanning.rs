//! Citizens' files scanned by a real clamd before any notification forwards them: infected
//! files are withheld (kept as evidence, the admin told), files clamd could not scan are
//! held back and forwarded once a later cycle scans them.

use std::time::Duration;

use base64::Engine;
use mail_parser::{MessageParser, MimeHeaders};

use pengaduan::transport::clamd::eicar;

use crate::support::clamd::{CUSTOM_MALWARE, CUSTOM_SIGNATURE, Clamd, EICAR_SIGNATURE};
use crate::support::office::{OFFICE, Office};

const CITIZEN: &str = "dewi.lestari@example.net";
const KADIS: &str = "kadis@kaltaraprov.go.id";
const ADMIN: &str = "admin@kaltaraprov.go.id";
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 foto jalan rusak di depan pasar, bukan berkas berbahaya";

/// A complaint carrying `files` (name, bytes), base64-encoded.
fn complaint(id: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut raw = format!(
        "From: Dewi Lestari <{CITIZEN}>\r\nTo: {OFFICE}\r\nSubject: Jalan rusak di depan pasar\r\n\
         Message-ID: <{id}@example.net>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0800\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"batas\"\r\n\r\n\
         --batas\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Jalan di depan pasar rusak parah. Foto dan surat terlampir.\r\n"
    );
    for (name, bytes) in files {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        raw.push_str(&format!(
            "--batas\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        ));
    }
    raw.push_str("--batas--\r\n");
    raw.into_bytes()
}

/// The names of the files a message carries, and its text.
fn files_and_text(raw: &[u8]) -> (Vec<String>, String) {
    let message = MessageParser::default().parse(raw).expect("a message");
    let names = message
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_owned))
        .collect();
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    (names, text)
}

fn with_clamd(office: &Office, clamd: &Clamd) {
    office.edit_settings(|s| {
        format!(
            "{s}\n[scan]\nclamd = \"{}\"\ntimeout_seconds = 10\n",
            clamd.socket().display()
        )
    });
}

async fn inbox(office: &Office, user: &str, n: usize) -> Vec<Vec<u8>> {
    office
        .stack
        .wait_for_messages(user, "INBOX", n, Duration::from_secs(20))
        .await
}

#[tokio::test]
async fn infected_files_are_withheld_and_clean_ones_forwarded() {
    let mut clamd = Clamd::prepare();
    clamd.start();
    let office = Office::start().await;
    with_clamd(&office, &clamd);
    let check = office.output(&["check"]);
    let lines = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(lines.contains("ok   clamd:"), "{lines}");

    let eicar = eicar();
    let files: [(&str, &[u8]); 3] = [
        ("foto-jalan.jpg", PHOTO),
        ("eicar.com.txt", &eicar),
        ("undangan.pdf", CUSTOM_MALWARE),
    ];
    office
        .deliver_and_run(CITIZEN, &complaint("infected", &files))
        .await;

    let complaints = office.list();
    assert_eq!(complaints.len(), 1, "the complaint is registered anyway");
    let request = &inbox(&office, KADIS, 1).await[0];
    let (names, text) = files_and_text(request);
    assert_eq!(
        names,
        ["foto-jalan.jpg"],
        "only the clean file is forwarded"
    );
    for withheld in [
        "eicar.com.txt",
        EICAR_SIGNATURE,
        "undangan.pdf",
        CUSTOM_SIGNATURE,
    ] {
        assert!(
            text.contains(withheld),
            "{withheld} named as withheld in:\n{text}"
        );
    }

    // The admin is told (and gets the Kepala Dinas's copy, which carries no bad file).
    let admin = inbox(&office, ADMIN, 2).await;
    let warning = admin
        .iter()
        .map(|raw| files_and_text(raw))
        .find(|(_, text)| text.contains("berkas berbahaya"))
        .expect("a warning to the admin");
    assert!(warning.0.is_empty(), "the warning carries no file");
    assert!(warning.1.contains(EICAR_SIGNATURE) && warning.1.contains(CUSTOM_SIGNATURE));
    for (names, _) in admin.iter().map(|raw| files_and_text(raw)) {
        assert!(
            !names
                .iter()
                .any(|n| n == "eicar.com.txt" || n == "undangan.pdf")
        );
    }

    // The evidence stays in the register, whole.
    let number = complaints[0]["number"].as_str().expect("number");
    let shown = office.show(number);
    let kept = shown.to_string();
    assert!(
        kept.contains("eicar.com.txt") && kept.contains("undangan.pdf"),
        "{shown}"
    );
}

#[tokio::test]
async fn files_wait_while_clamd_is_down_and_go_once_it_scans_them() {
    let mut clamd = Clamd::prepare();
    let office = Office::start().await;
    with_clamd(&office, &clamd);
    let check = office.output(&["check"]);
    let lines = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(1), "{lines}");
    assert!(
        lines.contains("FAIL clamd:") && lines.contains("held back"),
        "{lines}"
    );

    let files: [(&str, &[u8]); 1] = [("foto-jalan.jpg", PHOTO)];
    office
        .deliver_and_run(CITIZEN, &complaint("held", &files))
        .await;
    assert_eq!(office.list().len(), 1, "registered while clamd is down");
    let request = &inbox(&office, KADIS, 1).await[0];
    let (names, text) = files_and_text(request);
    assert!(names.is_empty(), "nothing unscanned leaves: {names:?}");
    assert!(text.contains("belum dapat dipindai"), "{text}");

    // Still down: nothing changes, nothing is sent.
    office.run_once();
    assert_eq!(inbox(&office, KADIS, 1).await.len(), 1);

    clamd.start();
    office.run_once();
    let both = inbox(&office, KADIS, 2).await;
    let late = both
        .iter()
        .map(|raw| files_and_text(raw))
        .find(|(names, _)| !names.is_empty())
        .expect("the late file");
    assert_eq!(late.0, ["foto-jalan.jpg"]);
    assert!(late.1.contains("dinyatakan bersih"), "{}", late.1);

    office.run_once();
    assert_eq!(inbox(&office, KADIS, 2).await.len(), 2, "forwarded once");
}

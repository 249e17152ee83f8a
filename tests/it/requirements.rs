//! The service standard's requirements over real servers: the acknowledgment asks for
//! what is missing, the Kepala Dinas sees it, a follow-up completes it, and a NIK is
//! masked wherever it is not the administrator's to see.

use crate::channels::first_about;
use crate::support::office::{OFFICE, Office, reply};

const CITIZEN: &str = "rina.wati@example.net";
const KADIS: &str = "kadis@kaltaraprov.go.id";
const ADMIN: &str = "admin@kaltaraprov.go.id";
const NIK: &str = "6504015208900003";

fn complaint(text: &str) -> Vec<u8> {
    format!(
        "From: Rina Wati <{CITIZEN}>\r\nTo: {OFFICE}\r\nSubject: Sampah menumpuk\r\n\
         Message-ID: <rina-1@example.net>\r\nDate: Mon, 30 Nov 2026 08:00:00 +0800\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

/// The citizen's reply to the acknowledgment, with a KTP and a photo attached.
fn follow_up_with_files(ack: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(&reply(CITIZEN, ack, "Berikut KTP dan foto.", "rina-2"))
        .into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a message");
    let head = head.replace(
        "Content-Type: text/plain; charset=utf-8",
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"r1\"",
    );
    format!(
        "{head}\r\n\r\n--r1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n\
         --r1\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"KTP Rina.jpg\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAQ==\r\n\
         --r1\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"sampah.jpg\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n/9j/4AAQSkZJRgABAg==\r\n--r1--\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn missing_requirements_are_asked_for_and_completed_by_a_follow_up() {
    let office = Office::start().await;
    office
        .deliver_and_run(
            CITIZEN,
            &complaint("Sampah di Jl. Agatis tidak diangkut seminggu."),
        )
        .await;
    let number = "ADU-2026-00001";
    let shown = office.show(number);
    assert_eq!(
        (
            shown["identity_provided"].as_bool(),
            shown["documents"].as_i64()
        ),
        (Some(false), Some(0))
    );
    let ack = first_about(&office, CITIZEN, number, "Yang belum kami terima").await;
    let ack_text = pengaduan::mail::parse(&ack).body_text;
    assert!(
        ack_text.contains("identitas diri") && ack_text.contains("dokumen pendukung"),
        "{ack_text}"
    );
    first_about(
        &office,
        KADIS,
        number,
        "identitas BELUM ada; dokumen pendukung 0",
    )
    .await;

    office
        .deliver_and_run(CITIZEN, &follow_up_with_files(&ack))
        .await;
    let shown = office.show(number);
    assert_eq!(
        (
            shown["identity_provided"].as_bool(),
            shown["documents"].as_i64()
        ),
        (Some(true), Some(1))
    );
    let events: Vec<&str> = shown["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(events.contains(&"requirements_added"), "{events:?}");
}

#[tokio::test]
async fn a_nik_is_masked_for_officials_and_in_json_unless_revealed() {
    let office = Office::start().await;
    let text = format!("Jalan rusak di depan rumah. NIK saya {NIK}.");
    office.submit(CITIZEN, &complaint(&text)).await;
    office.wait_inbox(1).await;
    let output = office.run_once();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(!logs.contains(NIK), "never in the logs");
    let number = "ADU-2026-00001";
    let masked = "6504********0003";
    let shown = office.show(number);
    assert_eq!(
        shown["identity_provided"], true,
        "a valid NIK in the text is an identity"
    );
    assert_eq!(shown["reporter_nik"], masked);
    let json = shown.to_string();
    assert!(
        !json.contains(NIK) && json.contains(masked),
        "masked everywhere in JSON"
    );
    assert_eq!(office.list()[0]["reporter_nik"], masked);
    let revealed = office.output(&["show", number, "--json", "--reveal-nik"]);
    let revealed: serde_json::Value = serde_json::from_slice(&revealed.stdout).expect("JSON");
    assert_eq!(revealed["reporter_nik"], NIK, "in full when asked for");

    let to_kadis = first_about(&office, KADIS, number, "identitas ada").await;
    let kadis_text = pengaduan::mail::parse(&to_kadis).body_text;
    assert!(
        !kadis_text.contains(NIK) && kadis_text.contains(masked),
        "{kadis_text}"
    );
    // The admin is in Cc of the disposition request, so sees what the Kepala Dinas sees.
    first_about(&office, ADMIN, number, masked).await;
}

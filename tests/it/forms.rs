//! Letters, walk-ins and phone calls, registered by the administrator's form over real
//! servers: from the form to the answer, by email, by SMS, or on paper; and forms that
//! are wrong, blank or forged register nothing.

use crate::channels::{answer, complaint, first_about, office_with_gateway, sms};
use crate::support::office::{OFFICE, Office};

const ADMIN: &str = "admin@kaltaraprov.go.id";
const KADIS: &str = "kadis@kaltaraprov.go.id";
const CITIZEN: &str = "warga.surat@example.net";
const PHONE: &str = "6281254310987@sms-gateway.kaltaraprov.go.id";
const NIK: &str = "6504015208900003";

/// A new email from the administrator (no thread), with an optional scanned letter.
fn from_admin(text: &str, id: &str, scan: Option<&str>) -> Vec<u8> {
    let head = format!(
        "From: Admin Pengaduan <{ADMIN}>\r\nTo: {OFFICE}\r\nSubject: Pendaftaran pengaduan\r\n\
         Message-ID: <{id}@kaltaraprov.go.id>\r\nDate: Mon, 30 Nov 2026 09:00:00 +0800\r\n"
    );
    let Some(name) = scan else {
        return format!("{head}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n")
            .into_bytes();
    };
    format!(
        "{head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f1\"\r\n\r\n\
         --f1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
         --f1\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg==\r\n--f1--\r\n"
    )
    .into_bytes()
}

fn body(raw: &[u8]) -> String {
    pengaduan::mail::parse(raw).body_text
}

#[tokio::test]
async fn letters_and_calls_are_registered_by_the_form_and_answered_their_way() {
    let office = office_with_gateway().await;
    let blank = from_admin("DAFTAR", "blank-1", None);
    let bad_nik = from_admin(
        "DAFTAR surat\nNama: Budi\nNIK: 6504013208900003\nEmail: budi@example.net\nIsi: Jalan rusak",
        "bad-1",
        None,
    );
    for raw in [&blank, &bad_nik] {
        office.submit(ADMIN, raw).await;
    }
    office.wait_inbox(2).await;
    office.run_once();
    assert!(office.list().is_empty(), "nothing registered");
    let form = first_about(&office, ADMIN, "Formulir pendaftaran", "DAFTAR langsung").await;
    assert!(body(&form).contains("Nama:") && body(&form).contains("Isi:"));
    let wrong = first_about(&office, ADMIN, "belum dicatat", "").await;
    assert!(
        body(&wrong).contains("tanggal lahir"),
        "says what is wrong: {}",
        body(&wrong)
    );

    let letter = format!(
        "DAFTAR surat\nNama: Siti Rahmawati\nNIK: {NIK}\nAlamat: Jl. Sengkawit 5\nTelepon:\nEmail: {CITIZEN}\n\
         Isi: Lampu jalan di depan rumah mati.\nSudah seminggu."
    );
    office
        .submit(
            ADMIN,
            &from_admin(&letter, "form-1", Some("surat-siti.pdf")),
        )
        .await;
    office.wait_inbox(1).await;
    office.run_once();
    let call = "DAFTAR telepon\nNama: Pak Yusuf\nTelepon: 0812-5431-0987\nIsi: Banjir di RT 03.";
    office
        .submit(ADMIN, &from_admin(call, "form-2", None))
        .await;
    office.wait_inbox(1).await;
    office.run_once();

    let list = office.list();
    assert_eq!(list.len(), 2, "{list:?}");
    let letter = complaint(&list, "ADU-2026-00001");
    assert_eq!(
        (
            letter["channel"].as_str(),
            letter["reporter_email"].as_str()
        ),
        (Some("surat"), Some(CITIZEN))
    );
    assert_eq!(letter["reporter_name"], "Siti Rahmawati");
    let call = complaint(&list, "ADU-2026-00002");
    assert_eq!(
        (call["channel"].as_str(), call["reporter_phone"].as_str()),
        (Some("telepon"), Some("+6281254310987"))
    );

    let ack = first_about(&office, CITIZEN, "ADU-2026-00001", "ADU-2026-00001").await;
    assert!(body(&ack).contains("Siti Rahmawati"), "{}", body(&ack));
    assert!(sms(&office, PHONE, 1).await.contains("ADU-2026-00002"));
    let confirmation = first_about(&office, ADMIN, "Pengaduan terdaftar", "ADU-2026-00001").await;
    assert!(body(&confirmation).contains(NIK), "the admin sees the NIK");
    let to_kadis = first_about(&office, KADIS, "ADU-2026-00001", "").await;
    let kadis_text = body(&to_kadis);
    assert!(
        kadis_text.contains("Lampu jalan di depan rumah mati."),
        "{kadis_text}"
    );
    assert!(
        !kadis_text.contains(NIK) && !kadis_text.contains(CITIZEN),
        "{kadis_text}"
    );
    assert_eq!(
        pengaduan::mail::parse(&to_kadis).attachments.len(),
        1,
        "the scan travels"
    );

    answer(&office, "ADU-2026-00001", "Lampu diganti Rabu.").await;
    answer(&office, "ADU-2026-00002", "Saluran dibersihkan Kamis.").await;
    first_about(&office, CITIZEN, "ADU-2026-00001", "Lampu diganti Rabu.").await;
    assert!(
        sms(&office, PHONE, 2)
            .await
            .contains("Saluran dibersihkan Kamis.")
    );
    for (number, text) in [
        ("ADU-2026-00001", "Lampu diganti Rabu."),
        ("ADU-2026-00002", "Saluran dibersihkan Kamis."),
    ] {
        assert_eq!(office.show(number)["status"], "selesai");
        first_about(&office, ADMIN, number, text).await;
    }
}

#[tokio::test]
async fn a_walk_in_without_email_or_sms_gets_papers_and_a_forged_form_registers_nothing() {
    let office = Office::start().await;
    let walk_in = "DAFTAR langsung\nNama: Ibu Ani\nAlamat: Jl. Agatis 7, Tanjung Selor\nTelepon: 081211112222\nIsi: Pohon tumbang.";
    office
        .submit(ADMIN, &from_admin(walk_in, "forged-1", None))
        .await;
    office.wait_inbox(1).await;
    let forged = office
        .command(&["run", "--once"])
        .env(
            "PENGADUAN__SECURITY__TRUSTED_AUTHSERV_ID",
            "mx.kaltaraprov.go.id",
        )
        .output()
        .expect("run");
    assert!(forged.status.success());
    assert!(
        office.list().is_empty(),
        "a form without DKIM/SPF pass registers nothing"
    );
    assert_eq!(office.count("SELECT count(*) FROM unauthorized").await, 1);
    first_about(&office, ADMIN, "belum dicatat", "tidak terverifikasi").await;

    office
        .submit(ADMIN, &from_admin(walk_in, "walk-in-1", None))
        .await;
    office.wait_inbox(1).await;
    office.run_once();
    let list = office.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["channel"], "langsung");
    assert_eq!(list[0]["reporter_email"], "tanpa-email@pengaduan.invalid");
    let receipt = first_about(&office, ADMIN, "Tanda terima untuk dicetak", "TANDA TERIMA").await;
    let receipt = body(&receipt);
    assert!(
        receipt.contains("Ibu Ani")
            && receipt.contains("Jl. Agatis 7")
            && receipt.contains("ADU-2026-00001"),
        "{receipt}"
    );
    answer(&office, "ADU-2026-00001", "Pohon sudah dipotong.").await;
    let paper = first_about(
        &office,
        ADMIN,
        "Jawaban untuk dicetak",
        "Pohon sudah dipotong.",
    )
    .await;
    assert!(body(&paper).contains("Kepada Yth. Ibu Ani"));
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE first_recipient LIKE '%.invalid'")
            .await,
        0,
        "nothing is ever sent to the stand-in address"
    );
}

//! The citizen's side on the other routes, end to end over real servers with the test as
//! the SMS gateway: for an SMS reporter the status on request, the reply to another
//! number, the rating and the closure's reason travel by SMS; for a walk-in without
//! email or SMS, the closure's reason goes on paper through the administrator.

use crate::channels::{
    GATEWAY, PHONE_1, PHONE_3, answer, first_about, gateway_mail, office_with_gateway, sms,
};
use crate::support::office::{OFFICE, Office, reply};

const ADMIN: &str = "admin@kaltaraprov.go.id";
const KADIS: &str = "kadis@kaltaraprov.go.id";

#[tokio::test]
async fn an_sms_reporter_asks_the_status_and_rates_the_answer_by_sms() {
    let office = office_with_gateway().await;
    office.submit_fixture("21-sms-gateway.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let ack = sms(&office, PHONE_1, 1).await;
    assert!(ack.contains("ADU-2026-00001"), "{ack}");

    // The reporter's number asks; another number asks about the same complaint.
    let asked = gateway_mail(GATEWAY, Some("+6281254310987"), "SMS 1708", "STATUS", "q-1");
    let other = gateway_mail(
        GATEWAY,
        Some("+6285200001111"),
        "SMS 1708",
        "cek status ADU-2026-00001",
        "q-2",
    );
    office.submit(GATEWAY, &asked).await;
    office.submit(GATEWAY, &other).await;
    office.wait_inbox(2).await;
    office.run_once();

    let status = sms(&office, PHONE_1, 2).await;
    assert!(
        status.contains("Status pengaduan ADU-2026-00001") && status.contains("menunggu disposisi"),
        "{status}"
    );
    let declined = sms(&office, PHONE_3, 1).await;
    assert!(
        declined.contains("hanya kami sampaikan kepada pelapor"),
        "{declined}"
    );
    assert!(
        !declined.contains("ADU-2026-00001") && !declined.contains("disposisi"),
        "nothing about the complaint: {declined}"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'status_request'")
            .await,
        2
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'declined'")
            .await,
        0,
        "a status question is not a malformed complaint"
    );
    assert_eq!(office.list().len(), 1, "nothing registered");
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'status' AND first_recipient LIKE '%@sms-gateway.kaltaraprov.go.id'")
            .await,
        2,
        "both answers went through the gateway"
    );

    // The answer invites a rating; one digit by SMS rates it.
    answer(&office, "ADU-2026-00001", "Lampu jalan diganti Kamis.").await;
    let answered = sms(&office, PHONE_1, 3).await;
    assert!(
        answered.contains("Lampu jalan diganti Kamis.") && answered.contains("angka 1-4"),
        "{answered}"
    );
    let rated = gateway_mail(
        GATEWAY,
        Some("081254310987"),
        "SMS 1708",
        "4 - cepat",
        "n-1",
    );
    office.deliver_and_run(GATEWAY, &rated).await;
    let rating = &office.show("ADU-2026-00001")["rating"];
    assert_eq!(rating["score"], 4.0);
    assert_eq!(rating["comment"], "cepat");
    let thanks = sms(&office, PHONE_1, 4).await;
    assert!(
        thanks.contains("Terima kasih atas penilaian") && thanks.contains("4,00"),
        "{thanks}"
    );
}

/// The administrator closes complaint `number` with `TUTUP <reason>`, replying to the
/// disposition request they got in Cc.
async fn close(office: &Office, number: &str, reason: &str) {
    let request = first_about(office, KADIS, number, "").await;
    let close = reply(ADMIN, &request, &format!("TUTUP {reason}"), "close-1");
    office.deliver_and_run(ADMIN, &close).await;
    assert_eq!(office.show(number)["status"], "ditutup");
}

#[tokio::test]
async fn a_closure_reaches_an_sms_reporter_by_sms() {
    let office = office_with_gateway().await;
    office.submit_fixture("21-sms-gateway.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    close(&office, "ADU-2026-00001", "sudah diperbaiki dinas PU").await;
    let told = sms(&office, PHONE_1, 2).await;
    assert!(
        told.contains("ADU-2026-00001 telah ditutup") && told.contains("sudah diperbaiki dinas PU"),
        "{told}"
    );
}

#[tokio::test]
async fn a_closure_reaches_a_walk_in_on_paper_through_the_administrator() {
    let office = Office::start().await;
    let walk_in = "DAFTAR langsung\nNama: Ibu Ani\nAlamat: Jl. Agatis 7, Tanjung Selor\n\
                   Telepon: 081211112222\nIsi: Pohon tumbang.";
    let form = format!(
        "From: Admin Pengaduan <{ADMIN}>\r\nTo: {OFFICE}\r\nSubject: Pendaftaran pengaduan\r\n\
         Message-ID: <walk-in-close@kaltaraprov.go.id>\r\nDate: Mon, 30 Nov 2026 09:00:00 +0800\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{walk_in}\r\n"
    );
    office.deliver_and_run(ADMIN, form.as_bytes()).await;
    close(&office, "ADU-2026-00001", "bukan kewenangan dinas").await;
    let paper = first_about(
        &office,
        ADMIN,
        "Pemberitahuan penutupan untuk dicetak",
        "bukan kewenangan dinas",
    )
    .await;
    let text = pengaduan::mail::parse(&paper).body_text;
    assert!(
        text.contains("Kepada Yth. Ibu Ani") && text.contains("Jl. Agatis 7"),
        "{text}"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE first_recipient LIKE '%.invalid'")
            .await,
        0,
        "nothing is ever sent to the stand-in address"
    );
}

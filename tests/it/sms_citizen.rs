//! The citizen's side for an SMS reporter, end to end over real servers with the test as
//! the SMS gateway: the status on request, the reply to another number, and the
//! satisfaction rating all travel by SMS.

use crate::channels::{GATEWAY, PHONE_1, PHONE_3, answer, gateway_mail, office_with_gateway, sms};

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

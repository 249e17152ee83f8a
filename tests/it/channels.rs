//! The office's other channels end to end over real servers. The test plays the SMS
//! gateway: it submits the gateway's email to the office mailbox, and reads the SMS the
//! worker sends from the mailbox of `<msisdn>@sms-gateway.kaltaraprov.go.id`.

use std::io::Write;
use std::time::Duration;

use crate::support::office::{OFFICE, Office, header, nth, reply};

const KADIS: &str = "kadis@kaltaraprov.go.id";
const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
const KASUBBAG: &str = "kasubbag@kaltaraprov.go.id";
pub(crate) const GATEWAY: &str = "sms-gateway@kaltaraprov.go.id";
/// The phone of `fixtures/ingest/21-sms-gateway.eml`, as the gateway addresses it.
pub(crate) const PHONE_1: &str = "6281254310987@sms-gateway.kaltaraprov.go.id";
const PHONE_2: &str = "6281311112222@sms-gateway.kaltaraprov.go.id";
pub(crate) const PHONE_3: &str = "6285200001111@sms-gateway.kaltaraprov.go.id";
const WAIT: Duration = Duration::from_secs(20);

/// An office whose SMS gateway is configured.
pub(crate) async fn office_with_gateway() -> Office {
    let office = Office::start().await;
    let mut settings = std::fs::OpenOptions::new()
        .append(true)
        .open(&office.config)
        .expect("open Settings.toml");
    write!(
        settings,
        "\n[channels.sms]\ngateway_from = [\"{GATEWAY}\"]\nnumber_pattern = 'dari (\\+?[0-9]+)'\n\
         reply_to = \"{{msisdn}}@sms-gateway.kaltaraprov.go.id\"\nmax_parts = 3\n"
    )
    .expect("append the gateway");
    office
}

/// The gateway's email for one SMS; `number` goes in `X-SMS-Sender` when given.
pub(crate) fn gateway_mail(
    from: &str,
    number: Option<&str>,
    subject: &str,
    text: &str,
    id: &str,
) -> Vec<u8> {
    let header = number.map_or(String::new(), |n| format!("X-SMS-Sender: {n}\r\n"));
    format!(
        "From: SMS Gateway 1708 <{from}>\r\nTo: {OFFICE}\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@sms-gateway.kaltaraprov.go.id>\r\nDate: Mon, 30 Nov 2026 08:00:00 +0800\r\n\
         {header}Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

/// The text of the `n`th SMS to `phone`, checked to be what a gateway can carry.
pub(crate) async fn sms(office: &Office, phone: &str, n: usize) -> String {
    let raw = nth(office, phone, n).await;
    let text = pengaduan::mail::parse(&raw).body_text.trim().to_string();
    assert!(
        text.chars().all(|c| c == '\n' || (' '..='~').contains(&c)),
        "GSM-7 plain text only: {text:?}"
    );
    assert!(text.chars().count() <= 3 * 153, "at most 3 parts: {text}");
    text
}

/// The first message of `user`'s INBOX whose subject contains `needle` and body
/// contains `marker`, once it has arrived (delivery is asynchronous).
pub(crate) async fn first_about(
    office: &Office,
    user: &str,
    needle: &str,
    marker: &str,
) -> Vec<u8> {
    let start = std::time::Instant::now();
    loop {
        let found = office
            .stack
            .messages(user, "INBOX")
            .await
            .into_iter()
            .find(|raw| {
                header(raw, "Subject").is_some_and(|s| s.contains(needle))
                    && pengaduan::mail::parse(raw).body_text.contains(marker)
            });
        if let Some(raw) = found {
            return raw;
        }
        assert!(
            start.elapsed() < WAIT,
            "no message about {needle:?} with {marker:?} for {user}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Disposition (to `aptika`), `draft` and approval of complaint `number`, over three
/// cycles; the caller checks what reached the citizen.
pub(crate) async fn answer(office: &Office, number: &str, draft: &str) {
    for (user, text, id) in [
        (KADIS, "aptika", "d"),
        (KABID, draft, "r"),
        (KASUBBAG, "SETUJU", "a"),
    ] {
        let notification = first_about(office, user, number, "").await;
        let id = format!("{id}-{number}");
        office
            .submit(user, &reply(user, &notification, text, &id))
            .await;
        office.wait_inbox(1).await;
        office.run_once();
    }
}

pub(crate) fn complaint<'a>(list: &'a [serde_json::Value], number: &str) -> &'a serde_json::Value {
    list.iter()
        .find(|c| c["number"] == number)
        .unwrap_or_else(|| panic!("{number} in {list:?}"))
}

#[tokio::test]
async fn an_sms_complaint_is_answered_by_sms_and_bad_gateway_mail_changes_nothing() {
    let office = office_with_gateway().await;
    office.submit_fixture("21-sms-gateway.eml").await;
    office.wait_inbox(1).await;
    let second = gateway_mail(
        GATEWAY,
        Some("0813-1111-2222"),
        "SMS 1708",
        "laporkaltara: lampu jalan mati \u{1F626}",
        "sms-2",
    );
    office.submit(GATEWAY, &second).await;
    office.wait_inbox(2).await;
    let no_keyword = gateway_mail(
        GATEWAY,
        Some("+6285200001111"),
        "SMS 1708",
        "halo min",
        "sms-3",
    );
    let no_number = gateway_mail(GATEWAY, None, "SMS masuk", "LAPORKALTARA banjir", "sms-4");
    let forged = gateway_mail(
        "sms-gateway@kaltara-prov.example",
        None,
        "SMS 1708 dari +6281299990000",
        "LAPORKALTARA palsu",
        "sms-5",
    );
    for raw in [&no_keyword, &no_number] {
        office.submit(GATEWAY, raw).await;
    }
    office
        .submit("sms-gateway@kaltara-prov.example", &forged)
        .await;
    office.wait_inbox(5).await;
    office.run_once();

    sms_complaints_are_registered_per_number(&office).await;
    bad_gateway_mail_registers_nothing(&office).await;
    let to_kadis = first_about(&office, KADIS, "ADU-2026-00001", "").await;
    let text = pengaduan::mail::parse(&to_kadis).body_text;
    assert!(text.contains("jalan rusak di Jl. Sengkawit"), "{text}");
    assert!(
        !text.contains("LAPORKALTARA jalan"),
        "the keyword is stripped: {text}"
    );
    assert!(
        !text.contains("6281254310987"),
        "officials see no number: {text}"
    );
    a_later_sms_with_the_number_is_a_follow_up(&office).await;

    let long = "Terima kasih atas laporan Anda. ".repeat(20);
    let short = "Lampu jalan diganti Kamis, 3 Desember 2026.";
    answer_both(&office, &long, short).await;
    let answer_1 = sms(&office, PHONE_1, 2).await;
    assert!(
        answer_1.contains("ADU-2026-00001") && answer_1.contains("terlalu panjang"),
        "{answer_1}"
    );
    assert!(
        !answer_1.contains("Terima kasih atas laporan"),
        "never cut: {answer_1}"
    );
    let answer_2 = sms(&office, PHONE_2, 2).await;
    assert!(
        answer_2.contains(short) && answer_2.contains("ADU-2026-00002"),
        "{answer_2}"
    );
    for number in ["ADU-2026-00001", "ADU-2026-00002"] {
        assert_eq!(office.show(number)["status"], "selesai");
    }
}

async fn sms_complaints_are_registered_per_number(office: &Office) {
    let list = office.list();
    assert_eq!(
        list.len(),
        3,
        "two SMS and the forgery read as email: {list:?}"
    );
    let first = complaint(&list, "ADU-2026-00001");
    assert_eq!(first["channel"], "sms");
    assert_eq!(first["reporter_phone"], "+6281254310987");
    assert_eq!(first["reporter_email"], PHONE_1);
    let second = complaint(&list, "ADU-2026-00002");
    assert_eq!(second["reporter_phone"], "+6281311112222");
    let forged = complaint(&list, "ADU-2026-00003");
    assert_eq!(forged["channel"], "email", "not the gateway: not an SMS");
    assert!(forged["reporter_phone"].is_null());
    let ack = sms(office, PHONE_1, 1).await;
    assert!(
        ack.contains("ADU-2026-00001") && ack.contains("LAPORKALTARA ADU-2026-00001"),
        "{ack}"
    );
    let shown = office.show("ADU-2026-00002");
    let body = shown["messages"][0]["body_text"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        body.trim(),
        "lampu jalan mati \u{1F626}",
        "the keyword is stripped"
    );
}

async fn bad_gateway_mail_registers_nothing(office: &Office) {
    let format = sms(office, PHONE_3, 1).await;
    assert!(format.contains("LAPORKALTARA <isi laporan>"), "{format}");
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'declined'")
            .await,
        1
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'quarantined' AND quarantine_reason LIKE 'SMS gateway mail without a number%'")
            .await,
        1
    );
    assert_eq!(
        office.count("SELECT count(*) FROM outbox WHERE first_recipient LIKE '%@sms-gateway.kaltaraprov.go.id'").await,
        3,
        "two acknowledgments and one format explanation, nothing else"
    );
}

async fn a_later_sms_with_the_number_is_a_follow_up(office: &Office) {
    let follow = gateway_mail(
        GATEWAY,
        Some("+6281254310987"),
        "SMS 1708",
        "ADU-2026-00001 lubangnya makin besar",
        "sms-6",
    );
    let stranger = gateway_mail(
        GATEWAY,
        Some("+6285200001111"),
        "SMS 1708",
        "ADU-2026-00001 saya juga",
        "sms-7",
    );
    office.submit(GATEWAY, &follow).await;
    office.submit(GATEWAY, &stranger).await;
    office.wait_inbox(2).await;
    office.run_once();
    assert_eq!(office.list().len(), 3, "nothing new registered");
    assert_eq!(
        office.count("SELECT count(*) FROM messages m JOIN complaints c ON c.id = m.complaint_id WHERE m.kind = 'follow_up' AND c.number = 'ADU-2026-00001'").await,
        1
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM messages WHERE kind = 'declined'")
            .await,
        2,
        "another number quoting the register number is not its reporter"
    );
}

/// Disposition, draft and approval for both SMS complaints.
async fn answer_both(office: &Office, long: &str, short: &str) {
    answer(office, "ADU-2026-00001", long).await;
    answer(office, "ADU-2026-00002", short).await;
}

#[tokio::test]
async fn with_a_trusted_server_only_authenticated_gateway_mail_is_sms() {
    let mut office = office_with_gateway().await;
    office.set_env(
        "PENGADUAN__SECURITY__TRUSTED_AUTHSERV_ID",
        "mx.kaltaraprov.go.id",
    );
    let unauthenticated = gateway_mail(
        GATEWAY,
        Some("+6281254310987"),
        "SMS 1708",
        "LAPORKALTARA satu",
        "auth-1",
    );
    office.deliver_and_run(GATEWAY, &unauthenticated).await;
    let passed = [
        b"Authentication-Results: mx.kaltaraprov.go.id; spf=pass smtp.mailfrom=sms-gateway@kaltaraprov.go.id\r\n".as_slice(),
        &gateway_mail(GATEWAY, Some("+6281311112222"), "SMS 1708", "LAPORKALTARA dua", "auth-2"),
    ]
    .concat();
    office.deliver_and_run(GATEWAY, &passed).await;
    let list = office.list();
    assert_eq!(
        complaint(&list, "ADU-2026-00001")["channel"],
        "email",
        "no pass: not an SMS"
    );
    assert_eq!(complaint(&list, "ADU-2026-00002")["channel"], "sms");
    assert!(sms(&office, PHONE_2, 1).await.contains("ADU-2026-00002"));
}

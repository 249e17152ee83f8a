//! The Kepala Dinas's priority over real servers: it shortens the deadline (never beyond
//! 72 hours from receipt), and the register and the deadline sweep follow it.

use chrono::{DateTime, Utc};

use crate::channels::first_about;
use crate::support::office::{OFFICE, Office, reply};

const CITIZEN: &str = "yusuf@example.net";
const KADIS: &str = "kadis@kaltaraprov.go.id";

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

#[tokio::test]
async fn a_priority_disposition_shortens_the_deadline() {
    let mut office = Office::start().await;
    let complaint = format!(
        "From: Yusuf <{CITIZEN}>\r\nTo: {OFFICE}\r\nSubject: Kabel listrik putus\r\n\
         Message-ID: <yusuf-1@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Kabel listrik putus di depan sekolah.\r\n"
    );
    office.deliver_and_run(CITIZEN, complaint.as_bytes()).await;
    let number = "ADU-2026-00001";
    let before = office.show(number);
    let received = time(&before["received_at"]);
    assert_eq!(
        time(&before["deadline_at"]) - received,
        chrono::Duration::hours(72)
    );
    assert!(before["priority"].is_null());

    let to_kadis = first_about(&office, KADIS, number, "").await;
    let disposition = reply(
        KADIS,
        &to_kadis,
        "aptika sangat segera - amankan lokasi",
        "kadis-1",
    );
    office.deliver_and_run(KADIS, &disposition).await;
    let after = office.show(number);
    assert_eq!(after["status"], "menunggu_jawaban");
    assert_eq!(after["priority"], "sangat_segera");
    assert_eq!(
        time(&after["deadline_at"]) - received,
        chrono::Duration::hours(24)
    );
    assert_eq!(after["disposition"]["instruction"], "amankan lokasi");

    let later = received + chrono::Duration::hours(25);
    office.set_env("PENGADUAN_NOW", &later.to_rfc3339());
    let overdue = office.list_overdue();
    assert_eq!(overdue.len(), 1, "overdue by the new deadline: {overdue:?}");
}

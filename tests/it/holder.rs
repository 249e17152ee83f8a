//! What the holder of a complaint can do besides the main path, over real servers: the
//! Kepala Dinas's priority shortens the deadline (never beyond 72 hours from receipt),
//! and the holder asks the citizen a question (`TANYA`) whose answer comes back to them.

use chrono::{DateTime, Utc};

use crate::channels::first_about;
use crate::support::office::{OFFICE, Office, reply};

const CITIZEN: &str = "yusuf@example.net";
const KADIS: &str = "kadis@kaltaraprov.go.id";
const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
const SEKRETARIS: &str = "sekretaris@kaltaraprov.go.id";

fn complaint() -> Vec<u8> {
    format!(
        "From: Yusuf <{CITIZEN}>\r\nTo: {OFFICE}\r\nSubject: Kabel listrik putus\r\n\
         Message-ID: <yusuf-1@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Kabel listrik putus di depan sekolah.\r\n"
    )
    .into_bytes()
}

fn time(value: &serde_json::Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

#[tokio::test]
async fn a_priority_disposition_to_two_units_shortens_the_deadline() {
    let mut office = Office::start().await;
    office.deliver_and_run(CITIZEN, &complaint()).await;
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
        "aptika, sekretariat sangat segera - amankan lokasi",
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
    assert_eq!(
        after["disposition"]["units"],
        serde_json::json!(["aptika", "sekretariat"]),
        "the lead first"
    );
    first_about(&office, KABID, number, "amankan lokasi").await;
    let copy = first_about(&office, SEKRETARIS, "Tembusan disposisi", "amankan lokasi").await;
    assert!(
        pengaduan::mail::parse(&copy)
            .body_text
            .contains("kepada aptika")
    );

    let later = received + chrono::Duration::hours(25);
    office.set_env("PENGADUAN_NOW", &later.to_rfc3339());
    let overdue = office.list_overdue();
    assert_eq!(overdue.len(), 1, "overdue by the new deadline: {overdue:?}");
}

#[tokio::test]
async fn the_holder_asks_the_citizen_and_the_answer_comes_back() {
    let office = Office::start().await;
    office.deliver_and_run(CITIZEN, &complaint()).await;
    let number = "ADU-2026-00001";
    let to_kadis = first_about(&office, KADIS, number, "").await;
    office
        .deliver_and_run(KADIS, &reply(KADIS, &to_kadis, "aptika", "kadis-1"))
        .await;
    let task = first_about(&office, KABID, number, "").await;
    // The Kepala Dinas no longer holds it: a TANYA on the old notification asks nothing.
    office
        .deliver_and_run(
            KADIS,
            &reply(KADIS, &to_kadis, "TANYA Di sekolah mana?", "kadis-2"),
        )
        .await;
    let question = "Di depan sekolah mana tepatnya, dan sejak kapan?";
    office
        .deliver_and_run(
            KABID,
            &reply(KABID, &task, &format!("tanya: {question}"), "kabid-1"),
        )
        .await;
    let shown = office.show(number);
    assert_eq!(
        shown["status"], "menunggu_jawaban",
        "a question changes no status"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE purpose = 'tanya'")
            .await,
        1,
        "only the holder's question is sent"
    );
    let asked = first_about(&office, CITIZEN, number, question).await;
    let answer = reply(CITIZEN, &asked, "SD Negeri 005, sejak Senin.", "yusuf-2");
    office.deliver_and_run(CITIZEN, &answer).await;
    first_about(&office, KABID, number, "SD Negeri 005, sejak Senin.").await;
    assert!(
        office.list().len() == 1,
        "the citizen's answer is a follow-up"
    );
}

#[tokio::test]
async fn a_misrouted_task_goes_back_to_the_kepala_dinas() {
    let office = Office::start().await;
    office.deliver_and_run(CITIZEN, &complaint()).await;
    let number = "ADU-2026-00001";
    let to_kadis = first_about(&office, KADIS, number, "").await;
    office
        .deliver_and_run(KADIS, &reply(KADIS, &to_kadis, "aptika", "kadis-1"))
        .await;
    let task = first_about(&office, KABID, number, "").await;
    let back = reply(
        KABID,
        &task,
        "KEMBALIKAN: ini urusan sekretariat",
        "kabid-1",
    );
    office.deliver_and_run(KABID, &back).await;
    let shown = office.show(number);
    assert_eq!(shown["status"], "menunggu_disposisi");
    let again = first_about(&office, KADIS, number, "DIKEMBALIKAN oleh aptika").await;
    assert!(
        pengaduan::mail::parse(&again)
            .body_text
            .contains("ini urusan sekretariat")
    );

    office
        .deliver_and_run(KADIS, &reply(KADIS, &again, "sekretariat", "kadis-2"))
        .await;
    first_about(&office, SEKRETARIS, number, "").await;
    // The old task is stale now: a draft on it changes nothing.
    let late = reply(KABID, &task, "Draf dari aptika.", "kabid-2");
    office.deliver_and_run(KABID, &late).await;
    let shown = office.show(number);
    assert_eq!(shown["status"], "menunggu_jawaban");
    assert_eq!(shown["disposition"]["division"], "sekretariat");
    assert!(
        shown["drafts"].as_array().is_some_and(Vec::is_empty),
        "{}",
        shown["drafts"]
    );
}

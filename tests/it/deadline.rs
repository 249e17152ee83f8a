//! The 3 × 24-hour deadline with a pinned clock: reminders to whoever holds the
//! complaint, then one overdue notice to the Kepala Dinas and the admin, each once.

use std::time::Duration;

use crate::support::office::{Office, header};
use chrono::{DateTime, Utc};

const KADIS: &str = "kadis@kaltaraprov.go.id";
const KABID: &str = "kabid.aptika@kaltaraprov.go.id";
const ADMIN: &str = "admin@kaltaraprov.go.id";

fn at(received: DateTime<Utc>, hours: i64) -> String {
    pengaduan::clock::rfc3339(received + chrono::Duration::hours(hours))
}

#[tokio::test]
async fn reminders_and_the_overdue_notice_are_sent_once_each() {
    let mut office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    office.run_once();
    let list = office.list();
    let received: DateTime<Utc> = list[0]["received_at"]
        .as_str()
        .expect("received_at")
        .parse()
        .expect("RFC 3339");
    let wait = Duration::from_secs(20);

    // 49 hours later the complaint still waits for a disposition: the Kepala Dinas is
    // reminded, once, however often the worker runs.
    office.set_env("PENGADUAN_NOW", &at(received, 49));
    office.run_once();
    office.run_once();
    assert_eq!(office.outgoing(Some("ingat"), None), 1);
    let kadis = office
        .stack
        .wait_for_messages(KADIS, "INBOX", 2, wait)
        .await;
    let reminder = &kadis[1];
    assert!(
        header(reminder, "Subject")
            .expect("Subject")
            .contains("Pengingat")
    );

    // The reminder carries the current stage's token: replying to it acts.
    let parent = header(reminder, "Message-ID").expect("Message-ID");
    let disposition = format!(
        "From: {KADIS}\r\nTo: diskominfo@kaltaraprov.go.id\r\nSubject: Re: pengingat\r\nMessage-ID: <d1@mail.kaltaraprov.go.id>\r\n\
         In-Reply-To: {parent}\r\nReferences: {parent}\r\n\r\naptika\r\n"
    );
    office.deliver_and_run(KADIS, disposition.as_bytes()).await;
    assert_eq!(office.show("ADU-2026-00001")["status"], "menunggu_jawaban");
    assert!(office.list_overdue().is_empty(), "not overdue yet");

    // 67 hours: the 6-hour reminder goes to the division now holding it.
    office.set_env("PENGADUAN_NOW", &at(received, 67));
    office.run_once();
    let kabid = office
        .stack
        .wait_for_messages(KABID, "INBOX", 2, wait)
        .await;
    assert!(
        header(&kabid[1], "Subject")
            .expect("Subject")
            .contains("6 jam")
    );
    assert_eq!(office.outgoing(Some("ingat"), None), 2);

    // 73 hours: overdue. The Kepala Dinas and the admin are told once; `list --overdue`
    // shows it.
    office.set_env("PENGADUAN_NOW", &at(received, 73));
    office.run_once();
    office.run_once();
    let overdue_notices = office
        .count(
            "SELECT count(*) FROM messages WHERE direction = 'out' AND subject LIKE '%TERLAMBAT%'",
        )
        .await;
    assert_eq!(
        overdue_notices, 2,
        "one to the Kepala Dinas, one to the admin"
    );
    let admin = office
        .stack
        .wait_for_messages(ADMIN, "INBOX", 2, wait)
        .await;
    assert!(
        admin
            .iter()
            .any(|m| header(m, "Subject").is_some_and(|s| s.contains("TERLAMBAT")))
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM complaints WHERE overdue_notice_at IS NOT NULL")
            .await,
        1,
        "the overdue notice takes the complaint out of the deadline sweep's index"
    );
    let overdue = office.list_overdue();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["number"], "ADU-2026-00001");
    assert_eq!(
        office.outgoing(Some("ingat"), None),
        2,
        "no reminder after the deadline"
    );
}

//! Nothing lost, nothing twice: the worker is killed with SIGKILL at chosen points of a
//! run and at random moments, and every message must end recorded exactly once, moved
//! out of the inbox exactly once, and every acknowledgment sent at most once.

use std::process::Stdio;
use std::time::Duration;

use crate::support::office::{OFFICE, Office};

const COMPLAINTS: usize = 16;

/// 16 complaints from 16 citizens, 2 second copies of earlier ones, 2 auto-replies and
/// 2 messages that must be quarantined: 22 messages, 20 distinct.
async fn load_corpus(office: &Office) -> usize {
    let mut messages = Vec::new();
    for n in 1..=COMPLAINTS {
        messages.push(format!(
            "From: Warga {n} <warga{n}@example.net>\r\nTo: {OFFICE}\r\nSubject: Pengaduan nomor {n}\r\n\
             Message-ID: <complaint-{n}@example.net>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0800\r\n\r\nJalan rusak di RT {n}.\r\n"
        ));
        if n == 5 || n == 11 {
            // The same message delivered twice: another trace header on top, the rest
            // byte for byte the same.
            let again = format!(
                "Received: from relay2.example.net by mx.kaltaraprov.go.id; Mon, 30 Nov 2026 10:05:00 +0800\r\n{}",
                messages.last().expect("just pushed")
            );
            messages.push(again);
        }
        if n == 3 || n == 9 {
            messages.push(format!(
                "From: Kantor {n} <kantor{n}@example.net>\r\nTo: {OFFICE}\r\nSubject: Otomatis: cuti\r\n\
                 Auto-Submitted: auto-replied\r\nMessage-ID: <ooo-{n}@example.net>\r\n\r\nSaya sedang cuti.\r\n"
            ));
        }
        if n == 7 || n == 13 {
            messages.push(format!("\u{1}\u{2} junk {n} without any header\r\n"));
        }
    }
    for raw in &messages {
        office.stack.append(OFFICE, "INBOX", raw.as_bytes()).await;
    }
    messages.len()
}

/// Kills a cycle after `delay`, whatever it is doing (it may also have finished).
fn kill_after(office: &Office, delay: Duration) {
    let mut child = office
        .command(&["run", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start pengaduan");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
}

/// The invariants that must hold once a run has completed after any number of kills.
async fn assert_exactly_once(office: &Office, total: usize) {
    assert!(
        office.stack.messages(OFFICE, "INBOX").await.is_empty(),
        "the inbox is drained"
    );
    let processed = office
        .stack
        .messages(OFFICE, "Pengaduan/Diproses")
        .await
        .len();
    let quarantined = office
        .stack
        .messages(OFFICE, "Pengaduan/Karantina")
        .await
        .len();
    assert_eq!(quarantined, 2, "junk is quarantined, once each");
    assert_eq!(
        processed + quarantined,
        total,
        "every message moved exactly once, none lost"
    );

    assert_eq!(
        office.count("SELECT count(*) FROM imap_receipts").await,
        total as i64
    );
    assert_eq!(office.received_in_all(), total as i64 - 2);
    assert_eq!(office.received("quarantined"), 2);
    assert_eq!(office.received("auto_reply"), 2);

    let list = office.list();
    assert_eq!(
        list.len(),
        COMPLAINTS,
        "each complaint recorded exactly once"
    );
    let mut numbers: Vec<String> = list
        .iter()
        .map(|c| c["number"].as_str().expect("number").to_string())
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=COMPLAINTS)
        .map(|n| format!("ADU-2026-{n:05}"))
        .collect();
    assert_eq!(numbers, expected, "no gaps, no reuse");
    let mut subjects: Vec<String> = list
        .iter()
        .map(|c| c["subject"].as_str().expect("subject").to_string())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), COMPLAINTS, "no complaint registered twice");

    assert_eq!(
        office.outgoing(Some("ack"), None),
        COMPLAINTS as i64,
        "one acknowledgment queued per complaint"
    );
    assert_eq!(
        office
            .count("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
            .await,
        0
    );
    // Let Postfix finish delivering what was accepted, then count per citizen.
    let sent = office.outgoing(Some("ack"), Some("sent"));
    let mut delivered = 0;
    for n in 1..=COMPLAINTS {
        let citizen = format!("warga{n}@example.net");
        let status = office
            .text(&format!(
                "SELECT status FROM outbox WHERE first_recipient = '{citizen}'"
            ))
            .await;
        if status == ["sent"] {
            office
                .stack
                .wait_for_messages(&citizen, "INBOX", 1, Duration::from_secs(20))
                .await;
        }
        let acks = office.stack.messages(&citizen, "INBOX").await.len();
        assert!(acks <= 1, "{citizen} got {acks} acknowledgments");
        delivered += acks as i64;
    }
    assert!(
        delivered >= sent,
        "every acknowledgment marked sent arrived ({delivered} < {sent})"
    );
}

#[tokio::test]
async fn kills_at_every_stage_lose_nothing_and_repeat_nothing() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__WORKER__BATCH_MESSAGES", "5");
    // One SMTP session, so that a kill at a delivery stage interrupts exactly one message
    // (the random kills below run with the default of several sessions side by side).
    office.set_env("PENGADUAN__SMTP__CONNECTIONS", "1");
    let total = load_corpus(&office).await;

    // During the fetch of the first batch: nothing committed yet.
    office.kill_at("fetched");
    assert_eq!(office.count("SELECT count(*) FROM messages").await, 0);
    // After the first batch is committed, before it is moved.
    office.kill_at("committed");
    assert_eq!(
        office
            .count("SELECT count(*) FROM imap_receipts WHERE moved_at IS NULL")
            .await,
        5
    );
    // The next run moves that batch first; killed right after the MOVE.
    office.kill_at("moved");
    // Everything ingested; killed with the first acknowledgment claimed, not yet sent.
    office.kill_at("sending");
    // The next run parks that one as uncertain and is killed after the next one (the
    // Kepala Dinas's notification of the same complaint) is accepted.
    office.kill_at("sent");

    office.run_once();
    assert_exactly_once(&office, total).await;
    assert_eq!(
        office.outgoing(None, Some("uncertain")),
        2,
        "the two messages interrupted mid-delivery are parked, not resent"
    );
    assert_eq!(
        office.outgoing(Some("ack"), Some("sent")),
        COMPLAINTS as i64 - 1
    );
    assert_eq!(
        office.outgoing(Some("disp"), Some("sent")),
        COMPLAINTS as i64 - 1,
        "every complaint went to the Kepala Dinas once"
    );
}

#[tokio::test]
async fn random_kills_lose_nothing_and_repeat_nothing() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__WORKER__BATCH_MESSAGES", "3");
    let total = load_corpus(&office).await;
    // A fixed pseudo-random schedule, so a failure can be reproduced.
    let mut seed: u64 = 0x5eed_1234;
    for _ in 0..10 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = Duration::from_millis(20 + (seed >> 33) % 400);
        kill_after(&office, delay);
    }
    office.run_once();
    office.run_once();
    assert_exactly_once(&office, total).await;
}

#[tokio::test]
async fn an_overlapping_run_does_nothing_and_a_killed_holder_blocks_nothing() {
    let office = Office::start().await;
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office.wait_inbox(1).await;
    // A slow run holds the lock (paused after its commit, before the move)...
    let mut slow = office.pause_at("committed");
    // ...so the next cron tick exits 0 at once, with one log line, touching nothing.
    let overlapping = office.run_once();
    let logs = String::from_utf8_lossy(&overlapping.stdout);
    assert!(logs.contains("another worker is running"), "{logs}");
    assert!(!logs.contains("cycle complete"), "{logs}");
    assert_eq!(
        office
            .count("SELECT count(*) FROM imap_receipts WHERE moved_at IS NULL")
            .await,
        1
    );
    assert_eq!(office.outgoing(None, Some("sent")), 0);
    // The holder is killed with SIGKILL: the next run takes over at once and finishes.
    slow.kill().expect("SIGKILL");
    slow.wait().expect("wait");
    let next = office.run_once();
    assert!(String::from_utf8_lossy(&next.stdout).contains("cycle complete"));
    assert!(office.stack.messages(OFFICE, "INBOX").await.is_empty());
    assert_eq!(office.outgoing(Some("ack"), Some("sent")), 1);
    assert_eq!(
        office.count("SELECT count(*) FROM worker_lock").await,
        0,
        "released at exit"
    );
}

/// An outgoing message whose stored bytes cannot be read (its range of the archive
/// damaged) holds back only itself: the rest of the outbox is delivered, and the row
/// waits, pending, with the reason, for the operator to restore the archive.
#[tokio::test]
async fn a_damaged_outgoing_message_holds_back_only_itself() {
    let office = Office::start().await;
    for n in 1..=2 {
        let raw = format!(
            "From: warga{n}@example.net\r\nTo: {OFFICE}\r\nSubject: Pengaduan {n}\r\n\
             Message-ID: <damaged-{n}@example.net>\r\n\r\nSaluran air tersumbat.\r\n"
        );
        office
            .submit(&format!("warga{n}@example.net"), raw.as_bytes())
            .await;
    }
    office.wait_inbox(2).await;
    office.stack.stop_smtp();
    office.run_once();
    assert_eq!(office.outgoing(None, Some("pending")), 4);

    let first = office
        .outbox()
        .into_iter()
        .filter(|row| row["purpose"] == "ack")
        .min_by_key(|row| row["id"].as_i64())
        .expect("an acknowledgment is queued");
    let id = first["id"].as_i64().expect("id");
    let sha256 = &office
        .text(&format!("SELECT raw_sha256 FROM outbox WHERE id = {id}"))
        .await[0];
    let place = &office
        .text(&format!(
            "SELECT pack || ' ' || pack_offset FROM blobs WHERE sha256 = '{sha256}'"
        ))
        .await[0];
    let (pack, offset) = place.split_once(' ').expect("pack and offset");
    let pack = format!(
        "{}.archive/{:08}.pack",
        office.database().display(),
        pack.parse::<u32>().expect("pack number")
    );
    let mut bytes = std::fs::read(&pack).expect("the pack");
    bytes[offset.parse::<usize>().expect("offset") + 20] ^= 0x55;
    std::fs::write(&pack, bytes).expect("damage the pack");

    office.stack.start_smtp();
    office.run_once();
    assert_eq!(
        office.outgoing(None, Some("sent")),
        3,
        "the rest is delivered"
    );
    let held: Vec<_> = office
        .outbox()
        .into_iter()
        .filter(|row| row["status"] == "pending")
        .collect();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["id"], id);
    let reason = held[0]["last_error"].as_str().unwrap_or_default();
    assert!(reason.contains("archive is damaged"), "{reason}");
    let (damaged, other) = match first["to"].as_str() {
        Some(to) if to.contains("warga1@") => ("warga1@example.net", "warga2@example.net"),
        _ => ("warga2@example.net", "warga1@example.net"),
    };
    let acks = office
        .stack
        .wait_for_messages(other, "INBOX", 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "the other citizen is acknowledged");
    assert!(office.stack.messages(damaged, "INBOX").await.is_empty());
}

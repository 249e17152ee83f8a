//! The mailbox as servers keep it: a UIDVALIDITY change, a server without MOVE, and a
//! 20 MB attachment stored once under its hash.

use std::time::Duration;

use crate::support::MailStack;
use crate::support::office::{OFFICE, Office, Wire, fixture};

#[tokio::test]
async fn a_uidvalidity_change_does_not_reprocess() {
    let mut office = Office::start().await;
    office.set_env("PENGADUAN__IMAP__MAILBOX", "Masuk");
    let raw = fixture("01-plain-text-utf8.eml");
    office.stack.append(OFFICE, "Masuk", &raw).await;
    // Recorded, then killed before the move: the message stays in the mailbox...
    office.kill_at("committed");
    assert_eq!(
        office
            .count("SELECT count(*) FROM imap_receipts WHERE moved_at IS NULL")
            .await,
        1
    );
    // ...and the server recreates the mailbox: a new UIDVALIDITY, the same message, UID 1.
    let mut session = office.stack.imap_session(OFFICE).await;
    session.rename("Masuk", "Lama").await.expect("RENAME");
    session.create("Masuk").await.expect("CREATE");
    session.logout().await.expect("LOGOUT");
    office.stack.append(OFFICE, "Masuk", &raw).await;

    office.run_once();
    assert_eq!(office.list().len(), 1, "not registered twice");
    assert_eq!(office.received_in_all(), 1);
    assert_eq!(office.outgoing(Some("ack"), None), 1, "acknowledged once");
    assert_eq!(
        office
            .count("SELECT count(DISTINCT uid_validity) FROM imap_receipts")
            .await,
        2
    );
    assert!(office.stack.messages(OFFICE, "Masuk").await.is_empty());
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Diproses")
            .await
            .len(),
        1
    );
    assert_eq!(
        office.stack.messages(OFFICE, "Lama").await.len(),
        1,
        "other folders are left alone"
    );
}

#[tokio::test]
async fn without_move_messages_are_copied_and_expunged_by_uid() {
    let capabilities = "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS UNSELECT CHILDREN NAMESPACE";
    let stack = MailStack::start_with(&[("MAILSTACK_IMAP_CAPABILITY", capabilities)]).await;
    let mut session = stack.imap_session(OFFICE).await;
    let advertised = session.capabilities().await.expect("CAPABILITY");
    assert!(
        !advertised.has_str("MOVE") && advertised.has_str("UIDPLUS"),
        "the server must not offer MOVE"
    );
    session.logout().await.expect("LOGOUT");

    let office = Office::on(stack, Wire::Default);
    office.submit_fixture("01-plain-text-utf8.eml").await;
    office
        .submit_fixture("03-alternative-prefers-text.eml")
        .await;
    office
        .stack
        .append(OFFICE, "INBOX", &fixture("12-garbage-not-email.eml"))
        .await;
    office.wait_inbox(3).await;
    office.run_once();
    assert_eq!(office.list().len(), 2);
    assert!(
        office.stack.messages(OFFICE, "INBOX").await.is_empty(),
        "copied, flagged and expunged"
    );
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Diproses")
            .await
            .len(),
        2
    );
    assert_eq!(
        office
            .stack
            .messages(OFFICE, "Pengaduan/Karantina")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_20_mb_attachment_is_stored_once_with_its_hash() {
    let office = Office::start().await;
    let mut data = vec![0u8; 20 * 1024 * 1024];
    let mut x: u32 = 12345;
    for byte in data.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *byte = (x >> 16) as u8;
    }
    let sha = pengaduan::mail::parse::sha256_hex(&data);
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
    let wrapped: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    for n in 1..=2 {
        let raw = format!(
            "From: Siti <siti{n}@example.net>\r\nTo: {OFFICE}\r\nSubject: Rekaman CCTV {n}\r\nMessage-ID: <cctv-{n}@example.net>\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Rekaman terlampir.\r\n--b\r\nContent-Type: video/mp4; name=\"cctv.mp4\"\r\nContent-Disposition: attachment; filename=\"cctv.mp4\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            wrapped.join("\r\n")
        );
        office
            .submit(&format!("siti{n}@example.net"), raw.as_bytes())
            .await;
    }
    office.wait_inbox(2).await;
    office.run_once();
    let list = office.list();
    assert_eq!(list.len(), 2);
    for c in &list {
        let shown = office.show(c["number"].as_str().expect("number"));
        let attachment = &shown["messages"][0]["attachments"][0];
        assert_eq!(attachment["filename"], "cctv.mp4");
        assert_eq!(attachment["size"], data.len());
        assert_eq!(attachment["sha256"], sha.as_str());
    }
    // The file's bytes stay inside each archived message: no decoded copy is written.
    assert_eq!(
        office
            .count(&format!(
                "SELECT count(*) FROM blobs WHERE sha256 = '{sha}'"
            ))
            .await,
        0,
        "no decoded copy of the file"
    );
    let raws = office
        .text("SELECT raw_sha256 FROM messages WHERE direction = 'in' ORDER BY id")
        .await;
    assert_eq!(raws.len(), 2);
    for raw in &raws {
        let archived = office
            .archived(raw)
            .await
            .expect("the raw message is archived");
        let files = pengaduan::mail::parse(&archived).attachments;
        assert_eq!(files.len(), 1);
        assert_eq!(
            files[0].sha256, sha,
            "the file comes back whole from the archive"
        );
    }
    // Too big to forward: the Kepala Dinas is told the files are kept in the register.
    let kadis = office
        .stack
        .wait_for_messages(
            "kadis@kaltaraprov.go.id",
            "INBOX",
            2,
            Duration::from_secs(30),
        )
        .await;
    for notification in &kadis {
        let parsed = pengaduan::mail::parse(notification);
        assert!(
            parsed.attachments.is_empty(),
            "a 20 MB file is not mailed to officials"
        );
        assert!(
            parsed.body_text.contains("tidak dilampirkan"),
            "{}",
            parsed.body_text
        );
    }
}

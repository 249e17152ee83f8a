//! Faults of the world around the worker, each on the real stack: connections dropped in
//! the middle of IMAP FETCH and MOVE and of SMTP DATA, servers that never answer, a full
//! disk under the database or the archive, a read-only database, a damaged database file.
//! Every time: one clear error line and exit status, nothing lost, nothing twice, and the
//! next run recovers (an SMTP transfer cut mid-DATA waits for the operator, by design).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::office::{OFFICE, Office, damage_tables};
use crate::support::relay::{Fault, Relay};

const CITIZEN: &str = "rahmat.hidayat@example.net";
const PROCESSED: &str = "Pengaduan/Diproses";

/// A complaint of about `size` bytes: a letter with a scanned attachment.
fn complaint(subject: &str, size: usize) -> Vec<u8> {
    let scan: String =
        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamts\r\n".repeat(size / 62 + 1);
    format!(
        "From: Rahmat Hidayat <{CITIZEN}>\r\nTo: {OFFICE}\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.net>\r\nDate: Thu, 03 Dec 2026 09:00:00 +0800\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Lampu penerangan jalan di Jl. Sengkawit mati sejak dua minggu.\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"surat.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{scan}--b1--\r\n",
        subject.replace(' ', "-").to_lowercase(),
    )
    .into_bytes()
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The run failed with exit status 1 and one line on stderr that says `what`.
fn assert_one_clear_line(output: &Output, what: &[&str]) {
    let lines = stderr_lines(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {lines:?}");
    assert_eq!(lines.len(), 1, "one line: {lines:?}");
    for word in what {
        let (line, word) = (lines[0].to_lowercase(), word.to_lowercase());
        assert!(line.contains(&word), "{word:?} in {:?}", lines[0]);
    }
}

async fn mailbox(office: &Office, user: &str, name: &str) -> usize {
    office.stack.messages(user, name).await.len()
}

/// The register holds exactly `n` complaints, the INBOX is empty, and the processed
/// mailbox holds `n` messages: nothing lost, nothing twice.
async fn assert_settled(office: &Office, n: usize) {
    assert_eq!(office.list().len(), n, "complaints in the register");
    assert_eq!(mailbox(office, OFFICE, "INBOX").await, 0, "INBOX");
    assert_eq!(mailbox(office, OFFICE, PROCESSED).await, n, "processed");
}

/// Points the worker's IMAP or SMTP at `relay` instead of the server on `port`.
fn through(office: &Office, port: u16, relay: &Relay) {
    office.edit_settings(|s| {
        s.replace(
            &format!("port = {port}\n"),
            &format!("port = {}\n", relay.port()),
        )
    });
}

#[tokio::test]
async fn imap_dropped_mid_fetch_loses_nothing_and_the_next_run_recovers() {
    let office = Office::start().await;
    let relay = Relay::start(office.stack.imap_port(), Fault::CutReplyAfter(400_000));
    through(&office, office.stack.imap_port(), &relay);
    office
        .submit(CITIZEN, &complaint("Lampu jalan mati", 1_200_000))
        .await;
    office.wait_inbox(1).await;

    let cut = office.output(&["run", "--once"]);
    assert_eq!(relay.cuts(), 1, "the relay cut the FETCH");
    assert_one_clear_line(&cut, &["IMAP"]);
    assert_eq!(
        office.list().len(),
        0,
        "nothing recorded from half a message"
    );
    assert_eq!(
        mailbox(&office, OFFICE, "INBOX").await,
        1,
        "the message stays"
    );

    office.run_once();
    office.run_once();
    assert_settled(&office, 1).await;
}

#[tokio::test]
async fn imap_dropped_mid_move_records_once_and_acknowledges_once() {
    let office = Office::start().await;
    // The message is fetched whole; the connection breaks after the next command (the
    // MOVE) reaches Dovecot and before its answer comes back.
    let relay = Relay::start(
        office.stack.imap_port(),
        Fault::CutAfterNextCommand(1_000_000),
    );
    through(&office, office.stack.imap_port(), &relay);
    office
        .submit(CITIZEN, &complaint("Drainase tersumbat", 1_100_000))
        .await;
    office.wait_inbox(1).await;

    let cut = office.output(&["run", "--once"]);
    assert_eq!(relay.cuts(), 1, "the relay cut after the MOVE");
    assert_one_clear_line(&cut, &["cannot move", "IMAP server closed the connection"]);

    office.run_once();
    office.run_once();
    assert_settled(&office, 1).await;
    let acks = office
        .stack
        .wait_for_messages(CITIZEN, "INBOX", 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "one acknowledgment");
}

#[tokio::test]
async fn smtp_dropped_mid_data_is_parked_never_sent_twice_and_sent_once_on_retry() {
    let office = Office::start().await;
    let relay = Relay::start(
        office.stack.smtp_port(),
        Fault::CutRequestAfter {
            marker: b"DATA\r\n",
            then: 300,
        },
    );
    through(&office, office.stack.smtp_port(), &relay);
    office
        .submit(CITIZEN, &complaint("Sampah menumpuk", 2_000))
        .await;
    office.wait_inbox(1).await;

    let cut = office.output(&["run", "--once"]);
    assert_eq!(relay.cuts(), 1, "the relay cut the DATA");
    assert_eq!(office.list().len(), 1, "the complaint is recorded");
    let status = office.output(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(status["outbox"]["uncertain"], 1, "{status} {cut:?}");

    // The server may have taken it: the worker never resends it on its own.
    office.run_once();
    assert_eq!(mailbox(&office, CITIZEN, "INBOX").await, 0);
    let listed = office.output(&["outbox", "list", "--status", "uncertain", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("JSON");
    let id = listed[0]["id"]
        .as_i64()
        .expect("the parked row")
        .to_string();
    let retry = office.output(&["outbox", "retry", &id]);
    assert!(retry.status.success(), "{:?}", stderr_lines(&retry));
    office.run_once();
    let acks = office
        .stack
        .wait_for_messages(CITIZEN, "INBOX", 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "one acknowledgment");
}

/// Runs `pengaduan run --once` and kills it if it outlives `limit`: a hang is a failure.
fn run_within(office: &Office, limit: Duration) -> Output {
    let mut child = office
        .command(&["run", "--once"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the worker");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("the worker hung on a silent server");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

#[tokio::test]
async fn servers_that_never_answer_time_out_with_one_clear_line() {
    let office = Office::start().await;
    office.edit_settings(|s| s.replace("timeout_seconds = 20", "timeout_seconds = 2"));
    office
        .submit(CITIZEN, &complaint("Jembatan retak", 2_000))
        .await;
    office.wait_inbox(1).await;

    let silent_imap = Relay::start(office.stack.imap_port(), Fault::Silent);
    through(&office, office.stack.imap_port(), &silent_imap);
    let hung = run_within(&office, Duration::from_secs(60));
    assert!(
        silent_imap.cuts() >= 1,
        "the worker reached the silent server"
    );
    assert_one_clear_line(&hung, &["IMAP server", "within 2"]);
    assert_eq!(
        mailbox(&office, OFFICE, "INBOX").await,
        1,
        "the message stays"
    );
    office.edit_settings(|s| {
        s.replace(
            &format!("port = {}\n", silent_imap.port()),
            &format!("port = {}\n", office.stack.imap_port()),
        )
    });

    // SMTP silent: the complaint is recorded, its acknowledgment waits in the outbox.
    let silent_smtp = Relay::start(office.stack.smtp_port(), Fault::Silent);
    through(&office, office.stack.smtp_port(), &silent_smtp);
    let waiting = run_within(&office, Duration::from_secs(60));
    assert!(
        silent_smtp.cuts() >= 1,
        "the worker reached the silent server"
    );
    assert_eq!(office.list().len(), 1, "{:?}", stderr_lines(&waiting));
    let status = office.output(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    // The acknowledgment and the Kepala Dinas's disposition request.
    assert_eq!(status["outbox"]["pending"], 2, "{status}");
    assert_eq!(mailbox(&office, CITIZEN, "INBOX").await, 0);

    office.edit_settings(|s| {
        s.replace(
            &format!("port = {}\n", silent_smtp.port()),
            &format!("port = {}\n", office.stack.smtp_port()),
        )
    });
    office.run_once();
    let acks = office
        .stack
        .wait_for_messages(CITIZEN, "INBOX", 1, Duration::from_secs(20))
        .await;
    assert_eq!(acks.len(), 1, "one acknowledgment once the server answers");
    assert_settled(&office, 1).await;
}

/// A small tmpfs mounted at `path` (the tests run as root in CI, as the mail stack needs);
/// unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output()
            .expect("run mount");
        if !mounted.status.success() {
            eprintln!(
                "SKIPPED: cannot mount a tmpfs (needs root): {}",
                String::from_utf8_lossy(&mounted.stderr)
            );
            return None;
        }
        Some(SmallDisk {
            path: path.to_owned(),
        })
    }

    /// Fills the disk to the last byte.
    fn fill(&self) {
        use std::io::Write;
        let mut filler =
            std::fs::File::create(self.path.join("filler")).expect("create the filler");
        let block = vec![0u8; 64 * 1024];
        while filler.write_all(&block).is_ok() {}
        let _ = filler.write_all(&block[..1]);
        let _ = filler.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.path.join("filler")).expect("remove the filler");
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.path)
            .status()
            .expect("run mount");
        assert!(status.success(), "remount {mode}");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// An office whose database lives in `disk/`, recorded once with one complaint.
async fn office_on_small_disk(what: &str) -> Option<(Office, SmallDisk)> {
    let office = Office::start().await;
    let place = office.dir.path().join("disk");
    let disk = SmallDisk::mount(&place, "16m")?;
    let database = place.join("pengaduan.db");
    office.edit_settings(|s| {
        s.replace(
            &office.database().display().to_string(),
            &database.display().to_string(),
        )
    });
    office.submit(CITIZEN, &complaint(what, 2_000)).await;
    office.wait_inbox(1).await;
    office.run_once();
    assert_settled(&office, 1).await;
    Some((office, disk))
}

#[tokio::test]
async fn a_full_disk_under_the_database_stops_the_cycle_and_loses_nothing() {
    let Some((office, disk)) = office_on_small_disk("Pohon tumbang").await else {
        return;
    };
    disk.fill();
    office
        .submit(CITIZEN, &complaint("Pohon tumbang lagi", 200_000))
        .await;
    office.wait_inbox(1).await;
    let full = office.output(&["run", "--once"]);
    assert_one_clear_line(
        &full,
        &["cannot open the database", "no space left on the disk"],
    );
    assert_eq!(
        mailbox(&office, OFFICE, "INBOX").await,
        1,
        "the message stays"
    );

    disk.free();
    office.run_once();
    office.run_once();
    assert_settled(&office, 2).await;
}

#[tokio::test]
async fn a_full_disk_under_the_archive_stops_the_cycle_and_loses_nothing() {
    let office = Office::start().await;
    let archive = PathBuf::from(format!("{}.archive", office.database().display()));
    let Some(disk) = SmallDisk::mount(&archive, "4m") else {
        return;
    };
    disk.fill();
    office
        .submit(CITIZEN, &complaint("Air PDAM keruh", 300_000))
        .await;
    office.wait_inbox(1).await;
    let full = office.output(&["run", "--once"]);
    assert_one_clear_line(&full, &["cannot archive", "no space left"]);
    assert_eq!(
        mailbox(&office, OFFICE, "INBOX").await,
        1,
        "the message stays"
    );
    assert_eq!(office.list().len(), 0, "nothing half-recorded");

    disk.free();
    office.run_once();
    office.run_once();
    assert_settled(&office, 1).await;
}

#[tokio::test]
async fn a_read_only_database_stops_the_cycle_and_loses_nothing() {
    let Some((office, disk)) = office_on_small_disk("Trotoar rusak").await else {
        return;
    };
    disk.remount("ro");
    office
        .submit(CITIZEN, &complaint("Trotoar rusak lagi", 2_000))
        .await;
    office.wait_inbox(1).await;
    let refused = office.output(&["run", "--once"]);
    assert_one_clear_line(&refused, &["read-only"]);
    assert_eq!(
        mailbox(&office, OFFICE, "INBOX").await,
        1,
        "the message stays"
    );

    disk.remount("rw");
    office.run_once();
    assert_settled(&office, 2).await;
}

#[tokio::test]
async fn a_damaged_database_moves_nothing_out_of_the_mailbox() {
    let office = Office::start().await;
    office.submit(CITIZEN, &complaint("Banjir", 2_000)).await;
    office.wait_inbox(1).await;
    office.run_once();
    damage_tables(&office.database(), &["messages", "imap_receipts"]).await;

    office
        .submit(CITIZEN, &complaint("Banjir lagi", 2_000))
        .await;
    office.wait_inbox(1).await;
    let damaged = office.output(&["run", "--once"]);
    assert_one_clear_line(&damaged, &["is damaged", "restore the latest backup"]);
    assert_eq!(
        mailbox(&office, OFFICE, "INBOX").await,
        1,
        "the message stays"
    );
    assert_eq!(mailbox(&office, OFFICE, PROCESSED).await, 1);
}

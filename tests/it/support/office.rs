//! An office under test: a private mail stack, a Settings.toml pointing at it, a database
//! in a temporary directory, and the real `pengaduan` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::MailStack;
pub use super::messages::{envelope_sender, fixture, header, nth, reply};

pub const OFFICE: &str = "diskominfo@kaltaraprov.go.id";

/// A valid Settings.toml for commands that reach no server: IMAP and SMTP point at a
/// closed port, and the register is `register.db` in the working directory.
pub const OFFLINE_SETTINGS: &str = r#"
[imap]
host = "127.0.0.1"
port = 1
security = "none"
username = "diskominfo@kaltaraprov.go.id"
password = "secret"
timeout_seconds = 2
[smtp]
host = "127.0.0.1"
port = 1
security = "none"
from = "Diskominfo Kaltara <diskominfo@kaltaraprov.go.id>"
[database]
url = "sqlite://register.db"
[office]
name = "Dinas Komunikasi dan Informatika"
domain = "kaltaraprov.go.id"
[security]
secret = "0123456789abcdef0123"
[roles]
admin = ["admin@kaltaraprov.go.id"]
kepala_dinas = "kadis@kaltaraprov.go.id"
kasubbag_umum = "kasubbag@kaltaraprov.go.id"
[roles.bidang]
sekretariat = "sekretaris@kaltaraprov.go.id"
aptika = "kabid.aptika@kaltaraprov.go.id"
"#;

pub struct Office {
    pub stack: MailStack,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    env: Vec<(String, String)>,
}

/// How the worker reaches the servers.
#[derive(Debug, Clone, Copy)]
pub enum Wire {
    /// IMAP with STARTTLS (trusting ca.pem), SMTP plain on loopback.
    Default,
    /// IMAPS, and SMTP submission with STARTTLS + AUTH.
    StartTlsSubmission,
    /// IMAP STARTTLS, SMTPS (implicit TLS) + AUTH.
    ImplicitTls,
}

impl Office {
    pub async fn start() -> Office {
        Office::start_with(Wire::Default).await
    }

    pub async fn start_with(wire: Wire) -> Office {
        Office::on(MailStack::start().await, wire)
    }

    /// An office on a stack started by the caller (e.g. with test hooks).
    pub fn on(stack: MailStack, wire: Wire) -> Office {
        let dir = tempfile::Builder::new()
            .prefix("office")
            .tempdir()
            .expect("cannot make a temp dir");
        let secret = dir.path().join("token.secret");
        std::fs::write(&secret, "test-secret-0123456789abcdef").expect("cannot write the secret");
        let (imap_port, imap_security) = match wire {
            Wire::StartTlsSubmission => (stack.imaps_port(), "tls"),
            _ => (stack.imap_port(), "starttls"),
        };
        let smtp = match wire {
            Wire::Default => format!(
                "port = {}\nsecurity = \"none\"\nhost = \"127.0.0.1\"",
                stack.smtp_port()
            ),
            Wire::StartTlsSubmission => format!(
                "port = {}\nsecurity = \"starttls\"\nhost = \"localhost\"\nusername = \"{OFFICE}\"\npassword = \"secret\"",
                stack.submission_port()
            ),
            Wire::ImplicitTls => format!(
                "port = {}\nsecurity = \"tls\"\nhost = \"localhost\"\nusername = \"{OFFICE}\"\npassword = \"secret\"",
                stack.smtps_port()
            ),
        };
        let settings = format!(
            r#"
[imap]
host = "localhost"
port = {imap_port}
security = "{imap_security}"
username = "{OFFICE}"
password = "secret"
ca_file = "{ca}"
timeout_seconds = 20

[smtp]
{smtp}
from = "Diskominfo Kaltara <{OFFICE}>"
timeout_seconds = 20

[database]
url = "sqlite://{db}"

[office]
name = "Dinas Komunikasi, Informatika, Statistik dan Persandian Provinsi Kalimantan Utara"
domain = "kaltaraprov.go.id"
templates_dir = "{templates}"

[security]
secret_file = "{secret}"
[roles]
admin = ["admin@kaltaraprov.go.id"]
kepala_dinas = "kadis@kaltaraprov.go.id"
kasubbag_umum = "kasubbag@kaltaraprov.go.id"
[roles.bidang]
sekretariat = "sekretaris@kaltaraprov.go.id"
aptika = "kabid.aptika@kaltaraprov.go.id"
"#,
            ca = stack.ca_file().display(),
            db = dir.path().join("pengaduan.db").display(),
            templates = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("templates")
                .display(),
            secret = secret.display(),
        );
        let config = dir.path().join("Settings.toml");
        std::fs::write(&config, settings).expect("cannot write Settings.toml");
        Office {
            stack,
            dir,
            config,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for every later command.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("pengaduan.db")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pengaduan"));
        command
            .arg("--config")
            .arg(&self.config)
            .arg("--log-format")
            .arg("json")
            .args(args)
            .env_remove("PENGADUAN_FAILPOINT")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("cannot run pengaduan")
    }

    /// Starts one cycle that pauses at `failpoint`; returns once it is paused there.
    pub fn pause_at(&self, failpoint: &str) -> std::process::Child {
        use std::io::{BufRead, BufReader};
        let mut child = self
            .command(&["run", "--once"])
            .env("PENGADUAN_FAILPOINT", failpoint)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start pengaduan");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, rx) = std::sync::mpsc::channel();
        let marker = format!("FAILPOINT {failpoint}");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains(&marker) {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            let status = child.wait().expect("wait");
            panic!("the worker never reached failpoint {failpoint} (exit {status})");
        }
        child
    }

    /// Starts a long-running worker; its stdout (the JSON log) arrives line by line on the
    /// returned channel.
    pub fn spawn_worker(
        &self,
        args: &[&str],
    ) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead, BufReader};
        let mut worker = self
            .command(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the worker");
        let stdout = worker.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        (worker, rx)
    }

    /// Runs one cycle with a failpoint and kills it with SIGKILL once it pauses there.
    pub fn kill_at(&self, failpoint: &str) {
        let mut child = self.pause_at(failpoint);
        child.kill().expect("SIGKILL");
        child.wait().expect("wait");
    }

    /// One cycle, which must succeed.
    pub fn run_once(&self) -> Output {
        let output = self.output(&["run", "--once"]);
        assert!(
            output.status.success(),
            "run --once failed ({}):\nstdout: {}\nstderr: {}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    pub fn list(&self) -> Vec<Value> {
        let output = self.output(&["list", "--json"]);
        assert!(
            output.status.success(),
            "list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("list --json prints a JSON array")
    }

    pub fn list_overdue(&self) -> Vec<Value> {
        let output = self.output(&["list", "--overdue", "--json"]);
        assert!(
            output.status.success(),
            "list --overdue failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("list --json prints a JSON array")
    }

    pub fn show(&self, number: &str) -> Value {
        let output = self.output(&["show", number, "--json"]);
        assert!(
            output.status.success(),
            "show failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("show --json prints JSON")
    }

    /// Outgoing mail as `outbox list --json` shows it, newest first.
    pub fn outbox(&self) -> Vec<Value> {
        let output = self.output(&["outbox", "list", "--json"]);
        assert!(
            output.status.success(),
            "outbox list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("outbox list --json prints a JSON array")
    }

    /// How many outgoing messages have this purpose and this status (`None`: any).
    pub fn outgoing(&self, purpose: Option<&str>, status: Option<&str>) -> i64 {
        let matches = |row: &&Value, key: &str, wanted: Option<&str>| {
            wanted.is_none_or(|wanted| row[key] == wanted)
        };
        self.outbox()
            .iter()
            .filter(|row| matches(row, "purpose", purpose) && matches(row, "status", status))
            .count() as i64
    }

    /// `status --json`, whatever the exit status says.
    pub fn status(&self) -> Value {
        let output = self.output(&["status", "--json"]);
        serde_json::from_slice(&output.stdout).expect("status --json prints JSON")
    }

    /// How many inbound messages the register took for `kind` (`status --json`).
    pub fn received(&self, kind: &str) -> i64 {
        self.status()["received"][kind].as_i64().unwrap_or(0)
    }

    /// How many inbound messages the register holds, whatever they were taken for.
    pub fn received_in_all(&self) -> i64 {
        let status = self.status();
        let kinds = status["received"]
            .as_object()
            .expect("received is an object");
        kinds.values().filter_map(Value::as_i64).sum()
    }

    /// A citizen's email, read from `fixtures/`, delivered to the office over SMTP.
    pub async fn submit_fixture(&self, name: &str) -> Vec<u8> {
        let raw = fixture(name);
        let from = envelope_sender(&raw);
        self.stack.send(&from, &[OFFICE], &raw).await;
        raw
    }

    /// Delivers `raw` from `from` to the office over SMTP.
    pub async fn submit(&self, from: &str, raw: &[u8]) {
        self.stack.send(from, &[OFFICE], raw).await;
    }

    /// Delivers `raw` from `from`, waits for it in the INBOX, and runs one cycle.
    pub async fn deliver_and_run(&self, from: &str, raw: &[u8]) {
        self.submit(from, raw).await;
        self.wait_inbox(1).await;
        self.run_once();
    }

    /// Waits until the office INBOX holds `n` messages (delivery is asynchronous).
    pub async fn wait_inbox(&self, n: usize) {
        self.stack
            .wait_for_messages(OFFICE, "INBOX", n, Duration::from_secs(20))
            .await;
    }

    /// One number from the database (for what the CLI does not show, like the outbox).
    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Connection;
        let url = format!("sqlite://{}", self.database().display());
        let mut connection = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("cannot open the database");
        let value: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut connection)
            .await
            .expect("query failed");
        connection.close().await.ok();
        value
    }

    /// Rewrites Settings.toml: `edit` gets its text and returns the new one.
    pub fn edit_settings(&self, edit: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.config).expect("read Settings.toml");
        std::fs::write(&self.config, edit(text)).expect("write Settings.toml");
    }

    pub async fn text(&self, sql: &str) -> Vec<String> {
        texts_in(&self.database(), sql).await
    }

    /// The archived bytes stored under `sha256` beside this office's database.
    pub async fn archived(&self, sha256: &str) -> Option<Vec<u8>> {
        archived_beside(&self.database(), sha256).await
    }
}

/// The bytes stored under `sha256` in the archive beside `database` (read the way the
/// worker reads them: the `blobs` row names a range of a pack), checked against their
/// hash; `None` when the database has no such blob.
pub async fn archived_beside(database: &Path, sha256: &str) -> Option<Vec<u8>> {
    use sqlx::Connection;
    use std::os::unix::fs::FileExt;
    let url = format!("sqlite://{}", database.display());
    let mut connection = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("cannot open the database");
    let row: Option<(i64, i64, i64)> =
        sqlx::query_as("SELECT pack, pack_offset, size FROM blobs WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&mut connection)
            .await
            .expect("query failed");
    connection.close().await.ok();
    let (pack, offset, size) = row?;
    let path =
        PathBuf::from(format!("{}.archive", database.display())).join(format!("{pack:08}.pack"));
    let file = std::fs::File::open(&path).expect("the pack exists");
    let mut bytes = vec![0; size as usize];
    file.read_exact_at(&mut bytes, offset as u64)
        .expect("the range is in the pack");
    assert_eq!(
        pengaduan::mail::parse::sha256_hex(&bytes),
        sha256,
        "archived bytes match their hash"
    );
    Some(bytes)
}

/// One text column of every row `sql` returns from the database file `database`.
pub async fn texts_in(database: &Path, sql: &str) -> Vec<String> {
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}", database.display());
        let mut connection = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("cannot open the database");
        let values: Vec<String> = sqlx::query_scalar(sql)
            .fetch_all(&mut connection)
            .await
            .expect("query failed");
        connection.close().await.ok();
        values
    }
}

/// Overwrites the root pages of `tables` in the database file with garbage: the damage a
/// failing disk leaves.
pub async fn damage_tables(database: &std::path::Path, tables: &[&str]) {
    use sqlx::Connection;
    use std::os::unix::fs::FileExt;
    let url = format!("sqlite://{}", database.display());
    let mut connection = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("cannot open the database");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut connection)
        .await
        .expect("checkpoint");
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut connection)
        .await
        .expect("page size");
    let mut pages = Vec::new();
    for table in tables {
        let root: i64 = sqlx::query_scalar("SELECT rootpage FROM sqlite_schema WHERE name = ?")
            .bind(table)
            .fetch_one(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("no table {table}: {e}"));
        pages.push(root);
    }
    connection.close().await.expect("close");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(database)
        .expect("open the database file");
    let garbage = vec![0xA5u8; page_size as usize];
    for page in pages {
        file.write_all_at(&garbage, ((page - 1) * page_size) as u64)
            .expect("overwrite a page");
    }
    file.sync_all().expect("sync");
}

//! Real mail servers for integration tests: a private Dovecot + Postfix pair per test,
//! started by `scripts/mailstack` on free loopback ports.
//!
//! ```ignore
//! mod support;
//! use support::MailStack;
//!
//! #[tokio::test]
//! async fn example() {
//!     let stack = MailStack::start().await; // ~0.3 s; stopped when dropped
//!     stack.send("warga@example.org", &["diskominfo@kaltaraprov.go.id"], RAW).await;
//!     let msgs = stack
//!         .wait_for_messages("diskominfo@kaltaraprov.go.id", "INBOX", 1, Duration::from_secs(10))
//!         .await;
//! }
//! ```
//!
//! What the stack offers (see `scripts/mailstack` for the details):
//! - IMAP (`imap_port`, plain with STARTTLS) and IMAPS (`imaps_port`): any user name
//!   (a full address, lowercased by the server) logs in with [`PASSWORD`]; Maildir; the
//!   hierarchy separator is `/` (`Pengaduan/Diproses`); IDLE, MOVE, UIDPLUS, CONDSTORE.
//! - SMTP (`smtp_port`): plain, no auth, relays anything from 127.0.0.1; every recipient
//!   address of every domain is delivered to that address's own INBOX.
//! - Submission (`submission_port`): STARTTLS required, AUTH PLAIN/LOGIN with any user and
//!   [`PASSWORD`]. SMTPS (`smtps_port`): implicit TLS + the same AUTH.
//! - TLS certificate for `localhost` / `127.0.0.1`, issued by the CA in [`MailStack::ca_file`].
//! - Test hooks on all three SMTP listeners: a recipient starting with `reject-` gets
//!   `554 5.7.1` (permanent), one starting with `tempfail-` gets `450 4.7.1` (transient);
//!   one starting with `bounce-` is accepted, then bounced by Postfix: a real delivery
//!   status notification (`5.1.1`) goes to the envelope sender.
//!
//! Set `MAILSTACK_KEEP=1` to keep the stack's directory (configs, logs, Maildirs) after the
//! test; its path is printed on stderr.

pub mod clamd;
pub mod messages;
pub mod office;
pub mod process;
pub mod relay;
mod tls;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::TryStreamExt;
use lettre::address::{Address, Envelope};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::net::TcpStream;

/// The password of every mail user.
pub const PASSWORD: &str = "secret";

/// The host name the TLS certificate is issued for (it also holds IP SAN 127.0.0.1).
pub const TLS_HOST: &str = "localhost";

/// A plain-IMAP session as returned by [`MailStack::imap_session`].
pub type ImapSession = async_imap::Session<TcpStream>;

/// A running Dovecot + Postfix pair; stopped (and its directory removed) on drop.
pub struct MailStack {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    imap_port: u16,
    imaps_port: u16,
    smtp_port: u16,
    submission_port: u16,
    smtps_port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailstack")
}

/// Distinct free loopback ports, chosen at random in 20000..32700: below Linux's
/// ephemeral range (32768..), so no outgoing connection can be holding one of them when a
/// server binds it (or re-binds it after `stop_smtp`/`start_smtp`). Each port is checked
/// by binding it; all are held at once so they differ, then released for the servers.
fn free_ports<const N: usize>() -> [u16; N] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut state = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut held: Vec<TcpListener> = Vec::with_capacity(N);
    let mut ports = [0u16; N];
    let mut filled = 0;
    for _ in 0..10_000 {
        if filled == N {
            break;
        }
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let candidate = 20_000 + (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) % 12_700;
        let port = u16::try_from(candidate).expect("port in range");
        if ports[..filled].contains(&port) {
            continue;
        }
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            held.push(listener);
            ports[filled] = port;
            filled += 1;
        }
    }
    assert_eq!(
        filled, N,
        "cannot find {N} free loopback ports in 20000..32700"
    );
    ports
}

fn describe(out: &Output) -> String {
    format!(
        "exit status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run_script(command: &str, dir: &Path) -> Output {
    Command::new(script())
        .arg(command)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {command}: {e}", script().display()))
}

fn parse_env(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

impl MailStack {
    /// Starts a new stack without blocking the async runtime (the work runs on a blocking
    /// thread). Panics with the script's output if the stack cannot be started.
    pub async fn start() -> MailStack {
        MailStack::start_with(&[]).await
    }

    /// Like [`MailStack::start`], with extra environment for `scripts/mailstack` (test
    /// hooks such as `MAILSTACK_IMAP_CAPABILITY`).
    pub async fn start_with(env: &[(&str, &str)]) -> MailStack {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        tokio::task::spawn_blocking(move || MailStack::start_blocking_with(&env))
            .await
            .expect("mail stack start task panicked")
    }

    fn start_blocking_with(extra_env: &[(String, String)]) -> MailStack {
        let mut failures = Vec::new();
        // A second attempt with new ports covers the race where another process grabs one
        // of the ports between our probe and the servers' bind.
        for _attempt in 0..2 {
            let dir = tempfile::Builder::new()
                .prefix("pmx-test.")
                .tempdir_in("/tmp")
                .expect("cannot create a temporary directory under /tmp");
            let [imap, imaps, smtp, submission, smtps] = free_ports::<5>();
            let out = Command::new(script())
                .arg("start")
                .arg(dir.path())
                .env("IMAP_PORT", imap.to_string())
                .env("IMAPS_PORT", imaps.to_string())
                .env("SMTP_PORT", smtp.to_string())
                .env("SUBMISSION_PORT", submission.to_string())
                .env("SMTPS_PORT", smtps.to_string())
                // a later start stops this stack if this process dies without dropping it
                .env("MAILSTACK_OWNER_PID", std::process::id().to_string())
                .envs(extra_env.iter().map(|(k, v)| (k, v)))
                .output()
                .unwrap_or_else(|e| panic!("cannot run {} start: {e}", script().display()));
            if out.status.success() {
                let env_text = std::fs::read_to_string(dir.path().join("env"))
                    .expect("mailstack start succeeded but wrote no env file");
                let env = parse_env(&env_text);
                let port = |key: &str| -> u16 {
                    env.get(key)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or_else(|| panic!("env file lacks a valid {key}:\n{env_text}"))
                };
                return MailStack {
                    path: dir.path().to_path_buf(),
                    imap_port: port("IMAP_PORT"),
                    imaps_port: port("IMAPS_PORT"),
                    smtp_port: port("SMTP_PORT"),
                    submission_port: port("SUBMISSION_PORT"),
                    smtps_port: port("SMTPS_PORT"),
                    dir: Some(dir),
                };
            }
            failures.push(describe(&out));
            // The script cleans up after a failed start; make sure anyway.
            let _ = run_script("stop", dir.path());
        }
        panic!(
            "cannot start the mail stack (2 attempts):\n{}",
            failures.join("\n=== next attempt ===\n")
        );
    }

    // ----- accessors --------------------------------------------------------------------

    pub fn imap_port(&self) -> u16 {
        self.imap_port
    }
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }
    pub fn submission_port(&self) -> u16 {
        self.submission_port
    }
    pub fn smtps_port(&self) -> u16 {
        self.smtps_port
    }
    /// The stack's directory (configs, logs, `mail/<user>/Maildir`).
    pub fn dir(&self) -> &Path {
        &self.path
    }
    /// PEM file of the CA that issued the servers' certificate: the only root to trust.
    pub fn ca_file(&self) -> PathBuf {
        self.path.join("ca.pem")
    }
    /// Contents of [`MailStack::ca_file`].
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.ca_file()).expect("cannot read the mail stack's ca.pem")
    }
    pub fn dovecot_log(&self) -> PathBuf {
        self.path.join("dovecot.log")
    }
    pub fn postfix_log(&self) -> PathBuf {
        self.path.join("postfix.log")
    }
    /// Last lines of both servers' logs, for failure messages.
    pub fn log_tails(&self) -> String {
        format!(
            "--- {} ---\n{}\n--- {} ---\n{}",
            self.postfix_log().display(),
            tail(&self.postfix_log(), 25),
            self.dovecot_log().display(),
            tail(&self.dovecot_log(), 25)
        )
    }

    // ----- SMTP -------------------------------------------------------------------------

    /// Sends `raw` (a complete RFC 5322 message with CRLF line ends) over the plain SMTP
    /// port; recipients find it byte-identical after the trace headers the servers prepend
    /// (`Return-Path`, `Delivered-To`, `Received`). A message that does not end with CRLF
    /// gets one. An empty `envelope_from` means the null return path `<>`.
    /// Panics (with the Postfix log) if the server refuses it.
    pub async fn send(&self, envelope_from: &str, to: &[&str], raw: &[u8]) {
        if let Err(e) = self.try_send(envelope_from, to, raw).await {
            panic!(
                "cannot send a message from <{envelope_from}> to {to:?}: {e}\n{}",
                self.log_tails()
            );
        }
    }

    /// Like [`MailStack::send`] but returns lettre's result (to test rejections).
    pub async fn try_send(
        &self,
        envelope_from: &str,
        to: &[&str],
        raw: &[u8],
    ) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
        let from = if envelope_from.is_empty() {
            None
        } else {
            Some(
                envelope_from
                    .parse::<Address>()
                    .unwrap_or_else(|e| panic!("invalid envelope sender {envelope_from:?}: {e}")),
            )
        };
        let rcpts = to
            .iter()
            .map(|a| {
                a.parse::<Address>()
                    .unwrap_or_else(|e| panic!("invalid recipient {a:?}: {e}"))
            })
            .collect();
        let envelope = Envelope::new(from, rcpts).expect("cannot build an SMTP envelope");
        // lettre always ends DATA with "\r\n.\r\n", so a message that already ends with
        // CRLF would arrive with an extra empty line: strip one to deliver `raw` unchanged.
        let raw = raw.strip_suffix(b"\r\n").unwrap_or(raw);
        self.smtp_transport().send_raw(&envelope, raw).await
    }

    /// A lettre transport for the plain SMTP port (no TLS, no auth).
    pub fn smtp_transport(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port)
            .build()
    }

    // ----- IMAP -------------------------------------------------------------------------

    /// A logged-in session over plain IMAP (no TLS) for `user`.
    pub async fn imap_session(&self, user: &str) -> ImapSession {
        let tcp = TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to IMAP port {}: {e}", self.imap_port));
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await
            .expect("cannot read the IMAP greeting")
            .expect("IMAP server closed the connection before its greeting");
        client
            .login(user, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("IMAP login as {user} failed: {e}"))
    }

    /// Appends `raw` to `mailbox` of `user` (creating the mailbox if needed).
    pub async fn append(&self, user: &str, mailbox: &str, raw: &[u8]) {
        self.append_with_flags(user, mailbox, None, raw).await;
    }

    /// Like [`MailStack::append`] with an IMAP flag list such as `"(\\Seen)"`.
    pub async fn append_with_flags(
        &self,
        user: &str,
        mailbox: &str,
        flags: Option<&str>,
        raw: &[u8],
    ) {
        let mut session = self.imap_session(user).await;
        if !mailbox.eq_ignore_ascii_case("INBOX") {
            // Fails harmlessly with NO [ALREADYEXISTS] when it exists.
            let _ = session.create(mailbox).await;
        }
        session
            .append(mailbox, flags, None, raw)
            .await
            .unwrap_or_else(|e| panic!("IMAP APPEND to {user}/{mailbox} failed: {e}"));
        let _ = session.logout().await;
    }

    /// All raw messages (`BODY.PEEK[]`) of `mailbox` of `user`, in UID order; empty if the
    /// mailbox does not exist. Does not change any flag.
    pub async fn messages(&self, user: &str, mailbox: &str) -> Vec<Vec<u8>> {
        let mut session = self.imap_session(user).await;
        let selected = match session.examine(mailbox).await {
            Ok(m) => m,
            Err(async_imap::error::Error::No(_)) => {
                let _ = session.logout().await;
                return Vec::new();
            }
            Err(e) => panic!("IMAP EXAMINE {user}/{mailbox} failed: {e}"),
        };
        let mut messages = Vec::new();
        if selected.exists > 0 {
            let fetches: Vec<_> = session
                .uid_fetch("1:*", "BODY.PEEK[]")
                .await
                .unwrap_or_else(|e| panic!("IMAP UID FETCH in {user}/{mailbox} failed: {e}"))
                .try_collect()
                .await
                .unwrap_or_else(|e| panic!("IMAP UID FETCH in {user}/{mailbox} failed: {e}"));
            let mut with_uid: Vec<(u32, Vec<u8>)> = fetches
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .collect();
            with_uid.sort_by_key(|(uid, _)| *uid);
            messages = with_uid.into_iter().map(|(_, body)| body).collect();
        }
        let _ = session.logout().await;
        messages
    }

    /// Polls (every 50 ms) until `mailbox` of `user` holds at least `n` messages, and
    /// returns them all; panics with both servers' logs on timeout.
    pub async fn wait_for_messages(
        &self,
        user: &str,
        mailbox: &str,
        n: usize,
        timeout: Duration,
    ) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let msgs = self.messages(user, mailbox).await;
            if msgs.len() >= n {
                return msgs;
            }
            if start.elapsed() >= timeout {
                panic!(
                    "timed out after {timeout:?} waiting for {n} message(s) in {user}/{mailbox}: \
                     found {}\n{}",
                    msgs.len(),
                    self.log_tails()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Names of all mailboxes of `user` (LIST "" "*"), sorted.
    pub async fn mailboxes(&self, user: &str) -> Vec<String> {
        let mut session = self.imap_session(user).await;
        let names: Vec<_> = session
            .list(Some(""), Some("*"))
            .await
            .unwrap_or_else(|e| panic!("IMAP LIST for {user} failed: {e}"))
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("IMAP LIST for {user} failed: {e}"));
        let mut names: Vec<String> = names.iter().map(|n| n.name().to_string()).collect();
        names.sort();
        let _ = session.logout().await;
        names
    }

    // ----- outages ----------------------------------------------------------------------

    fn control(&self, command: &str) {
        let out = run_script(command, &self.path);
        if !out.status.success() {
            panic!("mailstack {command} failed: {}", describe(&out));
        }
    }

    /// Stops Postfix (all three SMTP ports refuse connections; queued mail is kept).
    pub fn stop_smtp(&self) {
        self.control("stop-smtp");
    }
    /// Starts Postfix again on the same ports, with the same queue.
    pub fn start_smtp(&self) {
        self.control("start-smtp");
    }
    /// Stops Dovecot (IMAP/IMAPS refuse connections; Postfix defers deliveries).
    pub fn stop_imap(&self) {
        self.control("stop-imap");
    }
    /// Starts Dovecot again on the same ports (deferred mail is delivered within ~2 s).
    pub fn start_imap(&self) {
        self.control("start-imap");
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        // Never panic here: a panic while unwinding would abort the whole test binary.
        match Command::new(script()).arg("stop").arg(&self.path).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!("warning: mailstack stop failed: {}", describe(&out)),
            Err(e) => eprintln!("warning: cannot run mailstack stop: {e}"),
        }
        if std::env::var_os("MAILSTACK_KEEP").is_some()
            && let Some(dir) = self.dir.take()
        {
            eprintln!("MAILSTACK_KEEP: keeping {}", dir.keep().display());
        }
    }
}

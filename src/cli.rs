//! The command line: clap definitions, the commands, and the printers for people and
//! for scripts (`--json`, documented in the README).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::domain::Status;
use crate::mail::templates::Templates;
use crate::mail::{Classification, classify, parse};
use crate::store::Acquired;
use crate::store::Store;
use crate::telemetry::LogFormat;
use crate::transport::imap;
use crate::worker;
use crate::worker::lease;

#[derive(Debug, Parser)]
#[command(
    name = "pengaduan",
    version,
    about = "Public-complaint service over email: IMAP ingest, SQLite register, SMTP replies",
    long_about = "Runs the public-complaint service (Layanan Pengaduan Masyarakat) of Diskominfo Kaltara over email.\n\
                  Every setting in the configuration file can be overridden by an environment variable\n\
                  PENGADUAN__<SECTION>__<KEY>, e.g. PENGADUAN__IMAP__PASSWORD."
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "PENGADUAN_CONFIG", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Log format: JSON lines when not on a terminal (auto), or forced.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the worker: with --once, one full cycle (ingest, send) then exit.
    Run {
        /// One cycle, then exit (for cron).
        #[arg(long)]
        once: bool,
        /// Seconds between cycles in long-running mode.
        #[arg(long, default_value_t = 60)]
        interval: u64,
        /// After each cycle, write Prometheus metrics to this file (node_exporter's
        /// textfile collector).
        #[arg(long)]
        metrics_file: Option<PathBuf>,
    },
    /// How the worker is doing; exit status 1 when the most recent cycle failed or the
    /// last successful cycle is older than worker.stale_after_seconds (a liveness or
    /// monitoring probe).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// List the complaint register.
    List {
        /// Only complaints with this status (menunggu_disposisi, menunggu_jawaban,
        /// menunggu_persetujuan, selesai, ditutup).
        #[arg(long)]
        status: Option<String>,
        /// Only open complaints past their deadline.
        #[arg(long)]
        overdue: bool,
        /// Print JSON (an array; see the README).
        #[arg(long)]
        json: bool,
    },
    /// Show one complaint with its messages and audit events.
    Show {
        /// Register number, e.g. ADU-2026-00042.
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration and reach the database, IMAP and SMTP.
    Check,
    /// Take a consistent copy of the live database (safe while a worker runs).
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
    /// Inspect quarantined messages and put one back in the mailbox after a fix.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Inspect outgoing mail and re-queue a failed or uncertain message.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Show what the worker would make of one .eml file (touches no database or mailbox).
    Parse {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineAction {
    /// Quarantined messages, newest first, with the reason.
    List {
        #[arg(long)]
        json: bool,
    },
    /// What the worker made of one quarantined message (as `parse` shows it).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Put the message back in the mailbox, to be processed afresh by the next cycle.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Outgoing mail, newest first.
    List {
        /// Only this status: pending, sending, sent, failed, uncertain.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Re-queue a failed or uncertain message; the next cycle sends it.
    Retry { id: i64 },
}

impl Command {
    pub fn logs_to_stdout(&self) -> bool {
        matches!(self, Command::Run { .. })
    }
}

/// Runs the command and maps the outcome to the process exit status: 0 success, 1 a
/// failure at run time, 2 a configuration error.
pub async fn main(cli: Cli) -> ExitCode {
    if !matches!(cli.command, Command::Run { .. }) {
        end_quietly_when_the_reader_goes_away();
    }
    match execute(&cli).await {
        Ok(code) => code,
        Err(error) => {
            // Written, not `eprintln!`: a worker whose stderr is gone still exits with
            // its status rather than a panic's.
            use std::io::Write as _;
            if let Some(config) = error.downcast_ref::<ConfigError>() {
                let _ = writeln!(std::io::stderr(), "error: configuration: {config}");
                return ExitCode::from(2);
            }
            let _ = writeln!(std::io::stderr(), "error: {}", one_line(&error));
            ExitCode::from(1)
        }
    }
}

/// A command that prints its answer (`list | head -1`) ends when its reader goes away,
/// quietly, as Unix tools do: SIGPIPE's default action is restored (Rust ignores the
/// signal, so the next `println!` would panic on the broken pipe). The worker (`run`)
/// keeps ignoring it and carries on: a log line it cannot write is dropped
/// (`telemetry`), and its sockets never raise the signal (std sends with
/// `MSG_NOSIGNAL`).
fn end_quietly_when_the_reader_goes_away() {
    // SAFETY: sets the disposition of one signal that this program installs no handler
    // for; nothing else in the process depends on SIGPIPE being ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn one_line(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

async fn execute(cli: &Cli) -> anyhow::Result<ExitCode> {
    if let Command::Parse { file, json } = &cli.command {
        return parse_file(cli, file, *json);
    }
    let settings = Settings::load(&cli.config)?;
    let database = settings.database.url.clone();
    dispatch(cli, settings)
        .await
        .map_err(|error| name_damaged_database(&database, error))
}

/// A damaged database file is said to be one, naming it and what to do, whichever
/// command found it (rather than SQLite's bare "database disk image is malformed").
fn name_damaged_database(database: &str, error: anyhow::Error) -> anyhow::Error {
    if !crate::store::is_corruption(&error) {
        return error;
    }
    anyhow::anyhow!(
        "the database {database} is damaged: {}; stop the worker and restore the latest \
         backup (README, \"Back up and restore\")",
        error.root_cause()
    )
}

async fn dispatch(cli: &Cli, settings: Settings) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Run {
            once,
            interval,
            metrics_file,
        } => run(&settings, *once, *interval, metrics_file.as_deref()).await,
        Command::Status { json } => status(&settings, *json).await,
        Command::List {
            status,
            overdue,
            json,
        } => {
            let status = match status {
                Some(s) => Some(Status::parse(s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown status {s:?}; one of: {}",
                        Status::ALL.map(Status::as_str).join(", ")
                    )
                })?),
                None => None,
            };
            let store = Store::open(&settings.database.url).await?;
            let overdue_at = if *overdue {
                Some(Clock::from_env()?.now())
            } else {
                None
            };
            let complaints = store.complaints(status, overdue_at).await?;
            if *json {
                print_json(&complaints)?;
            } else if complaints.is_empty() {
                println!("(no complaints)");
            } else {
                for c in &complaints {
                    println!(
                        "{:<16} {:<21} {} → {}  {}  {}",
                        c.number,
                        c.status,
                        c.received_at,
                        c.deadline_at,
                        c.reporter_email,
                        c.subject
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { number, json } => {
            let store = Store::open(&settings.database.url).await?;
            let Some(detail) = store.complaint(number.trim()).await? else {
                eprintln!("error: no complaint {number}");
                return Ok(ExitCode::from(1));
            };
            if *json {
                print_json(&detail)?;
            } else {
                let c = &detail.summary;
                println!("{}  [{}]  {}", c.number, c.status, c.subject);
                println!(
                    "reporter:  {} <{}>",
                    c.reporter_name.as_deref().unwrap_or("-"),
                    c.reporter_email
                );
                println!("received:  {}   deadline: {}", c.received_at, c.deadline_at);
                if let Some(d) = &detail.disposition {
                    println!(
                        "disposition: {} by {} at {}: {}",
                        d.division, d.by, d.at, d.instruction
                    );
                }
                for d in &detail.drafts {
                    println!("draft (round {}) by {} at {}", d.round, d.by, d.at);
                }
                for d in &detail.decisions {
                    let hash = d
                        .text_sha256
                        .as_deref()
                        .map(|h| format!(" sha256 {h}"))
                        .unwrap_or_default();
                    println!(
                        "{} by {} at {}{hash}",
                        d.decision.to_uppercase(),
                        d.by,
                        d.at
                    );
                }
                for u in &detail.unauthorized {
                    println!(
                        "UNAUTHORIZED at {} from {}: {}",
                        u.at,
                        u.sender.as_deref().unwrap_or("-"),
                        u.reason
                    );
                }
                println!("\nmessages:");
                for m in &detail.messages {
                    println!(
                        "  {} {:<12} {}  {}  ({} attachment(s))",
                        if m.direction == "in" { "→" } else { "←" },
                        m.kind,
                        m.date.as_deref().unwrap_or("-"),
                        m.subject,
                        m.attachments.len()
                    );
                }
                println!("\nevents:");
                for e in &detail.events {
                    println!("  {}  {:<22} {:<28} {}", e.at, e.action, e.actor, e.detail);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => check(&settings).await,
        Command::Backup { path } => {
            if path.exists() {
                anyhow::bail!("{} already exists; choose a new file", path.display());
            }
            let store = Store::open(&settings.database.url).await?;
            let target = path
                .to_str()
                .ok_or_else(|| anyhow::anyhow!("the backup path must be UTF-8"))?;
            let (archive, files) = store
                .backup(target)
                .await
                .with_context(|| format!("cannot write the backup {}", path.display()))?;
            println!(
                "backup written to {} and its archive ({files} files) to {}",
                path.display(),
                archive.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Quarantine { action } => quarantine(&settings, action).await,
        Command::Outbox { action } => outbox_command(&settings, action).await,
        Command::Parse { .. } => unreachable!("handled above"),
    }
}

async fn run(
    settings: &Settings,
    once: bool,
    interval: u64,
    metrics_file: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let clock = Clock::from_env()?;
    // The first IMAP login (server time: most of an idle cycle) runs while the database
    // opens and the lock is taken.
    let mut early_imap = Some(tokio::spawn({
        let imap = settings.imap.clone();
        async move { imap::Connection::connect(&imap).await }
    }));
    // On this single-threaded runtime the login starts only when this task first waits:
    // let it send its connect now, before the database opens.
    tokio::task::yield_now().await;
    let store = Store::open(&settings.database.url).await?;
    let shutdown = Shutdown::listen()?;
    if !once && let Some(addr) = settings.worker.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on worker.metrics_addr {addr}"))?;
        tracing::info!(%addr, "serving Prometheus metrics at /metrics");
        tokio::spawn(crate::worker::metrics::serve(
            listener,
            store.clone(),
            clock,
        ));
    }
    let mut failures = 0;
    loop {
        // Taken (or renewed) before every cycle; released when the process ends.
        let report = match lease::acquire(&store, clock.now())? {
            Acquired::Yes => {
                let early = early_imap.take();
                let imap = async {
                    match early {
                        Some(task) => task.await.context("the IMAP login task failed")?,
                        None => imap::Connection::connect(&settings.imap).await,
                    }
                };
                let cycle = worker::run_once(settings, &store, &clock, &shutdown.requested, imap);
                Some(panic_as_error(cycle).await)
            }
            Acquired::HeldBy(holder, until) => {
                if let Some(task) = early_imap.take() {
                    task.abort();
                }
                tracing::info!(
                    host = %holder.host,
                    pid = holder.pid,
                    lease_until = %crate::clock::rfc3339(until),
                    "another worker is running; this one does nothing"
                );
                None
            }
        };
        let (report, farewell) = match report {
            Some(Ok((report, farewell))) => (Some(Ok(report)), Some(farewell)),
            Some(Err(error)) => (Some(Err(error)), None),
            None => (None, None),
        };
        match &report {
            Some(Ok(report)) => tracing::info!(
                fetched = report.fetched,
                complaints = report.complaints,
                follow_ups = report.follow_ups,
                staff_replies = report.staff_replies,
                auto_replies = report.auto_replies,
                bounces = report.bounces,
                quarantined = report.quarantined,
                moved = report.moved,
                deadline_notices = report.deadline_notices,
                sent = report.delivery.sent,
                deferred = report.delivery.deferred,
                failed = report.delivery.failed,
                duration_ms = report.duration_ms,
                "cycle complete"
            ),
            Some(Err(error)) if !once => {
                tracing::error!(error = %one_line(error), "cycle failed; retrying later")
            }
            _ => {}
        }
        if let Some(report) = &report {
            let (ok, duration_ms, json) = match report {
                Ok(r) => (true, r.duration_ms, serde_json::to_value(r)?),
                Err(e) => (false, 0, serde_json::json!({ "error": one_line(e) })),
            };
            // `run --once` lets go of the lock in the same commit.
            let me = lease::this_process();
            // Written on this thread while the logout's reply is on its way.
            let recorded =
                store.record_cycle(clock.now(), ok, duration_ms, &json, once.then_some(&me));
            if let Some(farewell) = farewell {
                farewell.wait().await;
            }
            recorded?;
            if let Some(path) = metrics_file {
                let text = crate::worker::metrics::render(&store.health(clock.now()).await?);
                crate::worker::metrics::write_atomically(path, &text)
                    .with_context(|| format!("cannot write metrics to {}", path.display()))?;
            }
        }
        if once {
            report.transpose()?;
            // Leave now, without closing the database: closing the last connection
            // checkpoints the WAL (three fsyncs that the exit would wait for, on every
            // idle cron tick), and so would dropping the runtime, whose tasks hold the
            // connection. Every ingest commit is already durable; SQLite checkpoints as
            // the WAL grows, and the next open recovers it.
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            std::process::exit(0);
        }
        crate::heap::give_back_freed_memory();
        let failed = matches!(report, Some(Err(_)));
        if shutdown.requested()
            || until_next_cycle(settings, interval, &shutdown, &mut failures, failed).await
        {
            tracing::info!("stop requested; the cycle is finished, exiting");
            lease::release(&store)?;
            store.close().await;
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// Runs one cycle, a panic anywhere in it (on this thread, or resumed from a blocking
/// thread such as the batch's) becoming the cycle's error: the cycle is then recorded as
/// failed like any other, and the long-running worker carries on. Unwind safety: what
/// the cycle shares with the next one is the register, whose writer rolls back a
/// transaction a panic left open; everything else of the cycle is dropped.
async fn panic_as_error<T>(cycle: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(cycle).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(anyhow::anyhow!(
            "the cycle panicked: {}",
            panic_message(panic.as_ref())
        )),
    }
}

/// A panic's message on one line.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Waits for new mail (IMAP IDLE), at most `interval` seconds (the deadline sweep and
/// outbox retries run each cycle). After a failed cycle, or connection failures, it backs
/// off exponentially with jitter (a failed cycle is not retried at once because mail is
/// waiting). Returns true when a stop was requested.
async fn until_next_cycle(
    settings: &Settings,
    interval: u64,
    shutdown: &Shutdown,
    failures: &mut u32,
    cycle_failed: bool,
) -> bool {
    let max_wait = std::time::Duration::from_secs(interval);
    if cycle_failed {
        *failures += 1;
        return shutdown.wait(backoff(*failures, max_wait)).await;
    }
    let watched = async {
        let mut connection = imap::Connection::connect(&settings.imap).await?;
        let selected = connection.select(&settings.imap.mailbox).await?;
        if selected.exists > 0 {
            connection.logout().await;
            return anyhow::Ok(());
        }
        let connection = connection.idle(max_wait, shutdown.stopped()).await?;
        connection.logout().await;
        anyhow::Ok(())
    };
    match watched.await {
        Ok(()) => *failures = 0,
        Err(error) => {
            *failures += 1;
            let backoff = backoff(*failures, max_wait);
            tracing::warn!(error = %one_line(&error), retry_in_s = backoff.as_secs(), "cannot watch the mailbox; retrying");
            return shutdown.wait(backoff).await;
        }
    }
    shutdown.requested()
}

/// Exponential backoff with jitter after `failures` failures in a row, at most
/// `max_wait` (and at least a second).
fn backoff(failures: u32, max_wait: std::time::Duration) -> std::time::Duration {
    let base = 2u64.saturating_pow(failures.min(8)).min(300);
    let jitter = rand::random::<u64>() % (base / 2 + 1);
    std::time::Duration::from_secs(base + jitter)
        .min(max_wait.max(std::time::Duration::from_secs(1)))
}

/// SIGTERM or SIGINT: the current cycle finishes (its batch commits, IMAP logs out), then
/// the long-running worker exits 0.
struct Shutdown {
    requested: std::sync::Arc<std::sync::atomic::AtomicBool>,
    notify: std::sync::Arc<tokio::sync::Notify>,
}

impl Shutdown {
    fn listen() -> anyhow::Result<Shutdown> {
        use tokio::signal::unix::{SignalKind, signal};
        let requested = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let notify = std::sync::Arc::new(tokio::sync::Notify::new());
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let (flag, wake) = (requested.clone(), notify.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            wake.notify_one();
        });
        Ok(Shutdown { requested, notify })
    }

    fn requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Completes when a stop is requested.
    async fn stopped(&self) {
        if !self.requested() {
            self.notify.notified().await;
        }
    }

    /// Sleeps for `interval`; true when a stop was requested meanwhile.
    async fn wait(&self, interval: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(interval) => self.requested(),
            _ = self.notify.notified() => true,
        }
    }
}

/// `status`: a liveness probe run every minute, so it only reads the cycle records and a
/// few counts. It does not run SQLite's integrity check (which reads every page; `check`
/// does): a damaged page it reads fails its query, and `execute` names the database and
/// says to restore a backup.
async fn status(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let clock = Clock::from_env()?;
    let store = Store::open(&settings.database.url).await?;
    let now = clock.now();
    let health = store.health(now).await?;
    let age = health
        .last_success_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339)
        .map(|at| (now - at).num_seconds());
    let stale = age.is_none_or(|age| age > settings.worker.stale_after.as_secs() as i64);
    let failing = health.last_cycle_failed;
    let open: i64 = health
        .complaints_by_status
        .iter()
        .filter(|(s, _)| Status::parse(s).is_some_and(Status::is_open))
        .map(|(_, n)| n)
        .sum();
    if json {
        print_json(&serde_json::json!({
            "healthy": !stale && !failing,
            "last_success_at": health.last_success_at,
            "age_seconds": age,
            "stale": stale,
            "failing": failing,
            "last_cycle": health.last_success,
            "last_failure_at": health.last_failure_at,
            "last_failure_error": health.last_failure_error,
            "outbox": {
                "pending": count(&health.outbox_by_status, "pending"),
                "failed": count(&health.outbox_by_status, "failed"),
                "uncertain": count(&health.outbox_by_status, "uncertain"),
            },
            "quarantined": health.quarantined,
            "open_complaints": open,
            "overdue_complaints": health.overdue,
        }))?;
    } else {
        print_status(&health, age, open);
        if failing {
            println!(
                "FAILING: the last cycle failed at {}: {}",
                health.last_failure_at.as_deref().unwrap_or("-"),
                health
                    .last_failure_error
                    .as_deref()
                    .unwrap_or("(no error recorded)")
            );
        }
        if stale {
            println!(
                "STALE: no successful cycle within {}s (worker.stale_after_seconds)",
                settings.worker.stale_after.as_secs()
            );
        }
    }
    Ok(if stale || failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The number stored under `key` in a count per status or kind, 0 if absent.
fn count(pairs: &[(String, i64)], key: &str) -> i64 {
    pairs.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

/// The text of `status` for people, without its verdict lines.
fn print_status(health: &crate::store::Health, age: Option<i64>, open: i64) {
    match (&health.last_success_at, &health.last_success) {
        (Some(at), Some(report)) => println!(
            "last successful cycle: {at} ({}s ago): fetched {}, complaints {}, sent {}",
            age.unwrap_or_default(),
            report["fetched"],
            report["complaints"],
            report["delivery"]["sent"]
        ),
        _ => println!("last successful cycle: never"),
    }
    if let Some(at) = &health.last_failure_at {
        println!("last failed cycle:     {at}");
    }
    println!(
        "outbox: {} pending, {} failed, {} uncertain",
        count(&health.outbox_by_status, "pending"),
        count(&health.outbox_by_status, "failed"),
        count(&health.outbox_by_status, "uncertain")
    );
    println!("quarantined: {}", health.quarantined);
    println!("complaints: {open} open, {} overdue", health.overdue);
}

async fn quarantine(settings: &Settings, action: &QuarantineAction) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database.url).await?;
    match action {
        QuarantineAction::List { json } => {
            let rows = store.quarantined().await?;
            if *json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("(nothing in quarantine)");
            } else {
                for q in &rows {
                    println!(
                        "#{:<6} {}  {:<30} {}  — {}",
                        q.id,
                        q.recorded_at,
                        q.from.as_deref().unwrap_or("-"),
                        q.subject,
                        q.reason
                    );
                }
            }
        }
        QuarantineAction::Show { id, json } => {
            let raw = store.quarantined_raw(*id).await?.ok_or_else(|| {
                anyhow::anyhow!("no quarantined message #{id} (see `pengaduan quarantine list`)")
            })?;
            let report = ParseReport::new(
                &raw,
                &settings.smtp.from_address,
                &settings.office.domain,
                &settings.office.number_prefix,
            );
            print_parse_report(&report, *json)?;
        }
        QuarantineAction::Retry { id } => {
            let raw = store.quarantined_raw(*id).await?.ok_or_else(|| {
                anyhow::anyhow!("no quarantined message #{id} (see `pengaduan quarantine list`)")
            })?;
            let clock = Clock::from_env()?;
            // Holding the worker lock, so no cycle sees the copy before its key is freed.
            if let Acquired::HeldBy(holder, _) = lease::acquire(&store, clock.now())? {
                anyhow::bail!(
                    "a worker is running (host {}, pid {}); try again when it is done",
                    holder.host,
                    holder.pid
                );
            }
            let result = async {
                let mut imap = imap::Connection::connect(&settings.imap).await?;
                let appended = imap.append(&settings.imap.mailbox, &raw).await;
                imap.logout().await;
                appended?;
                store.release_quarantined(*id, clock.now()).await?;
                anyhow::Ok(())
            }
            .await;
            lease::release(&store)?;
            result?;
            println!(
                "quarantined message #{id} is back in {}; the next cycle processes it",
                settings.imap.mailbox
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn outbox_command(settings: &Settings, action: &OutboxAction) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database.url).await?;
    match action {
        OutboxAction::List { status, json } => {
            const STATUSES: [&str; 5] = ["pending", "sending", "sent", "failed", "uncertain"];
            if let Some(s) = status
                && !STATUSES.contains(&s.as_str())
            {
                anyhow::bail!(
                    "unknown outbox status {s:?}; one of: {}",
                    STATUSES.join(", ")
                );
            }
            let rows = store.outbox_rows(status.as_deref()).await?;
            if *json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("(no outgoing mail)");
            } else {
                for o in &rows {
                    println!(
                        "#{:<6} {:<9} {:<7} {:<16} tries {}  to {}  {}{}",
                        o.id,
                        o.status,
                        o.purpose,
                        o.number.as_deref().unwrap_or("-"),
                        o.attempts,
                        o.to,
                        o.subject,
                        o.last_error
                            .as_deref()
                            .map(|e| format!("  — {e}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        OutboxAction::Retry { id } => {
            let clock = Clock::from_env()?;
            if !store.outbox_requeue(*id, clock.now()).await? {
                anyhow::bail!(
                    "outbox #{id} is not failed or uncertain (see `pengaduan outbox list`)"
                );
            }
            println!("outbox #{id} is queued again; the next cycle sends it");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_parse_report(report: &ParseReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    println!("kind:       {}", report.kind);
    if let Some(reason) = &report.quarantine_reason {
        println!("quarantine: {reason}");
    }
    println!(
        "message-id: {}",
        report.inbound.message_id.as_deref().unwrap_or("-")
    );
    println!("subject:    {}", report.inbound.subject);
    for a in &report.inbound.attachments {
        println!(
            "attachment: {} ({}, {} bytes, sha256 {})",
            a.filename.as_deref().unwrap_or("-"),
            a.content_type,
            a.size,
            a.sha256
        );
    }
    println!("\n{}", report.inbound.body_text);
    Ok(())
}

/// `parse FILE`: the operator's tool for "why was this quarantined?".
fn parse_file(cli: &Cli, file: &PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // The configuration is optional here: it only names the worker's own address.
    let own = Settings::load(&cli.config)
        .ok()
        .map(|s| (s.smtp.from_address, s.office.domain, s.office.number_prefix));
    let (address, domain, prefix) = own.unwrap_or_else(|| {
        (
            crate::domain::EmailAddress::parse("diskominfo@kaltaraprov.go.id")
                .expect("a valid built-in address"),
            "kaltaraprov.go.id".to_string(),
            "ADU".to_string(),
        )
    });
    let report = ParseReport::new(&raw, &address, &domain, &prefix);
    print_parse_report(&report, json)?;
    Ok(ExitCode::SUCCESS)
}

/// The JSON of `parse`: the parsed message plus the worker's verdict.
#[derive(Debug, Serialize)]
pub struct ParseReport {
    pub kind: &'static str,
    #[serde(flatten)]
    pub inbound: crate::mail::Inbound,
    /// The new text of a reply, without quoted history and signatures.
    pub reply_text: String,
    pub quarantine_reason: Option<String>,
}

impl ParseReport {
    pub fn new(
        raw: &[u8],
        own_address: &crate::domain::EmailAddress,
        own_domain: &str,
        prefix: &str,
    ) -> ParseReport {
        let inbound = parse(raw);
        let classification = classify(&inbound, own_address, own_domain);
        let names_thread = !inbound.thread_ids().is_empty()
            || crate::domain::RegisterNumber::find_in_subject(prefix, &inbound.subject).is_some();
        let (kind, quarantine_reason) = match classification {
            Classification::Person if names_thread => ("follow_up", None),
            Classification::Person => ("complaint", None),
            Classification::AutoReply(_) => ("auto_reply", None),
            Classification::Bounce(_) => ("bounce", None),
            Classification::Quarantine(reason) => ("quarantined", Some(reason)),
        };
        let reply_text =
            crate::mail::reply::reply_text(&inbound.body_text, inbound.body_html.as_deref());
        ParseReport {
            kind,
            inbound,
            reply_text,
            quarantine_reason,
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot serialise JSON")?;
    println!("{text}");
    Ok(())
}

/// `check`: one line per item; exit status 1 if any fails.
async fn check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    let mut line = |ok: bool, item: &str, detail: String| {
        failed |= !ok;
        println!("{} {item}: {detail}", if ok { "ok  " } else { "FAIL" });
    };
    line(
        true,
        "configuration",
        format!("{} is valid (secrets not shown)", settings.source.display()),
    );

    match Store::open(&settings.database.url).await {
        Ok(store) => {
            match store.ping().await {
                Ok(count) => line(
                    true,
                    "database",
                    format!(
                        "{} reachable and migrated; {count} complaints",
                        settings.database.url
                    ),
                ),
                Err(e) => line(false, "database", format!("{}: {e}", settings.database.url)),
            }
            let (ok, detail) = integrity(settings, &store).await;
            line(ok, "database integrity", detail);
            let archive = store.archive().dir().display().to_string();
            match store.archive().check_writable() {
                Ok(()) => line(true, "archive", format!("{archive} is writable")),
                Err(e) => line(
                    false,
                    "archive",
                    format!("{e}; every message's bytes are kept there"),
                ),
            }
        }
        Err(e) if crate::store::is_corruption(&e) => line(
            false,
            "database",
            name_damaged_database(&settings.database.url, e).to_string(),
        ),
        Err(e) => line(
            false,
            "database",
            format!(
                "{}; check database.url and that the directory is writable",
                one_line(&e)
            ),
        ),
    }

    match imap::Connection::connect(&settings.imap).await {
        Ok(mut connection) => {
            line(
                true,
                "imap",
                format!(
                    "logged in as {} at {}:{}",
                    settings.imap.username, settings.imap.host, settings.imap.port
                ),
            );
            match connection.folders().await {
                Ok(folders) => {
                    for (key, name) in [
                        ("imap.mailbox", &settings.imap.mailbox),
                        ("imap.processed_mailbox", &settings.imap.processed_mailbox),
                        ("imap.quarantine_mailbox", &settings.imap.quarantine_mailbox),
                    ] {
                        let exists = folders.iter().any(|f| f == name);
                        let created_later = key != "imap.mailbox";
                        line(
                            exists || created_later,
                            "imap folder",
                            if exists {
                                format!("{name} ({key}) exists")
                            } else if created_later {
                                format!(
                                    "{name} ({key}) does not exist yet; the worker creates it on first use"
                                )
                            } else {
                                format!("{name} ({key}) does not exist; fix {key}")
                            },
                        );
                    }
                }
                Err(e) => line(false, "imap folders", one_line(&e)),
            }
            connection.logout().await;
        }
        Err(e) => line(
            false,
            "imap",
            format!(
                "{}; check imap.host, imap.port, imap.security, imap.username and the password",
                one_line(&e)
            ),
        ),
    }

    match crate::transport::smtp::Session::open(settings).await {
        Ok(session) => {
            session.quit().await;
            line(
                true,
                "smtp",
                format!(
                    "{}:{} greets, TLS and authentication accepted",
                    settings.smtp.host, settings.smtp.port
                ),
            )
        }
        Err(e) => line(
            false,
            "smtp",
            format!("{e}; check smtp.host, smtp.port, smtp.security and the credentials"),
        ),
    }

    match Templates::load(&settings.office.templates_dir) {
        Ok(templates) => {
            for name in Templates::names() {
                match templates.render(name, sample_context(settings)) {
                    Ok(_) => line(true, "template", format!("{name} renders")),
                    Err(e) => line(
                        false,
                        "template",
                        format!(
                            "{e}; fix {}/{name}.txt",
                            settings.office.templates_dir.display()
                        ),
                    ),
                }
            }
        }
        Err(e) => line(false, "templates", e.to_string()),
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// SQLite's integrity check of the register, for `check`: whether it passed, and the
/// line that says so.
async fn integrity(settings: &Settings, store: &Store) -> (bool, String) {
    const SHOWN: u32 = 3;
    let url = &settings.database.url;
    let restore = "stop the worker and restore the latest backup (README, \"Back up and restore\")";
    match store.integrity_problems(SHOWN).await {
        Ok(problems) if problems.is_empty() => (true, format!("{url}: every page is sound")),
        Ok(problems) => (
            false,
            format!("{url} is damaged: {}; {restore}", problems.join("; ")),
        ),
        Err(e) => {
            let e = anyhow::Error::from(e);
            if crate::store::is_corruption(&e) {
                (
                    false,
                    format!("{url} is damaged: {}; {restore}", one_line(&e)),
                )
            } else {
                (false, format!("{url} cannot be checked: {}", one_line(&e)))
            }
        }
    }
}

fn sample_context(settings: &Settings) -> minijinja::Value {
    minijinja::context! {
        number => format!("{}-2026-00001", settings.office.number_prefix),
        reply_subject => format!("Re: Contoh [{}-2026-00001]", settings.office.number_prefix),
        reporter_name => "Contoh Warga",
        office_name => &settings.office.name,
        received => "Senin, 30 November 2026 pukul 10.00 WITA",
        deadline => "Kamis, 3 Desember 2026 pukul 10.00 WITA",
        answer_within_hours => settings.sla.answer_within_hours,
        subject => "Contoh pengaduan",
        reporter => "Contoh Warga",
        body => "Isi pengaduan.",
        attachment_count => 1,
        attachment_note => "",
        division => "aptika",
        instruction => "mohon ditindaklanjuti",
        divisions => vec![minijinja::context! { key => "aptika", addresses => "kabid.aptika@example.net" }],
        draft => "Draf jawaban.",
        note => "Catatan.",
        answer => "Jawaban.",
        problem => "contoh masalah",
        expected => "contoh harapan",
        status => "menunggu_jawaban",
        holder => "bidang:aptika",
        sender => "someone@example.net",
        reason => "contoh alasan",
        message_id => "contoh@example.net",
        message => "Isi pesan.",
        answer_sha256 => "0".repeat(64),
        corrected => false,
        count => 6,
        limit => 5,
        held => vec![minijinja::context! {
            number => format!("{}-2026-00006", settings.office.number_prefix),
            subject => "Contoh pengaduan",
            received => "Senin, 30 November 2026 pukul 10.00 WITA",
        }],
    }
}

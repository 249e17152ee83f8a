//! The worker as a process: the lease, one cycle or a loop of them, the cycle's record
//! and metrics, and between cycles waiting for mail with IMAP IDLE until a stop signal.

use std::path::Path;

use anyhow::Context;

use super::{CycleReport, Farewell, lease, metrics, run_once};
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{Acquired, FinishedCycle, Store};
use crate::telemetry::{one_line, panic_message};
use crate::transport::imap;

/// How the worker runs: one cycle (`run --once`, for cron) or a loop.
#[derive(Debug, Clone)]
pub struct Mode<'a> {
    pub once: bool,
    /// Seconds between cycles at most, in the loop.
    pub interval: u64,
    /// After each cycle, Prometheus metrics are written here.
    pub metrics_file: Option<&'a Path>,
}

/// Runs the worker. `run --once` leaves the process from here once its cycle is
/// recorded (see [`leave`]); the loop returns when a stop was requested.
pub async fn run(settings: &Settings, mode: Mode<'_>) -> anyhow::Result<()> {
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
    if !mode.once {
        serve_metrics(settings, &store, clock).await?;
    }
    let mut failures = 0;
    loop {
        let worked = cycle(settings, &store, &clock, &shutdown, early_imap.take()).await;
        let (report, farewell) = match worked {
            Some(Ok((report, farewell))) => (Some(Ok(report)), Some(farewell)),
            Some(Err(error)) => (Some(Err(error)), None),
            None => (None, None),
        };
        log_cycle(report.as_ref(), mode.once);
        if let Some(report) = &report {
            record(&store, &clock, (report, farewell), &mode).await?;
        }
        if mode.once {
            report.transpose()?;
            leave();
        }
        crate::heap::give_back_freed_memory();
        let last = match &report {
            Some(Ok(report)) if report.fetched > 0 => Last::FoundMail,
            Some(Err(_)) => Last::Failed,
            _ => Last::Quiet,
        };
        let woken = match shutdown.requested() {
            true => Woken::Stop,
            false => {
                until_next_cycle(settings, mode.interval, &shutdown, &mut failures, last).await
            }
        };
        match woken {
            Woken::Stop => {
                tracing::info!("stop requested; the cycle is finished, exiting");
                lease::release(&store).await?;
                store.close().await;
                return Ok(());
            }
            // The watching connection, still logged in, serves the next cycle.
            Woken::Cycle(watched) => {
                early_imap = watched.map(|connection| tokio::spawn(async { Ok(connection) }));
            }
        }
    }
}

/// How the last cycle went, for the wait before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Quiet,
    /// It fetched mail: more of a burst may be arriving.
    FoundMail,
    Failed,
}

/// What ended the wait between cycles.
enum Woken {
    Stop,
    /// Time for a cycle, on the connection that watched the mailbox when it is still
    /// logged in (one login fewer per cycle).
    Cycle(Option<imap::Connection>),
}

/// After a cycle that found mail, the mailbox is looked at again every `BURST_LOOK` for
/// `BURST_WINDOW` before settling into IDLE: Dovecot holds an IDLE notice back up to
/// 0.5 s to gather changes, which a citizen in a burst would otherwise wait for.
const BURST_LOOK: std::time::Duration = std::time::Duration::from_millis(25);
const BURST_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves `/metrics` on `worker.metrics_addr`, when it is set.
async fn serve_metrics(settings: &Settings, store: &Store, clock: Clock) -> anyhow::Result<()> {
    let Some(addr) = settings.worker.metrics_addr else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on worker.metrics_addr {addr}"))?;
    tracing::info!(%addr, "serving Prometheus metrics at /metrics");
    // Its own connection: a scrape never waits for a batch being recorded.
    let observer = store
        .observer()
        .context("cannot open the register for the metrics endpoint")?;
    tokio::spawn(metrics::serve(listener, observer, clock));
    Ok(())
}

/// One cycle, if this process holds the lease (taken or renewed before every cycle;
/// released when the process ends); `None` when another worker holds it.
async fn cycle(
    settings: &Settings,
    store: &Store,
    clock: &Clock,
    shutdown: &Shutdown,
    early_imap: Option<tokio::task::JoinHandle<anyhow::Result<imap::Connection>>>,
) -> Option<anyhow::Result<(CycleReport, Farewell)>> {
    let acquired = match lease::acquire(store, clock.now()).await {
        Ok(acquired) => acquired,
        Err(error) => return Some(Err(error)),
    };
    match acquired {
        Acquired::Yes => {
            let imap = async {
                match early_imap {
                    Some(task) => task.await.context("the IMAP login task failed")?,
                    None => imap::Connection::connect(&settings.imap).await,
                }
            };
            let cycle = run_once(settings, store, clock, &shutdown.requested, imap);
            Some(panic_as_error(cycle).await)
        }
        Acquired::HeldBy(holder, until) => {
            if let Some(task) = early_imap {
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
    }
}

fn log_cycle(report: Option<&anyhow::Result<CycleReport>>, once: bool) {
    match report {
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
}

/// Records the cycle (`run --once` lets go of the lock in the same commit) while the
/// IMAP logout's reply is on its way, then writes the metrics file.
async fn record(
    store: &Store,
    clock: &Clock,
    (report, farewell): (&anyhow::Result<CycleReport>, Option<Farewell>),
    mode: &Mode<'_>,
) -> anyhow::Result<()> {
    let (ok, duration_ms, json) = match report {
        Ok(r) => (true, r.duration_ms, serde_json::to_value(r)?),
        Err(e) => (false, 0, serde_json::json!({ "error": one_line(e) })),
    };
    let me = lease::this_process();
    let release = mode.once.then_some(&me);
    let recorded = store
        .record_cycle(FinishedCycle {
            at: clock.now(),
            ok,
            duration_ms,
            report: &json,
            release,
        })
        .await;
    if let Some(farewell) = farewell {
        farewell.wait().await;
    }
    recorded?;
    if let Some(path) = mode.metrics_file {
        let text = metrics::render(&store.health(clock.now()).await?);
        metrics::write_atomically(path, &text)
            .with_context(|| format!("cannot write metrics to {}", path.display()))?;
    }
    Ok(())
}

/// Leaves the process without closing the database: closing the last connection
/// checkpoints the WAL (three fsyncs that the exit would wait for, on every idle cron
/// tick), and so would dropping the last handle on the register. Every
/// ingest commit is already durable; SQLite checkpoints as the WAL grows, and the next
/// open recovers it.
fn leave() -> ! {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(0);
}

/// Runs one cycle, a panic anywhere in it (on this thread, or resumed from the
/// register's thread, where a batch runs) becoming the cycle's error: the cycle is then
/// recorded as failed like any other, and the long-running worker carries on. Unwind
/// safety: what the cycle shares with the next one is the register, whose thread rolls
/// back a transaction a panic left open; everything else of the cycle is dropped.
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

/// Waits for new mail (IMAP IDLE), at most `interval` seconds (the deadline sweep and
/// outbox retries run each cycle); right after a cycle that found mail, it first looks
/// again every [`BURST_LOOK`] for a while. After a failed cycle, or connection failures,
/// it backs off exponentially with jitter (a failed cycle is not retried at once because
/// mail is waiting).
async fn until_next_cycle(
    settings: &Settings,
    interval: u64,
    shutdown: &Shutdown,
    failures: &mut u32,
    last: Last,
) -> Woken {
    let max_wait = std::time::Duration::from_secs(interval);
    // After a back-off the next cycle logs in afresh.
    let woken = |stopped: bool| match stopped {
        true => Woken::Stop,
        false => Woken::Cycle(None),
    };
    if last == Last::Failed {
        *failures += 1;
        return woken(shutdown.wait(backoff(*failures, max_wait)).await);
    }
    match watch(settings, max_wait, shutdown, last == Last::FoundMail).await {
        Ok(connection) if shutdown.requested() => {
            connection.logout().await;
            Woken::Stop
        }
        Ok(connection) => {
            *failures = 0;
            Woken::Cycle(Some(connection))
        }
        Err(error) => {
            *failures += 1;
            let backoff = backoff(*failures, max_wait);
            tracing::warn!(error = %one_line(&error), retry_in_s = backoff.as_secs(), "cannot watch the mailbox; retrying");
            woken(shutdown.wait(backoff).await)
        }
    }
}

/// Logs in and returns once the mailbox has mail (or `max_wait` passed, or a stop was
/// requested), still logged in.
async fn watch(
    settings: &Settings,
    max_wait: std::time::Duration,
    shutdown: &Shutdown,
    burst: bool,
) -> anyhow::Result<imap::Connection> {
    let mailbox = &settings.imap.mailbox;
    let mut connection = imap::Connection::connect(&settings.imap).await?;
    if connection.select(mailbox).await?.exists > 0 {
        return Ok(connection);
    }
    if burst {
        let until = std::time::Instant::now() + BURST_WINDOW;
        while std::time::Instant::now() < until {
            if shutdown.wait(BURST_LOOK).await || connection.select(mailbox).await?.exists > 0 {
                return Ok(connection);
            }
        }
    }
    connection.idle(max_wait, shutdown.stopped()).await
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
pub(crate) struct Shutdown {
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

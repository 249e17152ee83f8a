//! One cycle of the worker, [`run_once`]: ingest the mailbox in batches, move what was
//! recorded and deliver what each batch queued as it commits, then deliver the rest of
//! the outbox. The cron job, the long-running loop and the tests
//! all call it.

pub mod delivery;
mod ingest;
pub mod lease;
pub mod metrics;
mod monthly;
mod screening;
pub mod service;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use self::delivery::DeliveryReport;
use self::ingest::{Inbox, ingest_mailbox};
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::templates::Templates;
use crate::office::deadline;
use crate::office::security::Tokens;
use crate::store::Store;
use crate::transport::imap::Connection;

/// What one cycle did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleReport {
    pub fetched: u64,
    pub complaints: u64,
    pub follow_ups: u64,
    /// Messages in a complaint's thread from neither its reporter nor an official.
    pub third_party: u64,
    /// Messages that only asked where a complaint stands.
    pub status_requests: u64,
    /// Satisfaction ratings recorded.
    pub ratings: u64,
    /// Messages that are no complaint by their channel's rules (an SMS without keyword).
    pub declined: u64,
    pub staff_replies: u64,
    pub auto_replies: u64,
    pub bounces: u64,
    pub quarantined: u64,
    pub already_recorded: u64,
    /// Messages that could be neither recorded nor quarantined (the error is logged):
    /// they stay in the inbox for the next cycle.
    pub left_in_inbox: u64,
    pub moved: u64,
    pub deadline_notices: u64,
    /// Held files clamd has now scanned (`scan.clamd`).
    pub files_rescanned: u64,
    /// Whether this cycle queued the monthly report of the month that ended.
    pub monthly_report: bool,
    pub copied_to_sent: u64,
    pub delivery: DeliveryReport,
    pub duration_ms: u64,
}

#[tracing::instrument(skip_all, err)]
/// One cycle. When `stop` is raised (SIGTERM), the cycle ends after the batch or the
/// message in hand: what was fetched is committed and moved, IMAP logs out, and the rest
/// waits for the next run. The logout of a successful cycle is still under way when this
/// returns: wait for the [`Farewell`] (the caller records the cycle meanwhile).
pub async fn run_once(
    settings: &Settings,
    store: &Store,
    clock: &Clock,
    stop: &AtomicBool,
    imap: impl Future<Output = anyhow::Result<Connection>>,
) -> anyhow::Result<(CycleReport, Farewell)> {
    let started = Instant::now();
    let (mut imap, ctx, agenda) = prepare(settings, store, clock, imap).await?;
    let mut report = CycleReport::default();

    // Mail queued by a committed batch is delivered while the next batches are fetched
    // and recorded (an acknowledgment need not wait for the whole burst).
    let (commits, batches) = tokio::sync::watch::channel(());
    let ingest = async {
        // Dropped when ingest ends: the delivery alongside stops then.
        let commits = commits;
        let selected = imap.select(&settings.imap.mailbox).await?;
        let inbox = Inbox {
            ctx: &ctx,
            store,
            clock,
            selected: &selected,
            stop,
            commits: &commits,
        };
        ingest_mailbox(&inbox, &mut imap, &mut report).await
    };
    let alongside = delivery::alongside(store, settings, clock, stop, batches);
    let (ingested, delivered) = tokio::join!(ingest, alongside);
    // After ingest, IMAP is needed only to copy sent mail to `imap.sent_mailbox`. Without
    // one, the session ends while the deadlines are swept and the outbox is delivered.
    let (mut keep, leave) = match (&ingested, &settings.imap.sent_mailbox) {
        (Ok(()), Some(_)) => (Some(imap), None),
        _ => (None, Some(imap)),
    };
    let leaving = leave.map(|imap| tokio::spawn(imap.logout()));
    // Let the logout go out now (this runtime is single-threaded), not after the sweep,
    // the delivery or the cycle's record.
    tokio::task::yield_now().await;
    let rest = async {
        ingested?;
        report.delivery = delivered?;
        let cycle = Cycle {
            store,
            ctx: &ctx,
            clock,
            stop,
        };
        cycle.after_ingest(&agenda, &mut report).await?;
        if let Some(imap) = keep.as_mut() {
            report.copied_to_sent = copy_to_sent(settings, store, clock, imap).await?;
        }
        anyhow::Ok(())
    }
    .await;
    let farewell = Farewell(keep.map(|imap| tokio::spawn(imap.logout())).or(leaving));
    if let Err(error) = rest {
        farewell.wait().await;
        return Err(error);
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    Ok((report, farewell))
}

/// What the steps of one cycle after ingest share.
struct Cycle<'a> {
    store: &'a Store,
    ctx: &'a Arc<crate::office::Context>,
    clock: &'a Clock,
    stop: &'a AtomicBool,
}

impl Cycle<'_> {
    /// After ingest: held files scanned again, the deadlines swept, the monthly report
    /// queued, and the last delivery pass.
    async fn after_ingest(&self, agenda: &Agenda, report: &mut CycleReport) -> anyhow::Result<()> {
        // An idle cycle (nothing fetched) changed nothing: what the agenda found is what
        // there is.
        let idle = report.fetched == 0;
        if agenda.held_files {
            report.files_rescanned =
                screening::rescan_held(self.store, self.ctx, self.clock.now()).await?;
        }
        if !idle || agenda.deadlines {
            report.deadline_notices =
                deadline::sweep(self.store, self.ctx, self.clock.now()).await?;
        }
        // A report that cannot be made (a broken template) is logged and tried again
        // next cycle; it never stops the mail of the day.
        if agenda.monthly_report {
            report.monthly_report =
                monthly::queue_due_report(self.store, self.ctx, self.clock.now())
                    .await
                    .unwrap_or(false);
        }
        // The relay is tried once a cycle: not again when it was unreachable alongside.
        let tried = report.delivery.unreachable.is_some();
        if !tried
            && (!idle
                || agenda.outbox
                || report.deadline_notices > 0
                || report.files_rescanned > 0
                || report.monthly_report)
        {
            let attempted = report.delivery.attempted();
            let last = delivery::deliver(
                self.store,
                &self.ctx.settings,
                self.clock,
                self.stop,
                attempted,
            )
            .await?;
            report.delivery.add(last);
        }
        Ok(())
    }
}

/// Logs in to IMAP and, meanwhile, reads the templates, asks the register what it has
/// to do apart from new mail and prepares the cycle's record: about a millisecond, done
/// long before the login (server time, most of an idle cycle) returns.
async fn prepare(
    settings: &Settings,
    store: &Store,
    clock: &Clock,
    imap: impl Future<Output = anyhow::Result<Connection>>,
) -> anyhow::Result<(Connection, Arc<crate::office::Context>, Agenda)> {
    let dir = &settings.office.templates_dir;
    let (imap, (templates, agenda)) = tokio::join!(imap, async {
        tokio::task::yield_now().await;
        let templates = Templates::load(dir);
        let agenda = Agenda::read(store, settings, clock.now()).await;
        store.prepare_cycle_record().await;
        (templates, agenda)
    });
    let imap = imap?;
    let templates = match templates {
        Ok(templates) => templates,
        Err(error) => {
            imap.logout().await;
            return Err(error.into());
        }
    };
    let ctx = Arc::new(crate::office::Context {
        settings: settings.clone(),
        templates,
        tokens: Tokens::new(&settings.security.secret),
    });
    Ok((imap, ctx, agenda))
}

/// What the register has to do apart from new mail, read while the IMAP login is under
/// way, so that an idle cron tick asks nothing more after the inbox turns out empty. A
/// reminder or a retry that falls due during the login waits for the next cycle. When the
/// register cannot be read, everything is assumed pending (the sweep and the delivery
/// then report the error).
struct Agenda {
    deadlines: bool,
    outbox: bool,
    /// Files wait for clamd (`scan.clamd`).
    held_files: bool,
    /// The report of the month that ended is still to be mailed.
    monthly_report: bool,
}

impl Agenda {
    async fn read(
        store: &Store,
        settings: &Settings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Agenda {
        let deadlines = deadline::pending(store, settings, now)
            .await
            .unwrap_or(true);
        let outbox = store.outbox_pending(now).await.unwrap_or(true);
        let held_files = settings.scan.is_some() && store.has_held_files().await.unwrap_or(true);
        let monthly_report = monthly::due(store, settings, now).await.unwrap_or(true);
        Agenda {
            deadlines,
            outbox,
            held_files,
            monthly_report,
        }
    }
}

/// The IMAP logout of a finished cycle, left to complete while the cycle is recorded.
pub struct Farewell(Option<tokio::task::JoinHandle<()>>);

impl Farewell {
    pub async fn wait(self) {
        if let Some(logout) = self.0 {
            let _ = logout.await;
        }
    }
}

/// Appends every sent message not yet copied to `imap.sent_mailbox`, when it is set, so
/// the shared mailbox shows the whole conversation. A crash between the append and the
/// mark leaves at most one extra copy there, never a missing one.
async fn copy_to_sent(
    settings: &Settings,
    store: &Store,
    clock: &Clock,
    imap: &mut Connection,
) -> anyhow::Result<u64> {
    let Some(sent) = &settings.imap.sent_mailbox else {
        return Ok(0);
    };
    let mut copied = 0;
    loop {
        let rows = store.uncopied_sent(100).await?;
        if rows.is_empty() {
            return Ok(copied);
        }
        if copied == 0 {
            imap.ensure_folders(&[sent]).await?;
        }
        for (id, raw) in rows {
            imap.append(sent, &raw).await?;
            store.mark_copied(id, clock.now()).await?;
            copied += 1;
        }
    }
}

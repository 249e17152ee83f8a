//! One cycle of the worker, [`run_once`]: ingest the mailbox in batches, move what was
//! recorded, then deliver the outbox. The cron job, the long-running loop and the tests
//! all call it.

pub mod delivery;
pub mod lease;
pub mod metrics;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use self::delivery::DeliveryReport;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{EmailAddress, InboundKind};
use crate::failpoint;
use crate::mail::templates::Templates;
use crate::mail::{classify, parse};
use crate::office::deadline;
use crate::office::flood;
use crate::office::intake::{self, Plan, Prepared};
use crate::office::security::Tokens;
use crate::store::{Archive, Destination, Store};
use crate::transport::imap::{Connection, Fetched, Selected};

/// What one cycle did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleReport {
    pub fetched: u64,
    pub complaints: u64,
    pub follow_ups: u64,
    /// Messages in a complaint's thread from neither its reporter nor an official.
    pub third_party: u64,
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
    // While the IMAP login (server time, most of an idle cycle) is under way, on this
    // thread: the templates are read, the register is asked what it has to do apart
    // from new mail, and the cycle's record is prepared. About a millisecond, done long
    // before the login returns, and no thread to start and stop for it.
    let dir = &settings.office.templates_dir;
    let (imap, (templates, agenda)) = tokio::join!(imap, async {
        tokio::task::yield_now().await;
        let templates = Templates::load(dir);
        let agenda = Agenda::read(store, settings, clock.now());
        store.prepare_cycle_record();
        (templates, agenda)
    });
    let mut imap = imap?;
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
    let mut report = CycleReport::default();

    let ingested = async {
        let selected = imap.select(&settings.imap.mailbox).await?;
        ingest_mailbox(&ctx, store, clock, &mut imap, &selected, stop, &mut report).await
    }
    .await;
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
        // An idle cycle (nothing fetched) changed nothing: what the agenda found is what
        // there is.
        let idle = report.fetched == 0;
        if !idle || agenda.deadlines {
            report.deadline_notices = deadline::sweep(store, &ctx, clock.now()).await?;
        }
        if !idle || agenda.outbox || report.deadline_notices > 0 {
            report.delivery = delivery::deliver(store, settings, clock, stop).await?;
        }
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

/// What the register has to do apart from new mail, read while the IMAP login is under
/// way, so that an idle cron tick asks nothing more after the inbox turns out empty. A
/// reminder or a retry that falls due during the login waits for the next cycle. When the
/// register cannot be read, everything is assumed pending (the sweep and the delivery
/// then report the error).
struct Agenda {
    deadlines: bool,
    outbox: bool,
}

impl Agenda {
    fn read(store: &Store, settings: &Settings, now: chrono::DateTime<chrono::Utc>) -> Agenda {
        let deadlines = deadline::pending(store, settings, now).unwrap_or(true);
        let outbox = store.outbox_pending(now).unwrap_or(true);
        Agenda { deadlines, outbox }
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

async fn ingest_mailbox(
    ctx: &Arc<crate::office::Context>,
    store: &Store,
    clock: &Clock,
    imap: &mut Connection,
    selected: &Selected,
    stop: &AtomicBool,
    report: &mut CycleReport,
) -> anyhow::Result<()> {
    let settings = &ctx.settings;
    let mailbox = settings.imap.mailbox.as_str();
    let sizes = imap.sizes(selected).await?;
    if sizes.is_empty() {
        return Ok(());
    }
    imap.ensure_folders(&[
        &settings.imap.processed_mailbox,
        &settings.imap.quarantine_mailbox,
    ])
    .await?;

    // Messages committed by an earlier run that died before moving them: move only.
    let uids: Vec<u32> = sizes.iter().map(|(uid, _)| *uid).collect();
    let receipts = store
        .receipts(mailbox, selected.uid_validity, &uids)
        .await?;
    if !receipts.is_empty() {
        let moves: Vec<(u32, Destination)> = receipts.iter().map(|(uid, d)| (*uid, *d)).collect();
        report.already_recorded += moves.len() as u64;
        move_recorded(settings, store, clock, imap, selected, &moves, report).await?;
    }

    let pending: Vec<(u32, u64)> = sizes
        .into_iter()
        .filter(|(uid, _)| !receipts.contains_key(uid))
        .collect();
    // A pipeline: while batch k is committed, the connection moves batch k-1 out of the
    // inbox and fetches batch k+1 (parsed and written to the archive on other threads as
    // it arrives). Each batch is still committed before it is moved.
    let batches = batches(
        &pending,
        settings.worker.batch_messages,
        settings.worker.batch_bytes,
    );
    let mut next = match batches.first() {
        Some(first) => Some(fetch_and_parse(settings, store.archive(), imap, first).await?),
        None => None,
    };
    let mut following = batches.iter().skip(1);
    // Committed and not yet moved.
    let mut committed: Vec<(u32, Destination)> = Vec::new();
    while let Some(prepared) = next.take() {
        report.fetched += prepared.len() as u64;
        let now = clock.now();
        let started = Instant::now();
        let commit = async {
            let (ctx, source) = (ctx.clone(), (mailbox.to_owned(), selected.uid_validity));
            let count = prepared.len();
            let recorded = store
                .batch(move |batch| {
                    let mut recorded = Vec::with_capacity(prepared.len());
                    for item in &prepared {
                        let source = (source.0.as_str(), source.1);
                        recorded.push(intake::record_or_quarantine(
                            batch, item, &ctx, source, now,
                        )?);
                    }
                    // Held complaints of this batch, listed for the admin. A digest that
                    // cannot be sent does not stop intake: they are listed next time.
                    if let Err(error) = batch.isolated(|batch| flood::send_digests(batch, &ctx, now))? {
                        tracing::error!(error = %error, "cannot send the digest of held complaints");
                    }
                    // The parsed batch is freed here, off the reactor.
                    drop(prepared);
                    Ok(recorded)
                })
                .await?;
            tracing::debug!(
                messages = count,
                commit_ms = started.elapsed().as_millis() as u64,
                "batch committed"
            );
            anyhow::Ok(recorded)
        };
        let upcoming = following.next().filter(|_| {
            let stopping = stop.load(Ordering::SeqCst);
            if stopping {
                tracing::info!("stop requested: the rest of the mailbox waits for the next run");
            }
            !stopping
        });
        let previous = std::mem::take(&mut committed);
        let connection = async {
            let moved = move_committed(settings, imap, &previous).await?;
            let fetched = match upcoming {
                Some(batch) => Some(fetch_and_parse(settings, store.archive(), imap, batch).await?),
                None => None,
            };
            anyhow::Ok((moved, fetched))
        };
        let (recorded, connection) = tokio::join!(commit, connection);
        let mut moves = Vec::new();
        for recorded in recorded? {
            let Some(recorded) = recorded else {
                report.left_in_inbox += 1;
                continue;
            };
            count(report, &recorded.plan);
            moves.push((recorded.uid, recorded.destination));
        }
        failpoint::pause("committed");
        let (moved, fetched) = connection?;
        mark_moved(settings, store, clock, selected, &moved, report).await?;
        committed = moves;
        next = fetched;
    }
    move_recorded(settings, store, clock, imap, selected, &committed, report).await
}

fn count(report: &mut CycleReport, plan: &Plan) {
    match plan {
        Plan::AlreadyRecorded(_) => report.already_recorded += 1,
        Plan::Quarantine(_) => report.quarantined += 1,
        Plan::Machine {
            kind: InboundKind::Bounce,
            ..
        } => report.bounces += 1,
        Plan::Machine { .. } => report.auto_replies += 1,
        Plan::FollowUp(_) => report.follow_ups += 1,
        Plan::ThirdParty(_) => report.third_party += 1,
        Plan::NewComplaint { .. } => report.complaints += 1,
        Plan::StaffReply { .. } => report.staff_replies += 1,
    }
}

/// A fetched batch at least this large is written to disk before its commit begins.
const WRITE_BACK_BYTES: u64 = 8 << 20;

/// Fetches one batch, parsing each message off the async reactor as it arrives, on as
/// many threads as there are cores. (One blocking task per message made tokio start a
/// thread for each message waiting: 300 threads for a batch of 400, spread over glibc's
/// malloc arenas, all competing with the commit for two cores.)
async fn fetch_and_parse(
    settings: &Settings,
    archive: &Archive,
    imap: &mut Connection,
    batch: &[u32],
) -> anyhow::Result<Vec<Prepared>> {
    let (queue, arrivals) = std::sync::mpsc::channel::<Fetched>();
    let arrivals = Arc::new(std::sync::Mutex::new(arrivals));
    let parsers = std::thread::available_parallelism().map_or(2, usize::from);
    let parsing: Vec<_> = (0..parsers.min(batch.len()))
        .map(|_| {
            let arrivals = arrivals.clone();
            let archive = archive.clone();
            let own_address = settings.smtp.from_address.clone();
            let own_domain = settings.office.domain.clone();
            tokio::task::spawn_blocking(move || {
                let mut prepared = Vec::new();
                loop {
                    // The lock is held only while waiting; the queue closes when the
                    // fetch is done and every message has been taken.
                    let next = arrivals
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok(fetched) = next else {
                        return prepared;
                    };
                    prepared.push(prepare(fetched, &archive, &own_address, &own_domain));
                }
            })
        })
        .collect();
    let fetching = imap
        .fetch(batch, |fetched: Fetched| {
            failpoint::pause("fetched");
            // The parsers hold the receiving end until the queue closes.
            let _ = queue.send(fetched);
        })
        .await;
    drop(queue);
    let mut prepared = Vec::with_capacity(batch.len());
    for parser in parsing {
        for item in parser.await.context("a parser thread failed")? {
            prepared.push(item?);
        }
    }
    fetching?;
    // A large batch's bytes go to disk now, on this side of the pipeline, while the
    // batch before is being committed: its commit then waits only for what it appends
    // itself. A small one is left to the commit's sync (one flush instead of two).
    if prepared.iter().map(|p| p.raw.size).sum::<u64>() >= WRITE_BACK_BYTES {
        let archive = archive.clone();
        tokio::task::spawn_blocking(move || archive.write_back())
            .await
            .context("the archive thread failed")?
            .context("cannot write the archive to disk")?;
    }
    prepared.sort_by_key(|p| p.uid);
    Ok(prepared)
}

async fn move_recorded(
    settings: &Settings,
    store: &Store,
    clock: &Clock,
    imap: &mut Connection,
    selected: &Selected,
    moves: &[(u32, Destination)],
    report: &mut CycleReport,
) -> anyhow::Result<()> {
    let moved = move_committed(settings, imap, moves).await?;
    mark_moved(settings, store, clock, selected, &moved, report).await
}

/// Hashes, archives, parses and classifies one fetched message.
fn prepare(
    fetched: Fetched,
    archive: &Archive,
    own_address: &EmailAddress,
    own_domain: &str,
) -> anyhow::Result<Prepared> {
    let raw_sha256 = parse::sha256_hex(fetched.raw.as_ref());
    // Archived as it arrives, straight from the read buffer; the batch's commit makes it
    // durable before any row names it.
    let archived = archive
        .append(fetched.raw.as_ref())
        .with_context(|| format!("cannot archive UID {}", fetched.uid))?;
    let inbound = parse(fetched.raw.as_ref());
    let classification = classify(&inbound, own_address, own_domain);
    Ok(Prepared {
        uid: fetched.uid,
        internal_date: fetched.internal_date,
        raw: archived,
        raw_sha256,
        inbound,
        classification,
    })
}

/// Moves committed messages out of the inbox: one `UID MOVE` per destination folder.
/// Returns the UIDs moved.
async fn move_committed(
    settings: &Settings,
    imap: &mut Connection,
    moves: &[(u32, Destination)],
) -> anyhow::Result<Vec<u32>> {
    let mut moved = Vec::with_capacity(moves.len());
    for (destination, folder) in [
        (Destination::Processed, &settings.imap.processed_mailbox),
        (Destination::Quarantine, &settings.imap.quarantine_mailbox),
    ] {
        let uids: Vec<u32> = moves
            .iter()
            .filter(|(_, d)| *d == destination)
            .map(|(uid, _)| *uid)
            .collect();
        if uids.is_empty() {
            continue;
        }
        imap.move_to(&uids, folder).await?;
        failpoint::pause("moved");
        moved.extend(uids);
    }
    Ok(moved)
}

/// Notes in the receipts that `uids` left the inbox (a run that dies before this only
/// finds them gone).
async fn mark_moved(
    settings: &Settings,
    store: &Store,
    clock: &Clock,
    selected: &Selected,
    uids: &[u32],
    report: &mut CycleReport,
) -> anyhow::Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    store
        .mark_moved(
            &settings.imap.mailbox,
            selected.uid_validity,
            uids,
            clock.now(),
        )
        .await?;
    report.moved += uids.len() as u64;
    Ok(())
}

/// Splits `(uid, size)` pairs into batches of at most `max_messages` and about
/// `max_bytes` (a message larger than `max_bytes` forms a batch of its own).
pub fn batches(sizes: &[(u32, u64)], max_messages: usize, max_bytes: u64) -> Vec<Vec<u32>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in sizes {
        if !current.is_empty() && (current.len() >= max_messages || bytes + size > max_bytes) {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(uid);
        bytes += size;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::batches;

    #[test]
    fn batches_are_bounded_by_count_and_bytes() {
        let sizes = [(1, 10), (2, 10), (3, 10), (4, 100), (5, 1)];
        assert_eq!(
            batches(&sizes, 2, 1000),
            vec![vec![1, 2], vec![3, 4], vec![5]]
        );
        assert_eq!(
            batches(&sizes, 10, 25),
            vec![vec![1, 2], vec![3], vec![4], vec![5]]
        );
        assert!(batches(&[], 10, 10).is_empty());
    }
}

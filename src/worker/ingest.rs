//! Ingest: the mailbox fetched in batches, each recorded in one transaction and then
//! moved out of the inbox, as a pipeline on the one IMAP connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use anyhow::Context;

use super::{CycleReport, screening};
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{EmailAddress, InboundKind};
use crate::failpoint;
use crate::mail::{classify, parse};
use crate::office::flood;
use crate::office::intake::form::FormReading;
use crate::office::intake::{self, Plan, Prepared, Recorded};
use crate::store::{Archive, Destination, Store};
use crate::transport::imap::{Connection, Fetched, Selected};

/// What the ingest of one mailbox works with.
pub(super) struct Inbox<'a> {
    pub ctx: &'a Arc<crate::office::Context>,
    pub store: &'a Store,
    pub clock: &'a Clock,
    pub selected: &'a Selected,
    /// Raised by SIGTERM: the batch in hand is finished, the rest waits.
    pub stop: &'a AtomicBool,
    /// Told of each committed batch: the delivery running alongside sends what it queued.
    pub commits: &'a tokio::sync::watch::Sender<()>,
}

pub(super) async fn ingest_mailbox(
    inbox: &Inbox<'_>,
    imap: &mut Connection,
    report: &mut CycleReport,
) -> anyhow::Result<()> {
    let Inbox {
        ctx,
        store,
        clock,
        selected,
        stop,
        commits,
    } = *inbox;
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

    let pending = move_what_an_earlier_run_recorded(inbox, imap, sizes, report).await?;
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
        let source = (mailbox.to_owned(), selected.uid_validity);
        let commit = commit(store, ctx.clone(), prepared, source, clock.now());
        let upcoming = following.next().filter(|_| !stopping(stop));
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
        let moves = tally(report, recorded?);
        failpoint::pause("committed");
        commits.send_replace(());
        let (moved, fetched) = connection?;
        mark_moved(inbox, &moved, report).await?;
        committed = moves;
        next = fetched;
    }
    move_recorded(inbox, imap, &committed, report).await
}

/// Whether SIGTERM asked to stop: the batch in hand is finished, the rest waits.
fn stopping(stop: &AtomicBool) -> bool {
    let stopping = stop.load(Ordering::SeqCst);
    if stopping {
        tracing::info!("stop requested: the rest of the mailbox waits for the next run");
    }
    stopping
}

/// Messages committed by an earlier run that died before moving them are only moved;
/// returns the others, with their sizes.
async fn move_what_an_earlier_run_recorded(
    inbox: &Inbox<'_>,
    imap: &mut Connection,
    sizes: Vec<(u32, u64)>,
    report: &mut CycleReport,
) -> anyhow::Result<Vec<(u32, u64)>> {
    let mailbox = &inbox.ctx.settings.imap.mailbox;
    let uids: Vec<u32> = sizes.iter().map(|(uid, _)| *uid).collect();
    let receipts = inbox
        .store
        .receipts(mailbox, inbox.selected.uid_validity, &uids)
        .await?;
    if !receipts.is_empty() {
        let moves: Vec<(u32, Destination)> = receipts.iter().map(|(uid, d)| (*uid, *d)).collect();
        report.already_recorded += moves.len() as u64;
        move_recorded(inbox, imap, &moves, report).await?;
    }
    Ok(sizes
        .into_iter()
        .filter(|(uid, _)| !receipts.contains_key(uid))
        .collect())
}

/// Records one fetched batch in one transaction (on the writer's thread).
async fn commit(
    store: &Store,
    ctx: Arc<crate::office::Context>,
    prepared: Vec<Prepared>,
    (mailbox, uid_validity): (String, u32),
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<Vec<Option<Recorded>>> {
    let started = Instant::now();
    let count = prepared.len();
    let recorded = store
        .batch(move |batch| {
            // On the register's thread, inside the batch's transaction.
            failpoint::pause("recording");
            let source = (mailbox.as_str(), uid_validity);
            let mut recorded = Vec::with_capacity(prepared.len());
            for item in &prepared {
                recorded.push(intake::record_or_quarantine(
                    batch, item, &ctx, source, now,
                )?);
            }
            // Held complaints of this batch, listed for the admin. A digest that cannot
            // be sent does not stop intake: they are listed next time.
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
    Ok(recorded)
}

/// Counts what a committed batch became; returns where each recorded message goes.
fn tally(report: &mut CycleReport, recorded: Vec<Option<Recorded>>) -> Vec<(u32, Destination)> {
    let mut moves = Vec::with_capacity(recorded.len());
    for recorded in recorded {
        let Some(recorded) = recorded else {
            report.left_in_inbox += 1;
            continue;
        };
        count(report, &recorded.plan);
        moves.push((recorded.uid, recorded.destination));
    }
    moves
}

fn count(report: &mut CycleReport, plan: &Plan) {
    match plan {
        Plan::AlreadyRecorded(_) => report.already_recorded += 1,
        Plan::Quarantine(_) => report.quarantined += 1,
        Plan::Machine {
            kind: InboundKind::Bounce,
            ..
        }
        | Plan::Bounced { .. } => report.bounces += 1,
        Plan::Machine { .. } => report.auto_replies += 1,
        Plan::FollowUp(_) => report.follow_ups += 1,
        Plan::Rating { .. } => report.ratings += 1,
        Plan::ThirdParty(_) => report.third_party += 1,
        Plan::StatusRequest { .. } => report.status_requests += 1,
        Plan::NewComplaint { .. } => report.complaints += 1,
        Plan::Declined { .. } => report.declined += 1,
        Plan::StaffReply { .. } => report.staff_replies += 1,
        Plan::AdminForm {
            reading: FormReading::Filled(_),
            verified: true,
        } => report.complaints += 1,
        Plan::AdminForm { .. } => report.staff_replies += 1,
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
            let preparing = Preparing {
                archive: archive.clone(),
                own_address: settings.smtp.from_address.clone(),
                own_domain: settings.office.domain.clone(),
                scanner: settings.scan.as_ref().map(screening::scanner),
            };
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
                    prepared.push(prepare(fetched, &preparing));
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
    inbox: &Inbox<'_>,
    imap: &mut Connection,
    moves: &[(u32, Destination)],
    report: &mut CycleReport,
) -> anyhow::Result<()> {
    let moved = move_committed(&inbox.ctx.settings, imap, moves).await?;
    mark_moved(inbox, &moved, report).await
}

/// What a parsing thread needs to prepare a message.
struct Preparing {
    archive: Archive,
    own_address: EmailAddress,
    own_domain: String,
    /// clamd, when `scan.clamd` is set.
    scanner: Option<crate::transport::clamd::Scanner>,
}

/// Hashes, archives, parses, classifies and (with `scan.clamd`) scans one fetched
/// message.
fn prepare(fetched: Fetched, preparing: &Preparing) -> anyhow::Result<Prepared> {
    let Preparing {
        archive,
        own_address,
        own_domain,
        scanner,
    } = preparing;
    let raw_sha256 = parse::sha256_hex(fetched.raw.as_ref());
    // Archived as it arrives, straight from the read buffer; the batch's commit makes it
    // durable before any row names it.
    let archived = archive
        .append(fetched.raw.as_ref())
        .with_context(|| format!("cannot archive UID {}", fetched.uid))?;
    let inbound = parse(fetched.raw.as_ref());
    let classification = classify(&inbound, own_address, own_domain);
    let screened = match scanner {
        Some(scanner) => screening::screen(scanner, fetched.raw.as_ref(), &inbound.attachments),
        None => Vec::new(),
    };
    Ok(Prepared {
        uid: fetched.uid,
        internal_date: fetched.internal_date,
        raw: archived,
        raw_sha256,
        inbound,
        classification,
        screened,
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
    inbox: &Inbox<'_>,
    uids: &[u32],
    report: &mut CycleReport,
) -> anyhow::Result<()> {
    if uids.is_empty() {
        return Ok(());
    }
    let mailbox = &inbox.ctx.settings.imap.mailbox;
    let (uid_validity, now) = (inbox.selected.uid_validity, inbox.clock.now());
    inbox
        .store
        .mark_moved(mailbox, uid_validity, uids, now)
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

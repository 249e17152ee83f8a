//! Delivers queued mail over up to `smtp.connections` SMTP sessions side by side (one
//! per `ROWS_PER_SESSION` due messages), each claiming one message at a time. A claim
//! (the row marked `sending`, and the session's previous message recorded as sent) is one
//! short write; no database transaction is open while the network is used.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use lettre::Address;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::mask_addresses;
use crate::failpoint;
use crate::store::{Accepted, Claim, OutboxRow, ParkedAs, Store};
use crate::transport::smtp::{Failure, Session};

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub uncertain: u64,
    /// Set when the server could not be reached: everything due stays queued.
    pub unreachable: Option<String>,
}

impl DeliveryReport {
    /// Adds a later pass of the same cycle.
    pub fn add(&mut self, pass: DeliveryReport) {
        self.sent += pass.sent;
        self.deferred += pass.deferred;
        self.failed += pass.failed;
        self.uncertain += pass.uncertain;
        self.unreachable = pass.unreachable.or(self.unreachable.take());
    }

    /// Messages this cycle tried to send: what counts against `worker.send_limit`.
    pub fn attempted(&self) -> u64 {
        self.sent + self.deferred + self.failed + self.uncertain
    }
}

/// Delivers while the mailbox is ingested: a pass after each batch is committed (each
/// change of `batches`), so a burst's first acknowledgments leave while the rest is
/// fetched and officials' replies are answered as they are recorded. Ends when ingest
/// does (the sender is dropped), or at once when the relay is unreachable (the cycle's
/// one try). The passes never overlap, so no row is `sending` between them.
pub async fn alongside(
    store: &Store,
    settings: &Settings,
    clock: &Clock,
    stop: &AtomicBool,
    mut batches: tokio::sync::watch::Receiver<()>,
) -> anyhow::Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    while report.unreachable.is_none()
        && !stop.load(Ordering::SeqCst)
        && batches.changed().await.is_ok()
    {
        let pass = deliver(store, settings, clock, stop, report.attempted()).await?;
        report.add(pass);
    }
    Ok(report)
}

/// Delivers every due outbox row (up to `worker.send_limit` a cycle, of which earlier
/// passes `attempted` some), over up to `smtp.connections` sessions side by side (fewer
/// for a few messages). Each session claims one message at a time, so after a crash at
/// most that many rows are left `sending`, and each of them was really in flight.
#[tracing::instrument(skip_all, err)]
pub async fn deliver(
    store: &Store,
    settings: &Settings,
    clock: &Clock,
    stop: &AtomicBool,
    attempted: u64,
) -> anyhow::Result<DeliveryReport> {
    let limit = (settings.worker.send_limit as u64).saturating_sub(attempted);
    if limit == 0 {
        return Ok(DeliveryReport::default());
    }
    let parked = store.outbox_park_interrupted(clock.now()).await?;
    if parked > 0 {
        tracing::warn!(
            parked,
            "outgoing mail interrupted mid-delivery by an earlier run is parked as uncertain"
        );
    }
    let connections = settings.smtp.connections.max(1);
    let due = store
        .due_outbox(clock.now(), 0, connections * ROWS_PER_SESSION)
        .await?
        .len();
    if due == 0 {
        return Ok(DeliveryReport::default());
    }
    let sessions = sessions_for(due, connections);
    // One connection first: when the server is unreachable, the pass tries once.
    let first = match Session::open(settings).await {
        Ok(session) => session,
        Err(failure) => {
            tracing::warn!(error = %mask_addresses(&failure.to_string()), "outgoing mail stays queued");
            return Ok(DeliveryReport {
                unreachable: Some(failure.to_string()),
                ..DeliveryReport::default()
            });
        }
    };
    let pass = Pass {
        store,
        settings,
        clock,
        queue: Queue::new(limit, sessions, stop),
    };
    let mut first = Some(first);
    let lanes = (0..sessions).map(|index| {
        let session = first.take();
        lane(&pass, index, session)
    });
    let mut report = DeliveryReport::default();
    for lane in futures::future::join_all(lanes).await {
        report.add(lane?);
    }
    Ok(report)
}

/// Due messages one SMTP session carries before opening another is worth its handshake:
/// the few messages of a cycle in a burst (an acknowledgment and a notification per
/// complaint) go over one session, a backlog over `smtp.connections`.
const ROWS_PER_SESSION: usize = 32;

/// How many sessions side by side for `due` messages (counted up to
/// `connections * ROWS_PER_SESSION`).
fn sessions_for(due: usize, connections: usize) -> usize {
    due.div_ceil(ROWS_PER_SESSION).clamp(1, connections.max(1))
}

/// What the lanes of one delivery pass share.
struct Pass<'a> {
    store: &'a Store,
    settings: &'a Settings,
    clock: &'a Clock,
    queue: Queue<'a>,
}

/// The due rows, handed out one at a time to the sessions, a page read at a time. Each
/// complaint's messages belong to one lane, so they leave in the order they were queued
/// (an official never gets the second follow-up before the first).
struct Queue<'s> {
    state: tokio::sync::Mutex<QueueState>,
    /// Raised by SIGTERM: no new message is started.
    stop: &'s AtomicBool,
}

struct QueueState {
    after: i64,
    handed_out: u64,
    limit: u64,
    rows: VecDeque<OutboxRow>,
    exhausted: bool,
    /// Lanes that stepped aside (the server refused them a session); their rows go to
    /// the first lane.
    retired: Vec<bool>,
}

impl QueueState {
    fn lane_of(&self, row: &OutboxRow) -> usize {
        let key = row.complaint_id.unwrap_or(row.id).unsigned_abs();
        let lane = (key % self.retired.len() as u64) as usize;
        if self.retired[lane] { 0 } else { lane }
    }
}

impl<'s> Queue<'s> {
    fn new(limit: u64, lanes: usize, stop: &'s AtomicBool) -> Queue<'s> {
        Queue {
            stop,
            state: tokio::sync::Mutex::new(QueueState {
                after: 0,
                handed_out: 0,
                limit,
                rows: VecDeque::new(),
                exhausted: false,
                retired: vec![false; lanes.max(1)],
            }),
        }
    }

    /// The next row of `lane`, reading more pages until one turns up or none are left.
    async fn next(
        &self,
        store: &Store,
        clock: &Clock,
        lane: usize,
    ) -> anyhow::Result<Option<OutboxRow>> {
        let mut state = self.state.lock().await;
        loop {
            if state.handed_out >= state.limit || self.stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            if let Some(at) = state.rows.iter().position(|r| state.lane_of(r) == lane) {
                state.handed_out += 1;
                return Ok(state.rows.remove(at));
            }
            if state.exhausted {
                return Ok(None);
            }
            let rows = store.due_outbox(clock.now(), state.after, 100).await?;
            match rows.last() {
                Some(last) => state.after = last.id,
                None => state.exhausted = true,
            }
            state.rows.extend(rows);
        }
    }

    /// A lane that cannot get a session hands back the row it took (never claimed) and
    /// its share of the rest to the first lane.
    async fn retire(&self, lane: usize, row: OutboxRow) {
        let mut state = self.state.lock().await;
        state.handed_out -= 1;
        state.rows.push_front(row);
        state.retired[lane] = true;
    }

    /// Ends the pass: the server is gone, the rest stays queued.
    async fn stop(&self) {
        let mut state = self.state.lock().await;
        state.rows.clear();
        state.exhausted = true;
    }
}

/// One SMTP session taking rows from the queue until it is empty. The first lane starts
/// with the session opened by [`deliver`]; the others connect when they get a row, and
/// step aside if the server refuses them a connection.
async fn lane(
    pass: &Pass<'_>,
    index: usize,
    mut session: Option<Session>,
) -> anyhow::Result<DeliveryReport> {
    let (store, settings, clock, queue) = (pass.store, pass.settings, pass.clock, &pass.queue);
    let first = session.is_some();
    let mut report = DeliveryReport::default();
    // The message the server accepted last, recorded together with the next claim.
    let mut accepted: Option<(OutboxRow, String)> = None;
    let outcome = async {
        while let Some(row) = queue.next(store, clock, index).await? {
            let live = match session.take().filter(|s| !s.is_broken()) {
                Some(live) => live,
                None => match Session::open(settings).await {
                    Ok(live) => live,
                    Err(failure) if first => {
                        tracing::warn!(error = %mask_addresses(&failure.to_string()), "outgoing mail stays queued");
                        report.unreachable = Some(failure.to_string());
                        queue.stop().await;
                        break;
                    }
                    Err(failure) => {
                        tracing::warn!(error = %mask_addresses(&failure.to_string()), "one SMTP session fewer for this pass");
                        queue.retire(index, row).await;
                        break;
                    }
                },
            };
            let live = session.insert(live);
            match send_one(store, live, &row, accepted.take(), clock).await? {
                Attempt::Sent(reply) => {
                    report.sent += 1;
                    accepted = Some((row, reply));
                }
                Attempt::Failed => report.failed += 1,
                Attempt::Deferred => report.deferred += 1,
                Attempt::Uncertain => report.uncertain += 1,
                Attempt::Unreachable(text) => {
                    report.deferred += 1;
                    report.unreachable = Some(text);
                    queue.stop().await;
                    break;
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    if let Some((row, reply)) = &accepted {
        store
            .outbox_sent(Accepted {
                row,
                at: clock.now(),
                reply,
            })
            .await?;
    }
    if let Some(session) = session {
        session.quit().await;
    }
    outcome.map(|()| report)
}

enum Attempt {
    Sent(String),
    Failed,
    Deferred,
    Uncertain,
    Unreachable(String),
}

/// Claims one row (recording the message accepted before it as sent) and sends it.
#[tracing::instrument(skip_all, fields(outbox = row.id, message_id = %row.message_id, purpose = %row.purpose))]
async fn send_one(
    store: &Store,
    session: &mut Session,
    row: &OutboxRow,
    previous: Option<(OutboxRow, String)>,
    clock: &Clock,
) -> anyhow::Result<Attempt> {
    let previous = previous.as_ref().map(|(row, reply)| Accepted {
        row,
        at: clock.now(),
        reply,
    });
    let envelope = match envelope(row) {
        Ok(envelope) => envelope,
        Err(error) => {
            if let Some(previous) = previous {
                store.outbox_sent(previous).await?;
            }
            let text = format!("{error:#}");
            store
                .outbox_park(row, ParkedAs::Failed, clock.now(), &text)
                .await?;
            tracing::warn!(error = %mask_addresses(&text), "cannot be sent");
            return Ok(Attempt::Failed);
        }
    };
    let raw = match store.outbox_claim(row.id, previous).await? {
        Claim::Claimed(raw) => raw,
        Claim::Gone => return Ok(Attempt::Deferred),
        Claim::Unreadable(text) => {
            // Nothing was sent: tried again later, and the operator sees why.
            let next = clock.now() + backoff(row.attempts + 1);
            store.outbox_retry_later(row.id, next, &text).await?;
            tracing::error!(error = %text, next_attempt_at = %next, "cannot be sent; the rest goes on");
            return Ok(Attempt::Deferred);
        }
    };
    failpoint::pause("sending");
    let attempt = match session.send(envelope.0.as_ref(), &envelope.1, &raw).await {
        Ok(reply) => {
            failpoint::pause("sent");
            tracing::info!("delivered");
            Attempt::Sent(reply)
        }
        Err(Failure::Refused {
            permanent: true,
            reply,
        }) => {
            store
                .outbox_park(row, ParkedAs::Failed, clock.now(), &reply)
                .await?;
            tracing::warn!(error = %mask_addresses(&reply), "rejected permanently");
            Attempt::Failed
        }
        Err(Failure::Refused {
            permanent: false,
            reply,
        }) => {
            let next = clock.now() + backoff(row.attempts + 1);
            store.outbox_retry_later(row.id, next, &reply).await?;
            tracing::warn!(error = %mask_addresses(&reply), next_attempt_at = %next, "deferred");
            Attempt::Deferred
        }
        Err(Failure::Unreachable(text)) => {
            let next = clock.now() + backoff(row.attempts + 1);
            store.outbox_retry_later(row.id, next, &text).await?;
            tracing::warn!(error = %mask_addresses(&text), next_attempt_at = %next, "deferred; the rest stays queued");
            Attempt::Unreachable(text)
        }
        Err(Failure::Interrupted(text)) => {
            // The server may have accepted it: sending again could answer twice.
            store
                .outbox_park(row, ParkedAs::Uncertain, clock.now(), &text)
                .await?;
            tracing::error!(error = %mask_addresses(&text), "delivery uncertain; parked");
            Attempt::Uncertain
        }
    };
    Ok(attempt)
}

fn envelope(row: &OutboxRow) -> anyhow::Result<(Option<Address>, Vec<Address>)> {
    let from = row.envelope_from.parse().ok();
    let to = row
        .recipients
        .iter()
        .map(|r| r.parse())
        .collect::<Result<Vec<Address>, _>>()
        .with_context(|| format!("outbox #{} has an invalid recipient", row.id))?;
    anyhow::ensure!(!to.is_empty(), "outbox #{} has no recipient", row.id);
    Ok((from, to))
}

/// 1, 2, 4, … minutes, at most one hour.
pub fn backoff(attempt: i64) -> chrono::Duration {
    let minutes = 1i64 << (attempt.clamp(1, 7) - 1);
    chrono::Duration::minutes(minutes.min(60))
}

#[cfg(test)]
mod tests {
    use super::{ROWS_PER_SESSION, backoff, sessions_for};

    #[test]
    fn a_few_messages_share_one_session_and_a_backlog_uses_them_all() {
        assert_eq!(sessions_for(1, 4), 1);
        assert_eq!(sessions_for(ROWS_PER_SESSION, 4), 1);
        assert_eq!(sessions_for(ROWS_PER_SESSION + 1, 4), 2);
        assert_eq!(sessions_for(4 * ROWS_PER_SESSION, 4), 4);
        assert_eq!(sessions_for(100 * ROWS_PER_SESSION, 4), 4);
        assert_eq!(sessions_for(100, 1), 1);
    }

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1).num_minutes(), 1);
        assert_eq!(backoff(2).num_minutes(), 2);
        assert_eq!(backoff(4).num_minutes(), 8);
        assert_eq!(backoff(30).num_minutes(), 60);
    }
}

//! The office's side of telling a citizen something: every message to a citizen is
//! queued by [`queue`], after `mail::compose` built it for the route `Route::of` chose
//! (email, SMS through the gateway, or paper through the administrators). The letters
//! decided here ([`tell`]): the status on request, the polite reply to someone who asks
//! about a complaint that is not theirs, the closure's reason, the delay notice and the
//! thanks for a rating.

use chrono::{DateTime, Utc};

use crate::domain::{Event, EventAction, RegisterNumber, Status};
use crate::mail::Inbound;
use crate::mail::compose::{Brief, Citizen, Letter, Outgoing};
use crate::mail::templates::tanggal;
use crate::office::Context;
use crate::store::{Batch, ComplaintRef};

/// Queues a message composed for a citizen (by `Composer::to_citizen`, which decided its
/// route), in this transaction.
pub fn queue(
    batch: &mut Batch<'_>,
    complaint_id: Option<i64>,
    outgoing: &Outgoing,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    Ok(batch.enqueue(complaint_id, outgoing, now)?)
}

/// Composes a letter and queues it; returns its Message-ID.
pub fn tell(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: Option<i64>,
    letter: &Letter<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let outgoing = ctx.composer().letter(letter, now)?;
    queue(batch, complaint_id, &outgoing, now)?;
    Ok(outgoing.message_id)
}

/// Answers a status question from the reporter of `about`: the stage in plain words,
/// the deadline, what happens next. Officials are never named.
pub fn answer_status(
    batch: &mut Batch<'_>,
    ctx: &Context,
    about: &ComplaintRef,
    question: &Inbound,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let brief = batch.brief(about.id)?;
    let extra = standing(batch, ctx, (&brief, about.status), now)?;
    let letter = Letter {
        template: "status_pengaduan",
        purpose: "status",
        brief: Some(&brief),
        number: &brief.number,
        citizen: brief.citizen(),
        answering: Some(answering(question)),
        extra,
    };
    let id = tell(batch, ctx, Some(about.id), &letter, now)?;
    let detail = format!("status ({}) answered: message {id}", about.status);
    batch.add_event(&Event::worker(
        Some(about.id),
        now,
        EventAction::CitizenTold,
        detail,
    ))?;
    Ok(())
}

/// Thanks the reporter for a rating (within the acknowledgment limit), in reply to it.
pub fn thank_for_rating(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    (rating, score, replaced): (&Inbound, f64, bool),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let brief = batch.brief(complaint_id)?;
    let to = &brief.reporter_email;
    let limit = ctx.settings.acknowledgment.max_per_sender_per_day;
    if batch.acknowledgments_since(to, now - chrono::Duration::hours(24))? >= limit {
        return Ok(());
    }
    let shown = format!("{score:.2}").replace('.', ",");
    let letter = Letter {
        template: "penilaian_diterima",
        purpose: "nilai",
        brief: Some(&brief),
        number: &brief.number,
        citizen: brief.citizen(),
        answering: Some(answering(rating)),
        extra: minijinja::context! { score => shown, replaced => replaced },
    };
    tell(batch, ctx, Some(complaint_id), &letter, now)?;
    Ok(())
}

/// Answers a status question from someone who is not the reporter (or about no known
/// complaint): a polite reply that says nothing about any complaint, on the asker's
/// route (an SMS is answered by SMS).
pub fn answer_stranger(
    batch: &mut Batch<'_>,
    ctx: &Context,
    (number, asker): (&RegisterNumber, Citizen<'_>),
    question: &Inbound,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let letter = Letter {
        template: "status_bukan_pelapor",
        purpose: "status",
        brief: None,
        number,
        citizen: asker,
        answering: Some(answering(question)),
        extra: minijinja::context! {},
    };
    tell(batch, ctx, None, &letter, now)?;
    Ok(())
}

/// Tells the reporter why their complaint was closed, within the acknowledgment limit (an
/// admin closing a flood of complaints does not flood their sender with reasons).
pub fn tell_closure(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let brief = batch.brief(complaint_id)?;
    let to = &brief.reporter_email;
    let limit = ctx.settings.acknowledgment.max_per_sender_per_day;
    let recent = batch.acknowledgments_since(to, now - chrono::Duration::hours(24))?;
    if recent >= limit {
        let detail = format!(
            "closure reason not sent: {recent} messages to the reporter in 24 hours (limit {limit})"
        );
        let action = EventAction::AckSuppressed;
        batch.add_event(&Event::worker(Some(complaint_id), now, action, detail))?;
        return Ok(());
    }
    let letter = Letter {
        template: "ditutup",
        purpose: "tutup",
        brief: Some(&brief),
        number: &brief.number,
        citizen: brief.citizen(),
        answering: None,
        extra: minijinja::context! { reason => reason.trim() },
    };
    let id = tell(batch, ctx, Some(complaint_id), &letter, now)?;
    let detail = format!("closure reason sent: message {id}");
    batch.add_event(&Event::worker(
        Some(complaint_id),
        now,
        EventAction::CitizenTold,
        detail,
    ))?;
    Ok(())
}

/// Tells the reporter, once, that their complaint passed its deadline and is still
/// being handled.
pub fn tell_delay(
    batch: &mut Batch<'_>,
    ctx: &Context,
    brief: &Brief,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let status = batch.state(brief.id)?.status;
    let extra = standing(batch, ctx, (brief, status), now)?;
    let letter = Letter {
        template: "masih_diproses",
        purpose: "lambat",
        brief: Some(brief),
        number: &brief.number,
        citizen: brief.citizen(),
        answering: None,
        extra,
    };
    let id = tell(batch, ctx, Some(brief.id), &letter, now)?;
    let detail = format!("delay notice sent: message {id}");
    batch.add_event(&Event::worker(
        Some(brief.id),
        now,
        EventAction::CitizenTold,
        detail,
    ))?;
    Ok(())
}

/// What the status templates say about where a complaint stands.
fn standing(
    batch: &mut Batch<'_>,
    ctx: &Context,
    (brief, status): (&Brief, Status),
    now: DateTime<Utc>,
) -> anyhow::Result<minijinja::Value> {
    let standing = batch.standing(brief.id)?;
    let zone = ctx.settings.office.timezone;
    Ok(minijinja::context! {
        status => status.as_str(),
        open => status.is_open(),
        overdue => status.is_open() && now >= brief.deadline_at,
        closed_reason => standing.closed_reason,
        answered => standing.answered_at.map(|at| tanggal(at, zone)),
    })
}

/// The question a letter answers: its Message-ID, References and subject.
fn answering(question: &Inbound) -> (Option<&str>, &[String], &str) {
    (
        question.message_id.as_deref(),
        &question.references,
        &question.subject,
    )
}

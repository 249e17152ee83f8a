//! Telling an official why their reply changed nothing: it could not be read as the
//! stage's action (`not_understood`, with what was expected), or it answers a stage the
//! complaint has left (`tell_current_state`).

use chrono::{DateTime, Utc};

use crate::domain::{EmailAddress, Event, EventAction};
use crate::mail::Inbound;
use crate::office::Context;
use crate::office::workflow::Misread;
use crate::store::Batch;

pub(crate) fn not_understood(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    inbound: &Inbound,
    misread: &Misread,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (problem, expected, list_divisions) = match misread {
        Misread::UnknownDivision { said } => (
            format!("\"{said}\" bukan kunci bidang yang dikenal."),
            "kunci bidang di awal balasan, boleh diikuti instruksi".to_string(),
            true,
        ),
        Misread::Empty => (
            "balasan tidak berisi teks baru.".to_string(),
            "balasan dengan teks di atas kutipan".to_string(),
            false,
        ),
        Misread::EmptyCorrection => (
            "tidak ada teks perbaikan setelah SETUJU DENGAN PERBAIKAN.".to_string(),
            "SETUJU DENGAN PERBAIKAN: lalu teks jawaban yang akan dikirim kepada pelapor"
                .to_string(),
            false,
        ),
        Misread::NoKeyword { expected } => (
            "kata kunci tidak ditemukan.".to_string(),
            expected.to_string(),
            false,
        ),
    };
    let extra = if list_divisions {
        minijinja::context! { problem => problem, expected => expected }
    } else {
        minijinja::context! { problem => problem, expected => expected, divisions => Vec::<minijinja::Value>::new() }
    };
    let event = (EventAction::ReplyNotUnderstood, problem.as_str());
    answer_sender(
        batch,
        ctx,
        complaint_id,
        inbound,
        event,
        ("tidak_dipahami", extra),
        now,
    )
}

/// Records what an official's reply led to and answers its sender with `template`.
fn answer_sender(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    inbound: &Inbound,
    (action, detail): (EventAction, &str),
    (template, extra): (&'static str, minijinja::Value),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let sender = inbound
        .sender()
        .map(EmailAddress::as_str)
        .unwrap_or("unknown");
    batch.add_event(&Event::by(sender, Some(complaint_id), now, action, detail))?;
    let Some(to) = inbound.sender() else {
        return Ok(());
    };
    let brief = batch.brief(complaint_id)?;
    let reply = ctx.composer().info(template, &brief, to, extra, now)?;
    batch.enqueue(Some(complaint_id), &reply, now)?;
    Ok(())
}

pub(crate) fn tell_current_state(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    inbound: &Inbound,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let state = batch.state(complaint_id)?;
    let holder = state
        .stage()
        .and_then(|s| s.holder(state.division.as_deref()))
        .map_or("-".to_string(), |r| r.key());
    let extra = minijinja::context! { status => state.status.as_str(), holder => holder };
    let detail = format!("complaint is {}", state.status);
    answer_sender(
        batch,
        ctx,
        complaint_id,
        inbound,
        (EventAction::StaleReply, &detail),
        ("status_terkini", extra),
        now,
    )
}

//! A bounce for a message the worker sent: its outbox row becomes `bounced` with the
//! reason, the complaint's history says so, and the admin is told (a bounced answer
//! most of all: the complaint is `selesai` but the citizen has no answer).

use chrono::{DateTime, Utc};

use crate::domain::{DeliveryOutcome, Event, EventAction};
use crate::office::Context;
use crate::store::{Batch, BouncedRow};

/// Records that `row` bounced for `reason`. A second report of the same bounce changes
/// nothing.
pub fn bounced(
    batch: &mut Batch<'_>,
    ctx: &Context,
    row: &BouncedRow,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if !batch.mark_bounced(row.outbox_id, reason, now)? {
        tracing::info!(
            outbox = row.outbox_id,
            "bounce for a row that is not sent (bounced before, or never accepted); nothing to do"
        );
        return Ok(());
    }
    let action = EventAction::Delivery {
        purpose: row.purpose.clone(),
        outcome: DeliveryOutcome::Bounced,
    };
    let detail = format!("message {} bounced: {reason}", row.message_id);
    batch.add_event(&Event::worker(row.complaint_id, now, action, detail))?;
    tracing::warn!(outbox = row.outbox_id, purpose = %row.purpose, "a sent message bounced");
    let admins = &ctx.settings.roles.admin;
    // A notice about the admin's own mail bouncing would bounce in turn.
    let to_admin = admins.iter().any(|a| a.as_str() == row.first_recipient);
    let Some(complaint_id) = row.complaint_id.filter(|_| !to_admin) else {
        return Ok(());
    };
    let brief = batch.brief(complaint_id)?;
    let extra = minijinja::context! {
        what => what(&row.purpose),
        answer => row.purpose == "jawab",
        recipient => &row.first_recipient,
        reason => reason,
        sent_message_id => &row.message_id,
    };
    for admin in admins {
        let notice = ctx
            .composer()
            .info("terpental", &brief, admin, extra.clone(), now)?;
        batch.enqueue(Some(complaint_id), &notice, now)?;
    }
    Ok(())
}

/// What the bounced message was, in the admin's words.
fn what(purpose: &str) -> &'static str {
    match purpose {
        "jawab" => "Jawaban resmi kepada pelapor",
        "ack" => "Tanda terima kepada pelapor",
        "status" => "Jawaban status kepada pelapor",
        "tutup" => "Pemberitahuan penutupan kepada pelapor",
        "lambat" => "Pemberitahuan keterlambatan kepada pelapor",
        "info" => "Pemberitahuan",
        _ => "Notifikasi kepada pejabat",
    }
}

//! A flood from one sender must not flood the officials. Every complaint is registered
//! (and acknowledged within the acknowledgment limit), but beyond
//! `office.disposition_requests_per_sender_per_day` complaints from one sender in 24
//! hours the disposition request is held: the held complaints are listed in one digest
//! per sender to the admin, who replies `TERUSKAN` (each goes to the Kepala Dinas) or
//! `TUTUP <alasan>` (all are closed). Held complaints get no deadline notices.

use crate::domain::{Event, EventAction};
use chrono::{DateTime, Duration, Utc};

use crate::config::Role;
use crate::domain::EmailAddress;
use crate::mail::Inbound;
use crate::mail::templates::tanggal;
use crate::office::security::{Referenced, Verdict};
use crate::office::workflow::{Command, Misread, Stage};
use crate::office::{Context, Received};
use crate::office::{explain, procedure};
use crate::store::{Batch, Unlisted};

/// The purpose label of a digest's Message-ID.
const DIGEST: &str = "tahan";

/// After a complaint is registered: its disposition request, or, past the sender's daily
/// limit, a hold.
pub fn request_or_hold(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    (reporter, received_at): (&EmailAddress, DateTime<Utc>),
    complaint: (&Inbound, &str),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let limit = ctx.settings.office.disposition_requests_per_sender_per_day;
    let recent = batch.complaints_from_since(reporter, received_at - Duration::hours(24))?;
    if recent <= limit {
        return procedure::request_disposition(batch, ctx, complaint_id, complaint, now);
    }
    batch.hold(complaint_id, now)?;
    let detail = format!(
        "{recent} complaints from this sender in 24 hours (limit {limit}); listed in the admin's digest"
    );
    batch.add_event(&Event::worker(
        Some(complaint_id),
        now,
        EventAction::DispositionHeld,
        detail,
    ))?;
    tracing::warn!(
        reporter = %reporter.masked(),
        recent,
        limit,
        "disposition request held"
    );
    Ok(())
}

/// Lists every held complaint not yet listed: one digest per sender, to each admin
/// address. Returns how many digests were queued.
pub fn send_digests(
    batch: &mut Batch<'_>,
    ctx: &Context,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let unlisted = batch.unlisted_held()?;
    let mut senders: Vec<&str> = unlisted.iter().map(|u| u.reporter.as_str()).collect();
    senders.sort_unstable();
    senders.dedup();
    for sender in &senders {
        let ids: Vec<i64> = unlisted
            .iter()
            .filter(|u: &&Unlisted| u.reporter == *sender)
            .map(|u| u.complaint_id)
            .collect();
        send_digest(batch, ctx, sender, &ids, now)?;
    }
    Ok(senders.len() as u64)
}

fn send_digest(
    batch: &mut Batch<'_>,
    ctx: &Context,
    sender: &str,
    ids: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let zone = ctx.settings.office.timezone;
    let mut briefs = Vec::with_capacity(ids.len());
    for &id in ids {
        briefs.push(batch.brief(id)?);
    }
    let held: Vec<minijinja::Value> = briefs
        .iter()
        .map(|brief| {
            minijinja::context! {
                number => brief.number.as_str(),
                subject => &brief.subject,
                received => tanggal(brief.received_at, zone),
            }
        })
        .collect();
    // The digest is addressed as a notification about its first complaint; the others
    // are found through the key it leaves on each of them.
    let first = &briefs[0];
    for &id in ids {
        batch.list_in_digest(id, first.number.as_str())?;
    }
    let count = EmailAddress::parse(sender).map_or(Ok(0), |address| {
        batch.complaints_from_since(&address, now - Duration::hours(24))
    })?;
    let extra = minijinja::context! {
        sender => sender,
        count => count,
        limit => ctx.settings.office.disposition_requests_per_sender_per_day,
        held => held,
    };
    let purpose = ("ditahan", DIGEST);
    procedure::notify(
        batch,
        ctx,
        first,
        procedure::Notification {
            kind: purpose,
            stage: &Stage::Disposisi,
            role: &Role::Admin,
            extra,
            attachments: &[],
        },
        now,
    )
}

/// The complaints a digest listed (still held and open), when `verdict` lets an admin
/// act through a reply to that digest.
pub fn listed_by(
    batch: &mut Batch<'_>,
    verdict: &Verdict,
    referenced: &[Referenced],
) -> anyhow::Result<Option<Vec<i64>>> {
    let Verdict::Act {
        complaint_id,
        role: Role::Admin,
    } = verdict
    else {
        return Ok(None);
    };
    let answers_digest = referenced
        .iter()
        .any(|r| r.purpose == DIGEST && r.complaint_id == *complaint_id);
    if !answers_digest {
        return Ok(None);
    }
    let key = batch.brief(*complaint_id)?.number;
    Ok(Some(batch.held_in_digest(key.as_str())?))
}

/// What the admin decided about a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    Forward,
    Close { reason: String },
}

/// Reads the admin's reply to a digest: `TERUSKAN` or `TUTUP <alasan>`. Pure.
pub fn read_triage(text: &str) -> Option<Triage> {
    let text = text.trim().trim_start_matches(['*', '"', '“']);
    let end = text
        .find(|c: char| !c.is_alphanumeric())
        .unwrap_or(text.len());
    let (first, rest) = text.split_at(end);
    let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || ":-–,.*".contains(c));
    if first.eq_ignore_ascii_case("teruskan") {
        Some(Triage::Forward)
    } else if first.eq_ignore_ascii_case("tutup") {
        Some(Triage::Close {
            reason: rest.trim_end().to_string(),
        })
    } else {
        None
    }
}

/// Carries out the admin's reply to a digest on every complaint it still holds.
pub fn triage(
    batch: &mut Batch<'_>,
    ctx: &Context,
    (digest_complaint, targets): (i64, &[i64]),
    reply: Received<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let inbound = reply.inbound;
    let Some(triage) = read_triage(&procedure::new_text(inbound)) else {
        let misread = Misread::NoKeyword {
            expected: "TERUSKAN, atau TUTUP <alasan>",
        };
        return explain::not_understood(batch, ctx, digest_complaint, inbound, &misread, now);
    };
    let by = inbound.sender().map_or("unknown", EmailAddress::as_str);
    for &id in targets {
        match &triage {
            Triage::Forward => {
                batch.release(id)?;
                batch.add_event(&Event::by(
                    by,
                    Some(id),
                    now,
                    EventAction::Released,
                    "forwarded from the digest",
                ))?;
                procedure::request_disposition_later(batch, ctx, id, now)?;
            }
            Triage::Close { reason } => {
                batch.release(id)?;
                let command = Command::Close {
                    reason: reason.clone(),
                };
                procedure::apply_command(batch, ctx, id, command, reply, now)?;
            }
        }
    }
    tracing::info!(complaints = targets.len(), ?triage, "digest handled");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_forwards_or_closes() {
        assert_eq!(read_triage("TERUSKAN"), Some(Triage::Forward));
        assert_eq!(
            read_triage("Teruskan, terima kasih."),
            Some(Triage::Forward)
        );
        assert_eq!(
            read_triage("tutup: spam dari satu pengirim"),
            Some(Triage::Close {
                reason: "spam dari satu pengirim".into()
            })
        );
        assert_eq!(read_triage("Baik"), None);
        assert_eq!(read_triage("Teruskannya nanti"), None);
    }
}

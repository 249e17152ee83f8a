//! The 3 × 24-hour service standard: reminders to whoever holds a complaint at the
//! configured hours before its deadline, and one overdue notice to the Kepala Dinas and
//! the admin when it passes (with one delay notice to the citizen). Each is sent once; [`due`] decides, [`sweep`] carries out.

use crate::domain::{Event, EventAction};
use chrono::{DateTime, Duration, Utc};

use crate::config::{Role, Settings};
use crate::domain::EmailAddress;
use std::sync::Arc;

use crate::office::Context;
use crate::office::procedure;
use crate::office::workflow::Stage;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    Reminder { hours: u32 },
    Overdue,
}

fn reminder_kind(hours: u32) -> String {
    format!("reminder:{hours}")
}

/// The notice due for a complaint now, and every kind it settles: a worker that was
/// down for a while sends only the most urgent notice, once.
pub fn due(
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    reminders: &[u32],
    sent: &[String],
) -> Option<(Notice, Vec<String>)> {
    let unsent = |kind: &String| !sent.contains(kind);
    if now >= deadline {
        if sent.iter().any(|k| k == "overdue") {
            return None;
        }
        let mut settles: Vec<String> = reminders
            .iter()
            .map(|h| reminder_kind(*h))
            .filter(unsent)
            .collect();
        settles.push("overdue".into());
        return Some((Notice::Overdue, settles));
    }
    let passed: Vec<u32> = reminders
        .iter()
        .copied()
        .filter(|h| deadline - Duration::hours(i64::from(*h)) <= now)
        .collect();
    let most_urgent = *passed.iter().min()?;
    if sent.contains(&reminder_kind(most_urgent)) {
        return None;
    }
    let settles = passed
        .iter()
        .map(|h| reminder_kind(*h))
        .filter(unsent)
        .collect();
    Some((Notice::Reminder { hours: most_urgent }, settles))
}

/// Whether a sweep at `now` has anything to look at: an open complaint within the
/// reminder horizon of its deadline.
pub async fn pending(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    Ok(store
        .any_open_complaint_due_before(horizon(settings, now))
        .await?)
}

/// The sweep looks at open complaints whose deadline is before this.
fn horizon(settings: &Settings, now: DateTime<Utc>) -> DateTime<Utc> {
    let hours = settings
        .sla
        .reminders_hours
        .iter()
        .max()
        .copied()
        .unwrap_or(0);
    now + Duration::hours(i64::from(hours))
}

/// Sends every notice that is due, in one transaction with the marks that make it once.
pub async fn sweep(store: &Store, ctx: &Arc<Context>, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let settings = &ctx.settings;
    let candidates = store
        .open_complaints_due_before(horizon(settings, now))
        .await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let ctx = ctx.clone();
    store
        .batch(move |batch| {
            let mut sent = 0;
            for (complaint_id, deadline) in candidates {
                // One complaint's notice that cannot be composed must not stop the others
                // (nor the delivery after the sweep): it is undone and logged.
                match batch.isolated(|batch| notify_due(batch, &ctx, (complaint_id, deadline), now))? {
                    Ok(true) => sent += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::error!(complaint_id, error = %error, "cannot send a deadline notice");
                    }
                }
            }
            Ok(sent)
        })
        .await
}

/// Queues the notice due for one complaint, if any, with the marks that make it once.
fn notify_due(
    batch: &mut crate::store::Batch<'_>,
    ctx: &Context,
    (complaint_id, deadline): (i64, DateTime<Utc>),
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let settings = &ctx.settings;
    let already = batch.deadline_notices(complaint_id)?;
    let Some((notice, settles)) = due(deadline, now, &settings.sla.reminders_hours, &already)
    else {
        return Ok(false);
    };
    let state = batch.state(complaint_id)?;
    let Some(stage) = state.stage() else {
        return Ok(false);
    };
    let holder = stage.holder(state.division.as_deref());
    let brief = batch.brief(complaint_id)?;
    match &notice {
        Notice::Reminder { hours } => {
            let Some(role) = holder else { return Ok(false) };
            let extra =
                minijinja::context! { hours_left => hours, stage_hint => stage_hint(&stage) };
            procedure::notify(
                batch,
                ctx,
                &brief,
                procedure::Notification {
                    kind: ("pengingat", "ingat"),
                    stage: &stage,
                    role: &role,
                    extra,
                    attachments: &[],
                },
                now,
            )?;
            batch.add_event(&Event::worker(
                Some(complaint_id),
                now,
                EventAction::Reminder,
                format!("{hours} hours before the deadline"),
            ))?;
        }
        Notice::Overdue => {
            let holder = holder.map_or("-".to_string(), |r| r.key());
            let extra = minijinja::context! { status => state.status.as_str(), holder => holder };
            let mut recipients: Vec<&EmailAddress> = settings
                .roles
                .addresses(&Role::KepalaDinas)
                .iter()
                .collect();
            recipients.extend(
                settings
                    .roles
                    .admin
                    .iter()
                    .filter(|a| !recipients.contains(a))
                    .collect::<Vec<_>>(),
            );
            for to in recipients {
                let outgoing = ctx
                    .composer()
                    .info("terlambat", &brief, to, extra.clone(), now)?;
                batch.enqueue(Some(complaint_id), &outgoing, now)?;
            }
            batch.add_event(&Event::worker(
                Some(complaint_id),
                now,
                EventAction::Overdue,
                "deadline passed; Kepala Dinas and admin notified",
            ))?;
            crate::office::citizen::tell_delay(batch, ctx, &brief, now)?;
        }
    }
    batch.mark_deadline_notices(complaint_id, &settles, now)?;
    Ok(true)
}

fn stage_hint(stage: &Stage) -> &'static str {
    match stage {
        Stage::Disposisi => "disposisi: balas dengan kunci bidang, boleh diikuti instruksi.",
        Stage::Jawaban(_) => "draf jawaban untuk pelapor.",
        Stage::Persetujuan(_) => {
            "persetujuan: SETUJU, SETUJU DENGAN PERBAIKAN: <teks jawaban>, atau TOLAK <catatan>."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid") + Duration::hours(hours)
    }

    #[test]
    fn reminders_come_once_each_in_order() {
        let deadline = at(72);
        let reminders = [24, 6];
        assert_eq!(due(deadline, at(10), &reminders, &[]), None);
        assert_eq!(
            due(deadline, at(48), &reminders, &[]),
            Some((Notice::Reminder { hours: 24 }, vec!["reminder:24".into()]))
        );
        assert_eq!(
            due(deadline, at(50), &reminders, &["reminder:24".into()]),
            None
        );
        assert_eq!(
            due(deadline, at(67), &reminders, &["reminder:24".into()]),
            Some((Notice::Reminder { hours: 6 }, vec!["reminder:6".into()]))
        );
    }

    #[test]
    fn a_late_worker_sends_only_the_most_urgent_notice() {
        let deadline = at(72);
        assert_eq!(
            due(deadline, at(70), &[24, 6], &[]),
            Some((
                Notice::Reminder { hours: 6 },
                vec!["reminder:24".into(), "reminder:6".into()]
            ))
        );
        assert_eq!(
            due(deadline, at(80), &[24, 6], &["reminder:24".into()]),
            Some((Notice::Overdue, vec!["reminder:6".into(), "overdue".into()]))
        );
        assert_eq!(due(deadline, at(90), &[24, 6], &["overdue".into()]), None);
    }
}

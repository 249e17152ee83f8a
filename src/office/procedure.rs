//! Carries out the office procedure inside an ingest batch: asks the Kepala Dinas for a
//! disposition when a complaint arrives, and acts on officials' replies — after
//! `security` decided who may act and `workflow` decided what the reply does.

use crate::domain::{Event, EventAction};
use chrono::{DateTime, Utc};

use super::advance;
use super::explain::{not_understood, tell_current_state};
use crate::config::Role;
use crate::domain::EmailAddress;
use crate::mail::Inbound;
use crate::mail::compose::{Brief, Notice, OutAttachment};
use crate::office::screening;
use crate::office::security::{self, Evidence, Referenced, Verdict};
use crate::office::workflow::{self, Stage, State};
use crate::office::{Context, Received};
use crate::store::{Batch, Refusal};

/// The new text of a reply: what its author wrote above the quoted history.
pub fn new_text(inbound: &Inbound) -> String {
    crate::mail::reply::reply_text(&inbound.body_text, inbound.body_html.as_deref())
}

/// A notification to every address of a role, about one complaint at one stage.
pub(crate) struct Notification<'a> {
    /// The template and the purpose label of its Message-ID.
    pub kind: (&'static str, &'static str),
    pub stage: &'a Stage,
    pub role: &'a Role,
    pub extra: minijinja::Value,
    pub attachments: &'a [OutAttachment<'a>],
}

/// Sends a notification to every address of its role, each copy with its own token.
pub(crate) fn notify(
    batch: &mut Batch<'_>,
    ctx: &Context,
    brief: &Brief,
    notification: Notification<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Notification {
        kind: (template, purpose),
        stage,
        role,
        extra,
        attachments,
    } = notification;
    let roles = &ctx.settings.roles;
    let cc: &[EmailAddress] = if *role == Role::KepalaDinas {
        &roles.admin
    } else {
        &[]
    };
    for recipient in roles.addresses(role) {
        let notice = Notice {
            template,
            purpose,
            brief,
            stage,
            role,
            recipient,
            cc,
            extra: extra.clone(),
            attachments,
            token: ctx.tokens.token(
                brief.number.as_str(),
                &stage.key(),
                &role.key(),
                recipient.as_str(),
            ),
        };
        let outgoing = ctx.composer().notice(&notice, now)?;
        batch.enqueue(Some(brief.id), &outgoing, now)?;
    }
    let detail = format!("{template} to {} ({})", role.key(), stage.key());
    batch.add_event(&Event::worker(
        Some(brief.id),
        now,
        EventAction::Notified,
        detail,
    ))?;
    Ok(())
}

/// Step 3 of the procedure: the new complaint, with its attachments, to the Kepala Dinas
/// (admin in Cc) for a disposition. The files are named in the complaint's archived
/// message (`raw_sha256`), not copied.
pub fn request_disposition(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    (complaint, raw_sha256): (&Inbound, &str),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let attachments = screening::forwardable(batch, ctx, &complaint.attachments, raw_sha256)?;
    let extra = minijinja::context! {};
    send_disposition_request(batch, ctx, (complaint_id, extra), &attachments, now)
}

/// The disposition request of a complaint registered earlier (held back from the Kepala
/// Dinas until now): its files are read back from the archived complaint.
pub(crate) fn request_disposition_later(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    request_disposition_again(batch, ctx, (complaint_id, minijinja::context! {}), now)
}

/// The disposition request again, its files read back from the archived complaint;
/// `extra` says why (a division handed the task back: `handed_back_by`, `reason`).
pub(crate) fn request_disposition_again(
    batch: &mut Batch<'_>,
    ctx: &Context,
    (complaint_id, extra): (i64, minijinja::Value),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (files, raw_sha256) = screening::complaint_files(batch, complaint_id)?;
    let attachments = screening::forwardable(batch, ctx, &files, &raw_sha256)?;
    send_disposition_request(batch, ctx, (complaint_id, extra), &attachments, now)
}

fn send_disposition_request(
    batch: &mut Batch<'_>,
    ctx: &Context,
    (complaint_id, extra): (i64, minijinja::Value),
    attachments: &[OutAttachment<'_>],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let brief = batch.brief(complaint_id)?;
    notify(
        batch,
        ctx,
        &brief,
        Notification {
            kind: ("disposisi", "disp"),
            stage: &Stage::Disposisi,
            role: &Role::KepalaDinas,
            extra,
            attachments,
        },
        now,
    )
}

/// Who wrote a message in a complaint's thread that is not an official's action.
#[derive(Debug, Clone, Copy)]
pub enum Author<'a> {
    Reporter,
    /// Neither the reporter nor an official: shown to officials as such, never as the
    /// reporter.
    ThirdParty(&'a EmailAddress),
}

/// A message in a complaint's thread goes to whoever holds the complaint now (with a
/// token of the current stage, so a reply to it acts as a reply to that stage), or to the
/// admin once the complaint is closed.
pub fn forward_follow_up(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    author: Author<'_>,
    (inbound, raw_sha256): (&Inbound, &str),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let state = batch.state(complaint_id)?;
    let brief = batch.brief(complaint_id)?;
    let text = new_text(inbound);
    let attachments = screening::forwardable(batch, ctx, &inbound.attachments, raw_sha256)?;
    let (template, extra) = match author {
        Author::Reporter => ("tindak_lanjut", minijinja::context! { followup => &text }),
        Author::ThirdParty(sender) => (
            "pihak_lain",
            minijinja::context! { message => &text, sender => sender.as_str() },
        ),
    };
    if state.stage().is_none() {
        let files = inbound.attachments.len();
        return tell_admin_after_closing(batch, ctx, (&brief, &state), author, (extra, files), now);
    }
    let Some((stage, role)) = holder_now(batch, complaint_id, &state)? else {
        return Ok(());
    };
    let purpose = (template, "lanjut");
    notify(
        batch,
        ctx,
        &brief,
        Notification {
            kind: purpose,
            stage: &stage,
            role: &role,
            extra,
            attachments: &attachments,
        },
        now,
    )
}

/// Who holds an open complaint now, at which stage: the stage's holder, or the admin
/// while the complaint is held back from the Kepala Dinas as part of a flood (the admin
/// reviews it). `None` once it is answered or closed.
pub(crate) fn holder_now(
    batch: &mut Batch<'_>,
    complaint_id: i64,
    state: &State,
) -> anyhow::Result<Option<(Stage, Role)>> {
    let Some(stage) = state.stage() else {
        return Ok(None);
    };
    let Some(role) = stage.holder(state.division.as_deref()) else {
        return Ok(None);
    };
    let role = if batch.is_held(complaint_id)? {
        Role::Admin
    } else {
        role
    };
    Ok(Some((stage, role)))
}

fn tell_admin_after_closing(
    batch: &mut Batch<'_>,
    ctx: &Context,
    (brief, state): (&Brief, &State),
    author: Author<'_>,
    (extra, files): (minijinja::Value, usize),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let template = match author {
        Author::Reporter => "tindak_lanjut_selesai",
        Author::ThirdParty(_) => "pihak_lain",
    };
    let extra = minijinja::value::merge_maps([
        extra,
        minijinja::context! {
            status => state.status.as_str(),
            attachment_count => files,
            attachment_note => " (tersimpan di register)",
        },
    ]);
    for admin in &ctx.settings.roles.admin {
        let outgoing = ctx
            .composer()
            .info(template, brief, admin, extra.clone(), now)?;
        batch.enqueue(Some(brief.id), &outgoing, now)?;
    }
    let detail = format!("{template} after closing, to the admin");
    batch.add_event(&Event::worker(
        Some(brief.id),
        now,
        EventAction::Notified,
        detail,
    ))?;
    Ok(())
}

/// Decides who may act with this reply.
pub fn judge(
    batch: &mut Batch<'_>,
    ctx: &Context,
    inbound: &Inbound,
    referenced: &[Referenced],
) -> anyhow::Result<Verdict> {
    let authenticated = match (&ctx.settings.security.trusted_authserv_id, inbound.sender()) {
        (Some(id), Some(sender)) => Some(security::authenticated(
            &inbound.authentication_results,
            id,
            sender,
        )),
        (Some(_), None) => Some(false),
        (None, _) => None,
    };
    let mut states = Vec::new();
    for id in referenced.iter().map(|r| r.complaint_id) {
        if !states.iter().any(|(c, _)| *c == id) {
            states.push((id, batch.state(id)?));
        }
    }
    let evidence = Evidence {
        sender: inbound.sender(),
        referenced,
        authenticated,
        ambiguous_from: inbound.ambiguous_from,
    };
    Ok(security::verdict(
        &evidence,
        &ctx.tokens,
        &ctx.settings.roles,
        |id| {
            let state: &State = &states.iter().find(|(c, _)| *c == id)?.1;
            Some((state.stage()?, state.division.clone()))
        },
    ))
}

/// Carries out a judged reply, as recorded.
pub fn carry_out(
    batch: &mut Batch<'_>,
    ctx: &Context,
    verdict: &Verdict,
    reply: Received<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let inbound = reply.inbound;
    let sender = inbound
        .sender()
        .map(EmailAddress::as_str)
        .unwrap_or("unknown")
        .to_string();
    match verdict {
        Verdict::Unauthorized {
            complaint_id,
            reason,
        } => {
            batch.record_unauthorized(&Refusal {
                complaint_id: *complaint_id,
                sender: inbound.sender(),
                reason,
                message_row: reply.message_row,
                at: now,
            })?;
            batch.add_event(&Event::by(
                sender.as_str(),
                *complaint_id,
                now,
                EventAction::UnauthorizedReply,
                reason,
            ))?;
            tracing::warn!(reason = %reason, "unauthorized reply recorded");
            if let Some(complaint_id) = complaint_id {
                let brief = batch.brief(*complaint_id)?;
                let extra = minijinja::context! {
                    sender => &sender,
                    reason => reason,
                    message_id => inbound.message_id.as_deref().unwrap_or("-"),
                    subject => &inbound.subject,
                };
                for admin in &ctx.settings.roles.admin {
                    let report = ctx.composer().info(
                        "laporan_tidak_sah",
                        &brief,
                        admin,
                        extra.clone(),
                        now,
                    )?;
                    batch.enqueue(Some(*complaint_id), &report, now)?;
                }
            }
            Ok(())
        }
        Verdict::Stale { complaint_id, .. } => {
            tell_current_state(batch, ctx, *complaint_id, inbound, now)
        }
        Verdict::Act { complaint_id, role } => {
            let state = batch.state(*complaint_id)?;
            let text = new_text(inbound);
            let stage = state.stage().unwrap_or(Stage::Disposisi);
            let divisions: Vec<(&str, Vec<&str>)> = ctx
                .settings
                .roles
                .bidang
                .iter()
                .map(|(k, v)| (k.as_str(), v.iter().map(EmailAddress::as_str).collect()))
                .collect();
            match workflow::read(role, &stage, &text, &divisions) {
                Ok(command) => apply_command(batch, ctx, *complaint_id, command, reply, now),
                Err(misread) => not_understood(batch, ctx, *complaint_id, inbound, &misread, now),
            }
        }
    }
}

/// Applies a command read from an authorized reply to one complaint: the transition and
/// everything it sends, or, when it does not fit the complaint's stage, the sender is
/// told the current state.
pub(crate) fn apply_command(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    command: workflow::Command,
    reply: Received<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let inbound = reply.inbound;
    let state = batch.state(complaint_id)?;
    let Ok((next, transition)) = workflow::apply(&state, command) else {
        return tell_current_state(batch, ctx, complaint_id, inbound, now);
    };
    let by = inbound
        .sender()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("an authorized reply has a sender"))?;
    let step = advance::Step {
        complaint_id,
        by: &by,
        inbound,
        raw_sha256: reply.raw_sha256,
        message_row: reply.message_row,
        now,
    };
    advance::advance(batch, ctx, &step, (&state, &next), transition)
}

//! Carries out one accepted transition of the lifecycle: records it and queues what it
//! sends (the task, the approval request, the answer and its copy, the returned draft).
//! One function per transition.

use chrono::{DateTime, Utc};

use super::Context;
use super::procedure::{Notification, notify};
use super::screening::{complaint_files, files_of};
use crate::domain::{Decision, EmailAddress, Event, EventAction, Priority, Role, Stage, State};
use crate::mail::compose::{Brief, ToCitizen, reply_subject};
use crate::mail::{Inbound, parse::sha256_hex};
use crate::office::screening;
use crate::office::workflow::Transition;
use crate::store::{Batch, Reply};

/// The authorized reply being carried out on one complaint.
pub(crate) struct Step<'a> {
    pub complaint_id: i64,
    pub by: &'a EmailAddress,
    /// The reply (its files travel with a draft), and the hash it is archived under.
    pub inbound: &'a Inbound,
    pub raw_sha256: &'a str,
    pub message_row: i64,
    pub now: DateTime<Utc>,
}

impl Step<'_> {
    /// The reply as the register records it.
    fn reply(&self) -> Reply<'_> {
        Reply {
            by: self.by,
            message_row: self.message_row,
            at: self.now,
        }
    }
}

/// What every transition's step reads.
struct Advance<'a> {
    ctx: &'a Context,
    step: &'a Step<'a>,
    before: &'a State,
    next: &'a State,
    brief: Brief,
}

pub(crate) fn advance(
    batch: &mut Batch<'_>,
    ctx: &Context,
    step: &Step<'_>,
    (before, next): (&State, &State),
    transition: Transition,
) -> anyhow::Result<()> {
    let closed_reason = match &transition {
        Transition::Closed { reason } => Some(reason.as_str()),
        _ => None,
    };
    batch.set_state(step.complaint_id, next, closed_reason, step.now)?;
    let brief = batch.brief(step.complaint_id)?;
    let advance = Advance {
        ctx,
        step,
        before,
        next,
        brief,
    };
    match transition {
        Transition::Disposed {
            division,
            copies,
            instruction,
            priority,
        } => {
            if let Some(priority) = priority {
                advance.prioritised(batch, priority)?;
            }
            advance.disposed(batch, (division, &copies), &instruction)?
        }
        Transition::Drafted { text } => advance.drafted(batch, &text)?,
        Transition::Approved { text } => advance.approved(batch, &text)?,
        Transition::Rejected { note } => advance.rejected(batch, &note)?,
        Transition::Closed { reason } => advance.closed(batch, &reason)?,
        Transition::Asked { question } => advance.asked(batch, &question)?,
        Transition::HandedBack { division, reason } => {
            advance.event(
                batch,
                EventAction::HandedBack,
                format!("{division}: {reason}"),
            )?;
            let extra = minijinja::context! { handed_back_by => division, reason => reason };
            let complaint = (step.complaint_id, extra);
            super::procedure::request_disposition_again(batch, ctx, complaint, step.now)?;
        }
    }
    tracing::info!(number = %advance.brief.number, status = %next.status, "complaint advanced");
    Ok(())
}

impl Advance<'_> {
    fn event(
        &self,
        batch: &mut Batch<'_>,
        action: EventAction,
        detail: impl Into<String>,
    ) -> anyhow::Result<()> {
        let (id, by) = (self.step.complaint_id, self.step.by.as_str());
        Ok(batch.add_event(&Event::by(by, Some(id), self.step.now, action, detail))?)
    }

    /// The citizen is told why (see `citizen::tell_closure`).
    fn closed(&self, batch: &mut Batch<'_>, reason: &str) -> anyhow::Result<()> {
        self.event(batch, EventAction::Closed, reason)?;
        let (id, now) = (self.step.complaint_id, self.step.now);
        super::citizen::tell_closure(batch, self.ctx, id, reason, now)
    }

    /// The holder's question goes to the citizen on their route (email, SMS, paper), in
    /// their thread; the citizen's reply is a follow-up, forwarded to the holder.
    fn asked(&self, batch: &mut Batch<'_>, question: &str) -> anyhow::Result<()> {
        let (id, step, brief) = (self.step.complaint_id, self.step, &self.brief);
        let message = ToCitizen {
            purpose: "tanya",
            template: "pertanyaan",
            too_long: Some("pertanyaan_panjang"),
            number: &brief.number,
            citizen: brief.citizen(),
            context: minijinja::context! {
                question => question,
                number => brief.number.as_str(),
                reply_subject => reply_subject(&brief.subject, &brief.number),
                reporter_name => brief.reporter_name.as_deref().unwrap_or("Bapak/Ibu"),
                office_name => &self.ctx.settings.office.name,
            },
            in_reply_to: brief.thread.last().cloned(),
            references: brief.thread.clone(),
            bcc: &[],
            attachments: &[],
            auto_submitted: None,
        };
        let outgoing = self.ctx.composer().to_citizen(&message, step.now)?;
        super::citizen::queue(batch, Some(id), &outgoing, step.now)?;
        self.event(
            batch,
            EventAction::Asked,
            format!("message {}", outgoing.message_id),
        )
    }

    /// The priority sets the deadline: `sla.priority_hours` from receipt, never later
    /// than 72 hours; reminders and the overdue notice follow it.
    fn prioritised(&self, batch: &mut Batch<'_>, priority: Priority) -> anyhow::Result<()> {
        let hours = self.ctx.settings.sla.priority_hours.of(priority);
        let deadline_at = self.brief.received_at + chrono::Duration::hours(i64::from(hours));
        batch.set_priority(self.step.complaint_id, priority, deadline_at, self.step.now)?;
        let detail = format!(
            "{}: deadline {} hours from receipt",
            priority.as_str(),
            hours
        );
        self.event(batch, EventAction::Prioritised, detail)
    }

    /// The division named first by the Kepala Dinas gets the task, with the citizen's
    /// files; the other units named get a copy for information.
    fn disposed(
        &self,
        batch: &mut Batch<'_>,
        (division, copies): (String, &[String]),
        instruction: &str,
    ) -> anyhow::Result<()> {
        let (id, step) = (self.step.complaint_id, self.step);
        batch.record_disposition(id, &step.reply(), (&division, copies), instruction)?;
        let units = std::iter::once(division.as_str())
            .chain(copies.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ");
        self.event(
            batch,
            EventAction::Disposition,
            format!("{units}: {instruction}"),
        )?;
        // Read again: the brief now carries the disposition's instruction.
        let brief = batch.brief(id)?;
        for copy in copies {
            let extra = minijinja::context! { lead => &division, unit => copy };
            for address in self
                .ctx
                .settings
                .roles
                .addresses(&Role::Bidang(copy.clone()))
            {
                let composer = self.ctx.composer();
                let outgoing = composer.info(
                    "tembusan_disposisi",
                    &brief,
                    address,
                    extra.clone(),
                    step.now,
                )?;
                batch.enqueue(Some(id), &outgoing, step.now)?;
            }
        }
        let (files, raw_sha256) = complaint_files(batch, id)?;
        let attachments = screening::forwardable(batch, self.ctx, &files, &raw_sha256)?;
        let notification = Notification {
            kind: ("tugas", "tugas"),
            stage: &Stage::Jawaban(self.next.round),
            role: &Role::Bidang(division),
            extra: minijinja::context! {},
            attachments: &attachments,
        };
        notify(batch, self.ctx, &brief, notification, step.now)
    }

    /// The Kasubbag gets the draft, with the files the division attached.
    fn drafted(&self, batch: &mut Batch<'_>, text: &str) -> anyhow::Result<()> {
        let (id, step, round) = (self.step.complaint_id, self.step, self.next.round);
        batch.record_draft(id, round, &step.reply(), text)?;
        self.event(batch, EventAction::Draft, format!("round {round}"))?;
        let attachments =
            screening::forwardable(batch, self.ctx, &step.inbound.attachments, step.raw_sha256)?;
        let notification = Notification {
            kind: ("persetujuan", "setuju"),
            stage: &Stage::Persetujuan(round),
            role: &Role::KasubbagUmum,
            extra: minijinja::context! { draft => text },
            attachments: &attachments,
        };
        notify(batch, self.ctx, &self.brief, notification, step.now)
    }

    /// The citizen gets exactly `text`; the Kasubbag gets a copy of what was sent.
    fn approved(&self, batch: &mut Batch<'_>, text: &str) -> anyhow::Result<()> {
        let (id, step) = (self.step.complaint_id, self.step);
        let (draft_id, draft_row) = batch
            .current_draft(id, self.before.round)?
            .ok_or_else(|| anyhow::anyhow!("approval without a draft"))?;
        let sha256 = sha256_hex(text.as_bytes());
        let decision = Decision::Approved {
            text,
            sha256: &sha256,
        };
        batch.record_decision((id, draft_id), &step.reply(), &decision)?;
        self.event(batch, EventAction::Approved, format!("sha256 {sha256}"))?;
        let (files, raw_sha256) = files_of(batch, draft_row)?;
        let attachments = screening::forwardable(batch, self.ctx, &files, &raw_sha256)?;
        let composer = self.ctx.composer();
        let answer = composer.answer(&self.brief, text, &attachments, step.now)?;
        super::citizen::queue(batch, Some(id), &answer, step.now)?;
        let detail = format!("message {}", answer.message_id);
        batch.add_event(&Event::worker(
            Some(id),
            step.now,
            EventAction::AnswerQueued,
            detail,
        ))?;
        let extra = minijinja::context! {
            answer => text,
            answer_sha256 => &sha256,
            corrected => self.before.draft.as_deref() != Some(text),
        };
        let copy = composer.info("jawaban_terkirim", &self.brief, step.by, extra, step.now)?;
        batch.enqueue(Some(id), &copy, step.now)?;
        Ok(())
    }

    /// The division gets its draft back with the Kasubbag's note.
    fn rejected(&self, batch: &mut Batch<'_>, note: &str) -> anyhow::Result<()> {
        let (id, step) = (self.step.complaint_id, self.step);
        let (draft_id, _) = batch
            .current_draft(id, self.before.round)?
            .ok_or_else(|| anyhow::anyhow!("rejection without a draft"))?;
        let decision = Decision::Rejected { note };
        batch.record_decision((id, draft_id), &step.reply(), &decision)?;
        self.event(batch, EventAction::Rejected, note)?;
        let extra = minijinja::context! {
            note => note,
            draft => self.before.draft.as_deref().unwrap_or(""),
        };
        let role = Role::Bidang(self.next.division.clone().unwrap_or_default());
        let notification = Notification {
            kind: ("dikembalikan", "kembali"),
            stage: &Stage::Jawaban(self.next.round),
            role: &role,
            extra,
            attachments: &[],
        };
        notify(batch, self.ctx, &self.brief, notification, step.now)
    }
}

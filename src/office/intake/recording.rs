//! Recording one message as its plan says: one method per plan.

use chrono::{DateTime, Datelike, Utc};

use super::{Acknowledgment, Asked, Prepared};
use crate::domain::{Event, EventAction, InboundKind, RegisterNumber};
use crate::mail::Inbound;
use crate::mail::compose::Acknowledge;
use crate::office::security::{Referenced, Verdict};
use crate::office::survey::Rating;
use crate::office::{Context, citizen, flood, procedure, returned};
use crate::store::{
    Batch, BouncedRow, ComplaintRef, Destination, InboundRecord, NewComplaint, NewRating,
};

/// Row, destination and register number of a recorded message.
pub(super) type Outcome = (i64, Destination, Option<RegisterNumber>);

/// One message being recorded: what each plan's step needs besides the batch.
pub(super) struct Recording<'a> {
    pub item: &'a Prepared,
    pub ctx: &'a Context,
    pub key: &'a str,
    pub now: DateTime<Utc>,
}

impl Recording<'_> {
    fn inbound(&self) -> &Inbound {
        &self.item.inbound
    }

    fn sender(&self) -> String {
        self.inbound()
            .sender()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    fn record(
        &self,
        batch: &mut Batch<'_>,
        kind: InboundKind,
        complaint_id: Option<i64>,
        (quarantine_reason, note): (Option<&str>, Option<&str>),
    ) -> anyhow::Result<i64> {
        Ok(batch.record_inbound(&InboundRecord {
            key: self.key,
            kind,
            complaint_id,
            inbound: self.inbound(),
            raw: self.item.raw,
            raw_sha256: &self.item.raw_sha256,
            quarantine_reason,
            note,
            now: self.now,
        })?)
    }

    pub(super) fn quarantine(
        &self,
        batch: &mut Batch<'_>,
        reason: &str,
    ) -> anyhow::Result<Outcome> {
        let row = self.record(batch, InboundKind::Quarantined, None, (Some(reason), None))?;
        let detail = format!("message {}: {reason}", self.key);
        batch.add_event(&Event::worker(
            None,
            self.now,
            EventAction::Quarantined,
            detail,
        ))?;
        tracing::warn!(reason = %reason, "quarantined");
        Ok((row, Destination::Quarantine, None))
    }

    pub(super) fn machine(
        &self,
        batch: &mut Batch<'_>,
        kind: InboundKind,
        note: &str,
        thread: &Option<ComplaintRef>,
    ) -> anyhow::Result<Outcome> {
        let complaint_id = thread.as_ref().map(|t| t.id);
        let row = self.record(batch, kind, complaint_id, (None, Some(note)))?;
        if complaint_id.is_some() {
            let detail = format!("message {}: {note}; not answered", self.key);
            let action = EventAction::Recorded(kind);
            batch.add_event(&Event::by(
                self.sender(),
                complaint_id,
                self.now,
                action,
                detail,
            ))?;
        }
        tracing::info!(
            kind = kind.as_str(),
            note,
            "machine mail recorded, not answered"
        );
        let number = thread.as_ref().map(|t| t.number.clone());
        Ok((row, Destination::Processed, number))
    }

    pub(super) fn staff_reply(
        &self,
        batch: &mut Batch<'_>,
        referenced: &[Referenced],
        named: Option<i64>,
    ) -> anyhow::Result<Outcome> {
        let inbound = self.inbound();
        let mut verdict = procedure::judge(batch, self.ctx, inbound, referenced)?;
        if let Verdict::Unauthorized {
            complaint_id: complaint_id @ None,
            ..
        } = &mut verdict
        {
            *complaint_id = named;
        }
        let (kind, complaint_id) = match &verdict {
            Verdict::Unauthorized { complaint_id, .. } => {
                (InboundKind::Unauthorized, *complaint_id)
            }
            Verdict::Act { complaint_id, .. } | Verdict::Stale { complaint_id, .. } => {
                (InboundKind::StaffReply, Some(*complaint_id))
            }
        };
        let row = self.record(batch, kind, complaint_id, (None, None))?;
        let evidence = (inbound, self.item.raw_sha256.as_str(), row);
        match (flood::listed_by(batch, &verdict, referenced)?, complaint_id) {
            (Some(targets), Some(digest)) => {
                flood::triage(batch, self.ctx, (digest, &targets), evidence, self.now)?;
            }
            _ => procedure::carry_out(batch, self.ctx, &verdict, evidence, self.now)?,
        }
        let number = match complaint_id {
            Some(id) => Some(batch.brief(id)?.number),
            None => None,
        };
        Ok((row, Destination::Processed, number))
    }

    /// A follow-up by the reporter, or a third party's message in the thread.
    pub(super) fn in_thread(
        &self,
        batch: &mut Batch<'_>,
        thread: &ComplaintRef,
        third_party: bool,
    ) -> anyhow::Result<Outcome> {
        let (kind, action, author) = match (third_party, self.inbound().sender()) {
            (true, Some(sender)) => (
                InboundKind::ThirdParty,
                EventAction::ThirdPartyMessage,
                procedure::Author::ThirdParty(sender),
            ),
            _ => (
                InboundKind::FollowUp,
                EventAction::FollowUp,
                procedure::Author::Reporter,
            ),
        };
        let row = self.record(batch, kind, Some(thread.id), (None, None))?;
        let detail = format!("message {}", self.key);
        batch.add_event(&Event::by(
            self.sender(),
            Some(thread.id),
            self.now,
            action,
            detail,
        ))?;
        let message = (self.inbound(), self.item.raw_sha256.as_str());
        procedure::forward_follow_up(batch, self.ctx, thread.id, author, message, self.now)?;
        tracing::info!(number = %thread.number, kind = kind.as_str(), "recorded in the thread");
        Ok((row, Destination::Processed, Some(thread.number.clone())))
    }

    pub(super) fn new_complaint(
        &self,
        batch: &mut Batch<'_>,
        acknowledge: &Acknowledgment,
    ) -> anyhow::Result<Outcome> {
        let (settings, inbound, now) = (&self.ctx.settings, self.inbound(), self.now);
        let reporter = inbound
            .sender()
            .ok_or_else(|| anyhow::anyhow!("a complaint without sender passed classification"))?;
        let received_at = self.item.internal_date.unwrap_or(now);
        let deadline_at =
            received_at + chrono::Duration::hours(i64::from(settings.sla.answer_within_hours));
        let reporter_name = inbound.from.as_ref().and_then(|p| p.name.as_deref());
        let subject = match inbound.subject.as_str() {
            "" => "(tanpa subjek)",
            subject => subject,
        };
        let complaint = batch.register_complaint(&NewComplaint {
            prefix: &settings.office.number_prefix,
            year: received_at.with_timezone(&settings.office.timezone).year(),
            channel: "email",
            reporter_name,
            reporter_email: reporter,
            subject,
            received_at,
            deadline_at,
            now,
        })?;
        let row = self.record(
            batch,
            InboundKind::Complaint,
            Some(complaint.id),
            (None, None),
        )?;
        let detail = format!(
            "message {}; {} attachment(s)",
            self.key,
            inbound.attachments.len()
        );
        batch.add_event(&Event::by(
            reporter.as_str(),
            Some(complaint.id),
            now,
            EventAction::Registered,
            detail,
        ))?;
        let ack = Acknowledge {
            number: &complaint.number,
            reporter_name,
            reporter_email: reporter,
            parent_message_id: inbound.message_id.as_deref(),
            parent_references: &inbound.references,
            subject: &inbound.subject,
            received_at,
            deadline_at,
        };
        self.acknowledge(batch, complaint.id, &ack, acknowledge)?;
        let evidence = (inbound, self.item.raw_sha256.as_str());
        let reporter_at = (reporter, received_at);
        flood::request_or_hold(batch, self.ctx, complaint.id, reporter_at, evidence, now)?;
        tracing::info!(number = %complaint.number, reporter = %reporter.masked(), "complaint registered");
        Ok((row, Destination::Processed, Some(complaint.number)))
    }

    fn acknowledge(
        &self,
        batch: &mut Batch<'_>,
        complaint_id: i64,
        ack: &Acknowledge<'_>,
        acknowledgment: &Acknowledgment,
    ) -> anyhow::Result<()> {
        let now = self.now;
        match acknowledgment {
            Acknowledgment::Send => {
                let outgoing = self.ctx.composer().acknowledgment(ack, now)?;
                citizen::queue(batch, Some(complaint_id), &outgoing, now)?;
                let detail = format!("message {}", outgoing.message_id);
                batch.add_event(&Event::worker(
                    Some(complaint_id),
                    now,
                    EventAction::AckQueued,
                    detail,
                ))?;
            }
            Acknowledgment::Suppressed { recent, limit } => {
                let detail = format!(
                    "{recent} acknowledgments to this sender in the last 24 hours (limit {limit})"
                );
                batch.add_event(&Event::worker(
                    Some(complaint_id),
                    now,
                    EventAction::AckSuppressed,
                    detail,
                ))?;
            }
        }
        Ok(())
    }

    /// A status question: recorded in the complaint's thread when its reporter asked
    /// (outside any thread otherwise), answered within the acknowledgment limit.
    pub(super) fn status_request(
        &self,
        batch: &mut Batch<'_>,
        asked: &Asked,
        answer: &Acknowledgment,
    ) -> anyhow::Result<Outcome> {
        let reporters = asked.about.as_ref().filter(|_| asked.from_reporter);
        let complaint_id = reporters.map(|about| about.id);
        let note = match (&asked.about, reporters) {
            (_, Some(_)) => None,
            (Some(about), None) => Some(format!(
                "status of {} asked by someone else; nothing told",
                about.number
            )),
            (None, None) => Some("status asked about no known complaint; nothing told".to_string()),
        };
        let kind = InboundKind::StatusRequest;
        let row = self.record(batch, kind, complaint_id, (None, note.as_deref()))?;
        if let Some(about) = reporters {
            let detail = format!("message {}", self.key);
            batch.add_event(&Event::by(
                self.sender(),
                Some(about.id),
                self.now,
                EventAction::StatusRequest,
                detail,
            ))?;
        }
        match answer {
            Acknowledgment::Suppressed { recent, limit } => {
                tracing::warn!(
                    recent,
                    limit,
                    "status question not answered: acknowledgment limit reached"
                );
            }
            Acknowledgment::Send => match reporters {
                Some(about) => {
                    citizen::answer_status(batch, self.ctx, about, self.inbound(), self.now)?
                }
                None => {
                    let number = asked
                        .about
                        .as_ref()
                        .map(|a| a.number.clone())
                        .or_else(|| asked.number.clone());
                    let prefix = &self.ctx.settings.office.number_prefix;
                    let number =
                        number.unwrap_or_else(|| RegisterNumber::new(prefix, self.now.year(), 0));
                    citizen::answer_stranger(batch, self.ctx, &number, self.inbound(), self.now)?;
                }
            },
        }
        tracing::info!(reporter = asked.from_reporter, "status question recorded");
        Ok((
            row,
            Destination::Processed,
            reporters.map(|a| a.number.clone()),
        ))
    }

    /// A bounce for a message the worker sent: recorded with its complaint, the outbox
    /// row marked (see `office::returned`).
    pub(super) fn bounced(
        &self,
        batch: &mut Batch<'_>,
        row: &BouncedRow,
        reason: &str,
    ) -> anyhow::Result<Outcome> {
        let note = format!("bounce of outbox #{}", row.outbox_id);
        let kind = InboundKind::Bounce;
        let recorded = self.record(batch, kind, row.complaint_id, (None, Some(&note)))?;
        returned::bounced(batch, self.ctx, row, reason, self.now)?;
        let number = match row.complaint_id {
            Some(id) => Some(batch.brief(id)?.number),
            None => None,
        };
        Ok((recorded, Destination::Processed, number))
    }

    /// The reporter's rating: recorded (replacing an earlier one) in the thread.
    pub(super) fn rating(
        &self,
        batch: &mut Batch<'_>,
        thread: &ComplaintRef,
        rating: &Rating,
    ) -> anyhow::Result<Outcome> {
        let row = self.record(batch, InboundKind::Rating, Some(thread.id), (None, None))?;
        let score = rating.score();
        let earlier = batch.record_rating(&NewRating {
            complaint_id: thread.id,
            score,
            elements: rating.elements.as_ref(),
            comment: rating.comment.as_deref(),
            message_row: row,
            at: self.now,
        })?;
        let detail = match earlier {
            Some(earlier) => format!(
                "score {score:.2} (replaces {earlier:.2}); message {}",
                self.key
            ),
            None => format!("score {score:.2}; message {}", self.key),
        };
        batch.add_event(&Event::by(
            self.sender(),
            Some(thread.id),
            self.now,
            EventAction::Rated,
            detail,
        ))?;
        let thanks = (self.inbound(), score, earlier.is_some());
        citizen::thank_for_rating(batch, self.ctx, thread.id, thanks, self.now)?;
        tracing::info!(number = %thread.number, score, "rating recorded");
        Ok((row, Destination::Processed, Some(thread.number.clone())))
    }
}

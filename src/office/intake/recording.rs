//! Recording one message as its plan says: one method per plan (the plans that answer a
//! citizen without registering or following up a complaint are in `answering.rs`).

use chrono::{DateTime, Datelike, Utc};

use super::requirements::{self, Requirements};
use super::{Acknowledgment, Prepared};
use crate::domain::{Channel, EmailAddress, Event, EventAction, InboundKind, RegisterNumber};
use crate::mail::Inbound;
use crate::mail::compose::{Acknowledge, Citizen};
use crate::mail::sms::SmsText;
use crate::office::security::{Referenced, Verdict};
use crate::office::{Context, Received, citizen, flood, procedure};
use crate::store::{Batch, ComplaintRef, Destination, InboundRecord, NewComplaint};

/// A complaint to register: the citizen as the register will know them.
pub(super) struct Registration<'a> {
    pub citizen: Citizen<'a>,
    /// What the complaint brings toward the requirements (identity, documents).
    pub requirements: Requirements,
    /// The administrator who registered it by the form (no flood limit applies).
    pub by_admin: Option<&'a EmailAddress>,
}

/// Row, destination and register number of a recorded message.
pub(super) type Outcome = (i64, Destination, Option<RegisterNumber>);

/// One message being recorded: what each plan's step needs besides the batch.
#[derive(Clone, Copy)]
pub(super) struct Recording<'a> {
    pub item: &'a Prepared,
    /// The message as the register keeps it (an SMS: the text without the keyword).
    pub inbound: &'a Inbound,
    /// Who the message speaks for when it is not its From: the gateway address of an
    /// SMS's number, and the SMS.
    pub citizen: Option<(&'a EmailAddress, Option<&'a SmsText>)>,
    pub ctx: &'a Context,
    pub key: &'a str,
    pub now: DateTime<Utc>,
}

impl Recording<'_> {
    pub(super) fn inbound(&self) -> &Inbound {
        self.inbound
    }

    /// The citizen's address in the register: an SMS's gateway address, else the From.
    pub(super) fn reporter(&self) -> Option<&EmailAddress> {
        match self.citizen {
            Some((address, _)) => Some(address),
            None => self.inbound().sender(),
        }
    }

    pub(super) fn sender(&self) -> String {
        self.reporter()
            .map(|a| a.as_str().to_string())
            .unwrap_or_else(|| "unknown".into())
    }

    pub(super) fn record(
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
        let evidence = Received {
            inbound,
            raw_sha256: self.item.raw_sha256.as_str(),
            message_row: row,
        };
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
        let (kind, action, author) = match (third_party, self.reporter()) {
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
        if !third_party {
            self.complete_requirements(batch, thread.id)?;
        }
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
        let reporter = self
            .reporter()
            .ok_or_else(|| anyhow::anyhow!("a complaint without sender passed classification"))?;
        let sms = self.citizen.and_then(|(_, sms)| sms);
        let citizen = Citizen {
            channel: if sms.is_some() {
                Channel::Sms
            } else {
                Channel::Email
            },
            email: reporter,
            phone: sms.map(|sms| &sms.phone),
            name: match sms {
                Some(_) => None,
                None => self.inbound().from.as_ref().and_then(|p| p.name.as_deref()),
            },
            postal: None,
        };
        let inbound = self.inbound();
        let registration = Registration {
            citizen,
            requirements: requirements::of(inbound, &inbound.body_text),
            by_admin: None,
        };
        self.register(batch, &registration, acknowledge)
    }

    /// What the reporter's follow-up brings toward the requirements (an identity, more
    /// documents) is added to the complaint.
    fn complete_requirements(
        &self,
        batch: &mut Batch<'_>,
        complaint_id: i64,
    ) -> anyhow::Result<()> {
        let text = procedure::new_text(self.inbound());
        let found = requirements::of(self.inbound(), &text);
        if !found.identity() && found.documents == 0 {
            return Ok(());
        }
        let identity = (found.identity(), found.nik.as_ref());
        batch.add_requirements(complaint_id, identity, found.documents, self.now)?;
        let detail = format!(
            "message {}: identity {}; {} more document(s)",
            self.key,
            if found.identity() {
                "given"
            } else {
                "not given"
            },
            found.documents
        );
        batch.add_event(&Event::by(
            self.sender(),
            Some(complaint_id),
            self.now,
            EventAction::RequirementsAdded,
            detail,
        ))?;
        Ok(())
    }

    /// Registers a complaint, acknowledges it on the citizen's route, and asks the Kepala
    /// Dinas for a disposition (held by the flood limit unless the administrator
    /// registered it).
    pub(super) fn register(
        &self,
        batch: &mut Batch<'_>,
        registration: &Registration<'_>,
        acknowledge: &Acknowledgment,
    ) -> anyhow::Result<Outcome> {
        let (settings, inbound, now) = (&self.ctx.settings, self.inbound(), self.now);
        let citizen = registration.citizen;
        let reporter = citizen.email;
        let received_at = self.item.internal_date.unwrap_or(now);
        let deadline_at =
            received_at + chrono::Duration::hours(i64::from(settings.sla.answer_within_hours));
        let subject = match inbound.subject.as_str() {
            "" => "(tanpa subjek)",
            subject => subject,
        };
        let complaint = batch.register_complaint(&NewComplaint {
            prefix: &settings.office.number_prefix,
            year: received_at.with_timezone(&settings.office.timezone).year(),
            channel: citizen.channel,
            reporter_name: citizen.name,
            reporter_email: reporter,
            reporter_phone: citizen.phone,
            reporter_nik: registration.requirements.nik.as_ref(),
            reporter_address: citizen.postal,
            identity_provided: registration.requirements.identity(),
            documents: registration.requirements.documents,
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
            "message {}; {} attachment(s); channel {}",
            self.key,
            inbound.attachments.len(),
            citizen.channel
        );
        let actor = registration.by_admin.unwrap_or(reporter);
        batch.add_event(&Event::by(
            actor.as_str(),
            Some(complaint.id),
            now,
            EventAction::Registered,
            detail,
        ))?;
        let ack = Acknowledge {
            number: &complaint.number,
            citizen,
            parent_message_id: inbound.message_id.as_deref(),
            parent_references: &inbound.references,
            subject: &inbound.subject,
            received_at,
            deadline_at,
            requirements: (
                registration.requirements.identity(),
                registration.requirements.documents,
            ),
        };
        self.acknowledge(batch, complaint.id, &ack, acknowledge)?;
        let evidence = (inbound, self.item.raw_sha256.as_str());
        match registration.by_admin {
            None => {
                let reporter_at = (reporter, received_at);
                flood::request_or_hold(batch, self.ctx, complaint.id, reporter_at, evidence, now)?;
            }
            Some(_) => {
                procedure::request_disposition(batch, self.ctx, complaint.id, evidence, now)?
            }
        }
        tracing::info!(number = %complaint.number, reporter = %reporter.masked(), channel = %citizen.channel, "complaint registered");
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
}

//! What an inbound message becomes, and recording that in one batch transaction.
//!
//! [`decide`] is pure: given the message's classification and what the register already
//! knows (its thread, earlier copies, recent acknowledgments), it returns a [`Plan`].
//! [`record`] carries the plan out inside the caller's [`Batch`].

use chrono::{DateTime, Datelike, Utc};

use crate::config::Settings;
use crate::domain::{InboundKind, RegisterNumber};
use crate::mail::compose::{Acknowledge, Composer};
use crate::mail::templates::Templates;
use crate::mail::{Classification, Inbound};
use crate::procedure;
use crate::security::{Referenced, Tokens, Verdict};
use crate::store::{Batch, ComplaintRef, Destination, InboundRecord, NewComplaint};

/// What recording needs besides the batch: settings, the templates, the token key
/// (shared by ingest, the procedure and the deadline sweep). Owned, so that a batch can
/// take it to the thread it is recorded on.
pub struct Context {
    pub settings: Settings,
    pub templates: Templates,
    pub tokens: Tokens,
}

impl Context {
    /// The one composer of outgoing mail.
    pub fn composer(&self) -> Composer<'_> {
        Composer::new(&self.settings, &self.templates)
    }
}

/// A fetched and parsed message, ready to record.
pub struct Prepared {
    pub uid: u32,
    pub internal_date: Option<DateTime<Utc>>,
    /// Where the raw bytes were archived as they arrived (the bytes themselves are
    /// dropped once parsed).
    pub raw: crate::store::Location,
    pub raw_sha256: String,
    pub inbound: Inbound,
    pub classification: Classification,
}

impl Prepared {
    /// The exactly-once key: the Message-ID, or the raw bytes' hash when there is none.
    pub fn key(&self) -> String {
        match &self.inbound.message_id {
            Some(id) => id.clone(),
            None => format!("sha256:{}", self.raw_sha256),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Recorded before (same Message-ID, or a run died before moving it): only move it.
    AlreadyRecorded(Destination),
    Quarantine(String),
    /// Machine mail: recorded (in its complaint's thread when it has one), never answered.
    Machine {
        kind: InboundKind,
        note: &'static str,
        thread: Option<ComplaintRef>,
    },
    FollowUp(ComplaintRef),
    NewComplaint {
        acknowledge: Acknowledgment,
    },
    /// A reply that tries to act on a complaint (it answers a notification, or comes from
    /// an official and names a complaint): judged by `security`, never a follow-up.
    StaffReply {
        referenced: Vec<Referenced>,
        named: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledgment {
    Send,
    /// Too many acknowledgments to this sender recently: register, but stay silent.
    Suppressed {
        recent: u32,
        limit: u32,
    },
}

/// What the register already knows about a message.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub already_recorded: Option<Destination>,
    pub thread: Option<ComplaintRef>,
    pub recent_acknowledgments: u32,
    /// The worker's notifications the message names.
    pub referenced: Vec<Referenced>,
    /// The sender holds a role and the message names a complaint (thread or subject).
    pub official_on_complaint: bool,
    /// The complaint the message names by thread or by the number in its subject.
    pub named: Option<i64>,
}

pub fn decide(classification: &Classification, known: Known, ack_limit: u32) -> Plan {
    if let Some(destination) = known.already_recorded {
        return Plan::AlreadyRecorded(destination);
    }
    match classification {
        Classification::Quarantine(reason) => Plan::Quarantine(reason.clone()),
        Classification::AutoReply(note) => Plan::Machine {
            kind: InboundKind::AutoReply,
            note,
            thread: known.thread,
        },
        Classification::Bounce(note) => Plan::Machine {
            kind: InboundKind::Bounce,
            note,
            thread: known.thread,
        },
        Classification::Person if !known.referenced.is_empty() || known.official_on_complaint => {
            Plan::StaffReply {
                referenced: known.referenced,
                named: known.named,
            }
        }
        Classification::Person => match known.thread {
            Some(thread) => Plan::FollowUp(thread),
            None if known.recent_acknowledgments >= ack_limit => Plan::NewComplaint {
                acknowledge: Acknowledgment::Suppressed {
                    recent: known.recent_acknowledgments,
                    limit: ack_limit,
                },
            },
            None => Plan::NewComplaint {
                acknowledge: Acknowledgment::Send,
            },
        },
    }
}

/// What recording one message produced.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub uid: u32,
    pub destination: Destination,
    pub plan: Plan,
    pub number: Option<RegisterNumber>,
}

/// Looks up what the register knows, decides, and records the message in `batch`.
#[tracing::instrument(skip_all, fields(uid = item.uid, message_id = item.inbound.message_id.as_deref().unwrap_or("-")))]
pub fn record(
    batch: &mut Batch<'_>,
    item: &Prepared,
    ctx: &Context,
    source: (&str, u32),
    now: DateTime<Utc>,
) -> anyhow::Result<Recorded> {
    let (settings, composer) = (&ctx.settings, ctx.composer());
    let key = item.key();
    let known = lookup(batch, item, &key, settings, now)?;
    let plan = decide(
        &item.classification,
        known,
        settings.acknowledgment.max_per_sender_per_day,
    );
    let inbound = &item.inbound;
    let sender = inbound
        .sender()
        .map(|a| a.as_str().to_string())
        .unwrap_or_else(|| "unknown".into());
    let base = InboundRecord {
        key: &key,
        kind: InboundKind::Quarantined,
        complaint_id: None,
        inbound,
        raw: item.raw,
        raw_sha256: &item.raw_sha256,
        quarantine_reason: None,
        note: None,
        now,
    };
    let (message_row, destination, number) = match &plan {
        Plan::AlreadyRecorded(destination) => {
            let (row, _) = batch
                .message_by_key(&key)?
                .ok_or_else(|| anyhow::anyhow!("message {key} vanished from the register"))?;
            tracing::info!("already recorded; only moving it");
            (row, *destination, None)
        }
        Plan::Quarantine(reason) => {
            let row = batch.record_inbound(&InboundRecord {
                quarantine_reason: Some(reason),
                ..base
            })?;
            batch.add_event(
                None,
                now,
                "worker",
                "quarantined",
                &format!("message {key}: {reason}"),
            )?;
            tracing::warn!(reason = %reason, "quarantined");
            (row, Destination::Quarantine, None)
        }
        Plan::Machine { kind, note, thread } => {
            let complaint_id = thread.as_ref().map(|t| t.id);
            let row = batch.record_inbound(&InboundRecord {
                kind: *kind,
                complaint_id,
                note: Some(note),
                ..base
            })?;
            if complaint_id.is_some() {
                let action = format!("{}_recorded", kind.as_str());
                batch.add_event(
                    complaint_id,
                    now,
                    &sender,
                    &action,
                    &format!("message {key}: {note}; not answered"),
                )?;
            }
            tracing::info!(
                kind = kind.as_str(),
                note,
                "machine mail recorded, not answered"
            );
            (
                row,
                Destination::Processed,
                thread.as_ref().map(|t| t.number.clone()),
            )
        }
        Plan::StaffReply { referenced, named } => {
            let mut verdict = procedure::judge(batch, ctx, inbound, referenced)?;
            if let Verdict::Unauthorized {
                complaint_id: complaint_id @ None,
                ..
            } = &mut verdict
            {
                *complaint_id = *named;
            }
            let (kind, complaint_id) = match &verdict {
                Verdict::Unauthorized { complaint_id, .. } => {
                    (InboundKind::Unauthorized, *complaint_id)
                }
                Verdict::Act { complaint_id, .. } | Verdict::Stale { complaint_id, .. } => {
                    (InboundKind::StaffReply, Some(*complaint_id))
                }
            };
            let row = batch.record_inbound(&InboundRecord {
                kind,
                complaint_id,
                ..base
            })?;
            procedure::carry_out(batch, ctx, &verdict, inbound, &item.raw_sha256, row, now)?;
            let number = match complaint_id {
                Some(id) => Some(batch.brief(id)?.number),
                None => None,
            };
            (row, Destination::Processed, number)
        }
        Plan::FollowUp(thread) => {
            let row = batch.record_inbound(&InboundRecord {
                kind: InboundKind::FollowUp,
                complaint_id: Some(thread.id),
                ..base
            })?;
            batch.add_event(
                Some(thread.id),
                now,
                &sender,
                "follow_up",
                &format!("message {key}"),
            )?;
            procedure::forward_follow_up(batch, ctx, thread.id, inbound, &item.raw_sha256, now)?;
            tracing::info!(number = %thread.number, "follow-up recorded");
            (row, Destination::Processed, Some(thread.number.clone()))
        }
        Plan::NewComplaint { acknowledge } => {
            let reporter = inbound.sender().ok_or_else(|| {
                anyhow::anyhow!("a complaint without sender passed classification")
            })?;
            let received_at = item.internal_date.unwrap_or(now);
            let deadline_at =
                received_at + chrono::Duration::hours(i64::from(settings.sla.answer_within_hours));
            let reporter_name = inbound.from.as_ref().and_then(|p| p.name.as_deref());
            let subject = if inbound.subject.is_empty() {
                "(tanpa subjek)"
            } else {
                &inbound.subject
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
            let row = batch.record_inbound(&InboundRecord {
                kind: InboundKind::Complaint,
                complaint_id: Some(complaint.id),
                ..base
            })?;
            let detail = format!("message {key}; {} attachment(s)", inbound.attachments.len());
            batch.add_event(
                Some(complaint.id),
                now,
                reporter.as_str(),
                "registered",
                &detail,
            )?;
            match acknowledge {
                Acknowledgment::Send => {
                    let outgoing = composer.acknowledgment(
                        &Acknowledge {
                            number: &complaint.number,
                            reporter_name,
                            reporter_email: reporter,
                            parent_message_id: inbound.message_id.as_deref(),
                            parent_references: &inbound.references,
                            subject: &inbound.subject,
                            received_at,
                            deadline_at,
                        },
                        now,
                    )?;
                    batch.enqueue(Some(complaint.id), &outgoing, now)?;
                    let detail = format!("message {}", outgoing.message_id);
                    batch.add_event(Some(complaint.id), now, "worker", "ack_queued", &detail)?;
                }
                Acknowledgment::Suppressed { recent, limit } => {
                    let detail = format!(
                        "{recent} acknowledgments to this sender in the last 24 hours (limit {limit})"
                    );
                    batch.add_event(
                        Some(complaint.id),
                        now,
                        "worker",
                        "ack_suppressed",
                        &detail,
                    )?;
                }
            }
            procedure::request_disposition(
                batch,
                ctx,
                complaint.id,
                inbound,
                &item.raw_sha256,
                now,
            )?;
            tracing::info!(number = %complaint.number, reporter = %reporter.masked(), "complaint registered");
            (row, Destination::Processed, Some(complaint.number))
        }
    };
    batch.record_receipt(source.0, source.1, item.uid, message_row, destination, now)?;
    Ok(Recorded {
        uid: item.uid,
        destination,
        plan,
        number,
    })
}

fn lookup(
    batch: &mut Batch<'_>,
    item: &Prepared,
    key: &str,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<Known> {
    let mut known = Known {
        already_recorded: batch
            .message_by_key(key)?
            .map(|(_, destination)| destination),
        ..Known::default()
    };
    if known.already_recorded.is_some()
        || matches!(item.classification, Classification::Quarantine(_))
    {
        return Ok(known);
    }
    let inbound = &item.inbound;
    let thread_ids = inbound.thread_ids();
    known.referenced = batch.notifications(&thread_ids)?;
    known.thread = batch.complaint_by_message_ids(&thread_ids)?;
    let subject_number =
        RegisterNumber::find_in_subject(&settings.office.number_prefix, &inbound.subject);
    if let Some(sender) = inbound.sender()
        && !settings.roles.roles_of(sender).is_empty()
    {
        let by_subject = match &subject_number {
            Some(number) => batch.complaint_id_by_number(number)?,
            None => None,
        };
        known.named = known.thread.as_ref().map(|t| t.id).or(by_subject);
        // An official who reported a complaint themselves writes about it as a citizen.
        known.official_on_complaint = match known.named {
            Some(id) => !batch.is_reporter(id, sender)?,
            None => false,
        };
    }
    if known.thread.is_none()
        && let (Some(number), Some(sender)) = (subject_number, inbound.sender())
    {
        known.thread = batch.complaint_by_number_from(&number, sender)?;
    }
    if known.thread.is_none()
        && item.classification == Classification::Person
        && let Some(sender) = inbound.sender()
    {
        known.recent_acknowledgments =
            batch.acknowledgments_since(sender, now - chrono::Duration::hours(24))?;
    }
    Ok(known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;

    fn thread() -> ComplaintRef {
        ComplaintRef {
            id: 1,
            number: RegisterNumber::new("ADU", 2026, 1),
            status: Status::MenungguDisposisi,
        }
    }

    #[test]
    fn people_become_complaints_or_follow_ups() {
        assert_eq!(
            decide(&Classification::Person, Known::default(), 5),
            Plan::NewComplaint {
                acknowledge: Acknowledgment::Send
            }
        );
        let known = Known {
            thread: Some(thread()),
            ..Known::default()
        };
        assert_eq!(
            decide(&Classification::Person, known, 5),
            Plan::FollowUp(thread())
        );
    }

    #[test]
    fn acknowledgments_are_rate_limited() {
        let known = Known {
            recent_acknowledgments: 5,
            ..Known::default()
        };
        assert_eq!(
            decide(&Classification::Person, known, 5),
            Plan::NewComplaint {
                acknowledge: Acknowledgment::Suppressed {
                    recent: 5,
                    limit: 5
                }
            }
        );
    }

    #[test]
    fn recorded_messages_are_only_moved() {
        let known = Known {
            already_recorded: Some(Destination::Quarantine),
            thread: Some(thread()),
            ..Known::default()
        };
        assert_eq!(
            decide(&Classification::Person, known, 5),
            Plan::AlreadyRecorded(Destination::Quarantine)
        );
    }

    #[test]
    fn machines_are_never_answered() {
        let known = Known {
            thread: Some(thread()),
            ..Known::default()
        };
        assert!(matches!(
            decide(&Classification::AutoReply("Auto-Submitted"), known, 5),
            Plan::Machine {
                kind: InboundKind::AutoReply,
                thread: Some(_),
                ..
            }
        ));
        assert!(matches!(
            decide(
                &Classification::Bounce("null return path"),
                Known::default(),
                5
            ),
            Plan::Machine {
                kind: InboundKind::Bounce,
                thread: None,
                ..
            }
        ));
        assert_eq!(
            decide(&Classification::Quarantine("x".into()), Known::default(), 5),
            Plan::Quarantine("x".into())
        );
    }
}

//! What an inbound message becomes, and recording that in one batch transaction.
//!
//! [`decide`] is pure: given the message's classification and what the register already
//! knows (its thread, earlier copies, recent acknowledgments), it returns a [`Plan`].
//! [`record`] carries the plan out inside the caller's [`Batch`].

mod answering;
mod asking;
pub mod form;
pub mod gateway;
mod recording;
mod registration;
pub mod requirements;

use chrono::{DateTime, Utc};

use super::Context;
use crate::config::Settings;
use crate::domain::{InboundKind, RegisterNumber};
use crate::mail::{Classification, Inbound};
use crate::office::security::Referenced;
use crate::office::survey::Rating;
use crate::store::{Batch, BouncedRow, ComplaintRef, Destination, Receipt};
use form::FormReading;
use gateway::Arrival;
use recording::Recording;

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
    /// What clamd found in its files (empty without `scan.clamd`).
    pub screened: Vec<crate::domain::ScreenedFile>,
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
    /// Recorded before (the same bytes, or a run died before moving it): only move it.
    AlreadyRecorded(Destination),
    Quarantine(String),
    /// Machine mail: recorded (in its complaint's thread when it has one), never answered.
    Machine {
        kind: InboundKind,
        note: &'static str,
        thread: Option<ComplaintRef>,
    },
    FollowUp(ComplaintRef),
    /// A message in a complaint's thread from someone who is neither its reporter nor an
    /// official: recorded as a third party's, never presented as the reporter's.
    ThirdParty(ComplaintRef),
    NewComplaint {
        acknowledge: Acknowledgment,
    },
    /// The administrator's form (`DAFTAR …`) from an address of `roles.admin`; acted on
    /// only when `verified` (one From, and DKIM/SPF when configured).
    AdminForm {
        reading: FormReading,
        verified: bool,
    },
    /// Not a complaint by its channel's rules (an SMS without the keyword or text):
    /// recorded, answered with the format (rate-limited as acknowledgments are), nothing
    /// registered.
    Declined {
        answer: Acknowledgment,
    },
    /// A reply that tries to act on a complaint (it answers a notification, or comes from
    /// an official and names a complaint): judged by `security`, never a follow-up.
    StaffReply {
        referenced: Vec<Referenced>,
        named: Option<i64>,
    },
    /// The reporter's satisfaction rating, by reply on an answered complaint.
    Rating {
        thread: ComplaintRef,
        rating: Rating,
    },
    /// A bounce that names a message the worker sent (its outbox row, and why).
    Bounced {
        row: BouncedRow,
        reason: String,
    },
    /// A message that only asks where a complaint stands: answered to its reporter,
    /// politely declined to anyone else; never forwarded to officials.
    StatusRequest {
        asked: Asked,
        answer: Acknowledgment,
    },
}

/// The complaint a status question is about, and whether its sender reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The complaint named (by number, by thread) or the sender's latest; `None` when
    /// there is none.
    pub about: Option<ComplaintRef>,
    /// The number written in the question, when it names no complaint.
    pub number: Option<RegisterNumber>,
    pub from_reporter: bool,
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
    /// The sender is the reporter of `thread`.
    pub from_reporter: bool,
    pub recent_acknowledgments: u32,
    /// The worker's notifications the message names.
    pub referenced: Vec<Referenced>,
    /// The sender holds a role and the message names a complaint (thread or subject).
    pub official_on_complaint: bool,
    /// The complaint the message names by thread or by the number in its subject.
    pub named: Option<i64>,
    /// The message is only a status question (`office::inquiry`).
    pub inquiry: Option<Asked>,
    /// A failure report names this message the worker sent, for this reason.
    pub bounced: Option<(BouncedRow, String)>,
    /// The reporter's reply on an answered complaint is a rating (`office::survey`).
    pub rating: Option<Rating>,
    /// An SMS that is no complaint if it is not a follow-up (no keyword, or no text).
    pub sms_declined: bool,
    /// A new message from the administrator that starts with `DAFTAR`, and whether its
    /// sender passed the check.
    pub form: Option<(FormReading, bool)>,
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
        Classification::Bounce(note) => match known.bounced {
            Some((row, reason)) => Plan::Bounced { row, reason },
            None => Plan::Machine {
                kind: InboundKind::Bounce,
                note,
                thread: known.thread,
            },
        },
        Classification::Person if known.form.is_some() => {
            let (reading, verified) = known.form.unwrap_or((FormReading::NotAForm, false));
            Plan::AdminForm { reading, verified }
        }
        Classification::Person if !known.referenced.is_empty() || known.official_on_complaint => {
            Plan::StaffReply {
                referenced: known.referenced,
                named: known.named,
            }
        }
        Classification::Person => {
            let acknowledge = rate_limited(known.recent_acknowledgments, ack_limit);
            match (known.inquiry, known.thread) {
                (Some(asked), _) => Plan::StatusRequest {
                    asked,
                    answer: acknowledge,
                },
                (None, Some(thread)) if known.from_reporter => match known.rating {
                    Some(rating) => Plan::Rating { thread, rating },
                    None => Plan::FollowUp(thread),
                },
                (None, Some(thread)) => Plan::ThirdParty(thread),
                (None, None) if known.sms_declined => Plan::Declined {
                    answer: acknowledge,
                },
                (None, None) => Plan::NewComplaint { acknowledge },
            }
        }
    }
}

fn rate_limited(recent: u32, limit: u32) -> Acknowledgment {
    if recent >= limit {
        Acknowledgment::Suppressed { recent, limit }
    } else {
        Acknowledgment::Send
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

/// Records one message so that no message can stop the batch: when recording it fails
/// or panics, what it wrote is undone and it is quarantined with the reason. If even that
/// fails, it is left in the inbox for the next cycle (`None`). An `Err` is the batch's
/// own failure (the database), not the message's.
pub fn record_or_quarantine(
    batch: &mut Batch<'_>,
    item: &Prepared,
    ctx: &Context,
    source: (&str, u32),
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Recorded>> {
    let undone = match batch.isolated(|batch| record(batch, item, ctx, source, now))? {
        Ok(recorded) => return Ok(Some(recorded)),
        Err(undone) => undone,
    };
    tracing::error!(uid = item.uid, error = %undone, "cannot record the message; quarantining it");
    let reason = format!("could not be recorded: {undone}");
    let quarantined = batch.isolated(|batch| {
        let key = identity(batch, item)?.0;
        let recording = Recording {
            item,
            inbound: &item.inbound,
            citizen: None,
            ctx,
            key: &key,
            now,
        };
        let (row, destination, _) = recording.quarantine(batch, &reason)?;
        batch.record_receipt(receipt(source, item), (row, destination), now)?;
        Ok(Recorded {
            uid: item.uid,
            destination,
            plan: Plan::Quarantine(reason.clone()),
            number: None,
        })
    })?;
    match quarantined {
        Ok(recorded) => Ok(Some(recorded)),
        Err(again) => {
            tracing::error!(uid = item.uid, error = %again, "cannot quarantine the message either; it stays in the inbox");
            Ok(None)
        }
    }
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
    crate::failpoint::panic_on(crate::failpoint::RECORD_PANIC, &item.inbound.subject);
    let (key, already_recorded) = identity(batch, item)?;
    let arrival = gateway::arrival(ctx, &item.inbound, &item.classification);
    let unreadable;
    let classification = match &arrival {
        Arrival::Unreadable(reason) => {
            unreadable = Classification::Quarantine(reason.clone());
            &unreadable
        }
        _ => &item.classification,
    };
    let known = match already_recorded {
        Some(destination) => Known {
            already_recorded: Some(destination),
            ..Known::default()
        },
        None => lookup(batch, (item, classification, &arrival), &ctx.settings, now)?,
    };
    let plan = decide(
        classification,
        known,
        ctx.settings.acknowledgment.max_per_sender_per_day,
    );
    let sms_recorded = arrival
        .sms()
        .map(|text| gateway::as_recorded(&item.inbound, text));
    let recording = Recording {
        item,
        inbound: sms_recorded.as_ref().unwrap_or(&item.inbound),
        citizen: match &arrival {
            Arrival::Sms(text, address) => Some((address, Some(text))),
            _ => None,
        },
        ctx,
        key: &key,
        now,
    };
    batch.record_screenings(&item.screened, now)?;
    let (row, destination, number) = match &plan {
        Plan::AlreadyRecorded(destination) => {
            let known = batch
                .message_by_key(&key)?
                .ok_or_else(|| anyhow::anyhow!("message {key} vanished from the register"))?;
            tracing::info!("already recorded; only moving it");
            (known.row, *destination, None)
        }
        Plan::Quarantine(reason) => recording.quarantine(batch, reason)?,
        Plan::Machine { kind, note, thread } => recording.machine(batch, *kind, note, thread)?,
        Plan::StaffReply { referenced, named } => {
            recording.staff_reply(batch, referenced, *named)?
        }
        Plan::FollowUp(thread) => recording.in_thread(batch, thread, false)?,
        Plan::ThirdParty(thread) => recording.in_thread(batch, thread, true)?,
        Plan::NewComplaint { acknowledge } => recording.new_complaint(batch, acknowledge)?,
        Plan::StatusRequest { asked, answer } => recording.status_request(batch, asked, answer)?,
        Plan::Bounced { row, reason } => recording.bounced(batch, row, reason)?,
        Plan::Rating { thread, rating } => recording.rating(batch, thread, rating)?,
        Plan::Declined { answer } => recording.declined(batch, answer)?,
        Plan::AdminForm { reading, verified } => recording.admin_form(batch, reading, *verified)?,
    };
    if !matches!(plan, Plan::AlreadyRecorded(_)) {
        crate::office::screening::report_infected(batch, ctx, row, &item.screened, now)?;
    }
    batch.record_receipt(receipt(source, item), (row, destination), now)?;
    Ok(Recorded {
        uid: item.uid,
        destination,
        plan,
        number,
    })
}

/// The IMAP identity of `item`, fetched from `(mailbox, uidvalidity)`.
fn receipt<'a>((mailbox, uid_validity): (&'a str, u32), item: &Prepared) -> Receipt<'a> {
    Receipt {
        mailbox,
        uid_validity,
        uid: item.uid,
    }
}

/// The key a message is recorded under, and where it went if the register has it
/// already. A Message-ID names the same message only when the bytes are the same too:
/// another message that reuses it (a web form's fixed ID, a copied header, a forgery) is
/// recorded under the hash of its bytes instead, never taken for the first one.
fn identity(
    batch: &mut Batch<'_>,
    item: &Prepared,
) -> anyhow::Result<(String, Option<Destination>)> {
    let key = item.key();
    match batch.message_by_key(&key)? {
        None => Ok((key, None)),
        Some(known) if batch.same_message(&known, item.raw, &item.raw_sha256)? => {
            Ok((key, Some(known.destination)))
        }
        Some(_) => {
            tracing::warn!(
                "the Message-ID names another message in the register; keyed by its hash"
            );
            let key = format!("sha256:{}", item.raw_sha256);
            let already = batch.message_by_key(&key)?.map(|known| known.destination);
            Ok((key, already))
        }
    }
}

/// What the register knows about `item` (classified as `classification`, arrived as
/// `arrival`). An SMS speaks for the gateway address of its number, and names a
/// complaint by the number anywhere in its text.
fn lookup(
    batch: &mut Batch<'_>,
    (item, classification, arrival): (&Prepared, &Classification, &Arrival),
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<Known> {
    let mut known = Known::default();
    if matches!(classification, Classification::Quarantine(_)) {
        return Ok(known);
    }
    let inbound = &item.inbound;
    if let (Classification::Bounce(_), Some(returned)) = (classification, &inbound.returned)
        && returned.failed
    {
        known.bounced = batch
            .outbox_by_message_ids(&returned.message_ids)?
            .map(|row| (row, returned.reason.clone()));
    }
    let prefix = &settings.office.number_prefix;
    let (sender, subject_number) = match arrival {
        Arrival::Sms(text, address) => {
            known.sms_declined = !text.keyword || text.text.is_empty();
            (Some(address), gateway::number_in(prefix, &text.text))
        }
        _ => (
            inbound.sender(),
            RegisterNumber::find_in_subject(prefix, &inbound.subject),
        ),
    };
    let sender = sender.filter(|s| !s.is_reserved());
    let thread_ids = inbound.thread_ids();
    known.referenced = batch.notifications(&thread_ids)?;
    known.thread = batch.complaint_by_message_ids(&thread_ids)?;
    if *arrival == Arrival::Mail && known.referenced.is_empty() {
        known.form = form_of(inbound, settings);
        if known.form.is_some() {
            return Ok(known);
        }
    }
    if let Some(sender) = sender
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
        && let (Some(number), Some(sender)) = (subject_number, sender)
    {
        known.thread = batch.complaint_by_number_from(&number, sender)?;
    }
    known.from_reporter = match (&known.thread, sender) {
        (Some(thread), Some(sender)) => batch.is_reporter(thread.id, sender)?,
        _ => false,
    };
    if *classification == Classification::Person
        && let Some(sender) = sender
    {
        let asking = asking::Asking {
            inbound,
            arrival,
            sender,
            prefix,
        };
        asking::read(batch, &asking, &mut known)?;
        if known.thread.is_none() || known.inquiry.is_some() {
            known.recent_acknowledgments =
                batch.acknowledgments_since(sender, now - chrono::Duration::hours(24))?;
        }
    }
    Ok(known)
}

/// The administrator's form in `inbound`, if it is one from an address of
/// `roles.admin`, and whether the sender passes the check officials' replies pass (one
/// From; DKIM or SPF when `security.trusted_authserv_id` is set).
fn form_of(inbound: &Inbound, settings: &Settings) -> Option<(FormReading, bool)> {
    let sender = inbound.sender()?;
    if !settings.roles.admin.contains(sender) {
        return None;
    }
    let reading = form::read(&crate::office::procedure::new_text(inbound));
    if reading == FormReading::NotAForm {
        return None;
    }
    let authenticated = match &settings.security.trusted_authserv_id {
        Some(id) => {
            crate::office::security::authenticated(&inbound.authentication_results, id, sender)
        }
        None => true,
    };
    Some((reading, authenticated && !inbound.ambiguous_from))
}

#[cfg(test)]
mod tests;

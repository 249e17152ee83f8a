//! What the register's event log says happened to a complaint: who did it ([`Actor`]),
//! what it was ([`EventAction`]) and a free-text detail. The action strings are part of
//! the JSON contract (`show --json`, README "JSON reference").

use chrono::{DateTime, Utc};

use super::InboundKind;

/// Who did it: the worker itself, or the person (an address) whose message caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Worker,
    /// Someone using the command line (`quarantine retry`, `outbox retry`).
    Operator,
    Sender(String),
}

impl Actor {
    /// The sender of a message, or `unknown` when it had no usable address.
    pub fn sender(address: Option<&super::EmailAddress>) -> Actor {
        Actor::Sender(address.map_or("unknown", |a| a.as_str()).to_string())
    }

    pub fn as_str(&self) -> &str {
        match self {
            Actor::Worker => "worker",
            Actor::Operator => "operator",
            Actor::Sender(address) => address,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventAction {
    Registered,
    AckQueued,
    AckSuppressed,
    DispositionHeld,
    Released,
    Notified,
    Disposition,
    Draft,
    Approved,
    AnswerQueued,
    Rejected,
    Closed,
    FollowUp,
    ThirdPartyMessage,
    /// The reporter asked where the complaint stands.
    StatusRequest,
    /// The reporter rated how the complaint was handled.
    Rated,
    /// The citizen was told something (a closure's reason, a delay): the detail says what.
    CitizenTold,
    ReplyNotUnderstood,
    StaleReply,
    UnauthorizedReply,
    Reminder,
    Overdue,
    Quarantined,
    /// A message that is no complaint by its channel's rules (an SMS without keyword).
    Declined,
    /// The holder asked the citizen a question (`TANYA`).
    Asked,
    /// The division handed a misrouted task back to the Kepala Dinas.
    HandedBack,
    /// The Kepala Dinas gave a priority with the disposition: a new deadline.
    Prioritised,
    /// A follow-up brought an identity or supporting documents.
    RequirementsAdded,
    /// The administrator's form answered without registering (blank, or what is wrong).
    FormAnswered,
    /// An operator put a quarantined message back in the inbox.
    QuarantineRetry,
    /// The antivirus found a file infected: kept as evidence, never forwarded.
    FileWithheld,
    /// A file held back until clamd could scan it was found clean and forwarded.
    FileForwarded,
    /// Machine mail (`auto_reply_recorded`, `bounce_recorded`).
    Recorded(InboundKind),
    /// `<purpose>_sent`, `_failed`, `_uncertain`, `_requeued`, `_bounced`.
    Delivery {
        purpose: String,
        outcome: DeliveryOutcome,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent,
    Failed,
    Uncertain,
    /// An operator queued it again.
    Requeued,
    /// Accepted by SMTP, then returned by a bounce.
    Bounced,
}

impl EventAction {
    pub fn name(&self) -> String {
        let fixed = match self {
            EventAction::Registered => "registered",
            EventAction::AckQueued => "ack_queued",
            EventAction::AckSuppressed => "ack_suppressed",
            EventAction::DispositionHeld => "disposition_held",
            EventAction::Released => "released",
            EventAction::Notified => "notified",
            EventAction::Disposition => "disposition",
            EventAction::Draft => "draft",
            EventAction::Approved => "approved",
            EventAction::AnswerQueued => "answer_queued",
            EventAction::Rejected => "rejected",
            EventAction::Closed => "closed",
            EventAction::FollowUp => "follow_up",
            EventAction::ThirdPartyMessage => "third_party_message",
            EventAction::StatusRequest => "status_request",
            EventAction::CitizenTold => "citizen_told",
            EventAction::Rated => "rated",
            EventAction::ReplyNotUnderstood => "reply_not_understood",
            EventAction::StaleReply => "stale_reply",
            EventAction::UnauthorizedReply => "unauthorized_reply",
            EventAction::Reminder => "reminder",
            EventAction::Overdue => "overdue",
            EventAction::Quarantined => "quarantined",
            EventAction::Declined => "declined",
            EventAction::FormAnswered => "form_answered",
            EventAction::RequirementsAdded => "requirements_added",
            EventAction::Prioritised => "priority",
            EventAction::Asked => "question",
            EventAction::HandedBack => "handed_back",
            EventAction::QuarantineRetry => "quarantine_retry",
            EventAction::FileWithheld => "file_withheld",
            EventAction::FileForwarded => "file_forwarded",
            EventAction::Recorded(kind) => return format!("{}_recorded", kind.as_str()),
            EventAction::Delivery { purpose, outcome } => {
                let outcome = match outcome {
                    DeliveryOutcome::Sent => "sent",
                    DeliveryOutcome::Failed => "failed",
                    DeliveryOutcome::Uncertain => "uncertain",
                    DeliveryOutcome::Requeued => "requeued",
                    DeliveryOutcome::Bounced => "bounced",
                };
                return format!("{purpose}_{outcome}");
            }
        };
        fixed.to_string()
    }
}

/// One line of a complaint's history (or of the worker's, without a complaint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub complaint_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: EventAction,
    pub detail: String,
}

impl Event {
    /// Something the worker did.
    pub fn worker(
        complaint_id: Option<i64>,
        at: DateTime<Utc>,
        action: EventAction,
        detail: impl Into<String>,
    ) -> Event {
        Event {
            complaint_id,
            at,
            actor: Actor::Worker,
            action,
            detail: detail.into(),
        }
    }

    /// Something a message's sender did.
    pub fn by(
        actor: impl Into<String>,
        complaint_id: Option<i64>,
        at: DateTime<Utc>,
        action: EventAction,
        detail: impl Into<String>,
    ) -> Event {
        Event {
            complaint_id,
            at,
            actor: Actor::Sender(actor.into()),
            action,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_keep_their_contract_names() {
        assert_eq!(EventAction::AckQueued.name(), "ack_queued");
        assert_eq!(
            EventAction::Recorded(InboundKind::Bounce).name(),
            "bounce_recorded"
        );
        let delivery = EventAction::Delivery {
            purpose: "jawab".into(),
            outcome: DeliveryOutcome::Uncertain,
        };
        assert_eq!(delivery.name(), "jawab_uncertain");
    }
}

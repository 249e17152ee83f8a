//! What the worker reads in one message, as `parse` and `quarantine show` print it: the
//! parsed message, what it would become, and the new text of a reply. Pure.

use serde::Serialize;

use super::reply::reply_text;
use super::{Classification, Inbound, classify, parse};

/// The JSON of `parse`: the parsed message plus the worker's verdict.
#[derive(Debug, Serialize)]
pub struct Reading {
    pub kind: &'static str,
    #[serde(flatten)]
    pub inbound: Inbound,
    /// The new text of a reply, without quoted history and signatures.
    pub reply_text: String,
    pub quarantine_reason: Option<String>,
}

impl Reading {
    pub fn new(
        raw: &[u8],
        own_address: &crate::domain::EmailAddress,
        own_domain: &str,
        prefix: &str,
    ) -> Reading {
        let inbound = parse(raw);
        let classification = classify(&inbound, own_address, own_domain);
        let names_thread = !inbound.thread_ids().is_empty()
            || crate::domain::RegisterNumber::find_in_subject(prefix, &inbound.subject).is_some();
        let (kind, quarantine_reason) = match classification {
            Classification::Person if names_thread => ("follow_up", None),
            Classification::Person => ("complaint", None),
            Classification::AutoReply(_) => ("auto_reply", None),
            Classification::Bounce(_) => ("bounce", None),
            Classification::Quarantine(reason) => ("quarantined", Some(reason)),
        };
        let reply_text = reply_text(&inbound.body_text, inbound.body_html.as_deref());
        Reading {
            kind,
            inbound,
            reply_text,
            quarantine_reason,
        }
    }
}

//! Whether a citizen's message only asks where a complaint stands (`office::inquiry`) or
//! rates an answered one (`office::survey`). An email and an SMS are read alike: the
//! text the citizen wrote, from the sender the register knows (for an SMS, the gateway
//! address of its number, so the same phone is the same reporter).

use super::gateway::Arrival;
use super::{Asked, Known};
use crate::domain::{EmailAddress, Status};
use crate::mail::Inbound;
use crate::store::Batch;

/// A person's message, as the register knows its sender.
pub(super) struct Asking<'a> {
    pub inbound: &'a Inbound,
    pub arrival: &'a Arrival,
    pub sender: &'a EmailAddress,
    /// The office's register number prefix.
    pub prefix: &'a str,
}

impl Asking<'_> {
    /// What the citizen wrote: an SMS's text (without the keyword), else the new text of
    /// the email above any quoted history.
    fn text(&self) -> String {
        match self.arrival {
            Arrival::Sms(sms, _) => sms.text.clone(),
            _ => crate::office::procedure::new_text(self.inbound),
        }
    }

    /// An SMS has no subject of its own (the gateway's subject is not the citizen's).
    fn subject(&self) -> &str {
        match self.arrival {
            Arrival::Sms(..) => "",
            _ => &self.inbound.subject,
        }
    }
}

/// Sets `known.inquiry`, or `known.rating` (and, for an SMS, the thread it rates).
pub(super) fn read(
    batch: &mut Batch<'_>,
    asking: &Asking<'_>,
    known: &mut Known,
) -> anyhow::Result<()> {
    if !known.referenced.is_empty() || known.official_on_complaint {
        return Ok(());
    }
    known.inquiry = inquiry(batch, asking, known)?;
    if known.inquiry.is_some() {
        return Ok(());
    }
    let answered = |thread: &crate::store::ComplaintRef| thread.status == Status::Selesai;
    if known.from_reporter && known.thread.as_ref().is_some_and(answered) {
        known.rating = crate::office::survey::read(&asking.text());
        return Ok(());
    }
    // An SMS cannot reply in a thread: a rating without the keyword and without a number
    // is about the sender's latest complaint, when that one was answered.
    if let (None, Arrival::Sms(sms, _)) = (&known.thread, asking.arrival)
        && !sms.keyword
        && let Some(rating) = crate::office::survey::read(&asking.text())
        && let Some(latest) = batch.latest_complaint_of(asking.sender)?
        && answered(&latest)
    {
        known.thread = Some(latest);
        known.from_reporter = true;
        known.rating = Some(rating);
    }
    Ok(())
}

/// Whether the message is only a status question, and about which complaint: the number
/// written in it, else its thread, else the sender's latest complaint.
fn inquiry(
    batch: &mut Batch<'_>,
    asking: &Asking<'_>,
    known: &Known,
) -> anyhow::Result<Option<Asked>> {
    if !asking.inbound.attachments.is_empty() {
        return Ok(None);
    }
    let text = asking.text();
    let Some(question) = crate::office::inquiry::read(asking.prefix, &text, asking.subject())
    else {
        return Ok(None);
    };
    let about = match &question.number {
        Some(number) => batch.complaint_by_number(number)?,
        None => match &known.thread {
            Some(thread) => Some(thread.clone()),
            None => batch.latest_complaint_of(asking.sender)?,
        },
    };
    let from_reporter = match &about {
        Some(about) => batch.is_reporter(about.id, asking.sender)?,
        None => false,
    };
    Ok(Some(Asked {
        about,
        number: question.number,
        from_reporter,
    }))
}

//! Recording the messages a citizen is answered about without a complaint of their own
//! being registered or followed up: a status question, a rating, an SMS that is no
//! complaint, a bounce of the worker's mail. Every answer goes by the citizen's route
//! (`Composer::to_citizen`) and is queued by `office::citizen::queue`.

use chrono::Datelike;

use super::recording::{Outcome, Recording};
use super::{Acknowledgment, Asked};
use crate::domain::{Channel, Event, EventAction, InboundKind, RegisterNumber};
use crate::mail::compose::{Citizen, ToCitizen};
use crate::office::survey::Rating;
use crate::office::{citizen, returned};
use crate::store::{Batch, BouncedRow, ComplaintRef, Destination, NewRating};

impl Recording<'_> {
    /// Whoever sent the message, as a citizen to answer: the number of an SMS (through
    /// the gateway), else the From.
    fn asker(&self) -> Option<Citizen<'_>> {
        let email = self.reporter()?;
        let sms = self.citizen.and_then(|(_, sms)| sms);
        Some(Citizen {
            channel: if sms.is_some() {
                Channel::Sms
            } else {
                Channel::Email
            },
            email,
            phone: sms.map(|sms| &sms.phone),
            name: None,
            postal: None,
        })
    }

    /// Not a complaint by its channel's rules: recorded, answered with the format unless
    /// the sender had enough automatic answers today, nothing registered.
    pub(super) fn declined(
        &self,
        batch: &mut Batch<'_>,
        answer: &Acknowledgment,
    ) -> anyhow::Result<Outcome> {
        let now = self.now;
        let row = self.record(
            batch,
            InboundKind::Declined,
            None,
            (None, Some("sms format")),
        )?;
        let asker = self
            .asker()
            .ok_or_else(|| anyhow::anyhow!("a declined message without sender"))?;
        let detail = match answer {
            Acknowledgment::Send => {
                let settings = &self.ctx.settings;
                let year = now.with_timezone(&settings.office.timezone).year();
                // No complaint: the Message-ID names number 0 of the year.
                let number = RegisterNumber::new(&settings.office.number_prefix, year, 0);
                let in_reply_to = self.inbound().message_id.clone();
                // By the one route: an SMS's sender is answered by SMS (`sms_format`).
                let message = ToCitizen {
                    purpose: "format",
                    template: "format",
                    too_long: None,
                    number: &number,
                    citizen: asker,
                    context: minijinja::context! { office_name => &settings.office.name },
                    references: in_reply_to.iter().cloned().collect(),
                    in_reply_to,
                    bcc: &[],
                    attachments: &[],
                    auto_submitted: Some("auto-replied"),
                };
                let outgoing = self.ctx.composer().to_citizen(&message, now)?;
                citizen::queue(batch, None, &outgoing, now)?;
                format!(
                    "message {}: not a complaint by SMS; format explained",
                    self.key
                )
            }
            Acknowledgment::Suppressed { recent, limit } => format!(
                "message {}: not a complaint by SMS; {recent} automatic answers in 24 hours (limit {limit}), not answered",
                self.key
            ),
        };
        batch.add_event(&Event::worker(None, now, EventAction::Declined, detail))?;
        tracing::info!("declined: not a complaint by its channel's rules");
        Ok((row, Destination::Processed, None))
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
                    let Some(asker) = self.asker() else {
                        return Ok((row, Destination::Processed, None));
                    };
                    let number = asked
                        .about
                        .as_ref()
                        .map(|a| a.number.clone())
                        .or_else(|| asked.number.clone());
                    let prefix = &self.ctx.settings.office.number_prefix;
                    let number =
                        number.unwrap_or_else(|| RegisterNumber::new(prefix, self.now.year(), 0));
                    let to = (&number, asker);
                    citizen::answer_stranger(batch, self.ctx, to, self.inbound(), self.now)?;
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

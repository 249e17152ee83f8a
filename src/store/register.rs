//! Reading the register back: what `list` and `show` print.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::Store;
use super::db::Access;
use super::error::Result;
use crate::domain::{EmailAddress, Status};
use crate::mail::parse::Party;

#[derive(Debug, Clone, Serialize)]
pub struct ComplaintSummary {
    pub number: String,
    pub status: String,
    pub channel: String,
    pub reporter_name: Option<String>,
    pub reporter_email: String,
    /// The reporter's phone number (`+62…`), when known.
    pub reporter_phone: Option<String>,
    /// The reporter's NIK: masked unless revealed (see [`ComplaintSummary::mask_nik`]).
    pub reporter_nik: Option<String>,
    /// An identity was given (a valid NIK, or a file named as KTP).
    pub identity_provided: bool,
    /// Supporting documents received.
    pub documents: i64,
    /// The Kepala Dinas's priority (`sangat_segera`, `segera`, `biasa`), once given.
    pub priority: Option<String>,
    pub subject: String,
    pub received_at: String,
    pub deadline_at: String,
    pub message_count: i64,
    pub attachment_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComplaintDetail {
    #[serde(flatten)]
    pub summary: ComplaintSummary,
    /// The disposition sheet (lembar disposisi), once given.
    pub disposition: Option<DispositionView>,
    pub drafts: Vec<DraftView>,
    /// Approvals and rejections, oldest first.
    pub decisions: Vec<DecisionView>,
    pub unauthorized: Vec<UnauthorizedView>,
    /// Outgoing messages that bounced after the SMTP server accepted them.
    pub bounced: Vec<super::BounceView>,
    /// The citizen's satisfaction rating (`null` until they rate).
    pub rating: Option<super::RatingView>,
    pub messages: Vec<MessageView>,
    pub events: Vec<EventView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DispositionView {
    pub at: String,
    pub by: String,
    /// The unit that prepares the answer.
    pub division: String,
    /// Every unit named, the lead (`division`) first; the others got a copy.
    pub units: Vec<String>,
    pub instruction: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DraftView {
    pub round: i64,
    pub at: String,
    pub by: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub at: String,
    pub by: String,
    /// `setuju` or `tolak`.
    pub decision: String,
    /// The approved text (exactly what was sent), or the rejection note.
    pub text: String,
    pub text_sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnauthorizedView {
    pub at: String,
    pub sender: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub direction: String,
    pub kind: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub from: Party,
    pub to: Vec<Party>,
    pub subject: String,
    pub date: Option<String>,
    pub body_text: String,
    pub attachments: Vec<AttachmentView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

const SUMMARY_COLUMNS: &str = "c.number, c.status, c.channel, c.reporter_name, c.reporter_email, c.subject,
    c.received_at, c.deadline_at,
    (SELECT count(*) FROM messages m WHERE m.complaint_id = c.id),
    (SELECT count(*) FROM attachments a JOIN messages m ON m.id = a.message_row WHERE m.complaint_id = c.id),
    c.reporter_phone, c.reporter_nik, c.identity_provided, c.documents, c.priority";

/// What `list` asks of the register.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegisterQuery {
    /// Only complaints with this status.
    pub status: Option<Status>,
    /// Only open complaints whose deadline passed before this instant.
    pub overdue_at: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many (all when `None`).
    pub limit: Option<u32>,
}

/// Reads [`SUMMARY_COLUMNS`] starting at column `at`.
fn summary(row: &Row<'_>, at: usize) -> rusqlite::Result<ComplaintSummary> {
    Ok(ComplaintSummary {
        number: row.get(at)?,
        status: row.get(at + 1)?,
        channel: row.get(at + 2)?,
        reporter_name: row.get(at + 3)?,
        reporter_email: row.get(at + 4)?,
        subject: row.get(at + 5)?,
        received_at: row.get(at + 6)?,
        deadline_at: row.get(at + 7)?,
        message_count: row.get(at + 8)?,
        attachment_count: row.get(at + 9)?,
        reporter_phone: row.get(at + 10)?,
        reporter_nik: row.get(at + 11)?,
        identity_provided: row.get(at + 12)?,
        documents: row.get(at + 13)?,
        priority: row.get(at + 14)?,
    })
}

impl ComplaintSummary {
    /// The NIK masked (personal data, UU 27/2022): what is printed unless asked for.
    pub fn mask_nik(&mut self) {
        if let Some(nik) = &self.reporter_nik {
            self.reporter_nik = Some(crate::domain::nik::mask_in(nik));
        }
    }
}

impl ComplaintDetail {
    /// Every NIK masked: the reporter's, and any written in a message's text.
    pub fn mask_nik(&mut self) {
        self.summary.mask_nik();
        for message in &mut self.messages {
            message.body_text = crate::domain::nik::mask_in(&message.body_text);
        }
    }
}

impl Store {
    /// The register in number order, optionally only one status, optionally only the
    /// open complaints whose deadline passed before `overdue_at` (then most overdue
    /// first), at most `limit` of them. Each form reads an index in the order it prints
    /// and stops at the limit, so its cost does not grow with the register.
    pub async fn complaints(&self, query: RegisterQuery) -> Result<Vec<ComplaintSummary>> {
        // `status NOT IN ('selesai', 'ditutup')` spelled as in complaints_open_deadline,
        // whose rows are only the open complaints.
        let filter = match (query.status.is_some(), query.overdue_at.is_some()) {
            (false, false) => "TRUE ORDER BY c.year, c.seq",
            (true, false) => "c.status = ?1 ORDER BY c.year, c.seq",
            (false, true) => {
                "c.deadline_at < ?2 AND c.status NOT IN ('selesai', 'ditutup')
                 ORDER BY c.deadline_at, c.year, c.seq"
            }
            (true, true) => {
                "c.deadline_at < ?2 AND c.status NOT IN ('selesai', 'ditutup') AND c.status = ?1
                 ORDER BY c.deadline_at, c.year, c.seq"
            }
        };
        let sql = format!("SELECT {SUMMARY_COLUMNS} FROM complaints c WHERE {filter} LIMIT ?3");
        let bound = (
            query.status.map(Status::as_str),
            query.overdue_at.map(crate::clock::rfc3339),
            query.limit.map_or(-1, i64::from),
        );
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(&sql)?;
                let rows = statement
                    .query_map(params![bound.0, bound.1, bound.2], |row| summary(row, 0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
    }

    /// Everything `show` prints about one complaint.
    pub async fn complaint(&self, number: &str) -> Result<Option<ComplaintDetail>> {
        let number = number.to_owned();
        self.db
            .call(Access::Read, move |batch| {
                Ok(detail(batch.connection(), &number)?)
            })
            .await
    }
}

fn detail(connection: &Connection, number: &str) -> rusqlite::Result<Option<ComplaintDetail>> {
    let sql = format!("SELECT c.id, {SUMMARY_COLUMNS} FROM complaints c WHERE c.number = ?");
    let Some((id, summary)) = connection
        .prepare_cached(&sql)?
        .query_row([number], |row| {
            Ok((row.get::<_, i64>(0)?, summary(row, 1)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    let disposition = connection
        .prepare_cached(
            "SELECT at, by_email, division, instruction, copies_json FROM dispositions WHERE complaint_id = ? ORDER BY id DESC LIMIT 1",
        )?
        .query_row([id], |r| {
            let division: String = r.get(2)?;
            let copies: Vec<String> =
                serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default();
            Ok(DispositionView {
                at: r.get(0)?,
                by: r.get(1)?,
                units: std::iter::once(division.clone()).chain(copies).collect(),
                division,
                instruction: r.get(3)?,
            })
        })
        .optional()?;
    Ok(Some(ComplaintDetail {
        summary,
        disposition,
        drafts: drafts(connection, id)?,
        decisions: decisions(connection, id)?,
        unauthorized: unauthorized(connection, id)?,
        bounced: super::bounces::of_complaint(connection, id)?,
        rating: super::ratings::of_complaint(connection, id)?,
        messages: messages(connection, id)?,
        events: events(connection, id)?,
    }))
}

/// The rows of `sql` for complaint `id`, each read by `read`.
fn rows_of<T>(
    connection: &Connection,
    sql: &str,
    id: i64,
    read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    connection
        .prepare_cached(sql)?
        .query_map([id], read)?
        .collect()
}

fn messages(connection: &Connection, id: i64) -> rusqlite::Result<Vec<MessageView>> {
    let messages = rows_of(
        connection,
        "SELECT id, direction, kind, message_id, in_reply_to, from_name, from_email, to_json, subject, date, body_text
         FROM messages WHERE complaint_id = ? ORDER BY id",
        id,
        |row| {
            let from_email: Option<String> = row.get(6)?;
            let to: String = row.get(7)?;
            let view = MessageView {
                direction: row.get(1)?,
                kind: row.get(2)?,
                message_id: row.get(3)?,
                in_reply_to: row.get(4)?,
                from: Party {
                    name: row.get(5)?,
                    email: from_email.as_deref().and_then(EmailAddress::parse),
                },
                to: serde_json::from_str::<Vec<PartyRow>>(&to)
                    .unwrap_or_default()
                    .into_iter()
                    .map(PartyRow::into_party)
                    .collect(),
                subject: row.get(8)?,
                date: row.get(9)?,
                body_text: row.get(10)?,
                attachments: Vec::new(),
            };
            Ok((row.get::<_, i64>(0)?, view))
        },
    )?;
    messages
        .into_iter()
        .map(|(row, mut view)| {
            view.attachments = attachments(connection, row)?;
            Ok(view)
        })
        .collect()
}

fn attachments(connection: &Connection, message_row: i64) -> rusqlite::Result<Vec<AttachmentView>> {
    rows_of(
        connection,
        "SELECT filename, content_type, size, sha256 FROM attachments WHERE message_row = ? ORDER BY position",
        message_row,
        |a| {
            Ok(AttachmentView {
                filename: a.get(0)?,
                content_type: a.get(1)?,
                size: a.get(2)?,
                sha256: a.get(3)?,
            })
        },
    )
}

fn events(connection: &Connection, id: i64) -> rusqlite::Result<Vec<EventView>> {
    rows_of(
        connection,
        "SELECT at, actor, action, detail FROM events WHERE complaint_id = ? ORDER BY id",
        id,
        |e| {
            Ok(EventView {
                at: e.get(0)?,
                actor: e.get(1)?,
                action: e.get(2)?,
                detail: e.get(3)?,
            })
        },
    )
}

fn drafts(connection: &Connection, id: i64) -> rusqlite::Result<Vec<DraftView>> {
    rows_of(
        connection,
        "SELECT round, at, by_email, text FROM drafts WHERE complaint_id = ? ORDER BY id",
        id,
        |r| {
            Ok(DraftView {
                round: r.get(0)?,
                at: r.get(1)?,
                by: r.get(2)?,
                text: r.get(3)?,
            })
        },
    )
}

fn decisions(connection: &Connection, id: i64) -> rusqlite::Result<Vec<DecisionView>> {
    rows_of(
        connection,
        "SELECT at, by_email, decision, text, text_sha256 FROM decisions WHERE complaint_id = ? ORDER BY id",
        id,
        |r| {
            Ok(DecisionView {
                at: r.get(0)?,
                by: r.get(1)?,
                decision: r.get(2)?,
                text: r.get(3)?,
                text_sha256: r.get(4)?,
            })
        },
    )
}

fn unauthorized(connection: &Connection, id: i64) -> rusqlite::Result<Vec<UnauthorizedView>> {
    rows_of(
        connection,
        "SELECT at, sender, reason FROM unauthorized WHERE complaint_id = ? ORDER BY id",
        id,
        |r| {
            Ok(UnauthorizedView {
                at: r.get(0)?,
                sender: r.get(1)?,
                reason: r.get(2)?,
            })
        },
    )
}

#[derive(serde::Deserialize)]
struct PartyRow {
    name: Option<String>,
    email: Option<String>,
}

impl PartyRow {
    fn into_party(self) -> Party {
        Party {
            name: self.name,
            email: self.email.as_deref().and_then(EmailAddress::parse),
        }
    }
}

//! `complaints` and the procedure's records: a complaint's registration and state, the
//! notifications a reply names, its brief for notifications, dispositions, drafts,
//! decisions, unauthorized attempts and deadline notices.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::Store;
use super::batch::Batch;
use super::db::Access;
use super::error::{Result, StoreError};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::{Channel, EmailAddress, Nik, Phone, RegisterNumber, Status};
use crate::domain::{Decision, Referenced, State};
use crate::mail::compose::Brief;

/// A complaint as threading sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintRef {
    pub id: i64,
    pub number: RegisterNumber,
    pub status: Status,
}

/// A new complaint to register.
pub struct NewComplaint<'a> {
    pub prefix: &'a str,
    pub year: i32,
    pub channel: Channel,
    pub reporter_name: Option<&'a str>,
    pub reporter_email: &'a EmailAddress,
    pub reporter_phone: Option<&'a Phone>,
    /// Only a NIK whose structure is valid.
    pub reporter_nik: Option<&'a Nik>,
    pub reporter_address: Option<&'a str>,
    /// An identity was given: a valid NIK, or a file named as KTP.
    pub identity_provided: bool,
    /// Supporting documents that came with it.
    pub documents: u32,
    pub subject: &'a str,
    pub received_at: DateTime<Utc>,
    pub deadline_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

/// A sent message is recorded under its Message-ID (its exactly-once key).
pub(super) const NOTIFICATION_BY_MESSAGE_ID: &str =
    "SELECT m.complaint_id, c.number, m.stage, m.role, m.recipient, m.message_id
     FROM messages m JOIN complaints c ON c.id = m.complaint_id
     WHERE m.message_key = ? AND m.direction = 'out' AND m.stage IS NOT NULL";

/// A message is recorded under its Message-ID (its exactly-once key), so the key's index
/// finds it.
pub(super) const COMPLAINT_BY_MESSAGE_ID: &str =
    "SELECT c.id, c.number, c.status FROM messages m JOIN complaints c ON c.id = m.complaint_id
     WHERE m.message_key = ?";

/// The official's reply a record comes from: who sent it, its row in `messages`, and
/// when it was carried out.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    pub by: &'a EmailAddress,
    pub message_row: i64,
    pub at: DateTime<Utc>,
}

/// An action by email that the security model refused: who tried, on which complaint, why.
#[derive(Debug, Clone, Copy)]
pub struct Refusal<'a> {
    pub complaint_id: Option<i64>,
    pub sender: Option<&'a EmailAddress>,
    pub reason: &'a str,
    /// The refused message in `messages`.
    pub message_row: i64,
    pub at: DateTime<Utc>,
}

impl Batch<'_> {
    /// Takes the next register number of `year` and records the complaint.
    pub fn register_complaint(&mut self, new: &NewComplaint<'_>) -> Result<ComplaintRef> {
        let seq: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO register_sequence (year, last) VALUES (?, 1)
                 ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last",
            )?
            .query_row([new.year], |row| row.get(0))?;
        let number = RegisterNumber::new(new.prefix, new.year, seq);
        let status = Status::MenungguDisposisi;
        let id: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO complaints (number, year, seq, status, channel, reporter_name, reporter_email, subject,
                                         received_at, deadline_at, created_at, updated_at, reporter_phone,
                                         reporter_nik, reporter_address, identity_provided, documents)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )?
            .query_row(
                params![
                    number.as_str(),
                    new.year,
                    seq,
                    status.as_str(),
                    new.channel.as_str(),
                    new.reporter_name,
                    new.reporter_email.as_str(),
                    new.subject,
                    rfc3339(new.received_at),
                    rfc3339(new.deadline_at),
                    rfc3339(new.now),
                    rfc3339(new.now),
                    new.reporter_phone.map(Phone::as_str),
                    new.reporter_nik.map(Nik::expose),
                    new.reporter_address,
                    new.identity_provided || new.reporter_nik.is_some(),
                    new.documents,
                ],
                |row| row.get(0),
            )?;
        Ok(ComplaintRef { id, number, status })
    }

    /// The complaint that any of these Message-IDs belongs to (nearest first).
    pub fn complaint_by_message_ids(&mut self, ids: &[&str]) -> Result<Option<ComplaintRef>> {
        let mut statement = self.connection.prepare_cached(COMPLAINT_BY_MESSAGE_ID)?;
        for id in ids {
            if let Some(found) = statement.query_row([id], complaint_ref).optional()? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// The complaint with this number, if it was reported by this address.
    pub fn complaint_by_number_from(
        &mut self,
        number: &RegisterNumber,
        reporter: &EmailAddress,
    ) -> Result<Option<ComplaintRef>> {
        Ok(self
            .connection
            .prepare_cached(
                "SELECT id, number, status FROM complaints WHERE number = ? AND reporter_email = ?",
            )?
            .query_row([number.as_str(), reporter.as_str()], complaint_ref)
            .optional()?)
    }

    /// The worker's notifications among these Message-IDs, in the order given.
    pub fn notifications(&mut self, ids: &[&str]) -> Result<Vec<Referenced>> {
        let mut statement = self
            .connection()
            .prepare_cached(NOTIFICATION_BY_MESSAGE_ID)?;
        let mut found = Vec::new();
        for id in ids {
            let row = statement
                .query_row([id], |row| {
                    let message_id: String = row.get(5)?;
                    Ok(Referenced {
                        complaint_id: row.get(0)?,
                        number: row.get(1)?,
                        stage: row.get(2)?,
                        role: row.get(3)?,
                        recipient: row.get(4)?,
                        purpose: message_id.split('.').next().unwrap_or("").to_string(),
                        token: crate::mail::compose::token_of(&message_id)
                            .unwrap_or("")
                            .to_string(),
                    })
                })
                .optional()?;
            found.extend(row);
        }
        Ok(found)
    }

    pub fn is_reporter(&mut self, complaint_id: i64, address: &EmailAddress) -> Result<bool> {
        let found: Option<i64> = self
            .connection()
            .prepare_cached("SELECT id FROM complaints WHERE id = ? AND reporter_email = ?")?
            .query_row(params![complaint_id, address.as_str()], |row| row.get(0))
            .optional()?;
        Ok(found.is_some())
    }

    /// A complaint by its number, whoever asks.
    pub fn complaint_id_by_number(&mut self, number: &RegisterNumber) -> Result<Option<i64>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT id FROM complaints WHERE number = ?")?
            .query_row([number.as_str()], |row| row.get(0))
            .optional()?)
    }

    pub fn state(&mut self, complaint_id: i64) -> Result<State> {
        let (status, division, round): (String, Option<String>, i64) = self
            .connection()
            .prepare_cached("SELECT status, division, round FROM complaints WHERE id = ?")?
            .query_row([complaint_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let draft: Option<String> = self
            .connection()
            .prepare_cached(
                "SELECT text FROM drafts WHERE complaint_id = ? AND round = ? ORDER BY id DESC LIMIT 1",
            )?
            .query_row([complaint_id, round], |row| row.get(0))
            .optional()?;
        Ok(State {
            status: Status::parse(&status).unwrap_or(Status::MenungguDisposisi),
            division,
            round: round as u32,
            draft,
        })
    }

    pub fn set_state(
        &mut self,
        complaint_id: i64,
        state: &State,
        closed_reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.connection()
            .prepare_cached(
                "UPDATE complaints SET status = ?, division = ?, round = ?, closed_reason = coalesce(?, closed_reason), updated_at = ?
                 WHERE id = ?",
            )?
            .execute(params![
                state.status.as_str(),
                state.division.as_deref(),
                state.round,
                closed_reason,
                rfc3339(now),
                complaint_id
            ])?;
        Ok(())
    }

    /// What notifications say about a complaint.
    pub fn brief(&mut self, complaint_id: i64) -> Result<Brief> {
        // One statement (a new complaint's recording asks for it once or twice).
        let mut statement = self.connection().prepare_cached(
            "SELECT c.number, c.subject, c.reporter_name, c.reporter_email, c.received_at, c.deadline_at, c.division,
                    first.body_text, first.message_id,
                    -- The citizen's thread: their messages and what was sent to them (not
                    -- notifications).
                    (SELECT json_group_array(m.message_id ORDER BY m.id) FROM messages m
                      WHERE m.complaint_id = c.id AND m.message_id IS NOT NULL
                        AND m.kind IN ('complaint', 'follow_up', 'status_request', 'rating',
                                       'ack', 'jawab', 'status', 'tutup', 'lambat', 'nilai',
                                       'tanya')),
                    (SELECT d.instruction FROM dispositions d WHERE d.complaint_id = c.id
                      ORDER BY d.id DESC LIMIT 1),
                    c.channel, c.reporter_phone, c.reporter_address, c.reporter_nik,
                    c.identity_provided, c.documents
             FROM complaints c
             LEFT JOIN messages first ON first.id = (
                 SELECT m.id FROM messages m WHERE m.complaint_id = c.id AND m.direction = 'in'
                   AND m.kind = 'complaint' ORDER BY m.id LIMIT 1)
             WHERE c.id = ?",
        )?;
        let mut rows = statement.query([complaint_id])?;
        let row = rows.next()?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        let thread: Vec<String> = serde_json::from_str(&row.get::<_, String>(9)?)
            .map_err(|e| StoreError::Decode(format!("complaint {complaint_id}'s thread: {e}")))?;
        let received: String = row.get(4)?;
        let deadline: String = row.get(5)?;
        let email: String = row.get(3)?;
        let channel: String = row.get(11)?;
        Ok(Brief {
            id: complaint_id,
            number: RegisterNumber::from_stored(row.get(0)?),
            subject: row.get(1)?,
            reporter_name: row.get(2)?,
            reporter_email: EmailAddress::parse(&email)
                .ok_or_else(|| StoreError::Decode(format!("invalid reporter address {email:?}")))?,
            channel: Channel::parse(&channel)
                .ok_or_else(|| StoreError::Decode(format!("unknown channel {channel:?}")))?,
            reporter_phone: row.get::<_, Option<String>>(12)?.map(Phone::from_stored),
            reporter_address: row.get(13)?,
            reporter_nik: row.get::<_, Option<String>>(14)?.map(Nik::from_stored),
            identity_provided: row.get(15)?,
            documents: row.get(16)?,
            received_at: parse_rfc3339(&received).unwrap_or_default(),
            deadline_at: parse_rfc3339(&deadline).unwrap_or_default(),
            body_text: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
            first_message_id: row.get(8)?,
            thread,
            division: row.get(6)?,
            instruction: row.get(10)?,
        })
    }

    /// The latest draft of the complaint's current round: its id and message row.
    pub fn current_draft(&mut self, complaint_id: i64, round: u32) -> Result<Option<(i64, i64)>> {
        Ok(self
            .connection()
            .prepare_cached(
                "SELECT id, message_row FROM drafts WHERE complaint_id = ? AND round = ? ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![complaint_id, round], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?)
    }

    pub fn record_disposition(
        &mut self,
        complaint_id: i64,
        reply: &Reply<'_>,
        (division, copies): (&str, &[String]),
        instruction: &str,
    ) -> Result<()> {
        let Reply {
            by,
            message_row,
            at: now,
        } = *reply;
        let copies = serde_json::to_string(copies)
            .map_err(|e| StoreError::Decode(format!("the disposition's copies: {e}")))?;
        self.connection()
            .prepare_cached(
                "INSERT INTO dispositions (complaint_id, at, by_email, division, instruction, message_row, copies_json)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                complaint_id,
                rfc3339(now),
                by.as_str(),
                division,
                instruction,
                message_row,
                copies
            ])?;
        Ok(())
    }

    pub fn record_draft(
        &mut self,
        complaint_id: i64,
        round: u32,
        reply: &Reply<'_>,
        text: &str,
    ) -> Result<i64> {
        let Reply {
            by,
            message_row,
            at: now,
        } = *reply;
        Ok(self
            .connection()
            .prepare_cached(
                "INSERT INTO drafts (complaint_id, round, at, by_email, text, message_row) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )?
            .query_row(
                params![complaint_id, round, rfc3339(now), by.as_str(), text, message_row],
                |row| row.get(0),
            )?)
    }

    /// An approval (with the SHA-256 of exactly the text sent) or a rejection.
    pub fn record_decision(
        &mut self,
        (complaint_id, draft_id): (i64, i64),
        reply: &Reply<'_>,
        decision: &Decision<'_>,
    ) -> Result<()> {
        let Reply {
            by,
            message_row,
            at: now,
        } = *reply;
        let (text, text_sha256) = match decision {
            Decision::Approved { text, sha256 } => (*text, Some(*sha256)),
            Decision::Rejected { note } => (*note, None),
        };
        self.connection()
            .prepare_cached(
                "INSERT INTO decisions (complaint_id, draft_id, at, by_email, decision, text, text_sha256, message_row)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                complaint_id,
                draft_id,
                rfc3339(now),
                by.as_str(),
                decision.as_str(),
                text,
                text_sha256,
                message_row
            ])?;
        Ok(())
    }

    pub fn record_unauthorized(&mut self, refusal: &Refusal<'_>) -> Result<()> {
        self.connection()
            .prepare_cached(
                "INSERT INTO unauthorized (complaint_id, at, sender, reason, message_row) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![
                refusal.complaint_id,
                rfc3339(refusal.at),
                refusal.sender.map(EmailAddress::as_str),
                refusal.reason,
                refusal.message_row
            ])?;
        Ok(())
    }

    pub fn deadline_notices(&mut self, complaint_id: i64) -> Result<Vec<String>> {
        let mut statement = self
            .connection()
            .prepare_cached("SELECT kind FROM deadline_notices WHERE complaint_id = ?")?;
        let kinds = statement
            .query_map([complaint_id], |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(kinds)
    }

    pub fn mark_deadline_notices(
        &mut self,
        complaint_id: i64,
        kinds: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        {
            let mut statement = self.connection().prepare_cached(
                "INSERT INTO deadline_notices (complaint_id, kind, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )?;
            for kind in kinds {
                statement.execute(params![complaint_id, kind, rfc3339(now)])?;
            }
        }
        if kinds.iter().any(|kind| kind == "overdue") {
            self.connection()
                .prepare_cached(
                    "UPDATE complaints SET overdue_notice_at = ?
                     WHERE id = ? AND overdue_notice_at IS NULL",
                )?
                .execute(params![rfc3339(now), complaint_id])?;
        }
        Ok(())
    }
}

impl Store {
    /// Open complaints whose deadline is before `before`, with that deadline, except those
    /// whose overdue notice went out (nothing is ever due for them again): so an idle
    /// cycle's sweep looks only at complaints near or just past their deadline, however
    /// many have been overdue for long.
    pub async fn open_complaints_due_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(i64, DateTime<Utc>)>> {
        self.db
            .call(Access::Read, move |batch| {
                let mut statement = batch.connection().prepare_cached(&format!(
                    "SELECT id, deadline_at {OPEN_DUE_BEFORE} ORDER BY deadline_at"
                ))?;
                let rows = statement.query_map([rfc3339(before)], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })?;
                let mut due = Vec::new();
                for row in rows {
                    let (id, deadline) = row?;
                    due.extend(parse_rfc3339(&deadline).map(|deadline| (id, deadline)));
                }
                Ok(due)
            })
            .await
    }

    /// Whether [`Self::open_complaints_due_before`] would find any (an idle cycle's
    /// agenda).
    pub async fn any_open_complaint_due_before(&self, before: DateTime<Utc>) -> Result<bool> {
        self.db
            .call(Access::Read, move |batch| {
                Ok(batch
                    .connection()
                    .prepare_cached(&format!("SELECT EXISTS (SELECT 1 {OPEN_DUE_BEFORE})"))?
                    .query_row([rfc3339(before)], |row| row.get(0))?)
            })
            .await
    }
}

/// Open complaints whose deadline is before `?` and that have not had their overdue
/// notice yet: the rows of the partial index complaints_due, whose `WHERE` this repeats.
const OPEN_DUE_BEFORE: &str = "FROM complaints c INDEXED BY complaints_due WHERE deadline_at <= ?
     AND status NOT IN ('selesai', 'ditutup') AND overdue_notice_at IS NULL AND held_at IS NULL";

pub(super) fn complaint_ref(row: &rusqlite::Row<'_>) -> rusqlite::Result<ComplaintRef> {
    let status: String = row.get(2)?;
    Ok(ComplaintRef {
        id: row.get(0)?,
        number: RegisterNumber::from_stored(row.get(1)?),
        status: Status::parse(&status).unwrap_or(Status::MenungguDisposisi),
    })
}

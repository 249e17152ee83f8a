//! The procedure's records: notifications a reply names, a complaint's state, its brief
//! for notifications, dispositions, drafts, decisions and unauthorized attempts.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use sqlx::Row;

use super::batch::{BatchError, Result as BatchResult};
use super::{Batch, Result};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::{Decision, Referenced, State};
use crate::domain::{EmailAddress, RegisterNumber, Status};
use crate::mail::compose::Brief;

/// A sent message is recorded under its Message-ID (its exactly-once key).
pub(super) const NOTIFICATION_BY_MESSAGE_ID: &str =
    "SELECT m.complaint_id, c.number, m.stage, m.role, m.recipient, m.message_id
     FROM messages m JOIN complaints c ON c.id = m.complaint_id
     WHERE m.message_key = ? AND m.direction = 'out' AND m.stage IS NOT NULL";

impl Batch<'_> {
    /// The worker's notifications among these Message-IDs, in the order given.
    pub fn notifications(&mut self, ids: &[&str]) -> BatchResult<Vec<Referenced>> {
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

    pub fn is_reporter(&mut self, complaint_id: i64, address: &EmailAddress) -> BatchResult<bool> {
        let found: Option<i64> = self
            .connection()
            .prepare_cached("SELECT id FROM complaints WHERE id = ? AND reporter_email = ?")?
            .query_row(params![complaint_id, address.as_str()], |row| row.get(0))
            .optional()?;
        Ok(found.is_some())
    }

    /// A complaint by its number, whoever asks.
    pub fn complaint_id_by_number(&mut self, number: &RegisterNumber) -> BatchResult<Option<i64>> {
        Ok(self
            .connection()
            .prepare_cached("SELECT id FROM complaints WHERE number = ?")?
            .query_row([number.as_str()], |row| row.get(0))
            .optional()?)
    }

    pub fn state(&mut self, complaint_id: i64) -> BatchResult<State> {
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
    ) -> BatchResult<()> {
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
    pub fn brief(&mut self, complaint_id: i64) -> BatchResult<Brief> {
        // One statement (a new complaint's recording asks for it once or twice).
        let mut statement = self.connection().prepare_cached(
            "SELECT c.number, c.subject, c.reporter_name, c.reporter_email, c.received_at, c.deadline_at, c.division,
                    first.body_text, first.message_id,
                    -- The citizen's thread: their messages and what was sent to them (not
                    -- notifications).
                    (SELECT json_group_array(m.message_id ORDER BY m.id) FROM messages m
                      WHERE m.complaint_id = c.id AND m.message_id IS NOT NULL
                        AND m.kind IN ('complaint', 'follow_up', 'ack', 'jawab')),
                    (SELECT d.instruction FROM dispositions d WHERE d.complaint_id = c.id
                      ORDER BY d.id DESC LIMIT 1)
             FROM complaints c
             LEFT JOIN messages first ON first.id = (
                 SELECT m.id FROM messages m WHERE m.complaint_id = c.id AND m.direction = 'in'
                   AND m.kind = 'complaint' ORDER BY m.id LIMIT 1)
             WHERE c.id = ?",
        )?;
        let mut rows = statement.query([complaint_id])?;
        let row = rows.next()?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        let thread: Vec<String> = serde_json::from_str(&row.get::<_, String>(9)?)
            .map_err(|e| BatchError::Decode(format!("complaint {complaint_id}'s thread: {e}")))?;
        let received: String = row.get(4)?;
        let deadline: String = row.get(5)?;
        let email: String = row.get(3)?;
        Ok(Brief {
            id: complaint_id,
            number: RegisterNumber::from_stored(row.get(0)?),
            subject: row.get(1)?,
            reporter_name: row.get(2)?,
            reporter_email: EmailAddress::parse(&email)
                .ok_or_else(|| BatchError::Decode(format!("invalid reporter address {email:?}")))?,
            received_at: parse_rfc3339(&received).unwrap_or_default(),
            deadline_at: parse_rfc3339(&deadline).unwrap_or_default(),
            body_text: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
            first_message_id: row.get(8)?,
            thread,
            division: row.get(6)?,
            instruction: row.get(10)?,
        })
    }

    /// The raw bytes of one recorded message (its evidence) and their SHA-256: its files
    /// are parsed out of it when they are sent on.
    pub fn message_raw(&mut self, message_row: i64) -> BatchResult<(String, Vec<u8>)> {
        let sha256: String = self
            .connection()
            .prepare_cached("SELECT raw_sha256 FROM messages WHERE id = ?")?
            .query_row([message_row], |row| row.get(0))?;
        let raw = self.read_blob(&sha256)?;
        Ok((sha256, raw))
    }

    /// The citizen's first message of a complaint (the one that registered it).
    pub fn complaint_message(&mut self, complaint_id: i64) -> BatchResult<Option<i64>> {
        Ok(self
            .connection()
            .prepare_cached(
                "SELECT id FROM messages WHERE complaint_id = ? AND direction = 'in' AND kind = 'complaint' ORDER BY id LIMIT 1",
            )?
            .query_row([complaint_id], |row| row.get(0))
            .optional()?)
    }

    /// The latest draft of the complaint's current round: its id and message row.
    pub fn current_draft(
        &mut self,
        complaint_id: i64,
        round: u32,
    ) -> BatchResult<Option<(i64, i64)>> {
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
        by: &EmailAddress,
        division: &str,
        instruction: &str,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> BatchResult<()> {
        self.connection()
            .prepare_cached(
                "INSERT INTO dispositions (complaint_id, at, by_email, division, instruction, message_row) VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                complaint_id,
                rfc3339(now),
                by.as_str(),
                division,
                instruction,
                message_row
            ])?;
        Ok(())
    }

    pub fn record_draft(
        &mut self,
        complaint_id: i64,
        round: u32,
        by: &EmailAddress,
        text: &str,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> BatchResult<i64> {
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
    #[allow(clippy::too_many_arguments)]
    pub fn record_decision(
        &mut self,
        complaint_id: i64,
        draft_id: i64,
        by: &EmailAddress,
        decision: &Decision<'_>,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> BatchResult<()> {
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

    pub fn record_unauthorized(
        &mut self,
        complaint_id: Option<i64>,
        sender: Option<&EmailAddress>,
        reason: &str,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> BatchResult<()> {
        self.connection()
            .prepare_cached(
                "INSERT INTO unauthorized (complaint_id, at, sender, reason, message_row) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![
                complaint_id,
                rfc3339(now),
                sender.map(EmailAddress::as_str),
                reason,
                message_row
            ])?;
        Ok(())
    }

    pub fn deadline_notices(&mut self, complaint_id: i64) -> BatchResult<Vec<String>> {
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
    ) -> BatchResult<()> {
        let mut statement = self.connection().prepare_cached(
            "INSERT INTO deadline_notices (complaint_id, kind, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )?;
        for kind in kinds {
            statement.execute(params![complaint_id, kind, rfc3339(now)])?;
        }
        Ok(())
    }
}

impl super::Store {
    /// Open complaints whose deadline is before `before`, with that deadline, except those
    /// whose overdue notice went out (nothing is ever due for them again): so an idle
    /// cycle's sweep looks only at complaints near or just past their deadline, however
    /// many have been overdue for long.
    pub async fn open_complaints_due_before(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(i64, DateTime<Utc>)>> {
        let rows = sqlx::query(&format!(
            "SELECT id, deadline_at {OPEN_DUE_BEFORE} ORDER BY deadline_at"
        ))
        .bind(rfc3339(before))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.get(0), parse_rfc3339(&r.get::<String, _>(1))?)))
            .collect())
    }

    /// Whether [`Self::open_complaints_due_before`] would find any (an idle cycle's
    /// agenda, on the writer's connection).
    pub fn any_open_complaint_due_before(&self, before: DateTime<Utc>) -> anyhow::Result<bool> {
        self.writer.read(|connection| {
            connection
                .prepare_cached(&format!("SELECT EXISTS (SELECT 1 {OPEN_DUE_BEFORE})"))?
                .query_row([rfc3339(before)], |row| row.get(0))
        })
    }
}

/// Open complaints whose deadline is before `?` and that have not had their overdue
/// notice yet.
const OPEN_DUE_BEFORE: &str = "FROM complaints c WHERE deadline_at <= ?
     AND status NOT IN ('selesai', 'ditutup') AND held_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM deadline_notices n WHERE n.complaint_id = c.id AND n.kind = 'overdue')";

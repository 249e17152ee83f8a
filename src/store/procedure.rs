//! The procedure's records: notifications a reply names, a complaint's state, its brief
//! for notifications, dispositions, drafts, decisions and unauthorized attempts.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Batch, Result, read_blob};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::domain::{EmailAddress, RegisterNumber, Status};
use crate::mail::compose::Brief;
use crate::security::Referenced;
use crate::workflow::State;

impl Batch {
    /// The worker's notifications among these Message-IDs, in the order given.
    pub async fn notifications(&mut self, ids: &[&str]) -> Result<Vec<Referenced>> {
        let mut found = Vec::new();
        for id in ids {
            let row = sqlx::query(
                "SELECT m.complaint_id, c.number, m.stage, m.role, m.recipient, m.message_id
                 FROM messages m JOIN complaints c ON c.id = m.complaint_id
                 WHERE m.message_id = ? AND m.direction = 'out' AND m.stage IS NOT NULL",
            )
            .bind(*id)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(row) = row {
                let message_id: String = row.get(5);
                found.push(Referenced {
                    complaint_id: row.get(0),
                    number: row.get(1),
                    stage: row.get(2),
                    role: row.get(3),
                    recipient: row.get(4),
                    token: crate::security::token_of(&message_id)
                        .unwrap_or("")
                        .to_string(),
                });
            }
        }
        Ok(found)
    }

    pub async fn is_reporter(&mut self, complaint_id: i64, address: &EmailAddress) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM complaints WHERE id = ? AND reporter_email = ?")
                .bind(complaint_id)
                .bind(address.as_str())
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(found.is_some())
    }

    /// A complaint by its number, whoever asks.
    pub async fn complaint_id_by_number(&mut self, number: &RegisterNumber) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT id FROM complaints WHERE number = ?")
            .bind(number.as_str())
            .fetch_optional(&mut *self.tx)
            .await
    }

    pub async fn state(&mut self, complaint_id: i64) -> Result<State> {
        let row = sqlx::query("SELECT status, division, round FROM complaints WHERE id = ?")
            .bind(complaint_id)
            .fetch_one(&mut *self.tx)
            .await?;
        let status: String = row.get(0);
        let round: i64 = row.get(2);
        let draft: Option<String> = sqlx::query_scalar(
            "SELECT text FROM drafts WHERE complaint_id = ? AND round = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(complaint_id)
        .bind(round)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(State {
            status: Status::parse(&status).unwrap_or(Status::MenungguDisposisi),
            division: row.get(1),
            round: round as u32,
            draft,
        })
    }

    pub async fn set_state(
        &mut self,
        complaint_id: i64,
        state: &State,
        closed_reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE complaints SET status = ?, division = ?, round = ?, closed_reason = coalesce(?, closed_reason), updated_at = ?
             WHERE id = ?",
        )
        .bind(state.status.as_str())
        .bind(state.division.as_deref())
        .bind(state.round as i64)
        .bind(closed_reason)
        .bind(rfc3339(now))
        .bind(complaint_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// What notifications say about a complaint.
    pub async fn brief(&mut self, complaint_id: i64) -> Result<Brief> {
        // One statement (a new complaint's recording asks for it once or twice).
        let row = sqlx::query(
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
        )
        .bind(complaint_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let thread: Vec<String> = serde_json::from_str(&row.get::<String, _>(9))
            .map_err(|e| sqlx::Error::Decode(e.into()))?;
        let instruction: Option<String> = row.get(10);
        let received: String = row.get(4);
        let deadline: String = row.get(5);
        let email: String = row.get(3);
        Ok(Brief {
            id: complaint_id,
            number: RegisterNumber::from_stored(row.get(0)),
            subject: row.get(1),
            reporter_name: row.get(2),
            reporter_email: EmailAddress::parse(&email).ok_or_else(|| {
                sqlx::Error::Decode(format!("invalid reporter address {email:?}").into())
            })?,
            received_at: parse_rfc3339(&received).unwrap_or_default(),
            deadline_at: parse_rfc3339(&deadline).unwrap_or_default(),
            body_text: row.get::<Option<String>, _>(7).unwrap_or_default(),
            first_message_id: row.get(8),
            thread,
            division: row.get(6),
            instruction,
        })
    }

    /// The raw bytes of one recorded message (its evidence): its files are parsed out
    /// of it when they are sent on.
    pub async fn message_raw(&mut self, message_row: i64) -> Result<Vec<u8>> {
        let sha256: String = sqlx::query_scalar("SELECT raw_sha256 FROM messages WHERE id = ?")
            .bind(message_row)
            .fetch_one(&mut *self.tx)
            .await?;
        read_blob(&self.archive, &mut self.tx, &sha256).await
    }

    /// The citizen's first message of a complaint (the one that registered it).
    pub async fn complaint_message(&mut self, complaint_id: i64) -> Result<Option<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM messages WHERE complaint_id = ? AND direction = 'in' AND kind = 'complaint' ORDER BY id LIMIT 1",
        )
        .bind(complaint_id)
        .fetch_optional(&mut *self.tx)
        .await
    }

    /// The latest draft of the complaint's current round: its id and message row.
    pub async fn current_draft(
        &mut self,
        complaint_id: i64,
        round: u32,
    ) -> Result<Option<(i64, i64)>> {
        let row = sqlx::query("SELECT id, message_row FROM drafts WHERE complaint_id = ? AND round = ? ORDER BY id DESC LIMIT 1")
            .bind(complaint_id)
            .bind(round as i64)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    pub async fn record_disposition(
        &mut self,
        complaint_id: i64,
        by: &EmailAddress,
        division: &str,
        instruction: &str,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO dispositions (complaint_id, at, by_email, division, instruction, message_row) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(complaint_id)
            .bind(rfc3339(now))
            .bind(by.as_str())
            .bind(division)
            .bind(instruction)
            .bind(message_row)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn record_draft(
        &mut self,
        complaint_id: i64,
        round: u32,
        by: &EmailAddress,
        text: &str,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        sqlx::query_scalar(
            "INSERT INTO drafts (complaint_id, round, at, by_email, text, message_row) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(complaint_id)
        .bind(round as i64)
        .bind(rfc3339(now))
        .bind(by.as_str())
        .bind(text)
        .bind(message_row)
        .fetch_one(&mut *self.tx)
        .await
    }

    /// An approval (with the SHA-256 of exactly the text sent) or a rejection.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_decision(
        &mut self,
        complaint_id: i64,
        draft_id: i64,
        by: &EmailAddress,
        decision: &str,
        text: &str,
        text_sha256: Option<&str>,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO decisions (complaint_id, draft_id, at, by_email, decision, text, text_sha256, message_row)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(complaint_id)
        .bind(draft_id)
        .bind(rfc3339(now))
        .bind(by.as_str())
        .bind(decision)
        .bind(text)
        .bind(text_sha256)
        .bind(message_row)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    pub async fn record_unauthorized(
        &mut self,
        complaint_id: Option<i64>,
        sender: Option<&EmailAddress>,
        reason: &str,
        message_row: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query("INSERT INTO unauthorized (complaint_id, at, sender, reason, message_row) VALUES (?, ?, ?, ?, ?)")
            .bind(complaint_id)
            .bind(rfc3339(now))
            .bind(sender.map(EmailAddress::as_str))
            .bind(reason)
            .bind(message_row)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    pub async fn deadline_notices(&mut self, complaint_id: i64) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT kind FROM deadline_notices WHERE complaint_id = ?")
            .bind(complaint_id)
            .fetch_all(&mut *self.tx)
            .await
    }

    pub async fn mark_deadline_notices(
        &mut self,
        complaint_id: i64,
        kinds: &[String],
        now: DateTime<Utc>,
    ) -> Result<()> {
        for kind in kinds {
            sqlx::query("INSERT INTO deadline_notices (complaint_id, kind, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(complaint_id)
                .bind(kind)
                .bind(rfc3339(now))
                .execute(&mut *self.tx)
                .await?;
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
        let rows = sqlx::query(
            "SELECT id, deadline_at FROM complaints c WHERE deadline_at <= ?
             AND status NOT IN ('selesai', 'ditutup')
             AND NOT EXISTS (SELECT 1 FROM deadline_notices n WHERE n.complaint_id = c.id AND n.kind = 'overdue')
             ORDER BY deadline_at",
        )
        .bind(rfc3339(before))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((r.get(0), parse_rfc3339(&r.get::<String, _>(1))?)))
            .collect())
    }
}

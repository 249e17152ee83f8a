-- A message the SMTP server accepted can still bounce later: a delivery status
-- notification (or a non-standard bounce) names it, and its row becomes 'bounced' with
-- the reason and when the bounce arrived. SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt with the same columns, keys and indexes.
CREATE TABLE outbox_rebuilt (
    id              INTEGER PRIMARY KEY,
    message_row     INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    complaint_id    INTEGER REFERENCES complaints (id),
    purpose         TEXT NOT NULL,
    envelope_from   TEXT NOT NULL,
    recipients_json TEXT NOT NULL,
    first_recipient TEXT NOT NULL,
    raw_sha256      TEXT NOT NULL REFERENCES blobs (sha256),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'bounced')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    copied_at       TEXT,
    splices         TEXT,
    bounced_at      TEXT,
    bounce_reason   TEXT
);
INSERT INTO outbox_rebuilt (id, message_row, complaint_id, purpose, envelope_from, recipients_json,
                            first_recipient, raw_sha256, status, attempts, next_attempt_at, last_error,
                            created_at, sent_at, copied_at, splices)
    SELECT id, message_row, complaint_id, purpose, envelope_from, recipients_json, first_recipient,
           raw_sha256, status, attempts, next_attempt_at, last_error, created_at, sent_at, copied_at, splices
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (purpose, first_recipient, created_at);
CREATE INDEX outbox_uncopied ON outbox (status, copied_at);
CREATE INDEX outbox_pending_by_id ON outbox (status, id);

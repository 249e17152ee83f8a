-- The complaint register and everything the worker received and sent.
-- Times are RFC 3339 UTC text (lexicographic order = time order).

-- Content-addressed bytes: raw messages (evidence) and attachments, stored once each.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY NOT NULL,
    size   INTEGER NOT NULL,
    data   BLOB NOT NULL
);

-- Per-year register sequence: numbers are taken inside the transaction that records the
-- complaint, so a rolled-back batch leaves no gap.
CREATE TABLE register_sequence (
    year INTEGER PRIMARY KEY NOT NULL,
    last INTEGER NOT NULL
);

CREATE TABLE complaints (
    id             INTEGER PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('menunggu_disposisi', 'menunggu_jawaban',
                       'menunggu_persetujuan', 'selesai', 'ditutup')),
    channel        TEXT NOT NULL,
    reporter_name  TEXT,
    reporter_email TEXT NOT NULL,
    subject        TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    deadline_at    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX complaints_status ON complaints (status, received_at);

-- Every message in or out. message_key is the Message-ID, or "sha256:<hex>" of the raw
-- bytes when there is none: the second half of exactly-once ingest.
CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    direction         TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    kind              TEXT NOT NULL,
    complaint_id      INTEGER REFERENCES complaints (id),
    message_key       TEXT NOT NULL UNIQUE,
    message_id        TEXT,
    in_reply_to       TEXT,
    references_json   TEXT NOT NULL DEFAULT '[]',
    from_name         TEXT,
    from_email        TEXT,
    to_json           TEXT NOT NULL DEFAULT '[]',
    subject           TEXT NOT NULL DEFAULT '',
    date              TEXT,
    body_text         TEXT NOT NULL DEFAULT '',
    raw_sha256        TEXT REFERENCES blobs (sha256),
    quarantine_reason TEXT,
    note              TEXT,
    recorded_at       TEXT NOT NULL
);
CREATE INDEX messages_complaint ON messages (complaint_id, id);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_kind ON messages (kind, recorded_at);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    position     INTEGER NOT NULL,
    filename     TEXT,
    content_type TEXT NOT NULL,
    disposition  TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL REFERENCES blobs (sha256),
    UNIQUE (message_row, position)
);

-- Where each IMAP message was seen and where it must go: the first half of exactly-once
-- ingest. A receipt without moved_at is a message committed but not yet moved.
CREATE TABLE imap_receipts (
    mailbox      TEXT NOT NULL,
    uid_validity INTEGER NOT NULL,
    uid          INTEGER NOT NULL,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    destination  TEXT NOT NULL CHECK (destination IN ('processed', 'quarantine')),
    recorded_at  TEXT NOT NULL,
    moved_at     TEXT,
    PRIMARY KEY (mailbox, uid_validity, uid)
);

-- Audit trail: every change to a complaint, who or what made it, and why.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER REFERENCES complaints (id),
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_complaint ON events (complaint_id, id);

-- Transactional outbox: written in the same transaction as the change that caused it,
-- delivered after commit. status: pending → sending → sent | failed | uncertain.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_row     INTEGER NOT NULL UNIQUE REFERENCES messages (id),
    complaint_id    INTEGER REFERENCES complaints (id),
    purpose         TEXT NOT NULL,
    envelope_from   TEXT NOT NULL,
    recipients_json TEXT NOT NULL,
    first_recipient TEXT NOT NULL,
    raw_sha256      TEXT NOT NULL REFERENCES blobs (sha256),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (purpose, first_recipient, created_at);

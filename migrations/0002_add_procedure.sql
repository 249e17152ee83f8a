-- The office procedure: disposition → draft → approval → answer.

ALTER TABLE complaints ADD COLUMN division TEXT;
-- Draft round: 1 after the disposition, +1 after each rejection. Tokens name it, so a
-- reply to an earlier round's notification cannot act.
ALTER TABLE complaints ADD COLUMN round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE complaints ADD COLUMN closed_reason TEXT;

-- Which stage, role and recipient an outgoing notification was for (its token covers them).
ALTER TABLE messages ADD COLUMN stage TEXT;
ALTER TABLE messages ADD COLUMN role TEXT;
ALTER TABLE messages ADD COLUMN recipient TEXT;

-- The disposition sheet (lembar disposisi).
CREATE TABLE dispositions (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    at           TEXT NOT NULL,
    by_email     TEXT NOT NULL,
    division     TEXT NOT NULL,
    instruction  TEXT NOT NULL,
    message_row  INTEGER NOT NULL REFERENCES messages (id)
);
CREATE INDEX dispositions_complaint ON dispositions (complaint_id);

CREATE TABLE drafts (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    round        INTEGER NOT NULL,
    at           TEXT NOT NULL,
    by_email     TEXT NOT NULL,
    text         TEXT NOT NULL,
    message_row  INTEGER NOT NULL REFERENCES messages (id)
);
CREATE INDEX drafts_complaint ON drafts (complaint_id, id);

-- Approvals and rejections; an approval stores the SHA-256 of exactly the text sent.
CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    draft_id     INTEGER NOT NULL REFERENCES drafts (id),
    at           TEXT NOT NULL,
    by_email     TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('setuju', 'tolak')),
    text         TEXT NOT NULL,
    text_sha256  TEXT,
    message_row  INTEGER NOT NULL REFERENCES messages (id)
);
CREATE INDEX decisions_complaint ON decisions (complaint_id, id);

-- Replies that tried to act without the right to.
CREATE TABLE unauthorized (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER REFERENCES complaints (id),
    at           TEXT NOT NULL,
    sender       TEXT,
    reason       TEXT NOT NULL,
    message_row  INTEGER NOT NULL REFERENCES messages (id)
);
CREATE INDEX unauthorized_complaint ON unauthorized (complaint_id);

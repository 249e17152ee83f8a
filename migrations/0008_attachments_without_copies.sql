-- A file's bytes stay inside the raw message it came in (the archive beside the
-- database), parsed out again when it is sent on: `attachments` describes the files
-- (name, type, size, hash of the decoded bytes) and no longer names a blob of its own.
-- Blobs written for attachments by earlier versions stay where they are.
CREATE TABLE attachments_described (
    id           INTEGER PRIMARY KEY,
    message_row  INTEGER NOT NULL REFERENCES messages (id),
    position     INTEGER NOT NULL,
    filename     TEXT,
    content_type TEXT NOT NULL,
    disposition  TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    UNIQUE (message_row, position)
);

INSERT INTO attachments_described (id, message_row, position, filename, content_type, disposition, size, sha256)
SELECT id, message_row, position, filename, content_type, disposition, size, sha256 FROM attachments;

DROP TABLE attachments;

ALTER TABLE attachments_described RENAME TO attachments;

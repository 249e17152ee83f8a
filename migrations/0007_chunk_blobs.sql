-- Blob bytes in chunks of at most 1 MiB. SQLite copies a bound value and again the
-- record it builds from it, so a 50 MB message written as one value cost two extra
-- copies of itself in memory; a chunk at a time costs two extra chunks.
-- `blobs` keeps one row per content hash (its size); `blob_chunks` holds the bytes.
CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
);

INSERT INTO blob_chunks (sha256, seq, data) SELECT sha256, 0, data FROM blobs;

ALTER TABLE blobs DROP COLUMN data;

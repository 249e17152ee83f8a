-- What ClamAV's clamd found in each file, by the SHA-256 of its decoded bytes (as in
-- `attachments`), when scan.clamd is set. A file is forwarded to officials only once it
-- is 'clean'. 'unscanned': clamd gave no finding (unreachable, too slow; `problem` says
-- why): the file is held back, scanned again on later cycles, and once clean forwarded
-- to whoever holds the complaint (forwarded_at).
CREATE TABLE scans (
    sha256       TEXT PRIMARY KEY NOT NULL,
    verdict      TEXT NOT NULL CHECK (verdict IN ('clean', 'infected', 'unscanned')),
    signature    TEXT,
    problem      TEXT,
    scanned_at   TEXT NOT NULL,
    forwarded_at TEXT
);
CREATE INDEX scans_unscanned ON scans (scanned_at) WHERE verdict = 'unscanned';
-- Where a held file was seen, to read it again from its archived message.
CREATE INDEX attachments_sha256 ON attachments (sha256);

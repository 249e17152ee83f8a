-- The office's books: a month's complaints are read by the time they were received
-- (`report`, `agenda`).
CREATE INDEX complaints_received ON complaints (received_at);

-- The monthly report is emailed once per month: this row and the outbox row that carries
-- the mail are written in one transaction, so a worker killed at any instant neither
-- loses nor repeats it. month is YYYY-MM in the office's time zone; outbox_id names the
-- outbox row (no foreign key, so that a later rebuild of the outbox table needs no change
-- here).
CREATE TABLE monthly_reports (
    month     TEXT PRIMARY KEY NOT NULL,
    outbox_id INTEGER NOT NULL,
    queued_at TEXT NOT NULL
);

-- Reminders before the deadline and the overdue notice, each sent once per complaint.
CREATE TABLE deadline_notices (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id),
    kind         TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (complaint_id, kind)
);
CREATE INDEX complaints_deadline ON complaints (deadline_at);

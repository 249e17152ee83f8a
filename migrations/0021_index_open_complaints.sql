-- A register grows for years; the open complaints stay a small share of it. Every lookup
-- by deadline (the cycle's deadline sweep, `list --overdue`, the overdue gauge) is about
-- open complaints only, and spells `status NOT IN ('selesai', 'ditutup')` as this partial
-- index does, so it reads the open ones and never the closed ones; complaints_deadline
-- held every complaint ever received.
DROP INDEX complaints_deadline;
CREATE INDEX complaints_open_deadline ON complaints (deadline_at)
    WHERE status NOT IN ('selesai', 'ditutup');

-- `list --status S` prints in register order up to its limit: an index in that order
-- lets it stop there instead of sorting every complaint of that status. It replaces
-- (status, received_at), which no lookup ordered by.
DROP INDEX complaints_status;
CREATE INDEX complaints_status ON complaints (status, year, seq);

-- The deadline sweep looks for open complaints that still have a notice to come. Once the
-- overdue notice went out nothing is due for a complaint again, however long it stays
-- open: `overdue_notice_at` (written with that notice) takes it out of complaints_due, so
-- an idle cycle does not step over every long-overdue open complaint.
ALTER TABLE complaints ADD COLUMN overdue_notice_at TEXT;
UPDATE complaints SET overdue_notice_at =
    (SELECT n.at FROM deadline_notices n WHERE n.complaint_id = complaints.id AND n.kind = 'overdue')
    WHERE id IN (SELECT complaint_id FROM deadline_notices WHERE kind = 'overdue');
CREATE INDEX complaints_due ON complaints (deadline_at)
    WHERE status NOT IN ('selesai', 'ditutup') AND overdue_notice_at IS NULL;

-- The delivery pass pages through the due rows in id order (`status = 'pending' AND
-- next_attempt_at <= ? AND id > ? ORDER BY id LIMIT ?`). Through outbox_due that read
-- every due row and sorted them, for each page and for the "anything to send?" check:
-- 130-200 ms each with 97,000 rows queued (a burst while the SMTP server is down). In id
-- order the search stops at the end of the page.
CREATE INDEX outbox_pending_by_id ON outbox (status, id);

-- When imap.sent_mailbox is set, every sent message is also appended there, so the shared
-- mailbox shows the whole conversation. copied_at marks the rows already appended.
ALTER TABLE outbox ADD COLUMN copied_at TEXT;
CREATE INDEX outbox_uncopied ON outbox (status, copied_at);

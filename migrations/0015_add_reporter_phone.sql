-- Complaints by SMS (and those the administrator registers with a phone number): the
-- reporter's number, normalised to +62…. An SMS reporter's reporter_email is the gateway
-- address of that number, so threading and rate limits stay per number.
ALTER TABLE complaints ADD COLUMN reporter_phone TEXT;
CREATE INDEX complaints_reporter_phone ON complaints (reporter_phone) WHERE reporter_phone IS NOT NULL;

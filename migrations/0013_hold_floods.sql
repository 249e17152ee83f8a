-- A flood from one sender must not flood the officials. Beyond
-- office.disposition_requests_per_sender_per_day complaints from one sender in 24 hours,
-- a complaint is registered but its disposition request is held (held_at) and it is
-- listed in one digest to the admin (held_digest: the digest's Message-ID). The admin
-- forwards them (TERUSKAN) or closes them (TUTUP) by replying to the digest.
ALTER TABLE complaints ADD COLUMN held_at TEXT;
ALTER TABLE complaints ADD COLUMN held_digest TEXT;
-- Complaints from one sender in a time window.
CREATE INDEX complaints_reporter ON complaints (reporter_email, received_at);
-- Held complaints: those not yet listed, and those a digest listed.
CREATE INDEX complaints_held ON complaints (held_digest) WHERE held_at IS NOT NULL;

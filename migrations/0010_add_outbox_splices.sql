-- A notification that forwards a citizen's files does not carry a second copy of them:
-- its stored bytes name ranges of the archived message instead (JSON list of splices:
-- at, len, blob, start, end; NULL when there are none), filled in when it is sent.
ALTER TABLE outbox ADD COLUMN splices TEXT;

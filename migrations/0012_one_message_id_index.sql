-- A message with a Message-ID is recorded under it: its exactly-once key (message_key,
-- UNIQUE) is that Message-ID, for mail received and sent alike. So messages_message_id
-- indexed the same strings a second time, and every citizen's message (a random
-- Message-ID) dirtied one more page at a random place in each batch. Lookups by
-- Message-ID go through message_key; a quarantined message released for a retry gives
-- its key up ('retried:<id>:<key>') and is no longer found by it, as it should not be.
DROP INDEX messages_message_id;

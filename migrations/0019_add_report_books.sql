-- The office's books: a month's complaints are read by the time they were received
-- (`report`, `agenda`).
CREATE INDEX complaints_received ON complaints (received_at);

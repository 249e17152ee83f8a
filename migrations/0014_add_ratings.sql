-- Satisfaction survey (Survei Kepuasan Masyarakat, PermenPAN-RB 14/2017): at most one
-- rating per complaint; a later rating replaces the earlier one. score is the citizen's
-- answer on the 1–4 scale: the single digit they replied with, or the mean of the nine
-- elements when they filled in the full form (elements_json: the nine answers in order).
CREATE TABLE ratings (
    complaint_id  INTEGER PRIMARY KEY NOT NULL REFERENCES complaints (id),
    score         REAL NOT NULL CHECK (score >= 1 AND score <= 4),
    elements_json TEXT,
    comment       TEXT,
    message_row   INTEGER REFERENCES messages (id),
    rated_at      TEXT NOT NULL
);
CREATE INDEX ratings_rated_at ON ratings (rated_at);

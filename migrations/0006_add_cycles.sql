-- Every completed cycle, for `status` and the metrics.
CREATE TABLE cycles (
    id          INTEGER PRIMARY KEY,
    finished_at TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    report      TEXT NOT NULL
);
CREATE INDEX cycles_ok ON cycles (ok, id);

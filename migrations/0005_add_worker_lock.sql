-- One worker at a time: a lease held by (host, pid, process start time). A holder on the
-- same host whose process is gone is taken over at once; the lease matters across hosts.
CREATE TABLE worker_lock (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    host        TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    started     TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

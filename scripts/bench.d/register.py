"""P7, a large register: the commands an office runs every day, on a register of a million
complaints against the same commands on one of 10,000 (scripts/bench --only P7).

The register is grown from a template that the real worker wrote (`run --once` over a
corpus of complaints), so every row has the store's own shape: each template complaint
is copied with its messages, events, outgoing mail and IMAP receipts, under new ids,
register numbers and Message-IDs. Complaints arrive at 100,000 a year, the newest now;
1 % of them (the newest) are open and mostly within their deadline, another 1 %, spread
over the years, are open and long overdue (their overdue notice sent); the rest are
`selesai`. Copies share the template's stored message bytes, so the archive per complaint
is the template's (a grown register does not write its archive again).
"""

import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

PER_YEAR = 100_000
SECONDS_PER_COMPLAINT = 365 * 86400 / PER_YEAR
DEADLINE_SECONDS = 3 * 86400
OPEN_STATUSES = ("menunggu_disposisi", "menunggu_jawaban", "menunggu_persetujuan")


def grow(template, out, n, now=None):
    """Writes a register of `n` complaints at `out` from the worker-written `template`."""
    now = now or time.time()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{out}{suffix}"):
            os.unlink(f"{out}{suffix}")
    src = sqlite3.connect(template)
    src.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    shutil.copyfile(template, out)
    if os.path.isdir(f"{out}.archive"):
        shutil.rmtree(f"{out}.archive")
    shutil.copytree(f"{template}.archive", f"{out}.archive", copy_function=os.link)
    con = sqlite3.connect(out)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -262144")
    con.execute("ATTACH ? AS t", (str(template),))
    off = _offsets_of(con)
    reps = -(-n // off["k"])
    con.execute("BEGIN")
    for table in ("deadline_notices", "imap_receipts", "outbox", "events", "messages", "complaints",
                  "cycles", "worker_lock"):
        con.execute(f"DELETE FROM main.{table}")
    # reps(k): the copy number; i: the complaint's place in the register (0 = oldest).
    cte = f"WITH RECURSIVE reps(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM reps WHERE k < {reps - 1}) "
    i = f"(c.id - 1 + reps.k * {off['k']})"
    received = f"({now} - ({n} - 1 - {i}) * {SECONDS_PER_COMPLAINT})"
    is_open = f"({i} >= {n} - {n} / 100 OR {i} % 100 = 50)"
    ts = lambda e: f"strftime('%Y-%m-%dT%H:%M:%SZ', {e}, 'unixepoch')"  # noqa: E731
    con.execute(f"""{cte}
        INSERT INTO main.complaints (id, number, year, seq, status, channel, reporter_name, reporter_email,
            subject, received_at, deadline_at, created_at, updated_at, division, round, closed_reason)
        SELECT c.id + reps.k * {off['c']},
               printf('ADU-%s-%06d', strftime('%Y', {received}, 'unixepoch'), {i} + 1),
               CAST(strftime('%Y', {received}, 'unixepoch') AS INTEGER), {i} + 1,
               CASE WHEN {is_open} THEN (CASE {i} % 3 WHEN 0 THEN '{OPEN_STATUSES[0]}'
                    WHEN 1 THEN '{OPEN_STATUSES[1]}' ELSE '{OPEN_STATUSES[2]}' END) ELSE 'selesai' END,
               c.channel, c.reporter_name, c.reporter_email, c.subject,
               {ts(received)}, {ts(received + ' + ' + str(DEADLINE_SECONDS))}, {ts(received)}, {ts(received)},
               CASE WHEN {is_open} AND {i} % 3 = 0 THEN NULL ELSE 'aptika' END, 0, NULL
        FROM t.complaints c, reps WHERE {i} < {n}""")
    con.execute(f"""{cte}
        INSERT INTO main.messages (id, direction, kind, complaint_id, message_key, message_id, in_reply_to,
            references_json, from_name, from_email, to_json, subject, date, body_text, raw_sha256,
            quarantine_reason, note, recorded_at, stage, role, recipient)
        SELECT m.id + reps.k * {off['m']}, m.direction, m.kind, m.complaint_id + reps.k * {off['c']},
               m.message_key || '.' || reps.k, m.message_id || '.' || reps.k, m.in_reply_to, m.references_json,
               m.from_name, m.from_email, m.to_json, m.subject, m.date, m.body_text, m.raw_sha256,
               m.quarantine_reason, m.note, m.recorded_at, m.stage, m.role, m.recipient
        FROM t.messages m, reps WHERE m.complaint_id - 1 + reps.k * {off['k']} < {n}""")
    con.execute(f"""{cte}
        INSERT INTO main.events (id, complaint_id, at, actor, action, detail)
        SELECT e.id + reps.k * {off['e']}, e.complaint_id + reps.k * {off['c']}, e.at, e.actor, e.action, e.detail
        FROM t.events e, reps WHERE e.complaint_id - 1 + reps.k * {off['k']} < {n}""")
    con.execute(f"""{cte}
        INSERT INTO main.outbox (id, message_row, complaint_id, purpose, envelope_from, recipients_json,
            first_recipient, raw_sha256, status, attempts, next_attempt_at, created_at, sent_at, copied_at, splices)
        SELECT o.id + reps.k * {off['o']}, o.message_row + reps.k * {off['m']}, o.complaint_id + reps.k * {off['c']},
               o.purpose, o.envelope_from, o.recipients_json, o.first_recipient, o.raw_sha256, 'sent', 1,
               o.next_attempt_at, o.created_at, o.created_at, o.created_at, o.splices
        FROM t.outbox o, reps WHERE o.complaint_id - 1 + reps.k * {off['k']} < {n}""")
    con.execute(f"""{cte}
        INSERT INTO main.imap_receipts (mailbox, uid_validity, uid, message_row, destination, recorded_at, moved_at)
        SELECT r.mailbox, r.uid_validity, r.uid + reps.k * {off['u']}, r.message_row + reps.k * {off['m']},
               r.destination, r.recorded_at, r.moved_at
        FROM t.imap_receipts r JOIN t.messages m ON m.id = r.message_row, reps
        WHERE m.complaint_id - 1 + reps.k * {off['k']} < {n}""")
    # The worker sent the reminders and the overdue notice of every open complaint past its deadline.
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for kind in ("reminder:24", "reminder:6", "overdue"):
        con.execute("""INSERT INTO main.deadline_notices (complaint_id, kind, at)
                       SELECT id, ?, deadline_at FROM main.complaints
                       WHERE status NOT IN ('selesai', 'ditutup') AND deadline_at < ?""", (kind, stamp))
    if any(row[1] == "overdue_notice_at" for row in con.execute("PRAGMA main.table_info(complaints)")):
        con.execute("""UPDATE main.complaints SET overdue_notice_at = deadline_at
                       WHERE status NOT IN ('selesai', 'ditutup') AND deadline_at < ?""", (stamp,))
    con.execute("DELETE FROM main.register_sequence")
    con.execute("INSERT INTO main.register_sequence (year, last) SELECT year, max(seq) FROM main.complaints GROUP BY year")
    con.execute("COMMIT")
    con.execute("DETACH t")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("complaints", "messages", "events", "outbox")}
    counts["open"] = con.execute("SELECT count(*) FROM complaints WHERE status <> 'selesai'").fetchone()[0]
    counts["overdue"] = con.execute("SELECT count(*) FROM complaints WHERE status <> 'selesai' AND deadline_at < ?",
                                    (stamp,)).fetchone()[0]
    con.close()
    return counts


def _offsets_of(con):
    q = lambda sql: con.execute(sql).fetchone()[0] or 0  # noqa: E731
    return {"c": q("SELECT max(id) FROM t.complaints"), "k": q("SELECT count(*) FROM t.complaints"),
            "m": q("SELECT max(id) FROM t.messages"), "e": q("SELECT max(id) FROM t.events"),
            "o": q("SELECT max(id) FROM t.outbox"), "u": q("SELECT max(uid) FROM t.imap_receipts")}


def _env(db):
    env = dict(os.environ)
    env["PENGADUAN__DATABASE__URL"] = f"sqlite://{db}"
    for k in ("PENGADUAN_FAILPOINT", "PENGADUAN_NOW", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"):
        env.pop(k, None)
    return env


def _commands(bench, db, number):
    base = [str(bench.bin), "--config", str(bench.settings)]
    return {"idle": base + ["--log-format", "json", "run", "--once"],
            "list_status": base + ["list", "--status", "menunggu_jawaban"],
            "list_overdue": base + ["list", "--overdue"],
            "show": base + ["show", number]}


def _sample_number(db):
    """A complaint closed long ago, from the middle of the register, and an open one."""
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM complaints").fetchone()[0]
    number = con.execute("SELECT number FROM complaints WHERE id >= ? ORDER BY id LIMIT 1", (n // 2,)).fetchone()[0]
    con.close()
    return number


def p7(bench, B, small_n, big_n, runs):
    """Grows both registers from one worker-written template and times the commands on
    each, alternating in a shuffled order every round; the figure per command is the
    median of the per-round ratios big/small."""
    bench.bin = B.BIN
    maildir, _ = bench.corpus("small", 1000)
    bench.restore_inbox(maildir, 1000)
    template = B.RUN / "p7-template.db"
    B.rm_db(template)
    bench.pengaduan(template, "p7-template")
    archive_per_complaint = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(f"{template}.archive")
                                for f in fs) / 1000
    bench.restore_inbox(None, 0)
    dbs, info = {}, {}
    for key, n in (("small", small_n), ("big", big_n)):
        db = B.RUN / f"p7-{key}.db"
        B.rm_db(db)
        t0 = time.time()
        counts = subprocess.run(["nice", sys.executable, __file__, "grow", str(template), str(db), str(n)],
                                check=True, capture_output=True, text=True).stdout
        B.log(f"P7: register of {n} written in {time.time() - t0:.0f} s: {counts.strip()}")
        warm = bench.pengaduan(db, f"p7-{key}-warm")  # migrates; queues the reminders now due
        B.log(f"P7 {key}: first cycle (migration, reminders) {warm['wall']:.2f} s")
        # The steady state: what the first cycle queued was delivered.
        con = sqlite3.connect(db)
        con.execute("UPDATE outbox SET status = 'sent', sent_at = next_attempt_at, attempts = 1 WHERE status <> 'sent'")
        con.commit()
        con.close()
        dbs[key] = db
        info[key] = {"n": n, "counts": counts.strip(), "number": _sample_number(db),
                     "db_bytes": sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal") if os.path.exists(f"{db}{s}"))}
    rows = []
    for k in range(runs):
        jobs = [(key, name, cmd) for key in dbs
                for name, cmd in _commands(bench, dbs[key], info[key]["number"]).items()]
        random.Random(f"p7-{k}").shuffle(jobs)
        row = {}
        for key, name, cmd in jobs:
            r = B.timed(cmd, stdout=B.LOGS / f"p7-{key}-{name}.out", stderr=B.LOGS / f"p7-{key}-{name}.err",
                        env=_env(dbs[key]))
            if r["rc"] != 0 or (B.LOGS / f"p7-{key}-{name}.out").stat().st_size == 0:
                raise SystemExit(f"bench: P7 {key} {name} failed; see {B.LOGS}/p7-{key}-{name}.err")
            row[(key, name)] = r
        rows.append(row)
    res = {"small_n": small_n, "big_n": big_n, "runs": runs, "info": info,
           "archive_bytes_per_complaint": archive_per_complaint,
           "db_bytes_per_complaint": info["big"]["db_bytes"] / big_n, "commands": {}}
    for name in ("idle", "list_status", "list_overdue", "show"):
        small = [r[("small", name)]["wall"] for r in rows]
        big = [r[("big", name)]["wall"] for r in rows]
        res["commands"][name] = {
            "small_ms": 1000 * statistics.median(small), "big_ms": 1000 * statistics.median(big),
            "ratio": statistics.median([b / s for b, s in zip(big, small)]),
            "max_rss_kib": max(r[("big", name)]["maxrss_kib"] for r in rows)}
        c = res["commands"][name]
        B.log(f"P7 {name}: {c['small_ms']:.1f} ms at {small_n}, {c['big_ms']:.1f} ms at {big_n}, "
              f"ratio {c['ratio']:.2f}, peak RSS {c['max_rss_kib'] / 1024:.1f} MiB")
    for key in dbs:
        B.rm_db(dbs[key])
    return res


TARGETS = {"idle": "≤ 1.2 ×, < 50 ms", "list_status": "≤ 1.2 ×", "list_overdue": "≤ 1.2 ×",
           "show": "≤ 1.2 ×, < 50 ms"}
LABELS = {"idle": "idle `run --once`", "list_status": "`list --status menunggu_jawaban`",
          "list_overdue": "`list --overdue`", "show": "`show`"}


def table_rows(p7res):
    """Lines of the report's figure table."""
    lines = []
    for name, c in p7res["commands"].items():
        ok = c["ratio"] <= 1.2 and (name not in ("idle", "show") or c["big_ms"] < 50)
        lines.append(f"| P7 {LABELS[name]}, register of {p7res['big_n']:,} | {c['big_ms']:.1f} ms "
                     f"(peak RSS {c['max_rss_kib'] / 1024:.0f} MiB) | {p7res['small_n']:,}: {c['small_ms']:.1f} ms | "
                     f"{c['ratio']:.2f} × | {TARGETS[name]} | {'yes' if ok else 'NO'} |")
    return lines


def notes(p7res):
    return [f"P7: {p7res['info']['big']['counts']}; database {p7res['db_bytes_per_complaint'] / 1e3:.1f} kB per "
            f"complaint, archive {p7res['archive_bytes_per_complaint'] / 1e3:.1f} kB per complaint (the template's: "
            f"copies share its stored messages).", ""]


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "grow":
        print(json.dumps(grow(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        sys.exit("usage: register.py grow TEMPLATE OUT N")

"""P6, officials' replies in bulk (scripts/bench --only P6): complaints already registered
and notified, then the officials' replies of each stage in the INBOX (the Kepala Dinas's
disposition, the division's draft, a fifth of them with a 100 KB attachment, the Kasubbag's
approval), each processed by `run --once` with the outgoing relay reachable (Postfix holds
what it accepts), until every complaint is `selesai` and every answer is sent. Each reply
answers the notification the worker queued and sent for that stage (its Message-ID, which
carries the stage's token, in In-Reply-To and References), as an official's mail client
does. The baseline is P1's: `run --once` over the same number of new complaints, side by
side in the same run; the figure is time per message. Each round also runs the replies
with the relay unreachable (what the cycles cost without sending their 8,000 messages),
then has Python smtplib send what that run queued to the same Postfix (the mail system's
own floor for those messages), for a second ratio: against P1 plus that floor.
"""

import email.utils
import json
import os
import pwd
import random
import sqlite3
import statistics
import sys
import time
from email import policy
from email.message import EmailMessage

OFFICE = "diskominfo@kaltaraprov.go.id"
STAGES = (  # (stage of the notification answered, status it leaves, reply text)
    ("disposisi", "menunggu_disposisi", "aptika - mohon segera ditindaklanjuti"),
    ("jawaban", "menunggu_jawaban",
     "Terima kasih atas laporan Bapak/Ibu. Laporan ini telah kami teruskan kepada dinas terkait "
     "dan akan ditindaklanjuti paling lambat dalam tujuh hari kerja."),
    ("persetujuan", "menunggu_persetujuan", "Setuju."),
)
ATTACHMENT_BYTES = 100 * 1000


def notifications(db, stage, status):
    """The newest notification of `stage` of every complaint in `status`."""
    con = sqlite3.connect(db)
    rows = con.execute(
        """SELECT m.message_key, m.recipient, m.subject FROM messages m JOIN complaints c ON c.id = m.complaint_id
           WHERE m.direction = 'out' AND m.stage LIKE ? AND c.status = ?
             AND m.id = (SELECT max(id) FROM messages x WHERE x.complaint_id = c.id AND x.direction = 'out'
                         AND x.stage LIKE ?)
           ORDER BY c.id""", (stage + "%", status, stage + "%")).fetchall()
    con.close()
    return rows


def reply(k, key, official, subject, text, attachment):
    msg = EmailMessage()
    msg["From"] = official
    msg["To"] = OFFICE
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = f"<bench-reply-{k}-{random.getrandbits(64):016x}@mail.kaltaraprov.go.id>"
    msg["In-Reply-To"] = f"<{key}>"
    msg["References"] = f"<{key}>"
    msg.set_content(f"{text}\n\n-- \n{official}\n")
    if attachment:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename=f"surat-{k}.pdf")
    # As mail clients write it (Message-IDs never folded or encoded), stored as Dovecot
    # stores mail: LF line ends.
    return msg.as_bytes(policy=policy.default.clone(max_line_length=998))


def write_stage(db, stage_index, out, seed):
    """Writes the replies to one stage's notifications into the Maildir `out`; returns
    how many and their bytes."""
    sys.path.insert(0, os.path.dirname(__file__))
    import corpus
    stage, status, text = STAGES[stage_index]
    rows = notifications(db, stage, status)
    mail = pwd.getpwnam("mail")
    owner = (mail.pw_uid, mail.pw_gid)
    cur = corpus.maildir(out)
    rng = random.Random(f"{seed}-p6-{stage}")
    random.seed(f"{seed}-p6-ids-{stage}")
    total = 0
    now = int(time.time())
    for k, (key, official, subject) in enumerate(rows):
        attachment = rng.randbytes(ATTACHMENT_BYTES) if stage == "jawaban" and k % 5 == 0 else None
        raw = reply(f"{stage}-{k}", key, official, subject, text, attachment)
        total += corpus.write(cur, k, seed, raw, now - len(rows) + k, owner)
    corpus.finish(out, owner)
    return len(rows), total


def statuses(db):
    con = sqlite3.connect(db)
    out = dict(con.execute("SELECT status, count(*) FROM complaints GROUP BY status").fetchall())
    out["outbox_unsent"] = con.execute("SELECT count(*) FROM outbox WHERE status <> 'sent'").fetchone()[0]
    out["answers_sent"] = con.execute(
        "SELECT count(*) FROM outbox WHERE purpose = 'jawab' AND status = 'sent'").fetchone()[0]
    con.close()
    return out


def p6(bench, B, n, pairs):
    """Rounds of (the replies sent, the replies unsent then the same mail sent by smtplib,
    n new complaints), in rotating order."""
    maildir, stats = bench.corpus("small", n)
    notified = B.RUN / "p6-notified.db"
    bench.postfix_hold()
    bench.restore_inbox(maildir, n)
    B.rm_db(notified)
    bench.pengaduan(notified, "p6-register", smtp_port=bench.smtp_port)
    purge(bench)
    db = B.RUN / "p6.db"
    rows = []
    for k in range(pairs):
        order = ["replies", "complaints", "replies_unsent"]
        order = order[k % 3:] + order[:k % 3]
        row = {"order": order}
        for which in order:
            if which == "replies_unsent":  # the same, SMTP unreachable: the processing alone
                B.cp_db(notified, db)
                row[which] = replies_run(bench, B, db, n, k, send=False)
                row["floor"] = floor(bench, B, db, k, n)
            elif which == "complaints":
                bench.restore_inbox(maildir, n)
                B.rm_db(db)
                r = bench.pengaduan(db, f"p6-{k}-p1")
                if r["cycle"]["complaints"] != n:
                    raise SystemExit(f"bench: P6 baseline registered {r['cycle']['complaints']} of {n}")
                row["complaints"] = {"wall": r["wall"], "per_msg_ms": 1000 * r["wall"] / n,
                                     "cpu": r["user"] + r["sys"], "maxrss_kib": r["maxrss_kib"]}
            else:
                B.cp_db(notified, db)
                row["replies"] = replies_run(bench, B, db, n, k)
            purge(bench)
            B.rm_db(db)
        replies_ms, complaints_ms = row["replies"]["per_msg_ms"], row["complaints"]["per_msg_ms"]
        row["ratio"] = replies_ms / complaints_ms
        row["ratio_unsent"] = row["replies_unsent"]["per_msg_ms"] / complaints_ms
        row["ratio_with_floor"] = replies_ms / (complaints_ms + row["floor"]["per_msg_ms"])
        rows.append(row)
        B.log(f"  P6 round {k + 1}/{pairs}: replies {replies_ms:.2f} ms/msg "
              f"({row['replies']['messages']} in {row['replies']['wall']:.2f} s, CPU {row['replies']['cpu']:.2f} s; "
              f"stages {', '.join(f'{w:.2f}' for w in row['replies']['stage_walls'])} s), unsent "
              f"{row['replies_unsent']['per_msg_ms']:.2f} ms/msg, smtplib sending the same "
              f"{row['floor']['sent']} messages {row['floor']['wall']:.2f} s, new complaints "
              f"{complaints_ms:.2f} ms/msg, ratio {row['ratio']:.2f} (unsent {row['ratio_unsent']:.2f}, "
              f"against new complaints plus smtplib {row['ratio_with_floor']:.2f})")
    B.rm_db(notified)
    med = statistics.median
    return {"n": n, "pairs": rows,
            "replies_ms": med(r["replies"]["per_msg_ms"] for r in rows),
            "complaints_ms": med(r["complaints"]["per_msg_ms"] for r in rows),
            "ratio": med(r["ratio"] for r in rows),
            "replies_unsent_ms": med(r["replies_unsent"]["per_msg_ms"] for r in rows),
            "ratio_unsent": med(r["ratio_unsent"] for r in rows),
            "floor_ms": med(r["floor"]["per_msg_ms"] for r in rows),
            "floor_sent": rows[0]["floor"]["sent"],
            "ratio_with_floor": med(r["ratio_with_floor"] for r in rows),
            "max_rss_kib": max(r["replies"]["maxrss_kib"] for r in rows)}


def purge(bench):
    """Empties Postfix's queue, then waits out ext4's window for recently freed inodes
    (see bench.discard): otherwise the next run's first few thousand queue files cost
    Postfix a kernel scan (measured: 14 % of the machine's time in the first stage)."""
    bench.postfix_purge()
    os.sync()
    time.sleep(11)


def floor(bench, B, db, k, n):
    """The mail system's own cost of the replies' outgoing mail: Python smtplib sending
    what the unsent run queued (the same messages, bytes and envelopes) to the same Postfix
    over as many connections as the worker uses (smtp.connections, 4); per reply processed."""
    purge(bench)
    r = B.timed([sys.executable, str(B.HERE / "smtp_send.py"), str(db), str(bench.smtp_port), "4"],
                stdout=B.LOGS / f"p6-{k}-smtplib.log", stderr=B.LOGS / f"p6-{k}-smtplib.err")
    if r["rc"] != 0:
        raise SystemExit(f"bench: P6 smtplib failed; see {B.LOGS}/p6-{k}-smtplib.err")
    inner = json.loads((B.LOGS / f"p6-{k}-smtplib.log").read_text())
    # The sending alone (not Python's start or its reading of the register): the floor.
    wall = inner["send_seconds"]
    return {"wall": wall, "sent": inner["sent"], "per_msg_ms": 1000 * wall / (len(STAGES) * n)}


def replies_run(bench, B, db, n, k, send=True):
    """The three stages on `db`: each stage's replies written into the INBOX (untimed),
    then `run --once` (timed) until the INBOX is empty; with `send`, to a reachable
    relay."""
    wall, cpu, messages, rss, stage_walls = 0.0, 0.0, 0, 0, []
    for i in range(len(STAGES)):
        out = B.RUN / "p6-inbox"
        B.discard(out)
        count, _ = write_stage(db, i, out / "Maildir", bench.args.seed)
        if count != n:
            raise SystemExit(f"bench: P6 found {count} notifications of stage {STAGES[i][0]}, expected {n}")
        # A recreated INBOX gets a new UIDVALIDITY (Dovecot: the current second); within
        # the same second the worker would take the new UIDs for ones it processed.
        time.sleep(1.1)
        bench.restore_inbox(out / "Maildir", count)
        # BENCH_P6_WRAP: as BENCH_P1_WRAP, around each stage's cycle with the relay reachable.
        wrap = os.environ.get("BENCH_P6_WRAP", "").split() if send else []
        r = bench.pengaduan(db, f"p6-{k}-{STAGES[i][0]}", smtp_port=bench.smtp_port if send else None,
                            wrap=[w.replace("{stage}", STAGES[i][0]) for w in wrap] or None)
        if bench.inbox_count():
            raise SystemExit(f"bench: P6 left mail in the INBOX after stage {STAGES[i][0]}")
        wall += r["wall"]
        cpu += r["user"] + r["sys"]
        stage_walls.append(r["wall"])
        messages += count
        rss = max(rss, r["maxrss_kib"])
    done = statuses(db)
    if done.get("selesai") != n or (send and (done["outbox_unsent"] or done["answers_sent"] != n)):
        raise SystemExit(f"bench: P6 did not finish every complaint: {done}")
    return {"wall": wall, "cpu": cpu, "messages": messages, "per_msg_ms": 1000 * wall / messages,
            "maxrss_kib": rss, "stage_walls": stage_walls}


def table_rows(p6res):
    ok = p6res["ratio"] <= 1.5
    return [f"| P6 officials' replies, {3 * p6res['n']:,} for {p6res['n']:,} complaints | "
            f"{p6res['replies_ms']:.2f} ms/msg (peak RSS {p6res['max_rss_kib'] / 1024:.0f} MiB) | "
            f"new complaints {p6res['complaints_ms']:.2f} ms/msg | {p6res['ratio']:.2f} × | ≤ 1.5 × | "
            f"{'yes' if ok else 'NO'} |",
            f"| P6 the same, SMTP unreachable (processing alone) | {p6res['replies_unsent_ms']:.2f} ms/msg | "
            f"new complaints {p6res['complaints_ms']:.2f} ms/msg | {p6res['ratio_unsent']:.2f} × | (≤ 1.5 ×) | "
            f"{'yes' if p6res['ratio_unsent'] <= 1.5 else 'NO'} |",
            f"| P6 against new complaints plus smtplib sending the same {p6res['floor_sent']:,} messages | "
            f"{p6res['replies_ms']:.2f} ms/msg | {p6res['complaints_ms']:.2f} + {p6res['floor_ms']:.2f} ms/msg | "
            f"{p6res['ratio_with_floor']:.2f} × | (≤ 1.5 ×) | {'yes' if p6res['ratio_with_floor'] <= 1.5 else 'NO'} |"]


if __name__ == "__main__":
    sys.exit("used by bench.py (scripts/bench --only P6)")

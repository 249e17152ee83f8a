"""P5, acknowledgment latency (scripts/bench --only P5): the long-running worker
(`pengaduan run`, IMAP IDLE) while complaints are submitted over SMTP to the stack's
Postfix at a steady rate. For each complaint: from the submitting client's `250` to the
acknowledgment accepted by the outgoing relay (a recording SMTP server in this process,
which answers `250` at once), against the mail system's own delivery time: from the same
`250` to the message being visible to a separate IMAP IDLE watcher. The watcher's mailbox
is a second recipient of every submission, delivered by Postfix in the same LMTP
transaction as the office's copy: the office INBOX itself is emptied by the worker as
fast as it fills. One process, one monotonic clock.
"""

import asyncio
import email
import email.utils
import imaplib
import json
import os
import re
import select
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time

OFFICE = "diskominfo@kaltaraprov.go.id"
WATCHER = "pengamat@kaltaraprov.go.id"
PASSWORD = "secret"
MSGID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.I | re.M)
IN_REPLY_TO = re.compile(rb"^In-Reply-To:\s*(<[^>]+>)", re.I | re.M)


class Relay:
    """A minimal SMTP server that accepts everything and records, per In-Reply-To, when
    it answered `250` to the message's data."""

    def __init__(self):
        self.accepted = {}
        self.sessions = 0
        self.messages = 0
        self.loop = asyncio.new_event_loop()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.sock = sock
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._session, sock=self.sock))
        self.server = server
        self.loop.run_forever()

    async def _session(self, reader, writer):
        self.sessions += 1
        writer.write(b"220 relay ESMTP\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-relay\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 104857600\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                chunks = []
                while True:
                    data = await reader.readline()
                    if data in (b".\r\n", b""):
                        break
                    chunks.append(data)
                head = b"".join(chunks).split(b"\r\n\r\n", 1)[0]
                m = IN_REPLY_TO.search(head)
                if m and m.group(1) not in self.accepted:
                    self.accepted[m.group(1)] = time.monotonic()
                self.messages += 1
                writer.write(b"250 2.0.0 accepted\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


class Watcher(threading.Thread):
    """Records when each Message-ID becomes visible in WATCHER's INBOX, by IMAP IDLE."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.seen = {}
        self.stop = False
        self.ready = threading.Event()

    def run(self):
        m = imaplib.IMAP4("127.0.0.1", self.port)
        m.login(WATCHER, PASSWORD)
        m.select("INBOX")
        last = 0
        self.ready.set()
        while not self.stop:
            tag = m._new_tag()
            m.send(tag + b" IDLE\r\n")
            m.readline()  # "+ idling"
            at = None
            while at is None and not self.stop:
                if not select.select([m.sock], [], [], 0.5)[0]:
                    continue
                if b"EXISTS" in m.readline():
                    at = time.monotonic()
            m.send(b"DONE\r\n")
            while not m.readline().startswith(tag):
                pass
            if at is None:
                break
            typ, data = m.uid("FETCH", f"{last + 1}:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            for part in data:
                if isinstance(part, tuple):
                    uid = int(re.search(rb"UID (\d+)", part[0]).group(1))
                    last = max(last, uid)
                    mid = MSGID.search(part[1])
                    if mid and mid.group(1) not in self.seen:
                        self.seen[mid.group(1)] = at
        m.logout()


def percentiles(xs):
    xs = sorted(xs)
    if not xs:
        return {}
    at = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]  # noqa: E731
    return {"p10": at(0.10), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": xs[-1],
            "mean": statistics.fmean(xs)}


def submissions(bench, n, seed):
    sys.path.insert(0, os.path.dirname(__file__))
    import corpus
    c = corpus.Corpus(n, seed)
    out = []
    for i in range(n):
        raw, _ = c.message(i, small=True)
        raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        out.append((MSGID.search(raw).group(1), raw))
    return out


def postfix_delivers(bench):
    """Undoes P4's and P6's HOLD: Postfix delivers what it accepts."""
    pdir = bench.env["POSTFIX_DIR"]
    subprocess.run(["postconf", "-c", pdir, "-e", "smtpd_data_restrictions ="], check=True)
    t = time.time() - 10
    os.utime(f"{pdir}/main.cf", (t, t))
    subprocess.run(["postfix", "-c", pdir, "reload"], check=True, capture_output=True)
    bench.postfix_purge()
    time.sleep(2)


def p5(bench, B, n, rate, seed):
    postfix_delivers(bench)
    bench.restore_inbox(None, 0)
    watch_home = bench.mail_dir / WATCHER
    if watch_home.exists():
        subprocess.run(["rm", "-rf", str(watch_home)], check=True)
    relay = Relay()
    mails = submissions(bench, n, seed)
    watcher = Watcher(bench.imap_port)
    watcher.start()
    watcher.ready.wait(10)
    db = B.RUN / "p5.db"
    B.rm_db(db)
    env = dict(os.environ, PENGADUAN__DATABASE__URL=f"sqlite://{db}", PENGADUAN__SMTP__PORT=str(relay.port))
    for k in ("PENGADUAN_FAILPOINT", "PENGADUAN_NOW", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"):
        env.pop(k, None)
    log = B.LOGS / "p5-worker.log"
    wrap = os.environ.get("BENCH_P5_WRAP", "").split()
    with open(log, "wb") as out:
        worker = subprocess.Popen(wrap + [str(B.BIN), "--config", str(bench.settings), "--log-format", "json",
                                          "run", "--interval", "60"], stdout=out, stderr=subprocess.STDOUT,
                                  env=env)
    time.sleep(2)  # the first (empty) cycle, then IDLE
    submitted = {}
    # Converts a file's mtime (the wall clock) to this process's monotonic clock.
    wall_offset = time.time() - time.monotonic()
    smtp = smtplib.SMTP("127.0.0.1", bench.smtp_port)
    t0 = time.monotonic()
    for i, (mid, raw) in enumerate(mails):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sender = email.utils.parseaddr(email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0]).get("From", ""))[1]
        smtp.sendmail(sender or "warga@example.net", [OFFICE, WATCHER], raw)
        submitted[mid] = time.monotonic()
    smtp.quit()
    send_seconds = time.monotonic() - t0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (len(relay.accepted) < n or len(watcher.seen) < n):
        time.sleep(0.2)
    worker.send_signal(signal.SIGTERM)
    _, _, ru = os.wait4(worker.pid, 0)
    watcher.stop = True
    ack = [relay.accepted[m] - t for m, t in submitted.items() if m in relay.accepted]
    seen = [watcher.seen[m] - t for m, t in submitted.items() if m in watcher.seen]
    stored = stored_at(bench, wall_offset)
    # Where an acknowledgment's time goes: the mail system's, until the message is a file
    # in the office's Maildir; the worker's, from that file to the relay's 250.
    mail_system = [stored[m] - t for m, t in submitted.items() if m in stored]
    worker_share = [relay.accepted[m] - stored[m] for m in submitted if m in stored and m in relay.accepted]
    res = {"n": n, "rate": rate, "send_seconds": send_seconds, "acknowledged": len(ack), "delivered": len(seen),
           "ack": percentiles(ack), "delivery": percentiles(seen), "stored": percentiles(mail_system),
           "worker": percentiles(worker_share), "relay_sessions": relay.sessions,
           "relay_messages": relay.messages, "max_rss_kib": ru.ru_maxrss, "cycles": cycles(log)}
    a, d = res["ack"], res["delivery"]
    if a and d:
        B.log(f"P5: {len(ack)}/{n} acknowledged, {len(seen)}/{n} seen by the watcher; ack p50 {a['p50']:.3f} s "
              f"p99 {a['p99']:.3f} s; delivery p50 {d['p50']:.3f} s p99 {d['p99']:.3f} s; "
              f"{res['cycles']['count']} cycles, {relay.sessions} relay sessions")
    B.rm_db(db)
    return res


def stored_at(bench, wall_offset):
    """When each complaint became a file in the office's Maildir, by Message-ID: the
    mtime LMTP left on it (the worker's MOVE hard-links the same file into the processed
    folder, which keeps it), on the monotonic clock."""
    out = {}
    for folder in (bench.home / "Maildir").glob(".*"):
        for sub in ("cur", "new"):
            for path in (folder / sub).glob("*"):
                with open(path, "rb") as f:
                    mid = MSGID.search(f.read(8192))
                if mid:
                    out[mid.group(1)] = path.stat().st_mtime_ns / 1e9 - wall_offset
    return out


def cycles(log):
    """Where the worker's time went: its cycles, their batch sizes and durations."""
    rows = []
    for line in open(log, "rb"):
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("message") == "cycle complete":
            rows.append((j.get("fetched", 0), j.get("duration_ms", 0), j.get("sent", 0)))
    busy = [r for r in rows if r[0]]
    return {"count": len(rows), "with_mail": len(busy),
            "fetched_per_cycle": statistics.fmean([r[0] for r in busy]) if busy else 0,
            "cycle_ms_median": statistics.median([r[1] for r in busy]) if busy else 0,
            "cycle_ms_max": max([r[1] for r in busy], default=0),
            "busy_seconds": sum(r[1] for r in busy) / 1000}


def table_rows(p5res):
    a, d = p5res["ack"], p5res["delivery"]
    if not a or not d:
        return [f"| P5 acknowledgment latency | {p5res['acknowledged']} of {p5res['n']} acknowledged | — | — | — | NO |"]
    ok = (a["p50"] <= d["p50"] + 0.3 and a["p99"] <= d["p99"] + 1.0
          and p5res["acknowledged"] == p5res["n"] == p5res["delivered"])
    return [f"| P5 acknowledgment latency, {p5res['n']} complaints at {p5res['rate']:.0f}/s | "
            f"p50 {a['p50']:.3f} s, p99 {a['p99']:.3f} s ({p5res['acknowledged']}/{p5res['n']}; peak RSS "
            f"{p5res['max_rss_kib'] / 1024:.0f} MiB) | delivery p50 {d['p50']:.3f} s, p99 {d['p99']:.3f} s | "
            f"+{a['p50'] - d['p50']:.3f} s / +{a['p99'] - d['p99']:.3f} s | ≤ +0.3 s / ≤ +1 s | "
            f"{'yes' if ok else 'NO'} |"]


def notes(p5res):
    a, d, c = p5res["ack"], p5res["delivery"], p5res["cycles"]
    dist = lambda p: ", ".join(f"{k} {v:.3f}" for k, v in p.items())  # noqa: E731
    split = ""
    if p5res.get("stored") and p5res.get("worker"):
        split = (f" Where an acknowledgment's time goes: the mail system until the message is a file in the "
                 f"office's Maildir {dist(p5res['stored'])}; the worker, from that file to the relay's 250, "
                 f"{dist(p5res['worker'])}.")
    return [f"P5 distribution (s): acknowledgment {dist(a)}; delivery {dist(d)}.{split} The worker ran "
            f"{c['with_mail']} cycles with mail ({c['fetched_per_cycle']:.1f} messages each, median "
            f"{c['cycle_ms_median']} ms, max {c['cycle_ms_max']} ms); the relay saw {p5res['relay_sessions']} "
            f"SMTP sessions for {p5res['relay_messages']} messages.", ""]

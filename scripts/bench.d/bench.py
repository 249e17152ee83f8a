#!/usr/bin/env python3
"""The benchmark driver behind scripts/bench (which installs what is missing, builds the
release binary and starts the private mail stack first). See scripts/bench --help.

Every figure is measured side by side: in each pair both commands run from the identical
starting state, their order alternates from pair to pair, and the figure is the median of
the per-pair ratios. Times are whole-process wall clock (fork to exit, os.wait4), with the
child's user/system CPU and peak RSS from its rusage.
"""

import argparse
import hashlib
import imaplib
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import books  # noqa: E402  (P8)

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "scripts" / "bench.d"
VAR = ROOT / "var" / "bench"
STACK = VAR / "stack"
RUN = VAR / "run"
CORPORA = VAR / "corpus"
DBS = VAR / "db"
LOGS = VAR / "logs"
BUILT = ROOT / "target" / "release" / "pengaduan"
# The binary as an operator installs it (see `install_binary`), run instead of `BUILT`.
BIN = VAR / "bin" / "pengaduan"
OFFICE = "diskominfo@kaltaraprov.go.id"
PASSWORD = "secret"
MiB = 1024 * 1024


def log(*args):
    print(time.strftime("[%H:%M:%S]"), *args, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def load_env():
    env = {}
    for line in (STACK / "env").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k] = v
    return env


def port_closed(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def timed(cmd, stdout=None, stderr=None, env=None, cwd=None):
    """Runs cmd; returns wall seconds, child user/sys CPU, max RSS (KiB) and exit code."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()
        if stderr:
            err.close()
    return {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "maxrss_kib": ru.ru_maxrss,
            "rc": p.returncode}


TRASH = VAR / "trash"
TRASH_LIMIT = 8e9


def install_binary():
    """Copies the release build to BIN with plain read()/write() calls, the way `cp`,
    `install`, a package or a container image layer puts a binary on disk, and returns
    it. Running the linker's output in place is measurably slower: on this machine
    (Linux 6.18, ext4) its pages sit in the page cache in a form that costs more per
    page fault than those of a file written with write(), and start-up faults in a few
    hundred pages. Measured: `--version` 2.17 ms against 1.96 ms for a copy in the same
    directory, and an idle `run --once` 28.1 ms against 26.5 ms (the bash baseline was
    26.0 ms), alternating 80 times. bash itself was installed by dpkg."""
    BIN.parent.mkdir(parents=True, exist_ok=True)
    part = BIN.with_suffix(".part")
    with open(BUILT, "rb") as src, open(part, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    part.chmod(0o755)
    part.replace(BIN)
    return BIN


def discard(path):
    """Set a run's output aside instead of deleting it. ext4 skips inodes freed in the last
    5 to 10 seconds when it allocates new ones (`recently_deleted` in fs/ext4/ialloc.c),
    so deleting one run's thousands of files right before the next run's thousands of
    creates makes that next run pay a kernel scan that no steady-state mailbox has
    (measured: 36 % of a pengaduan run's CPU, and mbsync pays it too). Renaming frees no
    inode; `settle` deletes the set-aside files and waits out the window."""
    path = Path(path)
    if not path.exists():
        return
    TRASH.mkdir(parents=True, exist_ok=True)
    os.rename(path, TRASH / f"{time.monotonic_ns()}-{path.name}")


def settle(force=False):
    """Deletes what `discard` set aside, once it is big (or when forced), then waits until
    no freed inode counts as recently deleted."""
    if not TRASH.exists():
        return
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(TRASH) for f in fs)
    if size == 0 or (size < TRASH_LIMIT and not force):
        return
    shutil.rmtree(TRASH, ignore_errors=True)
    os.sync()
    time.sleep(11)


def rm_db(path):
    discard(f"{path}.archive")
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass


def cp_db(src, dst):
    rm_db(dst)
    for suffix in ("", "-wal"):
        if os.path.exists(f"{src}{suffix}"):
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")
    if os.path.isdir(f"{src}.archive"):  # immutable files: links are a faithful copy
        shutil.copytree(f"{src}.archive", f"{dst}.archive", copy_function=os.link)


def stored_bytes(db):
    """The database, its WAL and its archive of messages, in bytes."""
    total = sum(os.path.getsize(f"{db}{s}") for s in ("", "-wal") if os.path.exists(f"{db}{s}"))
    for root, _, files in os.walk(f"{db}.archive"):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def mb(n):
    return n / 1e6


class Bench:
    def __init__(self, args):
        self.args = args
        self.env = load_env()
        self.imap_port = int(self.env["IMAP_PORT"])
        self.smtp_port = int(self.env["SMTP_PORT"])
        self.closed_port = args.closed_port
        if not port_closed(self.closed_port):
            sys.exit(f"bench: port {self.closed_port} (the 'unreachable' SMTP port) is open; pick another with --closed-port")
        self.mail_dir = Path(self.env["MAIL_DIR"])
        self.home = self.mail_dir / OFFICE
        for d in (RUN, CORPORA, DBS, LOGS):
            d.mkdir(parents=True, exist_ok=True)
        self.secret = VAR / "token.secret"
        self.secret.write_text("bench-secret-0123456789abcdef\n")
        self.settings = VAR / "Settings.toml"
        self.write_settings()
        self.results = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "host": self.host_info(), "args": vars(args)}
        self.generator_hash = hashlib.sha256((HERE / "corpus.py").read_bytes()).hexdigest()[:12]

    # --- setup ----------------------------------------------------------------------

    def host_info(self):
        info = {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()}
        try:
            info["mbsync"] = subprocess.run(["mbsync", "--version"], capture_output=True, text=True).stdout.strip()
            info["dovecot"] = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.strip()
        except OSError:
            pass
        return info

    def write_settings(self):
        self.settings.write_text(f"""# generated by scripts/bench
[imap]
host = "127.0.0.1"
port = {self.imap_port}
security = "none"
username = "{OFFICE}"
password = "{PASSWORD}"
timeout_seconds = 600

[smtp]
host = "127.0.0.1"
port = {self.closed_port}
security = "none"
from = "Diskominfo Kaltara <{OFFICE}>"
timeout_seconds = 60

[database]
url = "sqlite://{RUN}/pengaduan.db"

[office]
name = "Dinas Komunikasi, Informatika, Statistik dan Persandian Provinsi Kalimantan Utara"
domain = "kaltaraprov.go.id"
templates_dir = "{ROOT}/templates"

[security]
secret_file = "{self.secret}"

[roles]
admin = ["admin@kaltaraprov.go.id"]
kepala_dinas = "kadis@kaltaraprov.go.id"
kasubbag_umum = "kasubbag@kaltaraprov.go.id"
[roles.bidang]
sekretariat = "sekretaris@kaltaraprov.go.id"
aptika = "kabid.aptika@kaltaraprov.go.id"

[worker]
send_limit = 10000000
""")

    def corpus(self, kind, n):
        """A cached, pristine Maildir for (kind, n, seed); mtimes refreshed to now."""
        seed = self.args.seed
        base = CORPORA / f"{kind}-{n}-s{seed}"
        stats_file = base / "stats.json"
        maildir = base / "Maildir"
        if stats_file.exists():
            stats = json.loads(stats_file.read_text())
            if stats.get("generator") == self.generator_hash:
                subprocess.run([sys.executable, HERE / "corpus.py", "touch", "--out", maildir], check=True,
                               stdout=subprocess.DEVNULL)
                return maildir, stats
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        log(f"generating corpus {kind} n={n} seed={seed} ...")
        cmd = [sys.executable, HERE / "corpus.py", kind, "--n", str(n), "--seed", str(seed), "--out", maildir]
        if kind == "big":
            cmd += ["--size", str(self.args.p3_attachment)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        stats = json.loads(out)
        stats["generator"] = self.generator_hash
        stats_file.write_text(json.dumps(stats))
        log(f"  {stats['messages']} messages, {mb(stats['wire_bytes']):.0f} MB on the wire, "
            f"{stats['with_attachment']} with attachment, {stats['replies']} replies, {stats['seconds']} s")
        return maildir, stats

    def restore_inbox(self, maildir, expect):
        """The office's Maildir becomes exactly `maildir` (hard links; Dovecot's index
        and uidlist files are not in it, so UIDs start at 1), or empty when None; a
        SELECT then lets Dovecot index it before anything is timed."""
        md = self.home / "Maildir"
        if md.exists():
            shutil.rmtree(md)
        self.home.mkdir(exist_ok=True)
        os.chown(self.home, 8, 8)
        os.chmod(self.home, 0o700)
        if maildir is None:
            for d in ("cur", "new", "tmp"):
                (md / d).mkdir(parents=True, exist_ok=True)
            for d in (md, md / "cur", md / "new", md / "tmp"):
                os.chown(d, 8, 8)
                os.chmod(d, 0o700)
        else:
            subprocess.run(["cp", "-al", maildir, md], check=True)
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.login(OFFICE, PASSWORD)
        exists = int(m.select("INBOX")[1][0])
        m.logout()
        if exists != expect:
            sys.exit(f"bench: INBOX holds {exists} messages after restore, expected {expect}")
        os.sync()

    def inbox_count(self):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.login(OFFICE, PASSWORD)
        exists = int(m.select("INBOX", readonly=True)[1][0])
        m.logout()
        return exists

    def warm_page_cache(self, maildir):
        subprocess.run(f"find '{maildir}' -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True)

    # --- the two commands of P1 -------------------------------------------------------

    def pengaduan(self, db, tag, smtp_port=None, wrap=None):
        env = dict(os.environ)
        env["PENGADUAN__DATABASE__URL"] = f"sqlite://{db}"
        env["PENGADUAN__SMTP__PORT"] = str(smtp_port or self.closed_port)
        env.pop("PENGADUAN_FAILPOINT", None)
        env.pop("PENGADUAN_NOW", None)
        # As deployed: with RUST_BACKTRACE set (a developer's shell), every error the
        # worker creates and handles would also capture a backtrace.
        env.pop("RUST_BACKTRACE", None)
        env.pop("RUST_LIB_BACKTRACE", None)
        cmd = [str(BIN), "--config", str(self.settings), "--log-format", "json", "run", "--once"]
        if wrap:
            cmd = wrap + cmd
        stdout = LOGS / f"{tag}.log"
        stderr = LOGS / f"{tag}.err"
        r = timed(cmd, stdout=stdout, stderr=stderr, env=env)
        if r["rc"] != 0:
            sys.exit(f"bench: pengaduan run --once failed (exit {r['rc']}); see {stdout} and {stderr}")
        summary = {}
        with open(stdout, "rb") as f:
            try:
                f.seek(-8192, os.SEEK_END)
            except OSError:
                pass
            for line in f.read().splitlines():
                try:
                    j = json.loads(line)
                except ValueError:
                    continue
                if j.get("message") == "cycle complete":
                    summary = j
        r["cycle"] = {k: summary.get(k) for k in ("fetched", "complaints", "follow_ups", "quarantined", "moved",
                                                 "sent", "deferred", "failed", "duration_ms")}
        return r

    def mbsync(self, out, tag, fsync):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        rc = out.parent / f"{out.name}.mbsyncrc"
        rc.write_text(f"""FSync {'yes' if fsync else 'no'}

IMAPAccount bench
Host 127.0.0.1
Port {self.imap_port}
User {OFFICE}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore far
Account bench

MaildirStore near
Path {out}/
Inbox {out}/INBOX

Channel bench
Far :far:INBOX
Near :near:INBOX
Sync Pull
Create Near
SyncState *
""")
        r = timed(["mbsync", "-q", "-c", str(rc), "bench"], stdout=LOGS / f"{tag}.log", stderr=LOGS / f"{tag}.err")
        if r["rc"] != 0:
            sys.exit(f"bench: mbsync failed (exit {r['rc']}); see {LOGS / tag}.err")
        r["copied"] = sum(len(os.listdir(out / "INBOX" / d)) for d in ("cur", "new"))
        return r

    # --- P1 -------------------------------------------------------------------------

    def p1(self, n, pairs, keep_db=None, fsync_info=False):
        maildir, stats = self.corpus("complaints", n)
        settle(force=True)
        self.warm_page_cache(maildir)
        wire = stats["wire_bytes"]
        log(f"P1 n={n}: {pairs} pairs over {mb(wire):.0f} MB")
        rows = []
        db = RUN / "p1.db"
        out = RUN / "mbsync-out"
        for k in range(pairs):
            order = ["pengaduan", "mbsync"] if k % 2 == 0 else ["mbsync", "pengaduan"]
            row = {}
            for which in order:
                self.restore_inbox(maildir, n)
                if which == "pengaduan":
                    rm_db(db)
                    # BENCH_P1_WRAP (e.g. "perf record -e cpu-clock -g -o var/bench/perf.data")
                    # runs the worker under a profiler; the timings are then the profiler's.
                    r = self.pengaduan(db, f"p1-{n}-{k}-pengaduan",
                                       wrap=os.environ.get("BENCH_P1_WRAP", "").split() or None)
                    c = r["cycle"]
                    if c["fetched"] != n or c["moved"] != n:
                        sys.exit(f"bench: pengaduan fetched {c['fetched']} / moved {c['moved']} of {n}")
                    left = self.inbox_count()
                    if left:
                        sys.exit(f"bench: {left} messages left in INBOX after run --once")
                    r["db_bytes"] = stored_bytes(db)
                    if keep_db:  # the last pengaduan run's database: N messages processed and stored
                        rm_db(keep_db)
                        for suffix in ("", "-wal", ".archive"):
                            if os.path.exists(f"{db}{suffix}"):
                                os.rename(f"{db}{suffix}", f"{keep_db}{suffix}")
                        Path(f"{keep_db}.json").write_text(json.dumps({"n": n, "corpus": stats}))
                    rm_db(db)
                else:
                    r = self.mbsync(out, f"p1-{n}-{k}-mbsync", fsync=False)
                    if r["copied"] != n:
                        sys.exit(f"bench: mbsync copied {r['copied']} of {n}")
                    discard(out)
                os.sync()
                settle()
                row[which] = r
            row["ratio"] = row["pengaduan"]["wall"] / row["mbsync"]["wall"]
            row["order"] = order
            rows.append(row)
            log(f"  pair {k + 1}/{pairs} ({' then '.join(order)}): pengaduan {row['pengaduan']['wall']:.2f} s "
                f"(cpu {row['pengaduan']['user'] + row['pengaduan']['sys']:.2f} s), "
                f"mbsync {row['mbsync']['wall']:.2f} s, ratio {row['ratio']:.2f}")
        result = {
            "n": n, "pairs": rows, "corpus": stats, "wire_bytes": wire,
            "pengaduan_median_s": median([r["pengaduan"]["wall"] for r in rows]),
            "mbsync_median_s": median([r["mbsync"]["wall"] for r in rows]),
            "ratio_median": median([r["ratio"] for r in rows]),
            "db_bytes": rows[-1]["pengaduan"].get("db_bytes"),
        }
        result["pengaduan_mb_s"] = mb(wire) / result["pengaduan_median_s"]
        result["mbsync_mb_s"] = mb(wire) / result["mbsync_median_s"]
        if fsync_info:
            self.restore_inbox(maildir, n)
            r = self.mbsync(out, f"p1-{n}-mbsync-fsync", fsync=True)
            discard(out)
            os.sync()
            result["mbsync_fsync_yes_s"] = r["wall"]
            log(f"  info: mbsync with FSync yes (its default): {r['wall']:.2f} s")
        rm_db(db)
        log(f"P1 n={n}: pengaduan {result['pengaduan_median_s']:.2f} s ({result['pengaduan_mb_s']:.1f} MB/s), "
            f"mbsync {result['mbsync_median_s']:.2f} s ({result['mbsync_mb_s']:.1f} MB/s), "
            f"median ratio {result['ratio_median']:.2f}")
        return result

    # --- P2 -------------------------------------------------------------------------

    def p2(self, dbs, runs):
        """Idle cycles with an empty INBOX on each of `dbs` ((key, db) pairs) vs bare polls.

        Every round runs each database's cycle and both polls, in an order shuffled from
        round to round (seeded): the machine's drift over the minutes of a run then moves
        all figures alike, the stored sizes are compared with each other in the same
        rounds, not in runs minutes apart, and no command always follows the same one
        (whatever runs right after the Python poll, which leaves Dovecot busy for a few
        milliseconds, is 3-5 % slower)."""
        self.restore_inbox(None, 0)
        for key, db in dbs:
            w = self.pengaduan(db, f"p2-{key}-warm")  # creates/migrates a fresh DB; settles anything due
            log(f"P2 {key}: warm-up cycle {w['wall'] * 1000:.1f} ms")
        log(f"P2: {runs} rounds of {len(dbs)} idle cycles and 2 bare polls")
        poll_sh = ["bash", str(HERE / "poll.sh"), str(self.imap_port), OFFICE, PASSWORD]
        poll_py = [sys.executable, str(HERE / "poll.py"), str(self.imap_port), OFFICE, PASSWORD]
        rows = []
        for k in range(runs):
            cmds = [(key, db) for key, db in dbs] + [("poll_sh", poll_sh), ("poll_py", poll_py)]
            random.Random(f"{self.args.seed}-p2-{k}").shuffle(cmds)
            row = {}
            for which, what in cmds:
                if isinstance(what, Path):
                    r = self.pengaduan(what, f"p2-{which}")
                    if r["cycle"]["fetched"]:
                        sys.exit("bench: the idle cycle fetched messages")
                else:
                    r = timed(what, stderr=LOGS / f"p2-{which}.err")
                    if r["rc"] != 0:
                        sys.exit(f"bench: {which} failed; see {LOGS}/p2-{which}.err")
                row[which] = r["wall"]
            rows.append(row)
        out = {}
        for key, _ in dbs:
            res = {"label": key, "runs": [{"pengaduan": r[key], "poll_sh": r["poll_sh"], "poll_py": r["poll_py"]}
                                          for r in rows],
                   "pengaduan_median_ms": 1000 * median([r[key] for r in rows]),
                   "poll_sh_median_ms": 1000 * median([r["poll_sh"] for r in rows]),
                   "poll_py_median_ms": 1000 * median([r["poll_py"] for r in rows]),
                   "ratio_sh_median": median([r[key] / r["poll_sh"] for r in rows]),
                   "ratio_py_median": median([r[key] / r["poll_py"] for r in rows])}
            log(f"P2 {key}: pengaduan {res['pengaduan_median_ms']:.1f} ms, bare poll bash {res['poll_sh_median_ms']:.1f} ms "
                f"(ratio {res['ratio_sh_median']:.2f}), python {res['poll_py_median_ms']:.1f} ms "
                f"(ratio {res['ratio_py_median']:.2f})")
            out[key] = res
        return out

    def stored_db(self, n):
        """The kept database with N messages stored (used in place), everything delivered."""
        db = DBS / f"stored-{n}.db"
        if not db.exists():
            return None
        con = sqlite3.connect(db)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        # The steady state of an office: everything queued was delivered long ago.
        con.execute("UPDATE outbox SET status = 'sent', sent_at = ?, attempts = 1 WHERE status = 'pending'", (now,))
        con.commit()
        counts = dict(messages=con.execute("SELECT count(*) FROM messages").fetchone()[0],
                      complaints=con.execute("SELECT count(*) FROM complaints").fetchone()[0],
                      outbox=con.execute("SELECT count(*) FROM outbox").fetchone()[0])
        con.close()
        return db, counts

    # --- P3 -------------------------------------------------------------------------

    def p3(self, reps):
        maildir, stats = self.corpus("big", 1)
        size = stats["wire_bytes"]
        db = RUN / "p3.db"
        rss = []
        for k in range(reps):
            self.restore_inbox(maildir, 1)
            rm_db(db)
            tfile = LOGS / f"p3-{k}.time"
            env = dict(os.environ, PENGADUAN__DATABASE__URL=f"sqlite://{db}",
                       PENGADUAN__SMTP__PORT=str(self.closed_port))
            # BENCH_P3_WRAP (e.g. "valgrind --tool=massif --massif-out-file=var/bench/massif.out")
            # runs the worker under a memory profiler; the RSS figure is then the profiler's.
            wrap = os.environ.get("BENCH_P3_WRAP", "").split()
            cmd = ["/usr/bin/time", "-v", "-o", str(tfile)] + wrap + [str(BIN), "--config", str(self.settings),
                   "--log-format", "json", "run", "--once"]
            r = timed(cmd, stdout=LOGS / f"p3-{k}.log", stderr=LOGS / f"p3-{k}.err", env=env)
            if r["rc"] != 0:
                sys.exit(f"bench: P3 run failed; see {LOGS}/p3-{k}.err")
            kib = next(int(line.split(":")[1]) for line in tfile.read_text().splitlines()
                       if "Maximum resident set size" in line)
            rss.append(kib * 1024)
            log(f"P3 run {k + 1}/{reps}: max RSS {kib / 1024:.1f} MiB, {r['wall']:.2f} s")
        rm_db(db)
        target = 2 * size + 32 * MiB
        res = {"message_bytes": size, "attachment_bytes": stats["attachment_bytes"], "max_rss_bytes": rss,
               "max_rss_median": median(rss), "target_bytes": target}
        return res

    # --- P4 -------------------------------------------------------------------------

    def postfix_hold(self):
        """Postfix accepts every message and puts it on hold: nothing is delivered onwards
        in the background while the next command is timed; the queue is purged between runs."""
        pdir = self.env["POSTFIX_DIR"]
        subprocess.run(["postconf", "-c", pdir, "-e", "smtpd_data_restrictions = check_client_access static:HOLD"],
                       check=True)
        t = time.time() - 10
        os.utime(f"{pdir}/main.cf", (t, t))
        subprocess.run(["postfix", "-c", pdir, "reload"], check=True, capture_output=True)
        time.sleep(2)

    def postfix_purge(self):
        subprocess.run(["postsuper", "-c", self.env["POSTFIX_DIR"], "-d", "ALL"], check=True, capture_output=True)

    def p4(self, n, pairs):
        maildir, stats = self.corpus("small", n)
        queued = RUN / "p4-queued.db"
        db = RUN / "p4.db"
        self.restore_inbox(maildir, n)
        rm_db(queued)
        r = self.pengaduan(queued, "p4-ingest")
        con = sqlite3.connect(queued)
        messages = con.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        out_bytes = con.execute("SELECT sum(b.size) FROM outbox o JOIN blobs b ON b.sha256 = o.raw_sha256").fetchone()[0]
        con.close()
        log(f"P4: {n} complaints ingested in {r['wall']:.1f} s; {messages} messages queued "
            f"({mb(out_bytes):.1f} MB); {pairs} pairs")
        self.postfix_hold()
        self.postfix_purge()
        rows = []
        for k in range(pairs):
            order = ["pengaduan", "smtplib"] if k % 2 == 0 else ["smtplib", "pengaduan"]
            row = {}
            for which in order:
                cp_db(queued, db)
                os.sync()
                if which == "pengaduan":
                    # BENCH_P4_WRAP: as BENCH_P1_WRAP (e.g. "perf record -a -e cpu-clock -o
                    # var/bench/p4.data" for where the machine's time goes while sending).
                    r = self.pengaduan(db, f"p4-{k}-pengaduan", smtp_port=self.smtp_port,
                                       wrap=os.environ.get("BENCH_P4_WRAP", "").split() or None)
                    if r["cycle"]["sent"] != messages:
                        sys.exit(f"bench: pengaduan sent {r['cycle']['sent']} of {messages}")
                else:
                    r = timed([sys.executable, str(HERE / "smtp_send.py"), str(db), str(self.smtp_port)],
                              stdout=LOGS / f"p4-{k}-smtplib.log", stderr=LOGS / f"p4-{k}-smtplib.err")
                    if r["rc"] != 0:
                        sys.exit(f"bench: smtplib baseline failed; see {LOGS}/p4-{k}-smtplib.err")
                    r["inner"] = json.loads((LOGS / f"p4-{k}-smtplib.log").read_text())
                    if r["inner"]["sent"] != messages:
                        sys.exit(f"bench: smtplib sent {r['inner']['sent']} of {messages}")
                r["msgs_per_s"] = messages / r["wall"]
                row[which] = r
                self.postfix_purge()
            row["ratio"] = row["pengaduan"]["msgs_per_s"] / row["smtplib"]["msgs_per_s"]
            rows.append(row)
            log(f"  pair {k + 1}/{pairs}: pengaduan {row['pengaduan']['wall']:.2f} s "
                f"({row['pengaduan']['msgs_per_s']:.0f}/s), smtplib {row['smtplib']['wall']:.2f} s "
                f"({row['smtplib']['msgs_per_s']:.0f}/s), ratio {row['ratio']:.2f}")
        rm_db(db)
        res = {"complaints": n, "messages": messages, "bytes": out_bytes, "pairs": rows,
               "pengaduan_msgs_s": median([r["pengaduan"]["msgs_per_s"] for r in rows]),
               "smtplib_msgs_s": median([r["smtplib"]["msgs_per_s"] for r in rows]),
               "smtplib_inner_msgs_s": median([messages / r["smtplib"]["inner"]["send_seconds"] for r in rows]),
               "ratio_median": median([r["ratio"] for r in rows])}
        return res


def fmt_table(bench, res):
    lines = ["| Figure | pengaduan | baseline | ratio | target | met? |", "| --- | --- | --- | --- | --- | --- |"]
    p1 = res.get("P1")
    if p1:
        ok = p1["ratio_median"] <= 1.25
        lines.append(f"| P1 bulk ingest, N={p1['n']} ({mb(p1['wire_bytes']):.0f} MB) | "
                     f"{p1['pengaduan_median_s']:.2f} s ({p1['pengaduan_mb_s']:.1f} MB/s) | "
                     f"mbsync {p1['mbsync_median_s']:.2f} s ({p1['mbsync_mb_s']:.1f} MB/s) | "
                     f"{p1['ratio_median']:.2f} × | ≤ 1.25 × | {'yes' if ok else 'NO'} |")
    p2 = res.get("P2")
    if p2:
        for key in ("0", "N", "50000"):
            r = p2.get(key)
            if not r:
                continue
            ok = r["ratio_sh_median"] <= 1.10
            lines.append(f"| P2 idle cycle, {r['stored']} stored | {r['pengaduan_median_ms']:.1f} ms | "
                         f"bare poll {r['poll_sh_median_ms']:.1f} ms (bash) / {r['poll_py_median_ms']:.1f} ms (python) | "
                         f"{r['ratio_sh_median']:.2f} × / {r['ratio_py_median']:.2f} × | ≤ 1.10 × | "
                         f"{'yes' if ok else 'NO'} (vs bash); {'yes' if r['ratio_py_median'] <= 1.10 else 'NO'} (vs python) |")
        if "flatness" in p2:
            f = p2["flatness"]
            lines.append(f"| P2 idle cycle growth | {f['spread_pct']:.1f} % ({f['detail']}) | — | — | within 10 % | "
                         f"{'yes' if f['spread_pct'] <= 10 else 'NO'} |")
    p3 = res.get("P3")
    if p3:
        ok = max(p3["max_rss_bytes"]) <= p3["target_bytes"]
        lines.append(f"| P3 peak RSS, one {mb(p3['message_bytes']):.1f} MB message ({p3['attachment_bytes'] / MiB:.0f} MiB attachment) | "
                     f"{max(p3['max_rss_bytes']) / MiB:.1f} MiB (max of {len(p3['max_rss_bytes'])}) | — | "
                     f"{max(p3['max_rss_bytes']) / p3['message_bytes']:.2f} × message | "
                     f"≤ {p3['target_bytes'] / MiB:.1f} MiB (2 × msg + 32 MiB) | {'yes' if ok else 'NO'} |")
    p4 = res.get("P4")
    if p4:
        ok = p4["ratio_median"] >= 1.0
        lines.append(f"| P4 sending, {p4['messages']} messages ({p4['complaints']} complaints) | {p4['pengaduan_msgs_s']:.0f} msg/s | "
                     f"smtplib {p4['smtplib_msgs_s']:.0f} msg/s | {p4['ratio_median']:.2f} × | ≥ 1.0 × | "
                     f"{'yes' if ok else 'NO'} |")
    if res.get("P8"):
        lines += books.rows(res["P8"])
    if res.get("P5"):
        import latency
        lines += latency.table_rows(res["P5"])
    if res.get("P6"):
        import replies
        lines += replies.table_rows(res["P6"])
    if res.get("P7"):
        import register
        lines += register.table_rows(res["P7"])
    return "\n".join(lines)


def fmt_scaling(res):
    sc = res.get("scaling")
    if not sc:
        return ""
    lines = ["| N | MB on the wire | pairs | pengaduan | MB/s | µs/msg | mbsync | MB/s | ratio | pengaduan s/GB vs smallest N |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    base = None
    for r in sorted(sc, key=lambda r: r["n"]):
        per_gb = r["pengaduan_median_s"] / (r["wire_bytes"] / 1e9)
        base = base or per_gb
        lines.append(f"| {r['n']} | {mb(r['wire_bytes']):.0f} | {len(r['pairs'])} | {r['pengaduan_median_s']:.2f} s | "
                     f"{r['pengaduan_mb_s']:.1f} | {1e6 * r['pengaduan_median_s'] / r['n']:.0f} | "
                     f"{r['mbsync_median_s']:.2f} s | {r['mbsync_mb_s']:.1f} | {r['ratio_median']:.2f} × | "
                     f"{per_gb / base:.2f} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench")
    ap.add_argument("--n", type=int, default=10000, help="complaints in the P1 corpus (default: 10000)")
    ap.add_argument("--pairs", type=int, default=5,
                    help="alternating pengaduan/baseline pairs for P1 and P4 (default: 5)")
    ap.add_argument("--only", default="P1,P2,P3,P4,P5,P6,P7,P8",
                    help="comma-separated figures to measure (default: P1,P2,P3,P4,P5,P6,P7,P8); P2 at N needs P1's database")
    ap.add_argument("--scaling", action="store_true", help="also P1 at each --scaling-ns (keeps the 50k database for P2)")
    ap.add_argument("--scaling-ns", default="1000,10000,50000", help="the Ns of --scaling (default: 1000,10000,50000)")
    ap.add_argument("--scaling-pairs-large", type=int, default=1, help="pairs for N > 10000 in --scaling")
    ap.add_argument("--p2-runs", type=int, default=20,
                    help="P2 rounds; each runs the idle cycle at every stored size and both bare polls (default: 20)")
    ap.add_argument("--p3-runs", type=int, default=3, help="P3 repetitions (default: 3)")
    ap.add_argument("--p3-attachment", type=int, default=40 * MiB, help="P3 attachment size in bytes (default: 40 MiB)")
    ap.add_argument("--p4-n", type=int, default=None, help="complaints queued for P4 (default: min(N, 2000))")
    ap.add_argument("--p4-pairs", type=int, default=None, help="default: --pairs")
    ap.add_argument("--p8-n", type=int, default=1_000_000, help="complaints in the P8 register (default: 1000000)")
    ap.add_argument("--p8-runs", type=int, default=5, help="P8 runs per format (default: 5)")
    ap.add_argument("--p5-n", type=int, default=1000, help="complaints submitted in P5 (default: 1000)")
    ap.add_argument("--p5-rate", type=float, default=50, help="P5 submissions per second (default: 50)")
    ap.add_argument("--p6-n", type=int, default=2000, help="complaints answered in P6 (default: 2000)")
    ap.add_argument("--p6-pairs", type=int, default=3, help="P6 rounds (default: 3)")
    ap.add_argument("--p7-n", type=int, default=1_000_000, help="complaints in P7's large register (default: 1000000)")
    ap.add_argument("--p7-small-n", type=int, default=10_000, help="complaints in P7's baseline register (default: 10000)")
    ap.add_argument("--p7-runs", type=int, default=10, help="P7 rounds (default: 10)")
    ap.add_argument("--seed", type=int, default=20261130, help="corpus seed: the same seed, the same bytes")
    ap.add_argument("--closed-port", type=int, default=16524, help="the unreachable SMTP port P1 points at (default: 16524)")
    ap.add_argument("--no-fsync-info", action="store_true", help="skip the extra mbsync FSync=yes run")
    ap.add_argument("--report-only", action="store_true", help="re-print the report of var/bench/results.json")
    args = ap.parse_args()
    if args.report_only:
        write_report(json.loads((VAR / "results.json").read_text()))
        return
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    install_binary()
    bench = Bench(args)
    res = bench.results
    t_start = time.time()

    if "P1" in only:
        res["P1"] = bench.p1(args.n, args.pairs, keep_db=DBS / f"stored-{args.n}.db",
                             fsync_info=not args.no_fsync_info)
    if args.scaling:
        res["scaling"] = []
        for n in [int(x) for x in args.scaling_ns.split(",")]:
            if n == args.n and "P1" in res:
                res["scaling"].append(res["P1"])
                continue
            pairs = args.pairs if n <= 10000 else args.scaling_pairs_large
            keep = DBS / f"stored-{n}.db" if n >= 50000 else None
            res["scaling"].append(bench.p1(n, pairs, keep_db=keep))
    if "P2" in only:
        db0 = RUN / "p2-0.db"
        rm_db(db0)
        dbs, stored = [("0", db0)], {"0": (0, None)}
        for key, n in (("N", args.n), ("50000", 50000)):
            if key == "50000" and n == args.n:
                continue
            got = bench.stored_db(n)
            if not got:
                log(f"P2: no database with {n} stored (run P1 with --n {n} or --scaling); skipped")
                continue
            db, counts = got
            dbs.append((key, db))
            stored[key] = (f"{counts['complaints']} complaints / {counts['messages']} messages", counts)
        p2 = bench.p2(dbs, args.p2_runs)
        rm_db(db0)
        for key, (label, counts) in stored.items():
            p2[key]["stored"] = label
            if counts:
                p2[key]["counts"] = counts
        meds = {k: v["pengaduan_median_ms"] for k, v in p2.items()}
        lo, hi = min(meds.values()), max(meds.values())
        p2["flatness"] = {"spread_pct": 100 * (hi - lo) / lo,
                          "detail": ", ".join(f"{p2[k]['stored'] if k != '0' else '0'}: {v:.1f} ms"
                                              for k, v in meds.items())}
        res["P2"] = p2
    if "P3" in only:
        res["P3"] = bench.p3(args.p3_runs)
    if "P4" in only:
        n4 = args.p4_n or min(args.n, 2000)
        res["P4"] = bench.p4(n4, args.p4_pairs or args.pairs)
    if "P8" in only:
        res["P8"] = books.p8(BIN, bench.settings, DBS, args.p8_n, args.p8_runs, timed, log)

    if "P5" in only:
        import latency
        res["P5"] = latency.p5(bench, sys.modules[__name__], args.p5_n, args.p5_rate, args.seed)
    if "P6" in only:
        import replies
        res["P6"] = replies.p6(bench, sys.modules[__name__], args.p6_n, args.p6_pairs)
    if "P7" in only:
        import register
        res["P7"] = register.p7(bench, sys.modules[__name__], args.p7_small_n, args.p7_n, args.p7_runs)

    res["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    res["total_seconds"] = round(time.time() - t_start)
    res["host"]["loadavg_at_end"] = os.getloadavg()
    (VAR / "results.json").write_text(json.dumps(res, indent=1, default=str))
    write_report(res)
    shutil.rmtree(TRASH, ignore_errors=True)


def write_report(res):
    args = argparse.Namespace(**res["args"])
    table = fmt_table(None, res)
    scaling = fmt_scaling(res)
    report = [f"# pengaduan benchmark ({res['started']}, N={args.n}, pairs={args.pairs})", "", table, ""]
    if scaling:
        report += ["## P1 scaling", "", scaling, ""]
    if "P1" in res and "mbsync_fsync_yes_s" in res["P1"]:
        report += [f"mbsync with its default `FSync yes` (one fsync per message): {res['P1']['mbsync_fsync_yes_s']:.2f} s "
                   f"for N={args.n} (pengaduan/that = {res['P1']['pengaduan_median_s'] / res['P1']['mbsync_fsync_yes_s']:.2f} ×); "
                   "the baseline above is `FSync no`, the floor for moving the bytes.", ""]
    if "P1" in res:
        pr = res["P1"]["pairs"]
        report += ["## P1 pairs", "", "| pair | order | pengaduan s (cpu s) | mbsync s (cpu s) | ratio |", "| --- | --- | --- | --- | --- |"]
        for k, r in enumerate(pr):
            report.append(f"| {k + 1} | {' → '.join(r['order'])} | {r['pengaduan']['wall']:.2f} "
                          f"({r['pengaduan']['user'] + r['pengaduan']['sys']:.2f}) | {r['mbsync']['wall']:.2f} "
                          f"({r['mbsync']['user'] + r['mbsync']['sys']:.2f}) | {r['ratio']:.2f} |")
        report.append("")
    if "P4" in res:
        p4 = res["P4"]
        report += [f"P4: {p4['complaints']} complaints queued {p4['messages']} messages ({mb(p4['bytes']):.1f} MB; "
                   f"acknowledgment + Kepala Dinas notification each). smtplib's send loop alone (without "
                   f"interpreter start and the database read): {p4['smtplib_inner_msgs_s']:.0f} msg/s.", ""]
    if "P5" in res:
        import latency
        report += latency.notes(res["P5"])
    if "P7" in res:
        import register
        report += register.notes(res["P7"])
    report += ["Method: whole-process wall time (fork to exit); each pair starts both commands from the identical "
               "state (INBOX re-linked from the pristine Maildir with no Dovecot index, indexed by one untimed SELECT; "
               "fresh database / fresh local Maildir; `sync` before each; earlier runs' files are set aside and deleted only in bulk, followed by an 11 s pause, because ext4 scans past inodes freed in the last 5-10 s when it creates files); the order alternates; the figure is the "
               "median of per-pair ratios. The corpus is written straight into the office Maildir (files owned by "
               "`mail`, `,S=,W=` sizes in the names), the fastest correct load. P2: empty INBOX; the stored databases "
               "are those of the last P1 run at that N with every queued message marked sent (the steady state); "
               "the bare poll is bash /dev/tcp (headline) and Python imaplib, both connect+LOGIN+SELECT+UID "
               "SEARCH+LOGOUT; each round runs the idle cycle at every stored size and both polls, in an order "
               "shuffled from round to round (seeded), so that neither the machine's drift nor the command run "
               "before favours one. P4: Postfix accepts and holds every message (smtpd_data_restrictions = HOLD, "
               "queue purged between runs) so no onward delivery runs in the background.", ""]
    if "P8" in res:
        report += [f"P8: `report --month {books.MONTH}` over a register generated by SQL "
                   "(scripts/bench.d/books.py); each time is the median of the runs after one warm-up run.", ""]
    report += [f"Load average at start/end: {res['host']['loadavg_at_start']} / {res['host']['loadavg_at_end']}; "
               f"{res['host']['cpus']} CPUs; total {res['total_seconds']} s. Raw data: var/bench/results.json.", ""]
    (VAR / "report.md").write_text("\n".join(report))
    print()
    print("\n".join(report))




if __name__ == "__main__":
    main()

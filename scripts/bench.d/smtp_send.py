#!/usr/bin/env python3
"""The P4 baseline: Python smtplib sending the worker's queued messages (exact bytes and
envelopes read from its database) over one SMTP connection, or CONNECTIONS side by side
(a thread each, the rows dealt round-robin; P6's floor).
   smtp_send.py DB PORT [CONNECTIONS]  -> prints {"sent": n, "bytes": b, "send_seconds": s}"""
import json
import sqlite3
import smtplib
import sys
import threading
import time

db, port = sys.argv[1], int(sys.argv[2])
connections = int(sys.argv[3]) if len(sys.argv) > 3 else 1
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
archive = f"{db}.archive"


def archived(sha256):
    """The bytes the worker archived under sha256: a range of a pack file."""
    pack, offset, size = con.execute(
        "SELECT pack, pack_offset, size FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
    with open(f"{archive}/{pack:08}.pack", "rb") as f:
        f.seek(offset)
        return f.read(size)


def outgoing(sha256, splices):
    """The message as the worker sends it: the stored bytes with the files it names
    spliced in from their archived messages (see compose::expand)."""
    stored = archived(sha256)
    if not splices:
        return stored
    sent, start = [], 0
    for s in json.loads(splices):
        sent += [stored[start:s["at"]], archived(s["blob"])[s["start"]:s["end"]]]
        start = s["at"] + s["len"]
    return b"".join(sent + [stored[start:]])


rows = [(envelope_from, recipients, outgoing(sha256, splices))
        for envelope_from, recipients, sha256, splices in con.execute(
            "SELECT envelope_from, recipients_json, raw_sha256, splices FROM outbox "
            "WHERE status = 'pending' ORDER BY id").fetchall()]
con.close()


def send(share, totals):
    with smtplib.SMTP("127.0.0.1", port, local_hostname="kaltaraprov.go.id") as smtp:
        for envelope_from, recipients, data in share:
            refused = smtp.sendmail(envelope_from, json.loads(recipients), data)
            if refused:
                sys.exit(f"smtp_send: refused {refused}")
            totals.append(len(data))


t0 = time.perf_counter()
totals = []
threads = [threading.Thread(target=send, args=(rows[i::connections], totals)) for i in range(connections)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if len(totals) != len(rows):
    sys.exit(f"smtp_send: sent {len(totals)} of {len(rows)}")
print(json.dumps({"sent": len(totals), "bytes": sum(totals), "send_seconds": round(time.perf_counter() - t0, 4)}))

#!/usr/bin/env python3
"""The P4 baseline: Python smtplib sending the worker's queued messages (exact bytes and
envelopes read from its database) over one SMTP connection.
   smtp_send.py DB PORT   -> prints {"sent": n, "bytes": b, "send_seconds": s}"""
import json
import sqlite3
import smtplib
import sys
import time

db, port = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
rows = con.execute(
    "SELECT o.envelope_from, o.recipients_json, b.data FROM outbox o "
    "JOIN blobs b ON b.sha256 = o.raw_sha256 WHERE o.status = 'pending' ORDER BY o.id").fetchall()
con.close()
t0 = time.perf_counter()
sent = size = 0
with smtplib.SMTP("127.0.0.1", port, local_hostname="kaltaraprov.go.id") as smtp:
    for envelope_from, recipients, data in rows:
        refused = smtp.sendmail(envelope_from, json.loads(recipients), data)
        if refused:
            sys.exit(f"smtp_send: refused {refused}")
        sent += 1
        size += len(data)
print(json.dumps({"sent": sent, "bytes": size, "send_seconds": round(time.perf_counter() - t0, 4)}))

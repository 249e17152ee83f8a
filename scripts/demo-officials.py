#!/usr/bin/env python3
"""Plays the office's officials (and shows the citizen's mailbox) for scripts/demo.

Officials act on a complaint the way they do in real life: they read the worker's
notification in their own INBOX (IMAP) and answer it from their mail client (SMTP), with
their new text above Gmail's quoted history. Standard library only.

  demo-officials.py reply ADDRESS "DISPLAY NAME" TAG TEXT
      waits for the newest message in ADDRESS's INBOX whose subject contains TAG, replies
      to it as "DISPLAY NAME <ADDRESS>" with TEXT on top, and waits until the reply is in
      the office INBOX (where the worker will find it).
  demo-officials.py answer ADDRESS TAG
      waits for the second message in ADDRESS's INBOX whose subject contains TAG (the first
      is the acknowledgment) and prints its Subject, In-Reply-To and body.
  demo-officials.py show ADDRESS TAG
      waits for the first message in ADDRESS's INBOX whose subject contains TAG and prints
      it (an SMS the gateway would send, the administrator's confirmation).
  demo-officials.py send SENDER FILE
      delivers the message in FILE (e.g. the SMS gateway's email) to the office, from
      SENDER, and waits until it is in the office INBOX.
  demo-officials.py form ADDRESS TEXT
      the administrator ADDRESS emails the office a new message with TEXT (the DAFTAR
      form), and waits until it is in the office INBOX.

Ports: IMAP_PORT (plain IMAP, users log in with their address and password "secret") and
SMTP_PORT (plain SMTP, any sender). Exits 1 with one clear line when mail does not arrive.
"""

import email
import email.utils
import imaplib
import os
import smtplib
import sys
import time
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage

HOST = "127.0.0.1"
IMAP_PORT = int(os.environ.get("IMAP_PORT", "14143"))
SMTP_PORT = int(os.environ.get("SMTP_PORT", "14525"))
PASSWORD = "secret"
WAIT_SECONDS = 20
WITA = timezone(timedelta(hours=8))
DAYS = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"]  # Monday first, as weekday()
MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


def fail(text):
    print(f"demo-officials: {text}", file=sys.stderr)
    sys.exit(1)


def inbox(user):
    """Every message in USER's INBOX, oldest first, as (raw bytes, parsed message)."""
    imap = imaplib.IMAP4(HOST, IMAP_PORT)
    try:
        imap.login(user, PASSWORD)
        imap.select("INBOX", readonly=True)
        _, data = imap.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        messages = []
        for uid in uids:
            _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(p[1] for p in parts if isinstance(p, tuple))
            messages.append((raw, email.message_from_bytes(raw, policy=policy.default)))
        return messages
    finally:
        try:
            imap.logout()
        except Exception:
            pass


def wait_for(user, what, pick):
    """Polls USER's INBOX until PICK(messages) gives something; fails after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = pick(inbox(user))
        if found is not None:
            return found
        if time.monotonic() > deadline:
            fail(f"no {what} arrived in {user}'s INBOX within {WAIT_SECONDS} s")
        time.sleep(0.2)


def tagged(messages, tag):
    return [m for m in messages if tag in str(m[1].get("Subject", ""))]


def text_body(msg):
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def attribution(note):
    """Gmail's Indonesian attribution line: "Pada Sen, 30 Nov 2026 pukul 10.00 Nama <a@b> menulis:"."""
    try:
        when = email.utils.parsedate_to_datetime(str(note["Date"])).astimezone(WITA)
    except (TypeError, ValueError):
        when = datetime.now(WITA)
    name, address = email.utils.parseaddr(str(note.get("From", "")))
    who = f"{name} <{address}>" if name else f"<{address}>"
    return (
        f"Pada {DAYS[when.weekday()]}, {when.day} {MONTHS[when.month - 1]} {when.year} "
        f"pukul {when:%H.%M} {who} menulis:"
    )


def reply(address, display_name, tag, text):
    note = wait_for(
        address,
        f"notification with {tag} in the subject",
        lambda ms: tagged(ms, tag)[-1][1] if tagged(ms, tag) else None,
    )
    parent = str(note["Message-ID"]).strip()
    subject = str(note["Subject"])
    to_header = str(note.get("Reply-To") or note["From"])
    office = email.utils.parseaddr(to_header)[1].lower()

    quoted = "\n".join(f"> {line}" if line else ">" for line in text_body(note).splitlines())
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((display_name, address))
    msg["To"] = to_header
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Date"] = email.utils.format_datetime(datetime.now(WITA))
    msg["Message-ID"] = email.utils.make_msgid(domain="mail.kaltaraprov.go.id")
    msg["In-Reply-To"] = parent
    msg["References"] = parent
    msg.set_content(f"{text}\n\n{attribution(note)}\n\n{quoted}\n")

    # Written out with CRLF and without folding headers at 78 columns: Python would
    # RFC 2047-encode a Message-ID too long to fold (In-Reply-To, References), which no
    # mail client does and which hides the notification's token from the worker.
    raw = msg.as_bytes(policy=policy.SMTP.clone(max_line_length=998))
    with smtplib.SMTP(HOST, SMTP_PORT) as smtp:
        smtp.sendmail(address, [office], raw)
    print(f"   {address} answered “{subject}” ({parent})")

    mid = msg["Message-ID"]
    wait_for(
        office,
        f"reply {mid} from {address}",
        lambda ms: True if any(str(m[1].get("Message-ID", "")).strip() == mid for m in ms) else None,
    )


def answer(address, tag):
    msg = wait_for(
        address,
        f"answer (a second message with {tag} in the subject)",
        lambda ms: tagged(ms, tag)[1][1] if len(tagged(ms, tag)) >= 2 else None,
    )
    print(f"   From:        {msg['From']}")
    print(f"   Subject:     {msg['Subject']}")
    print(f"   In-Reply-To: {msg['In-Reply-To']}")
    print("   ----")
    for line in text_body(msg).rstrip().splitlines():
        print(f"   {line}".rstrip())


OFFICE = "diskominfo@kaltaraprov.go.id"


def deliver(sender, raw, mid):
    with smtplib.SMTP(HOST, SMTP_PORT) as smtp:
        smtp.sendmail(sender, [OFFICE], raw)
    wait_for(
        OFFICE,
        f"message {mid} from {sender}",
        lambda ms: True if any(str(m[1].get("Message-ID", "")).strip() == mid for m in ms) else None,
    )


def send(sender, path):
    raw = open(path, "rb").read()
    mid = str(email.message_from_bytes(raw, policy=policy.default)["Message-ID"]).strip()
    deliver(sender, raw, mid)
    print(f"   {sender} sent {os.path.basename(path)}")


def form(address, text):
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr(("Admin Pengaduan", address))
    msg["To"] = OFFICE
    msg["Subject"] = "Pendaftaran pengaduan"
    msg["Date"] = email.utils.format_datetime(datetime.now(WITA))
    msg["Message-ID"] = email.utils.make_msgid(domain="mail.kaltaraprov.go.id")
    msg.set_content(f"{text}\n")
    deliver(address, msg.as_bytes(policy=policy.SMTP), msg["Message-ID"])
    print(f"   {address} sent the form ({text.splitlines()[0]})")


def show(address, tag):
    msg = wait_for(
        address,
        f"message with {tag!r} in the subject",
        lambda ms: tagged(ms, tag)[0][1] if tagged(ms, tag) else None,
    )
    print(f"   To:      {msg['To']}")
    print(f"   Subject: {msg['Subject']}")
    print("   ----")
    for line in text_body(msg).rstrip().splitlines():
        print(f"   {line}".rstrip())


def main(argv):
    if len(argv) == 5 and argv[0] == "reply":
        reply(argv[1].lower(), argv[2], argv[3], argv[4])
    elif len(argv) == 3 and argv[0] == "answer":
        answer(argv[1].lower(), argv[2])
    elif len(argv) == 3 and argv[0] == "show":
        show(argv[1].lower(), argv[2])
    elif len(argv) == 3 and argv[0] == "send":
        send(argv[1].lower(), argv[2])
    elif len(argv) == 3 and argv[0] == "form":
        form(argv[1].lower(), argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (OSError, imaplib.IMAP4.error, smtplib.SMTPException) as e:
        fail(f"{type(e).__name__}: {e}")

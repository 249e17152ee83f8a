#!/usr/bin/env python3
"""A bare IMAP poll as one small process (imaplib): connect, login, select, search, logout.
   poll.py PORT USER PASSWORD"""
import imaplib
import sys

m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select("INBOX")
m.uid("SEARCH", "UNSEEN")
m.logout()

#!/usr/bin/env bash
# A bare IMAP poll as one small process: connect, LOGIN, SELECT INBOX, UID SEARCH, LOGOUT.
# The P2 baseline (bash /dev/tcp: no interpreter start-up beyond bash itself).
#   poll.sh PORT USER PASSWORD
set -u
exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
IFS= read -r line <&3 || exit 1 # greeting
cmd() { # cmd TAG COMMAND: send, read until the tagged response, fail unless OK
    printf '%s %s\r\n' "$1" "$2" >&3
    while IFS= read -r line <&3; do
        if [[ $line == "$1 "* ]]; then
            [[ $line == "$1 OK"* ]] && return 0
            echo "poll: $line" >&2
            exit 1
        fi
    done
    echo "poll: connection closed" >&2
    exit 1
}
cmd a "LOGIN \"$2\" \"$3\""
cmd b "SELECT INBOX"
cmd c "UID SEARCH UNSEEN"
cmd d "LOGOUT"

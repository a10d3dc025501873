#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a realistic, deterministic Postfix maillog for bench_logparse.

usage: gen_maillog.py [LINES] [SEED] > maillog

The mix per message follows a busy outbound MTA with a few blocked
destinations: smtpd/cleanup/qmgr lines (not evidence), then smtp(8)
outcomes: sent (with TLS), greylisted 4xx, connect timeouts to a blocked
MX pair, refusals, 5xx bounces, DNS trouble, error(8) suspended repeats,
greeting and TLS failures.  A fixed LCG makes the output the same on every
Python version.
"""
import sys

LINES = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
state = int(sys.argv[2]) if len(sys.argv) > 2 else 20261123

def rnd(n):
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
    return (state >> 33) % n

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DOMAINS = ["gmail.com", "example.org", "corp.example", "mail.test", "grey.test", "isp.example"]
out = sys.stdout
written = 0
t = 0           # seconds since Nov 23 00:00

def emit(prog, pid, text):
    global written
    if written >= LINES:
        return
    day, rem = divmod(t, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    out.write("Nov %2d %02d:%02d:%02d mta postfix/%s[%d]: %s\n" % (23 + day % 5, h, m, s, prog, pid, text))
    written += 1

def status(pid, qid, rcpt, relay, dsn, st, text, delay="0.8, delays=0.01/0/0.3/0.49"):
    emit("smtp", pid, "%s: to=<%s>, relay=%s, delay=%s, dsn=%s, status=%s (%s)"
         % (qid, rcpt, relay, delay, dsn, st, text))

n = 0
while written < LINES:
    n += 1
    t += rnd(3)
    qid = "%010X" % (0x1000000000 + n * 7919)
    pid = 1000 + rnd(400)
    spid = 20000 + rnd(50)
    dom = DOMAINS[rnd(len(DOMAINS))]
    rcpt = "user%d@%s" % (rnd(5000), dom)
    mx = "mx%d.%s" % (1 + rnd(2), dom)
    addr = "192.0.%d.%d" % (2 + rnd(3), 1 + rnd(250))
    emit("smtpd", spid, "connect from client%d.example[198.51.100.%d]" % (n % 97, 1 + n % 250))
    emit("smtpd", spid, "%s: client=client%d.example[198.51.100.%d]" % (qid, n % 97, 1 + n % 250))
    emit("cleanup", 30000 + rnd(20), "%s: message-id=<%d.%s@mta.test>" % (qid, n, qid))
    emit("qmgr", 999, "%s: from=<sender%d@mta.test>, size=%d, nrcpt=1 (queue active)" % (qid, n % 300, 1000 + rnd(90000)))
    emit("smtpd", spid, "disconnect from client%d.example[198.51.100.%d] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" % (n % 97, 1 + n % 250))
    r = rnd(100)
    relay = "%s[%s]:25" % (mx, addr)
    if r < 55:
        emit("smtp", pid, "Trusted TLS connection established to %s: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" % relay)
        status(pid, qid, rcpt, relay, "2.0.0", "sent", "250 2.0.0 OK  %d - gsmtp" % (1795400000 + t))
    elif r < 67:
        status(pid, qid, rcpt, relay, "4.2.0", "deferred", "host %s[%s] said: 450 4.2.0 <%s>: Recipient address rejected: Greylisted, see http://postgrey.example/ (in reply to RCPT TO command)" % (mx, addr, rcpt))
    elif r < 77:
        rcpt = "user%d@blocked.test" % rnd(5000)
        emit("smtp", pid, "connect to mx1.blocked.test[198.18.0.2]:25: Connection timed out")
        emit("smtp", pid, "connect to mx2.blocked.test[198.18.0.3]:25: Connection timed out")
        status(pid, qid, rcpt, "none", "4.4.1", "deferred", "connect to mx2.blocked.test[198.18.0.3]:25: Connection timed out", "60, delays=0/0/60/0")
    elif r < 82:
        emit("smtp", pid, "connect to %s: Connection refused" % relay)
        status(pid, qid, rcpt, "none", "4.4.1", "deferred", "connect to %s: Connection refused" % relay)
    elif r < 85:
        status(pid, qid, rcpt, relay, "5.1.1", "bounced", "host %s[%s] said: 550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)" % (mx, addr, rcpt))
    elif r < 90:
        status(pid, qid, "x@nx%d.test" % rnd(100), "none", "4.4.3", "deferred", "Host or domain name not found. Name service error for name=nx.test type=MX: Host not found, try again")
    elif r < 95:
        emit("error", 40000 + rnd(10), "%s: to=<u%d@blocked.test>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx2.blocked.test[198.18.0.3]:25: Connection timed out)" % (qid, rnd(5000)))
    elif r < 98:
        emit("smtp", pid, "%s: conversation with %s[%s] timed out while receiving the initial server greeting" % (qid, mx, addr))
        status(pid, qid, rcpt, relay, "4.4.2", "deferred", "lost connection with %s[%s] while receiving the initial server greeting" % (mx, addr))
    else:
        emit("smtp", pid, "SSL_connect error to %s: -1" % relay)
        emit("smtp", pid, "warning: TLS library problem: error:0A000410:SSL routines::sslv3 alert handshake failure")
        status(pid, qid, rcpt, relay, "4.7.5", "deferred", "Cannot start TLS: handshake failure")
    emit("qmgr", 999, "%s: removed" % qid)

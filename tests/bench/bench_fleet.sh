#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench_fleet.sh [SAMPLES] - fleet latency: two mxdetourd processes of one
# site on one real redis-server (as tests/e2e/two_mtas.sh, without Postfix
# and without the netns bed).  For each of SAMPLES (default 30) fresh
# destinations, a block's evidence (three rounds of connect timeouts to both
# MX addresses) is appended to A's log at once; the driver times
#   - A: the route in force in A's own transport table (the baseline: the
#     same evidence, no fleet in between), and
#   - B: the route in force in B's table, learnt only through Redis,
# where "in force" is the table's text naming the domain (routetable
# renames the source over TABLE after its database, so the entry is in the
# .db by then).  Prints median and p90 of each, and B - A (what the fleet
# adds) and B / A.  Run from the build directory:
#     sh $top_srcdir/tests/bench/bench_fleet.sh 30
set -eu
samples=${1:-30}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-bfleet.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    redis_stop; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
redis_start "$tmp" >/dev/null
for m in a b; do
    mkdir -p "$tmp/$m"
    : >"$tmp/$m/mail.log"
    cat >"$tmp/$m/conf" <<CONF
site = "fleet"; state_dir = "$tmp/$m"; pid_file = "$tmp/$m/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$tmp/$m/mail.log"; } );
relays = ( { name = "wg"; type = "tunnel"; transport = "smtp-wg"; } );
destinations = ( { name = "all"; domains = [ "*" ]; relays = [ "wg" ]; } );
routes = { table = "$tmp/$m/transport"; reload = "never"; };
# The samples are unrelated destinations failing one after the other, which
# the local-outage guard would rightly call an uplink outage.
detection = { outage = { min_destinations = 10000; }; };
CONF
    "$top_builddir/mxdetourd" -f -c "$tmp/$m/conf" >"$tmp/$m/out" 2>&1 &
    pids="$pids $!"
done
for m in a b; do
    i=0; until grep -q 'connected to redis' "$tmp/$m/out" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "mxdetourd $m did not start" >&2; cat "$tmp/$m/out" >&2; exit 1; }
        sleep 0.1
    done
done
python3 - "$tmp" "$samples" <<'PY'
import os, statistics, sys, time
tmp, samples = sys.argv[1], int(sys.argv[2])

def entry_in(path, domain):
    try:
        with open(path) as f:
            return any(l.startswith(domain + "\t") for l in f)
    except FileNotFoundError:
        return False

def evidence(i, domain):
    stamp = time.strftime("%b %e %H:%M:%S")
    mx = ["198.19.%d.2" % i, "198.19.%d.3" % i]
    out = []
    for r in range(3):
        qid = "%X%04X" % (0xB000 + r, i)
        pid = 4000 + 10 * i + r
        for k, a in enumerate(mx):
            out.append("%s mta postfix/smtp[%d]: connect to mx%d.%s[%s]:25: Connection timed out"
                       % (stamp, pid, k + 1, domain, a))
        out.append("%s mta postfix/smtp[%d]: %s: to=<u%d@%s>, relay=none, delay=6, delays=0/0/6/0, "
                   "dsn=4.4.1, status=deferred (connect to mx2.%s[%s]:25: Connection timed out)"
                   % (stamp, pid, qid, r, domain, domain, mx[1]))
    return "\n".join(out) + "\n"

a_ms, b_ms = [], []
for i in range(1, samples + 1):
    domain = "f%d.fleet.test" % i
    text = evidence(i, domain)
    t0 = time.monotonic()
    with open(os.path.join(tmp, "a", "mail.log"), "a") as f:
        f.write(text)
    ta = tb = None
    while (ta is None or tb is None) and time.monotonic() - t0 < 20:
        now = time.monotonic()
        if ta is None and entry_in(os.path.join(tmp, "a", "transport"), domain):
            ta = now
        if tb is None and entry_in(os.path.join(tmp, "b", "transport"), domain):
            tb = now
        time.sleep(0.002)
    if ta is None or tb is None:
        sys.exit("sample %d: no route within 20 s (A %s, B %s)" % (i, ta, tb))
    a_ms.append((ta - t0) * 1000)
    b_ms.append((tb - t0) * 1000)
    time.sleep(1.2)            # quiet for routes.coalesce_ceiling: each sample is a fresh block

def p90(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]

da = [b - a for a, b in zip(a_ms, b_ms)]
print("fleet latency over %d samples (ms; evidence appended to A's log -> route in force)" % samples)
print("  A's own table (baseline): median %6.1f  p90 %6.1f" % (statistics.median(a_ms), p90(a_ms)))
print("  B's table (via Redis):    median %6.1f  p90 %6.1f" % (statistics.median(b_ms), p90(b_ms)))
print("  B - A (the fleet adds):   median %6.1f  p90 %6.1f" % (statistics.median(da), p90(da)))
print("  B / A:                    median %6.2f" % (statistics.median(b_ms) / statistics.median(a_ms)))
PY

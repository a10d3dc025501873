#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench_scale.sh [SIZES] - mxdetourd's memory and times with N tracked
# destinations (default "1000 10000 100000"), each with one detoured MX
# address, through the daemon's own paths:
#   - Redis (a real redis-server on a Unix socket in a temp dir) holds N
#     address and N destination records, written by gen_scale with the
#     blocking store (docs/state.md); the daemon starts and resyncs;
#   - then a generated Postfix log of N deferrals, one per destination, is
#     appended to the log the daemon follows.
# For each size: the resync time (start to the last address taken in), the
# route publication time (start to the last "published K routes"), the time
# to read the log (until the daemon's CPU time stops growing), mxdetourd's VmRSS and VmHWM (/proc/PID/status), Redis's
# used_memory, and what the daemon says it tracks (its health file); then
# each figure as a ratio to the first size's, measured in the same run.
# Run from the build directory: sh $top_srcdir/tests/bench/bench_scale.sh
set -eu
sizes=${1:-"1000 10000 100000"}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-bsc.XXXXXX")
pid="" greeter=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -n "$greeter" ] && kill "$greeter" 2>/dev/null
    redis_stop; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
ms() { date +%s%3N; }
field() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# trace DIR PID: every 100 ms, "ms addresses-taken publications cpu-ticks"
# of the daemon, until killed.  Times are read back from the trace, so an
# event is dated to the poll that first saw it (100 ms resolution).
trace() {
    while :; do
        echo "$(ms) $(grep -c 'direct -> detoured' "$1/out") $(grep -c 'published [0-9]* routes' "$1/out") $(awk '{ print $14 + $15 }' "/proc/$2/stat" 2>/dev/null || echo 0)"
        sleep 0.1
    done
}
# first_at TRACE FROM COLUMN: the first time at or after FROM (ms) that the
# column held the value it holds at the end of the trace.
first_at() {
    awk -v from="$2" -v c="$3" '$1 >= from { t[NR] = $1; v[NR] = $c; last = $c; n = NR }
        END { for (i = 1; i <= n; i++) if ((i in v) && v[i] == last) { print t[i]; exit } }' "$1"
}
# quiet TRACE TIMEOUT: waits until the last 3 s of the trace show the same
# counts and at most 10 ticks (100 ms) of CPU: the daemon's own timers (the
# rules' tick over every address, the health file) keep it from ever being
# idle (about 1.5 ticks a second with 16k addresses).
quiet() {
    i=0
    while [ $i -lt $(($2 * 10)) ]; do
        [ "$(wc -l <"$1")" -ge 30 ] && tail -n 30 "$1" | awk 'NR == 1 { c = $2 " " $3; t = $4 }
            $2 " " $3 != c || $4 - t > 10 { bad = 1 } END { exit bad }' && return 0
        i=$((i + 1)); sleep 0.1
    done
    echo "# timeout waiting for the daemon to settle" >&2
}
# busy_until TRACE FROM: the first time at or after FROM from which the next
# second of the trace holds at most 3 ticks of CPU: the end of a burst.
busy_until() {
    awk -v from="$2" '$1 >= from { n++; t[n] = $1; c[n] = $4 }
        END { for (i = 1; i + 10 <= n; i++) if (c[i + 10] - c[i] <= 3) { print t[i]; exit } print t[n] }' "$1"
}

# The relay: an SMTP greeting on 127.0.0.1, so relayhealth keeps it up and
# every detoured destination has a route.
python3 -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
def serve(c):
    try:
        c.sendall(b"220 relay.bench ESMTP\r\n")
        while c.recv(512):
            c.sendall(b"221 bye\r\n")
    except OSError:
        pass
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
' >"$tmp/greeter.port" &
greeter=$!
while [ ! -s "$tmp/greeter.port" ]; do sleep 0.05; done
relay_port=$(cat "$tmp/greeter.port")

results="$tmp/results"
: >"$results"
for n in $sizes; do
    d="$tmp/$n"
    mkdir -p "$d"
    redis_start "$d" >/dev/null
    cat >"$d/conf" <<CONF
site = "bench"; state_dir = "$d"; pid_file = "$d/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$d/mail.log"; } );
relays = ( { name = "relay-out"; nexthop = "smtp:[127.0.0.1]:$relay_port"; } );
destinations = ( { domains = [ "*" ]; relays = [ "relay-out" ]; } );
routes = { table = "$d/transport"; reload = "never"; };
CONF
    "$top_builddir/tests/bench/gen_scale" redis "$d/conf" "$n"
    "$top_builddir/tests/bench/gen_scale" log "$n" >"$d/gen.log"
    : >"$d/mail.log"
    t0=$(ms)
    "$top_builddir/mxdetourd" -f -c "$d/conf" >"$d/out" 2>&1 &
    pid=$!
    until grep -q 'connected to redis' "$d/out"; do sleep 0.05; done
    : >"$d/trace"
    trace "$d" "$pid" >>"$d/trace" &
    tracer=$!
    quiet "$d/trace" 300
    t_addr=$(first_at "$d/trace" "$t0" 2)
    t_pub=$(first_at "$d/trace" "$t0" 3)
    routes_resync=$(awk '/published [0-9]+ routes/ { n = $3 } END { print n + 0 }' "$d/out")
    # The log: appended at once, as after a burst; read when the daemon's
    # CPU time stops growing, and checked against the follower's position
    # file (saved about once a second).
    size=$(stat -c %s "$d/gen.log")
    t2=$(ms)
    cat "$d/gen.log" >>"$d/mail.log"
    sleep 1
    quiet "$d/trace" 300
    t_log=$(busy_until "$d/trace" "$t2")
    kill "$tracer"; wait "$tracer" 2>/dev/null || true
    i=0 off=0
    while [ $i -lt 50 ]; do
        off=$(sed -n 's/.* off=\([0-9]*\).*/\1/p' "$d/log0.pos" 2>/dev/null || true)
        [ "$off" = "$size" ] && break
        i=$((i + 1)); sleep 0.1
    done
    [ "$off" = "$size" ] || echo "# size $n: the follower stopped at $off of $size bytes" >&2
    routes=$(awk '/published [0-9]+ routes/ { n = $3 } END { print n + 0 }' "$d/out")
    sleep 5.5                   # the health file is rewritten every 5 s
    addrs=$(awk '$1 == "addresses" { print $2 }' "$d/health")
    doms=$(awk '$1 == "destinations" { print $2 }' "$d/health")
    rss=$(field "/proc/$pid/status" VmRSS:)
    hwm=$(field "/proc/$pid/status" VmHWM:)
    used=$(redis-cli -s "$REDIS_SOCK" info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }')
    echo "$n $((t_addr - t0)) $((t_pub - t0)) $((t_log - t2)) $rss $hwm $used $addrs $doms $routes_resync $routes" >>"$results"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    redis_stop
done
awk '
NR == 1 { for (i = 1; i <= NF; i++) base[i] = $i }
function r(i) { return base[i] > 0 ? sprintf("%.2fx", $i / base[i]) : "-" }
{
    printf "N=%d (%s the destinations of the first size)\n", $1, r(1)
    printf "  resync, start to the last address taken in: %6d ms  %s\n", $2, r(2)
    printf "  route publication, start to the last table: %6d ms  %s  (%d routes from the resync)\n", $3, r(3), $10
    printf "  log of %d deferrals read, routes settled:   %6d ms  %s  (%d routes in the end)\n", $1, $4, r(4), $11
    printf "  mxdetourd VmRSS / VmHWM:                    %6.1f / %.1f MB  %s / %s\n", $5 / 1024, $6 / 1024, r(5), r(6)
    printf "  redis used_memory:                          %6.1f MB  %s\n", $7 / 1048576, r(7)
    printf "  tracked (health): %d addresses, %d destinations\n", $8, $9
}' "$results"

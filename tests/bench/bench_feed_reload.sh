#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# bench_feed_reload.sh [LINES] - a running mxdetourd (real redis-server) with
# a generated registry dump of LINES lines (default 1000000):
#   - the time to read the dump at start (before the daemon answers) and to
#     take a new version in force after `mv`, from the daemon's own log;
#   - the event loop's responsiveness while the new version is read on the
#     worker thread: GET /metrics (served by the loop) timed during the
#     reload, as a ratio to the same requests on an idle daemon;
#   - the daemon's RSS with one version, and its peak while two coexist.
# Run from the build directory: sh $top_srcdir/tests/bench/bench_feed_reload.sh
set -eu
lines=${1:-1000000}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-bfr.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; redis_stop; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis_start "$tmp" >/dev/null
python3 "$top_srcdir/tests/bench/gen_registry.py" "$lines" >"$tmp/dump.csv"
: >"$tmp/mail.log"
cat >"$tmp/conf" <<CONF
site = "bench"; state_dir = "$tmp"; pid_file = "$tmp/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$tmp/mail.log"; } );
routes = { table = "$tmp/transport"; reload = "never"; };
metrics = { listen = "127.0.0.1:$port"; };
feed_check = "1s";
feeds = ( { name = "registry"; file = "$tmp/dump.csv"; trust = "probe"; } );
CONF
ms() { date +%s%3N; }
t0=$(ms)
"$top_builddir/mxdetourd" -f -c "$tmp/conf" >"$tmp/out" 2>&1 &
pid=$!
until curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; do sleep 0.05; done
t1=$(ms)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
rss1=$(rss)
# timed N: N sequential GET /metrics; prints the slowest and the mean in ms.
timed() {
    i=0 max=0 sum=0
    while [ $i -lt "$1" ]; do
        t=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics")
        t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000000 }')
        sum=$((sum + t)); [ "$t" -gt "$max" ] && max=$t
        i=$((i + 1))
    done
    awk -v m="$max" -v s="$sum" -v n="$1" 'BEGIN { printf "%.2f %.2f", m / 1000, s / n / 1000 }'
}
idle=$(timed 50)
# A new version: the same entries and one more line, replaced with mv.
cp "$tmp/dump.csv" "$tmp/new.csv"
printf '192.0.2.77;bench.example;;x;y;2026-11-23\r\n' >>"$tmp/new.csv"
loads=$(grep -c 'dump.csv: loaded' "$tmp/out")
t2=$(ms)
mv "$tmp/new.csv" "$tmp/dump.csv"
peak=$rss1 during=""
while [ "$(grep -c 'dump.csv: loaded' "$tmp/out")" -le "$loads" ]; do
    during="$during $(timed 5)"
    r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
done
t3=$(ms)
dmax=$(echo "$during" | awk '{ m = 0; for (i = 1; i <= NF; i += 2) if ($i > m) m = $i; print m }')
dmean=$(echo "$during" | awk '{ s = 0; n = 0; for (i = 2; i <= NF; i += 2) { s += $i; n++ } printf "%.2f", n ? s / n : 0 }')
sleep 1
echo "feed: $lines lines, $(du -m "$tmp/dump.csv" | cut -f1) MB"
echo "start, dump read before the first answer:   $(((t1 - t0)))ms"
echo "new version in force after mv:              $(((t3 - t2)))ms (includes up to 1 s of feed_check)"
echo "GET /metrics idle, slowest / mean:          $(echo "$idle" | awk '{ print $1 " / " $2 }') ms"
echo "GET /metrics during the reload, slowest / mean: $dmax / $dmean ms"
awk -v a="$dmean" -v b="$(echo "$idle" | cut -d' ' -f2)" 'BEGIN { printf "mean latency during the reload / idle:      %.2fx\n", (b > 0 ? a / b : 0) }'
echo "RSS with one version: $((rss1 / 1024)) MB; peak during the reload: $((peak / 1024)) MB; after: $(($(rss) / 1024)) MB"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Prometheus endpoint of a real mxdetourd over a real redis-server:
# Postfix log lines detour a destination, a relay fails its health check,
# and a scrape shows it, passes `promtool check metrics`, and moves when
# Redis goes and comes back.  The endpoint answers GET /metrics only, within
# its limits, on the configured address only, and is off by default.  The
# example alerting rules pass `promtool check rules` and their unit tests.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/redis.sh"
for tool in promtool curl python3; do
    command -v $tool >/dev/null || { echo "1..0 # SKIP $tool not installed"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-metrics.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    redis_stop; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mxd="$top_builddir/mxdetourd"   # not $d: tap.sh's check() sets it
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(freeport)

plan 26
redis_start "$tmp" || { echo "Bail out! redis-server did not start"; exit 1; }
mkconf() {  # name metrics-section
    mkdir -p "$tmp/$1"; : >>"$tmp/$1/mail.log"
    cat >"$tmp/$1/conf" <<CONF
site = "lab"; state_dir = "$tmp/$1"; pid_file = "$tmp/$1/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$tmp/$1/mail.log"; } );
probe = { relay_interval = "1s"; };
relays = ( { name = "relay-a"; type = "tunnel"; transport = "smtp-a"; },
           { name = "relay-b"; nexthop = "smtp:[127.0.0.1]:1"; } );
destinations = ( { name = "all"; domains = [ "*" ]; relays = [ "relay-a", "relay-b" ]; },
                 { name = "tuta"; domains = [ "tuta.test" ]; relays = [ "relay-b" ]; } );
routes = { table = "$tmp/$1/transport"; reload = "never"; };
$2
CONF
}
start() { "$mxd" -f -c "$tmp/$1/conf" >"$tmp/$1/out" 2>&1 & pids="$pids $!"; eval "pid_$1=\$!"; }
feed() { sed "s/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]*/$(date '+%b %e %H:%M:%S')/" \
    "$top_srcdir/tests/data/postfix/timeout.log" >>"$tmp/$1/mail.log"; }
waitfor() {  # file regex seconds
    i=0; while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1; done
}
scrape() { curl -sf -o "$tmp/scrape" "http://127.0.0.1:$port/metrics"; }
# value NAME{LABELS}: the sample's value in the last scrape ("" if absent)
value() { awk -v s="$1" '$1 == s { print $2 }' "$tmp/scrape"; }
# wait_value SAMPLE WANT SECONDS: scrape until the sample has that value
wait_value() {
    i=0; while scrape; [ "$(value "$1")" != "$2" ]; do
        i=$((i + 1)); [ $i -gt $(($3 * 5)) ] && return 1; sleep 0.2; done
}

mkconf a "metrics = { listen = \"127.0.0.1:$port\"; };"
start a
check "mxdetourd says where it serves metrics" waitfor "$tmp/a/out" "serving Prometheus metrics on http://127.0.0.1:$port/metrics" 5
waitfor "$tmp/a/out" 'connected to redis' 5
for n in 1 2 3; do feed a; sleep 0.3; done
check "the log lines detour blocked.test" waitfor "$tmp/a/out" 'routing via relay-a' 5
waitfor "$tmp/a/out" 'relay relay-b is down' 10
waitfor "$tmp/a/out" 'route for blocked.test: smtp-a:' 5     # published (after the debounce)
# The gauges follow the engine's one-second tick.
wait_value mxdetour_destinations_detoured 1 5
ctype=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$port/metrics")
expect_eq "GET /metrics: 200, text format 0.0.4" "$ctype" "200 text/plain; version=0.0.4; charset=utf-8"
out=$(promtool check metrics <"$tmp/scrape" 2>&1; echo "exit $?")
expect_eq "promtool check metrics accepts a real scrape" "$out" "exit 0"
expect_eq "six timeout lines counted as evidence" "$(value 'mxdetour_evidence_total{kind="timeout"}')" 6
expect_eq "both MX addresses changed to detoured" "$(value 'mxdetour_address_state_changes_total{to="detoured"}')" 2
expect_eq "one destination detoured now, one route in the table" \
    "$(value mxdetour_destinations_detoured) $(value mxdetour_routes) $(value mxdetour_addresses_detoured)" "1 1 2"
expect_eq "the detour's detection-to-route time is observed once" "$(value mxdetour_detection_to_route_seconds_count)" 1
expect_eq "the table was written (at start and for the detour)" "$(value 'mxdetour_route_publications_total{result="written"}')" 2
expect_eq "relay-a up, relay-b down" \
    "$(value 'mxdetour_relay_up{relay="relay-a"}') $(value 'mxdetour_relay_up{relay="relay-b"}')" "1 0"
expect_eq "destination tuta has no relay up, all has one of two" \
    "$(value 'mxdetour_destination_relays_up{destination="tuta"}') $(value 'mxdetour_destination_relays_up{destination="all"}') $(value 'mxdetour_destination_relays{destination="all"}')" "0 1 2"
n=$(value 'mxdetour_relay_probes_total{result="refused"}')
if [ "${n:-0}" -ge 2 ]; then pass "relay-b's refused health probes are counted ($n)"; else fail "relay-b's refused health probes are counted (${n:-none})"; fi
expect_eq "connected to Redis once" "$(value mxdetour_redis_up) $(value mxdetour_redis_connects_total)" "1 1"

# Redis goes away and comes back: the scrape follows.
redis_stop
check "mxdetour_redis_up drops to 0 without Redis" wait_value mxdetour_redis_up 0 5
redis_start "$tmp" || echo "# redis did not restart"
check "after Redis is back: up again, a second connection counted" wait_value mxdetour_redis_connects_total 2 15
out=$(promtool check metrics <"$tmp/scrape" 2>&1; echo "exit $?")
expect_eq "promtool still accepts the scrape" "$out" "exit 0"

# Only GET /metrics, bounded input, the configured address only.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_eq "POST /metrics is refused (501)" "$(code -X POST -d x "http://127.0.0.1:$port/metrics")" 501
expect_eq "other paths: 404" "$(code "http://127.0.0.1:$port/")$(code "http://127.0.0.1:$port/metrics/x")" 404404
big=$(head -c 10000 /dev/zero | tr '\0' a)
expect_eq "a 10 kB header is refused (400)" "$(code -H "X-Big: $big" "http://127.0.0.1:$port/metrics")" 400
expect_eq "nothing listens on 127.0.0.2 (bound to 127.0.0.1 only)" "$(code --max-time 2 "http://127.0.0.2:$port/metrics")" 000

# Off by default: a daemon without the section opens no TCP socket.
mkconf b ""
start b
if waitfor "$tmp/b/out" 'started: version' 5 && kill -0 "$pid_b" && ! ss -ltnp 2>/dev/null | grep -q "pid=$pid_b,"
then pass "no metrics section: the daemon runs with no listening socket"
else fail "no metrics section: the daemon runs with no listening socket"; fi

# An address in use stops a daemon at start: metrics were asked for.
mkconf c "metrics = { listen = \"127.0.0.1:$port\"; };"
"$mxd" -f -c "$tmp/c/conf" >"$tmp/c/out" 2>&1; st=$?
expect_eq "a second daemon on the same address exits 3, saying why" \
    "$st $(grep -c "cannot listen on 127.0.0.1:$port " "$tmp/c/out")" "3 1"

# A reload with another address moves the endpoint.
port2=$(freeport)
mkconf a "metrics = { listen = \"127.0.0.1:$port2\"; };"
kill -HUP "$pid_a"
waitfor "$tmp/a/out" "serving Prometheus metrics on http://127.0.0.1:$port2/metrics" 5
expect_eq "after a reload: served on the new port, not the old" \
    "$(code "http://127.0.0.1:$port2/metrics") $(code --max-time 2 "http://127.0.0.1:$port/metrics")" "200 000"

# Under --enable-sanitizers a report lands in the daemon's output.
kill "$pid_a"; wait "$pid_a"; st=$?
expect_eq "daemon a stops with status 0 and no sanitizer report" \
    "$st $(grep -cE 'Sanitizer|runtime error' "$tmp/a/out")" "0 0"

# The example alerting rules.
out=$(promtool check rules "$top_srcdir/docs/alerts.yml" 2>&1; echo "exit $?")
expect_match "promtool check rules accepts docs/alerts.yml" "$out" 'SUCCESS: 7 rules found'
out=$(cd "$top_srcdir/tests/data/prometheus" && promtool test rules alerts_test.yml 2>&1; echo "exit $?")
expect_match "the example alerts fire when they should (promtool test rules)" "$out" 'exit 0$'
tap_exit

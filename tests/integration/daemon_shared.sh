#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mxdetourd end to end over a real redis-server, without Postfix: Postfix log
# lines (captured on the netns bed) appended to a followed file detour a
# destination; a second daemon of the same site learns it through Redis and
# a daemon of another site does not; with Redis stopped the daemon keeps its
# state and its evidence, and writes the evidence once Redis is back.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-shared.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    redis_stop; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
data="$top_srcdir/tests/data/postfix"
d="$top_builddir/mxdetourd"

plan 11
redis_start "$tmp" || { echo "Bail out! redis-server did not start"; exit 1; }
mkconf() {  # name site
    mkdir -p "$tmp/$1"; : >"$tmp/$1/mail.log"
    cat >"$tmp/$1/conf" <<CONF
site = "$2"; state_dir = "$tmp/$1"; pid_file = "$tmp/$1/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$tmp/$1/mail.log"; } );
relays = ( { name = "relay-out"; nexthop = "smtp:[198.19.0.2]:25"; } );
destinations = ( { domains = [ "*" ]; relays = [ "relay-out" ]; } );
CONF
}
start() { "$d" -f -c "$tmp/$1/conf" >"$tmp/$1/out" 2>&1 & pids="$pids $!"; }
# Appends the captured timeout lines with the current time.
feed() { sed "s/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]*/$(date '+%b %e %H:%M:%S')/" "$data/${2:-timeout.log}" >>"$tmp/$1/mail.log"; }
waitfor() {  # file regex seconds
    i=0; while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1; done
}
ctl() { n=$1; shift; "$top_builddir/mxdetourctl" -c "$tmp/$n/conf" "$@"; }

mkconf a lab; mkconf b lab; mkconf c elsewhere
start a; start b; start c
check "all three daemons connect to Redis" waitfor "$tmp/c/out" 'connected to redis' 5
waitfor "$tmp/a/out" 'connected to redis' 5; waitfor "$tmp/b/out" 'connected to redis' 5
feed a; sleep 0.3; feed a; sleep 0.3; feed a
check "daemon a detours the domain after 3 timeouts per address" \
    waitfor "$tmp/a/out" 'detour: blocked.test \(mx1.blocked.test\[198.18.0.2\], mx2.blocked.test\[198.18.0.3\]\) blocked after 3 connect timeouts in 10m; routing via relay-out' 5
check "daemon b of the same site learns both addresses through Redis" \
    waitfor "$tmp/b/out" 'mx2.blocked.test\[198.18.0.3\]: direct -> detoured' 5
out=$(ctl b show 198.18.0.2 2>&1 | awk '/^state:/ {print $2}')
expect_eq "the shared record says detoured" "$out" detoured
out=$(ctl c show 198.18.0.2 >/dev/null 2>&1; echo $?)
expect_eq "site 'elsewhere' shares nothing (show exits 1)" "$out" 1
if grep -q 'detoured' "$tmp/c/out"; then fail "daemon c detoured nothing"; else pass "daemon c detoured nothing"; fi
out=$(ctl a show blocked.test | sed -n 's/^mx: *//p')
expect_eq "the destination record names its MX hosts" "$out" "mx1.blocked.test[198.18.0.2] mx2.blocked.test[198.18.0.3]"

# Redis goes away: daemon a keeps going on its own and keeps its evidence.
redis_stop
check "daemon a notices Redis is gone" waitfor "$tmp/a/out" 'lost redis' 5
feed a refused.log
sleep 1
if kill -0 $(cat "$tmp/a/pid") 2>/dev/null; then pass "daemon a keeps running without Redis"; else fail "daemon a keeps running without Redis"; fi
redis_start "$tmp" || echo "# redis did not restart"
i=0; while [ "$(grep -c 'connected to redis' "$tmp/a/out")" -lt 2 ] && [ $i -lt 400 ]; do
    i=$((i + 1)); sleep 0.1; done
n=$(grep -c 'connected to redis' "$tmp/a/out")
expect_eq "daemon a reconnects with backoff, and says so once per connection" "$n" 2
# The evidence seen while Redis was down reaches the (empty, restarted) Redis.
i=0; while [ $i -lt 50 ]; do
    out=$(ctl b show 198.18.0.2 2>/dev/null | sed -n 's/^evidence: *//p'); [ -n "$out" ] && break
    i=$((i + 1)); sleep 0.1; done
expect_match "evidence kept during the outage is written afterwards" "$out" 'refused [1-9]'
tap_exit

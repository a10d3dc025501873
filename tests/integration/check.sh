#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `mxdetourctl status --check` against a real mxdetourd and redis-server,
# through every state it tells apart: all good (0), a relay down (1), every
# relay of a destination down (2), Redis stopped (2), a local outage (2),
# the daemon stopped (2), a stale health file (2), a health file that makes
# no sense (3), a configuration that does not load (3).  The states are
# reached by reloading the daemon with other relays, stopping redis-server,
# and feeding Postfix log lines.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-check.XXXXXX")
dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    redis_stop; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
mxd="$top_builddir/mxdetourd"   # not $d: tap.sh's check() sets it

plan 20
redis_start "$tmp" || { echo "Bail out! redis-server did not start"; exit 1; }
: >"$tmp/mail.log"
# mkconf RELAYS DESTINATIONS
mkconf() {
    cat >"$tmp/conf" <<CONF
site = "lab"; state_dir = "$tmp"; pid_file = "$tmp/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$tmp/mail.log"; } );
probe = { relay_interval = "1s"; };
relays = ( $1 );
destinations = ( $2 );
routes = { table = "$tmp/transport"; reload = "never"; };
CONF
}
relay_a='{ name = "relay-a"; type = "tunnel"; transport = "smtp-a"; }'
relay_b='{ name = "relay-b"; nexthop = "smtp:[127.0.0.1]:1"; }'     # refused: down
ctl() { "$top_builddir/mxdetourctl" -c "$tmp/conf" "$@"; }
# wait_check CODE SECONDS: runs the check until it exits CODE; leaves its
# line in $out and its code in $rc.
wait_check() {
    i=0; while out=$(ctl status --check 2>&1); rc=$?; [ $rc -ne "$1" ]; do
        i=$((i + 1)); [ $i -gt $(($2 * 4)) ] && return 1; sleep 0.25; done
}
# wait_line REGEX SECONDS: runs the check until its line matches.
wait_line() {
    i=0; while out=$(ctl status --check 2>&1); rc=$?; ! printf '%s\n' "$out" | grep -Eq -- "$1"; do
        i=$((i + 1)); [ $i -gt $(($2 * 4)) ] && return 1; sleep 0.25; done
}
waitfor() {  # file regex seconds
    i=0; while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1; done
}
reload() { mkconf "$1" "$2"; kill -HUP "$dpid"; }

mkconf "$relay_a" '{ name = "all"; domains = [ "*" ]; relays = [ "relay-a" ]; }'
out=$(ctl status --check 2>&1); rc=$?
expect_eq "before mxdetourd runs: CRITICAL" "$rc" 2
expect_match "... because it does not run" "$out" "^MXDETOUR CRITICAL - mxdetourd is not running \(no $tmp/health\) \| addresses_detoured=0 destinations_detoured=0$"

"$mxd" -f -c "$tmp/conf" >"$tmp/out" 2>&1 & dpid=$!
waitfor "$tmp/out" 'connected to redis' 5
wait_check 0 15
expect_eq "all good: exit 0" "$rc" 0
expect_match "all good: the OK line with perfdata" "$out" "^MXDETOUR OK - mxdetourd running \(pid $dpid\), redis up, 1 relay up, 0 addresses and 0 destinations detoured \| addresses_detoured=0 destinations_detoured=0 relays=1 relays_down=0 local_outage=0$"

reload "$relay_a, $relay_b" '{ name = "all"; domains = [ "*" ]; relays = [ "relay-a", "relay-b" ]; }'
wait_check 1 20
expect_eq "a relay down, its destination keeps another: WARNING (1)" "$rc" 1
expect_match "... naming the relay" "$out" '^MXDETOUR WARNING - relay relay-b down \| .* relays=2 relays_down=1 '

reload "$relay_a, $relay_b" '{ name = "all"; domains = [ "*" ]; relays = [ "relay-a", "relay-b" ]; },
    { name = "tuta"; domains = [ "tuta.test" ]; relays = [ "relay-b" ]; }'
wait_check 2 20
expect_eq "every relay of a destination down: CRITICAL (2)" "$rc" 2
expect_match "... naming the destination first, then the relay" "$out" '^MXDETOUR CRITICAL - every relay of destination tuta is down; relay relay-b down \|'

reload "$relay_a" '{ name = "all"; domains = [ "*" ]; relays = [ "relay-a" ]; }'
wait_check 0 20
expect_eq "relay-b gone from the configuration: OK again" "$rc" 0

redis_stop
out=$(ctl status --check 2>&1); rc=$?
expect_eq "redis-server stopped: CRITICAL (2)" "$rc" 2
expect_match "... redis unreachable, no Redis perfdata" "$out" '^MXDETOUR CRITICAL - redis unreachable \(.*\) \| relays=1 '
wait_line 'mxdetourd has lost redis' 15
expect_match "... and once the daemon notices, it says so too" "$out" 'redis unreachable .*; mxdetourd has lost redis'
redis_start "$tmp" || echo "# redis did not restart"
check "Redis back: OK again" wait_check 0 40

# Six unrelated destinations time out at once: the outage guard holds.
for n in 1 2 3 4 5 6; do
    t=$(date '+%b %e %H:%M:%S')
    printf '%s mta postfix/smtp[9%s]: connect to mx.d%s.test[198.51.%s.2]:25: Connection timed out\n' "$t" $n $n $n
    printf '%s mta postfix/smtp[9%s]: 1%sAA: to=<u@d%s.test>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.d%s.test[198.51.%s.2]:25: Connection timed out)\n' "$t" $n $n $n $n $n
done >>"$tmp/mail.log"
wait_check 2 20
expect_match "a local outage: CRITICAL, with the guard's reason" "$out" '^MXDETOUR CRITICAL - local outage: [0-9]+ of [0-9]+ unrelated destinations failing .*local_outage=1$'

kill "$dpid"; wait "$dpid"; st=$?; dpid=
expect_eq "mxdetourd stops with status 0 and no sanitizer report" \
    "$st $(grep -cE 'Sanitizer|runtime error' "$tmp/out")" "0 0"
out=$(ctl status --check 2>&1); rc=$?
expect_match "mxdetourd stopped: CRITICAL, not running (its health file is gone)" "$rc $out" "^2 MXDETOUR CRITICAL - mxdetourd is not running \(no $tmp/health\)"

# A health file left by a daemon that died without cleaning up.  (Its age
# is whole seconds old plus the time the check takes to start: 2m or 2m1s
# on a slow sanitizer build.)
now=$(($(date +%s) * 1000))
printf 'mxdetourd-health 1\npid %s\nwritten %s\nredis up\noutage 0\n' $$ $((now - 120000)) >"$tmp/health"
out=$(ctl status --check 2>&1); rc=$?
expect_match "a health file 2m old: CRITICAL, not running" "$rc $out" '^2 MXDETOUR CRITICAL - mxdetourd is not running \(its health file is 2m([0-9]s)? old\)'
printf 'mxdetourd-health 1\npid %s\nwritten %s\nredis up\noutage 0\nfeeds 1 2\n' $$ "$now" >"$tmp/health"
out=$(ctl status --check 2>&1); rc=$?
expect_match "a block-list feed never read: WARNING (1)" "$rc $out" '^1 MXDETOUR WARNING - 1 of 2 block-list feeds have no version in force'
printf 'something else\n' >"$tmp/health"
out=$(ctl status --check 2>&1); rc=$?
expect_match "a health file that makes no sense: UNKNOWN (3)" "$rc $out" "^3 MXDETOUR UNKNOWN - $tmp/health is not a health file of this mxdetourd"
echo 'site = ;' >"$tmp/conf"
out=$(ctl status --check 2>/dev/null); rc=$?
expect_match "a configuration that does not load: UNKNOWN (3), one line" "$rc $out" "^3 MXDETOUR UNKNOWN - configuration $tmp/conf does not load: $tmp/conf:1: "
tap_exit

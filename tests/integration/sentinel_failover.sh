#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two mxdetourd of one site behind Redis Sentinel (a master, a replica and
# three sentinels, real processes on free loopback ports, all behind a
# password): the master is killed while destinations are being detoured.  The daemons follow the new
# master within the sentinels' failover time; records the new master never
# got are put back from the daemons' copies; evidence seen during the switch
# is written once it answers; mxdetourctl works before and after; and the
# second daemon sees what the first learns after the failover.  The sentinel
# the first daemon listens to is killed before the master, so it has to
# move to another.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sentinel.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-failover.XXXXXX")
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    sentinel_stop; rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
data="$top_srcdir/tests/data/postfix"
d="$top_builddir/mxdetourd"

S_PASS="pw-$$-test"   # Redis and the sentinels both require it

plan 21
sentinel_start "$tmp" mxm || { echo "Bail out! redis and its sentinels did not start"; exit 1; }
printf '%s\n' "$S_PASS" >"$tmp/secret"
# mkconf NAME: a daemon's configuration, with the three sentinels.
mkconf() { n=$1; set -- $S_PORTS; mkconf_ports "$n" "$@"; }
mkconf_ports() {
    name=$1; shift
    mkdir -p "$tmp/$name"; : >"$tmp/$name/mail.log"
    cat >"$tmp/$name/conf" <<CONF
site = "lab"; state_dir = "$tmp/$name"; pid_file = "$tmp/$name/pid";
redis = { sentinels = [ "127.0.0.1:$1", "127.0.0.1:$2", "127.0.0.1:$3" ]; master_name = "mxm";
          password_file = "$tmp/secret"; sentinel_password_file = "$tmp/secret"; };
logs = ( { file = "$tmp/$name/mail.log"; } );
detection = { outage = { min_destinations = 10000; }; };
relays = ( { name = "relay-out"; nexthop = "smtp:[198.19.0.2]:25"; } );
destinations = ( { domains = [ "*" ]; relays = [ "relay-out" ]; } );
CONF
}
start() { "$d" -f -c "$tmp/$1/conf" >"$tmp/$1/out" 2>&1 & pids="$pids $!"; }
# feed DAEMON DOMAIN N: the captured timeout lines, for DOMAIN with MX
# addresses 198.18.0.N and 198.18.0.N+1, stamped with the current time.
feed() {
    n2=$(($3 + 1))
    sed -e "s/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]*/$(date '+%b %e %H:%M:%S')/" \
        -e "s/blocked\.test/$2/g" -e "s/198\.18\.0\.3\]/198.18.0.$n2]/g" \
        -e "s/198\.18\.0\.2\]/198.18.0.$3]/g" "$data/timeout.log" >>"$tmp/$1/mail.log"
}
trip() { feed "$@"; sleep 0.3; feed "$@"; sleep 0.3; feed "$@"; }
waitfor() {  # file regex seconds
    i=0; while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1; done
}
ctl() { n=$1; shift; "$top_builddir/mxdetourctl" -c "$tmp/$n/conf" "$@"; }
state() { ctl a show "$1" 2>&1 | awk '/^state:/ {print $2}'; }
on_replica() { s_cli -p "$S_REPLICA_PORT" "$@"; }

mkconf a; mkconf b
start a; start b
check "daemon a connects to the master the sentinels name" \
    waitfor "$tmp/a/out" "connected to redis master 127.0.0.1:$S_MASTER_PORT \(mxm" 10
check "daemon a follows failovers through a sentinel" waitfor "$tmp/a/out" 'following failovers of mxm' 10
waitfor "$tmp/b/out" 'connected to redis master' 10

# Steady state: a detours two destinations; b learns them.
trip a blocked.test 2
trip a lost.test 12
check "daemon b learns a's detour through the master" \
    waitfor "$tmp/b/out" 'mx2.lost.test\[198.18.0.13\]: direct -> detoured' 10
expect_eq "mxdetourctl works through the sentinels before the failover" "$(state 198.18.0.2)" detoured
# Wait until the replica has both, then make it lose lost.test, as when
# the master dies before its last writes reach the replica.
i=0; until [ "$(on_replica EXISTS mxd:lab:addr:198.18.0.13 mxd:lab:dom:lost.test)" = 2 ] || [ $i -gt 50 ]; do
    i=$((i + 1)); sleep 0.1; done
on_replica DEL mxd:lab:addr:198.18.0.12 mxd:lab:addr:198.18.0.13 mxd:lab:dom:lost.test >/dev/null
on_replica ZREM mxd:lab:addrs 198.18.0.12 198.18.0.13 >/dev/null
on_replica ZREM mxd:lab:doms lost.test >/dev/null

# The sentinel daemon a listens to dies first; a quorum of two is left.
set -- $S_PORTS
kill "${S_SENTINEL_PIDS%% *}"
check "daemon a listens to another sentinel when its own dies" \
    waitfor "$tmp/a/out" "following failovers of mxm through sentinel 127.0.0.1:$2" 10

# The master dies; evidence keeps coming while the sentinels elect.
t0=$(($(date +%s%N) / 1000000))
kill -9 "$S_MASTER_PID"
trip a during.test 22
# Watch both: when the sentinels name the new master, and when daemon a
# is connected to it.
ms() { echo $(($(date +%s%N) / 1000000)); }
t_switch=; t_conn=; i=0
while [ -z "$t_conn" ] && [ $i -lt 300 ]; do
    [ -z "$t_switch" ] && [ "$(sentinel_master_port)" = "$S_REPLICA_PORT" ] && t_switch=$(ms)
    grep -q "connected to redis master 127.0.0.1:$S_REPLICA_PORT" "$tmp/a/out" && t_conn=$(ms)
    i=$((i + 1)); sleep 0.1
done
check "daemon a is told of the failover by a sentinel" \
    grep -q "moved redis master mxm from 127.0.0.1:$S_MASTER_PORT to 127.0.0.1:$S_REPLICA_PORT" "$tmp/a/out"
expect_match "daemon a connects to the new master" "${t_conn:-never}" '^[0-9]+$'
lag=$(( ${t_conn:-999999} - ${t_switch:-0} ))
# The daemon itself needs ~250 ms; the slack is for a loaded test machine.
if [ -n "$t_switch" ] && [ "$lag" -le 2000 ]; then
    pass "within the failover time: connected ${lag} ms after the sentinels switched, $(($t_conn - $t0)) ms after the kill"
else
    fail "within the failover time (switch ${t_switch:-never}, connected ${t_conn:-never})"
    grep -E 'redis|sentinel' "$tmp/a/out" | sed 's/^/#   /'
fi
check "daemon b connects to the new master" \
    waitfor "$tmp/b/out" "connected to redis master 127.0.0.1:$S_REPLICA_PORT" 10
expect_eq "the sentinels agree on the new master" "$(sentinel_master_port)" "$S_REPLICA_PORT"

# What the old master had and the replica got survives as it was.
expect_eq "mxdetourctl works after the failover; a replicated record is intact" \
    "$(state 198.18.0.2)" detoured
# What the replica never got is put back by the daemons.
check "a daemon says it writes back a record the new master lost" \
    grep -q 'redis has lost the record of 198.18.0.1[23]' "$tmp/a/out" "$tmp/b/out"
i=0; until [ "$(state 198.18.0.13)" = detoured ] || [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "the lost address record is back on the new master" "$(state 198.18.0.13)" detoured
out=$(ctl a show lost.test 2>&1 | sed -n 's/^mx: *//p')
expect_eq "the lost destination record is back too" "$out" "mx1.lost.test[198.18.0.12] mx2.lost.test[198.18.0.13]"
# Evidence seen while the master was gone is written to the new one.
i=0; until [ "$(state 198.18.0.23)" = detoured ] || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "evidence from the switch reaches the new master" "$(state 198.18.0.23)" detoured
check "daemon b learns it" waitfor "$tmp/b/out" 'mx2.during.test\[198.18.0.23\]: direct -> detoured' 10
# A change after the failover reaches b through the new master's channel.
trip a after.test 32
check "daemon b sees a change made after the failover" \
    waitfor "$tmp/b/out" 'mx2.after.test\[198.18.0.33\]: direct -> detoured' 10
out=$(ctl a block manual.test --ttl 1h 2>&1)
expect_match "mxdetourctl blocks through the sentinels after the failover" "$out" '^blocked manual.test'
check "daemon b applies it" waitfor "$tmp/b/out" 'manual block of manual.test' 10
# Both stop cleanly, with their sentinel connections (and, in a sanitizer
# build, without a leak or an error report).
st=""; for p in $pids; do kill -TERM "$p"; done
for p in $pids; do wait "$p"; st="$st$?"; done; pids=""
expect_eq "both daemons stop with status 0" "$st" 00
if grep -qE 'Sanitizer|runtime error' "$tmp/a/out" "$tmp/b/out"; then
    fail "no sanitizer report from either daemon"; grep -hE -A3 'Sanitizer|runtime error' "$tmp/a/out" "$tmp/b/out" | sed 's/^/#   /'
else pass "no sanitizer report from either daemon"; fi
tap_exit

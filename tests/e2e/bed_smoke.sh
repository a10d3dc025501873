#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/bed_smoke.sh -- smoke test of the network test bed (lib/bed.sh).
# Builds the bed, delivers to open.test and blocked.test, censors both MX
# addresses of blocked.test (drop) and checks that Postfix logs connect
# timeouts, checks the tunnel path around the censor, lifts the censor and
# redelivers, then tears down and checks nothing is left.  TAP output; exits
# non-zero on any failure.  Run as root; takes about 15 s.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib/bed.sh disable=SC2119
. "$HERE/lib/bed.sh"

N=0 FAILS=0
ok() { # ok COND_STATUS DESCRIPTION
    N=$((N + 1))
    if [[ $1 == 0 ]]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILS=$((FAILS + 1)); fi
}
check() { local d=$1; shift; "$@" >/dev/null 2>&1; ok $? "$d"; }
diag() { sed 's/^/# /'; }

T0=$EPOCHREALTIME
echo "1..15"

bed_setup
ok $? "bed_setup builds namespaces, DNS, sinks and Postfix"
if [[ $N -ne 1 || $FAILS -ne 0 ]]; then
    echo "Bail out! bed_setup failed"
    exit 1
fi
echo "# run $BED_ID in $BED_DIR"

check "Postfix master runs inside the mta namespace" \
    bash -c "[[ \$(ip netns identify \$(tr -dc 0-9 <'$BED_PF_QUEUE/pid/master.pid')) == '$BED_NS_MTA' ]]"

q1=$(bed_send a@mta.test u1@open.test "smoke open")
check "message to open.test is queued" test -n "$q1"
check "open.test is delivered to mx.open.test" bed_wait_log "$q1: to=<u1@open.test>, relay=mx.open.test\[$BED_OPEN_ADDR\]:25.*status=sent" 10
check "smtp-sink on mx.open.test received it" bed_wait_sink open 1 5 'u1@open.test'

q2=$(bed_send a@mta.test u2@blocked.test "smoke blocked")
check "blocked.test is delivered to mx1.blocked.test" bed_wait_log "$q2: to=<u2@blocked.test>, relay=mx1.blocked.test\[$BED_MX1_ADDR\]:25.*status=sent" 10
check "smtp-sink on mx1.blocked.test received it" bed_wait_sink mx1 1 5 'u2@blocked.test'

bed_censor "$BED_MX1_ADDR" drop && bed_censor "$BED_MX2_ADDR" drop
ok $? "censor drops port 25 to mx1 and mx2"
bed_log_mark
t_send=$EPOCHREALTIME
q3=$(bed_send a@mta.test u3@blocked.test "smoke censored")
bed_wait_log "$q3: to=<u3@blocked.test>.*status=deferred \(connect to mx2\.blocked\.test\[$BED_MX2_ADDR\]:25: Connection timed out\)" 20
rc=$?
t_def=$(awk -v a="$t_send" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}')
ok $rc "censored blocked.test is deferred with 'Connection timed out' (after ${t_def}s)"
bed_log_since | grep -q "connect to mx1\.blocked\.test\[$BED_MX1_ADDR\]:25: Connection timed out"
ok $? "maillog shows 'connect to mx1.blocked.test[$BED_MX1_ADDR]:25: Connection timed out'"
bed_queue_json | grep "\"queue_id\": \"$q3\"" | grep -q '"queue_name": "deferred".*Connection timed out'
ok $? "postqueue -j lists it as deferred with the timeout as delay_reason"

# The tunnel path leaves past the censor: a socket bound to the tunnel address
# reaches the censored MX; the MX sees the tunnel exit's masquerade address.
bed_exec mta swaks --server "$BED_MX1_ADDR" --local-interface "$BED_TUN_ADDR" --from a@mta.test \
    --to tunnel@blocked.test --timeout 5 --hide-all >/dev/null 2>&1 &&
    bed_wait_sink mx1 1 5 'tunnel@blocked.test' &&
    grep -l 'tunnel@blocked.test' "$(bed_sink_dir mx1)"/* | xargs grep -q "^X-Client-Addr: $BED_TX_ADDR\$"
ok $? "tunnel path ($BED_TUN_IF, source $BED_TUN_ADDR) reaches censored mx1 via the exit ($BED_TX_ADDR)"

bed_uncensor "$BED_MX1_ADDR" && bed_uncensor "$BED_MX2_ADDR" && bed_flush "$q3" >/dev/null 2>&1
bed_wait_log "$q3: to=<u3@blocked.test>, relay=mx1.blocked.test.*status=sent" 15
ok $? "after bed_uncensor, postqueue -i delivers the deferred message"

if ((FAILS)); then
    echo "# maillog (last 30 lines):"; tail -n 30 "$BED_MAILLOG" | diag
fi

# teardown and check that nothing is left behind
dir=$BED_DIR ns_prefix=$BED_ID master=$(tr -dc 0-9 <"$BED_PF_QUEUE/pid/master.pid" 2>/dev/null)
sinks=$(cat "$BED_DIR"/pids/* 2>/dev/null)
bed_teardown
leftover=$(ip netns list | grep -c "^$ns_prefix-")
alive=0
for p in $master $sinks; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
[[ $leftover == 0 && ! -e $dir && $alive == 0 && -z $(ls -d /etc/netns/"$ns_prefix"-* 2>/dev/null) ]]
ok $? "bed_teardown removes namespaces, /etc/netns entries, processes and $dir"
bed_teardown
ok $? "bed_teardown is idempotent"

echo "# total $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}')s"
if ((FAILS)); then
    echo "# $FAILS of $N tests failed"
    exit 1
fi
exit 0

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# prober_netns.sh - relay/net/prober and relay/net/mxresolve through the netns test
# bed (tests/e2e/lib/bed.sh), TAP.  From the mta namespace, probe_cli probes
# mx1.blocked.test's address directly, then with the censor dropping,
# resetting and rejecting (ICMP) its port 25, through the tunnel around the
# censor, and a server that never greets; and resolves the bed's domains
# through its dnsmasq (resolv.conf of the namespace).
#
# Needs root, ip, nft, dnsmasq, smtp-sink and python3; skips otherwise.  No
# Postfix runs (BED_NO_POSTFIX=1).  Takes about 15 s; the bed is torn down
# on every exit (bed_setup's trap).  By hand:
#   top_builddir=. top_srcdir=. bash tests/integration/prober_netns.sh

set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
CLI=$top_builddir/tests/integration/probe_cli

skip() { echo "1..0 # SKIP $*"; exit 0; }
[[ $(id -u) == 0 ]] || skip "needs root (network namespaces)"
for c in ip nft dnsmasq smtp-sink /usr/bin/python3; do
    command -v "$c" >/dev/null 2>&1 || skip "needs $c"
done
[[ -x $CLI ]] || { echo "Bail out! $CLI not built"; exit 1; }

# shellcheck source=../e2e/lib/bed.sh
. "$top_srcdir/tests/e2e/lib/bed.sh"
export BED_NO_POSTFIX=1
setup_log=$(mktemp "${TMPDIR:-/tmp}/prober_netns.XXXXXX")
if ! bed_setup >"$setup_log" 2>&1; then
    # A container without CAP_NET_ADMIN cannot build the bed: not our failure.
    if grep -qiE 'operation not permitted|permission denied' "$setup_log"; then
        rm -f "$setup_log"
        skip "cannot build the netns bed here"
    fi
    echo "1..1"
    echo "not ok 1 - bed_setup"
    sed 's/^/# /' "$setup_log"
    rm -f "$setup_log"
    exit 1
fi
rm -f "$setup_log"

N=0 FAILS=0
echo "1..12"
echo "# bed $BED_ID"

# check DESCRIPTION REGEX CMD...: runs CMD in the mta namespace; its output
# must match REGEX.
check() {
    local desc=$1 re=$2 out; shift 2
    out=$(bed_exec mta "$@" 2>&1)
    N=$((N + 1))
    if [[ $out =~ $re ]]; then
        echo "ok $N - $desc"
    else
        echo "not ok $N - $desc"
        FAILS=$((FAILS + 1))
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
    printf '%s\n' "$out" | head -3 | sed 's/^/# /'
}

# elapsed_ge LINE MS: the third field of a probe_cli line is at least MS
elapsed_ge() { awk -v m="$2" '{ exit !($3 >= m) }' <<<"$1"; }

check "mx1 greets on the direct path" '^greeting 220 [0-9]+ 220 mx1\.blocked\.test' \
    "$CLI" -t 3000 "$BED_MX1_ADDR"
check "mx1 greets from the configured source address" '^greeting 220 ' \
    "$CLI" -t 3000 "$BED_MX1_ADDR" 25 "$BED_MTA_ADDR"
check "three probes of one address share one connection" $'^greeting 220 .*\nstarted=1 joined=2$' \
    "$CLI" -t 3000 -n 3 "$BED_MX1_ADDR"
check "blocked.test resolves to mx1 and mx2, by preference" \
    $'^blocked.test ok ttl=[0-9]+ implicit=0 partial=0\n  10 mx1.blocked.test ok 198.18.0.2\n  20 mx2.blocked.test ok 198.18.0.3' \
    "$CLI" resolve blocked.test
check "an unknown domain is NXDOMAIN, a failing one TEMPFAIL" \
    $'^nosuch.test nxdomain .*\ndnsfail.test tempfail ' \
    "$CLI" resolve nosuch.test dnsfail.test

bed_censor "$BED_MX1_ADDR" drop
out=$(bed_exec mta "$CLI" -t 1500 "$BED_MX1_ADDR" 2>&1)
N=$((N + 1))
if [[ $out == timeout\ * ]] && elapsed_ge "$out" 1400; then
    echo "ok $N - censor drop: the probe times out ($out)"
else
    echo "not ok $N - censor drop: the probe times out ($out)"
    FAILS=$((FAILS + 1))
fi
check "censor drop: the tunnel path still greets" '^greeting 220 ' \
    "$CLI" -t 3000 "$BED_MX1_ADDR" 25 "$BED_TUN_ADDR"

bed_censor "$BED_MX1_ADDR" reset
check "censor reset: the probe is refused" '^refused 0 ' "$CLI" -t 3000 "$BED_MX1_ADDR"
bed_censor "$BED_MX1_ADDR" unreach
check "censor unreach: the host is unreachable" '^unreach 0 ' "$CLI" -t 3000 "$BED_MX1_ADDR"
bed_uncensor "$BED_MX1_ADDR"
check "censor lifted: mx1 greets again" '^greeting 220 ' "$CLI" -t 3000 "$BED_MX1_ADDR"

if bed_fake_smtp silent 198.18.0.9 silent >/dev/null 2>&1; then
    check "a server that never greets: no-greeting" '^no-greeting 0 [0-9]+ timed out waiting for the greeting' \
        "$CLI" -t 1000 198.18.0.9
else
    N=$((N + 1)); echo "not ok $N - start fake_smtp silent"; FAILS=$((FAILS + 1))
fi
check "a closed port: refused" '^refused 0 ' "$CLI" -t 3000 "$BED_MX1_ADDR" 26

exit $((FAILS > 0))

# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/integration/bedtap.sh -- the common start of the integration tests
# that run a real Postfix on the netns test bed (routes_postfix.sh,
# milter_postfix.sh): skip where the bed cannot run, the bed library, TAP
# lines from exit statuses, and a clock for the "# delay" lines.
#
#   bedtap_require PROGRAM...   skips (1..0 # SKIP) unless root, network
#                               namespaces and every PROGRAM are there
#   ok STATUS DESCRIPTION       "ok N" when STATUS is 0, else "not ok N"
#                               (counted in FAILS)
#   check DESCRIPTION CMD...    ok from CMD's status, its output dropped
#   now / since T               seconds since the epoch; seconds since T
skip() { echo "1..0 # SKIP $*"; exit 0; }
bedtap_require() {
    [[ $(id -u) == 0 ]] || skip "needs root (network namespaces, a private Postfix)"
    local c
    for c in ip nft postfix smtp-sink dnsmasq swaks "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"
    done
    ip netns add "mxdprobe$$" 2>/dev/null || skip "cannot create network namespaces"
    ip netns del "mxdprobe$$"
}

# shellcheck source=../e2e/lib/bed.sh
. "$top_srcdir/tests/e2e/lib/bed.sh"

N=0 FAILS=0
ok() { # ok STATUS DESCRIPTION
    N=$((N + 1))
    if [[ $1 == 0 ]]; then echo "ok $N - $2"; else echo "not ok $N - $2"; FAILS=$((FAILS + 1)); fi
}
check() { local d=$1; shift; "$@" >/dev/null 2>&1; ok $? "$d"; }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b - a}'; }

#!/bin/bash
# End to end on the test bed: the relay a detoured destination uses dies and
# its next relay takes over; when every relay is dead the destination goes
# back to direct routing (Postfix keeps the mail) and mxdetourd says so.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"
if [[ $(id -u) != 0 ]] || ! command -v postfix >/dev/null; then
    echo "1..0 # SKIP needs root and postfix"; exit 0
fi
. "$top_srcdir/tests/e2e/lib/bed.sh"
. "$top_srcdir/tests/e2e/lib/mxd.sh"
plan 6
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
RELAY2=198.19.0.3
bed_addr_add "$RELAY2" && bed_sink_start relay2 "$RELAY2" -h relay2.test
MXD_PROBE_EXTRA='relay_interval = "2s";' mxd_setup \
    || { echo "Bail out! mxdetourd did not start"; exit 1; }
route_is() {
    local i=0
    until [[ $(postmap -q "$1" "hash:$MXD_DIR/transport") == "$2" ]]; do
        ((i++ >= $3 * 10)) && return 1; sleep 0.1; done
}

bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
bed_send a@mta.test u1@blocked.test >/dev/null; bed_send a@mta.test u2@blocked.test >/dev/null
check "blocked.test is detoured via its first relay" route_is blocked.test "smtp:[$BED_RELAY_ADDR]:25" 40
bed_kill sink-relay
check "mxdetourd notices the first relay is dead" mxd_wait 'relay relay-out is down' 20
check "the destination moves to the second relay" route_is blocked.test "smtp:[$RELAY2]:25" 10
bed_send a@mta.test u3@blocked.test >/dev/null
check "and mail for it arrives there" bed_wait_sink relay2 1 30 'blocked.test'
bed_kill sink-relay2
check "with every relay dead it goes back to direct routing" route_is blocked.test "" 20
check "and mxdetourd says so loudly" mxd_wait 'blocked.test is blocked but stays on direct routing: every MX address blocked, and every relay is down' 10
tap_exit

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end on the test bed: the relay a detoured destination uses dies and
# its next relay takes over; when every relay is dead the destination goes
# back to direct routing (Postfix keeps the mail) and mxdetourd says so.
. "$(dirname "$0")/lib/e2e.sh"
plan 6
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
RELAY2=198.19.0.3
bed_addr_add "$RELAY2" && bed_sink_start relay2 "$RELAY2" -h relay2.test
MXD_PROBE_EXTRA='relay_interval = "2s";' mxd_setup \
    || { echo "Bail out! mxdetourd did not start"; exit 1; }

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

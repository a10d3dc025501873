#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: a tunnel relay.  The destination's relay is a Postfix
# transport in master.cf whose connections are bound to an address routed
# into the tunnel (a veth path past the censor stands in for WireGuard).  Its
# next hop stays the recipient domain, so the mail reaches the real MX host,
# through the tunnel, while the direct path stays blocked.
. "$(dirname "$0")/lib/e2e.sh"
plan 5
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
# The transport, as docs/routing.md tells an administrator to add it.
bed_postconf -Me "smtp-tun/unix=smtp-tun unix - - n - - smtp -o smtp_bind_address=$BED_TUN_ADDR -o syslog_name=postfix-tun"
MXD_THRESHOLD=2
# mxd_setup's relays stay; the destination below uses the tunnel only.
mxd_setup "" || { echo "Bail out! mxdetourd did not start"; exit 1; }
sed -i "s|^relays = (|relays = (\n  { name = \"wg\"; type = \"tunnel\"; transport = \"smtp-tun\"; source_address = \"$BED_TUN_ADDR\"; },|; s|relays = \[ \"relay-out\", \"relay-two\" \]|relays = [ \"wg\" ]|" "$MXD_CONF"
bed_kill mxdetourd; mxd_start
check "the configuration with a tunnel relay loads" mxd_wait 'connected to redis' 5

bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
bed_send a@mta.test u1@blocked.test >/dev/null; bed_send a@mta.test u2@blocked.test >/dev/null
check "blocked.test is detoured into the tunnel" route_is blocked.test "smtp-tun:" 40
check "its mail reaches the real MX host through the tunnel" bed_wait_sink mx1 1 40 'blocked.test'
check "Postfix logged the tunnel transport delivering to the real MX" \
    bed_wait_log 'postfix-tun/smtp.*to=<u[12]@blocked.test>, relay=mx1.blocked.test\[198.18.0.2\]:25.*status=sent' 10
n=$(bed_sink_count relay)
expect_eq "the smarthost relay received nothing" "$n" 0
tap_exit

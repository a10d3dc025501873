#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: the MTA's own uplink fails.  Every destination times out at
# once (DNS still answers, as from a local caching resolver), which is not a
# block: mxdetourd reports a local outage and detours nothing, neither here
# nor in the shared state, and mail goes direct when the uplink is back.
. "$(dirname "$0")/lib/e2e.sh"
plan 7
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
# Five more destinations, each in a network of its own (198.18.8-12.0/24),
# served by the mx host, so the outage guard sees unrelated destinations.
ip -n "$BED_NS_INET" route add 198.18.8.0/21 via 198.18.4.2 dev mx0
dns=()
for i in 1 2 3 4 5; do
    bed_exec mx ip addr add "198.18.$((7 + i)).1/32" dev lo
    dns+=("mx-host=d$i.test,mx.d$i.test,10" "address=/mx.d$i.test/198.18.$((7 + i)).1")
done
bed_dns_add "${dns[@]}"
mxd_setup || { echo "Bail out! mxdetourd did not start"; exit 1; }

bed_outage on
# A local resolver would still answer: let DNS through the dead uplink.
ip netns exec "$BED_NS_INET" nft insert rule inet censor outage_in iifname mta0 udp dport 53 accept
for d in blocked.test open.test d1.test d2.test d3.test d4.test d5.test; do
    bed_send a@mta.test "x1@$d" >/dev/null; bed_send a@mta.test "x2@$d" >/dev/null
done
check "every destination times out" bed_wait_log 'connect to mx.d5.test.*Connection timed out' 30
check "mxdetourd reports a local outage" mxd_wait 'local outage: [0-9]+ of [0-9]+ unrelated destinations failing' 30
sleep 8   # the rest of the burst's timeouts
out=$(mxd_ctl list)
expect_eq "nothing is detoured in the shared state" \
    "$(printf '%s\n' "$out" | grep -v '^nothing detoured' | grep -c 'detoured')" 0
expect_match "... as list says" "$out" '^nothing detoured and no manual override'
expect_eq "no route is published" "$(postmap -s "hash:$MXD_DIR/transport" | wc -l)" 0
bed_outage off
o=$(bed_sink_count open); m=$(bed_sink_count mx1)
bed_flush >/dev/null 2>&1
check "when the uplink is back, mail goes direct" bed_wait_sink open $((o + 2)) 40
check "to the destination that was never blocked too" bed_wait_sink mx1 $((m + 2)) 40
tap_exit

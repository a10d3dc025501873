#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The metrics that only a real Postfix moves, on the censored-network test
# bed (tests/e2e): the milter's decisions, the postfix reload after a new
# detour, the kick of the deferred mail, and the detection-to-route time;
# the scrape passes `promtool check metrics`.  Root and Postfix, else skipped.
. "$top_srcdir/tests/e2e/lib/e2e.sh"
command -v promtool >/dev/null && command -v curl >/dev/null \
    || { echo "1..0 # SKIP needs promtool and curl"; exit 0; }
plan 8
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
mxd_setup "milter = { socket = \"unix:$BED_DIR/mxd/milter.sock\"; route_wait = \"3s\"; };
metrics = { listen = \"127.0.0.1:9466\"; };" || { echo "Bail out! mxdetourd did not start"; exit 1; }
for i in $(seq 50); do [ -S "$BED_DIR/mxd/milter.sock" ] && break; sleep 0.1; done
chgrp postfix "$BED_DIR/mxd/milter.sock"     # as in tests/e2e/first_message.sh
bed_postconf "smtpd_milters=unix:$BED_DIR/mxd/milter.sock" "non_smtpd_milters=unix:$BED_DIR/mxd/milter.sock" \
    "milter_default_action=accept" "milter_protocol=6"
scrape() { bed_exec mta curl -sf -o "$BED_DIR/scrape" http://127.0.0.1:9466/metrics; }
value() { awk -v s="$1" '$1 == s { print $2 }' "$BED_DIR/scrape"; }
# at_least SAMPLE N SECONDS: scrape until the sample is >= N
at_least() {
    local i=0 v
    while scrape; v=$(value "$1"); [[ ${v:-0} -lt $2 ]]; do
        ((i++ >= $3 * 5)) && return 1; sleep 0.2; done
}

bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
bed_send a@mta.test u1@blocked.test >/dev/null
bed_send a@mta.test u2@blocked.test >/dev/null
check "blocked.test is detected and detoured" mxd_wait 'detour: blocked.test' 40
check "its deferred mail reaches the relay" bed_wait_sink relay 2 40 'blocked.test'
check "a postfix reload is counted" at_least 'mxdetour_postfix_reloads_total{result="done"}' 1 10
check "the kick of the deferred mail is counted" at_least 'mxdetour_queue_kicked_messages_total{result="done"}' 1 20
expect_eq "detection to route observed once" "$(value mxdetour_detection_to_route_seconds_count)" 1
sleep 3         # the reload for blocked.test settles (reload_interval)
bed_send a@mta.test u3@blocked.test >/dev/null
milter_counted() {
    at_least 'mxdetour_milter_decisions_total{decision="detour"}' 1 20 \
        && at_least 'mxdetour_milter_decisions_total{decision="direct"}' 1 1
}
check "the milter counts its first answers as direct and the new one as detour" milter_counted
out=$(promtool check metrics <"$BED_DIR/scrape" 2>&1; echo "exit $?")
expect_eq "promtool check metrics accepts the scrape" "$out" "exit 0"
n=$(value 'mxdetour_probes_total{result="timeout"}')
echo "# probes: timeout ${n:-0}; reloads $(value 'mxdetour_postfix_reloads_total{result="done"}'); kicked $(value 'mxdetour_queue_kicked_messages_total{result="done"}'); detection to route $(value mxdetour_detection_to_route_seconds_sum) s"
mxd_kill TERM
no_report() { ! grep -qE 'Sanitizer|runtime error' "$(mxd_log)"; }
check "mxdetourd stops without a sanitizer report" no_report
tap_exit

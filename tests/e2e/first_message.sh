#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end with the milter: once the MX addresses of blocked.test are
# known to be blocked, the first message ever to pm.test (same MX hosts) and
# to custom.test (a custom domain whose MX is mx1.blocked.test) goes to the
# relay at its first delivery attempt, with no connect timeout; open.test
# stays direct.  The milter sees every recipient before the message is queued.
. "$(dirname "$0")/lib/e2e.sh"
plan 8
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
mxd_setup "milter = { socket = \"unix:$BED_DIR/mxd/milter.sock\"; route_wait = \"3s\"; };" \
    || { echo "Bail out! mxdetourd did not start"; exit 1; }
check "the milter socket is up" bash -c "for i in \$(seq 50); do [ -S $BED_DIR/mxd/milter.sock ] && exit 0; sleep 0.1; done; exit 1"
# As docs/milter.md says: Postfix reaches the socket (mode 0660) through a
# group it shares with mxdetourd; mxdetourd runs as root here, so lend the
# socket to group postfix.
chgrp postfix "$BED_DIR/mxd/milter.sock"
bed_postconf "smtpd_milters=unix:$BED_DIR/mxd/milter.sock" "non_smtpd_milters=unix:$BED_DIR/mxd/milter.sock" \
    "milter_default_action=accept" "milter_protocol=6"
timeouts_for() { grep -c "to=<[^>]*@$1>.*Connection timed out" "$BED_MAILLOG"; }

bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
bed_send a@mta.test u1@blocked.test >/dev/null; bed_send a@mta.test u2@blocked.test >/dev/null
check "blocked.test is detected and detoured" mxd_wait 'detour: blocked.test' 40
bed_wait_sink relay 2 40 'blocked.test'
sleep 3        # let the reload for blocked.test settle (reload_interval)

bed_send a@mta.test first@pm.test >/dev/null
check "the first message to pm.test reaches the relay" bed_wait_sink relay 1 30 'pm.test'
expect_eq "with no connect timeout for pm.test" "$(timeouts_for pm.test)" 0
check "mxdetourd explains pm.test's detour from its MX addresses" mxd_wait 'detour: pm.test' 5
bed_send a@mta.test first@custom.test >/dev/null
check "the first message to custom.test reaches the relay" bed_wait_sink relay 1 30 'custom.test'
expect_eq "with no connect timeout for custom.test" "$(timeouts_for custom.test)" 0
bed_send a@mta.test first@open.test >/dev/null
check "open.test, checked by the milter too, is delivered direct" bed_wait_sink open 1 30
tap_exit

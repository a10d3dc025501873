#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end on the censored-network test bed: a real Postfix, redis-server
# and mxdetourd in the MTA's namespace.  The block starts, is detected, mail
# is detoured and stuck mail is sent on; the unaffected domain is never
# detoured; the block lifts and direct delivery returns; mxdetourd killed and
# Redis stopped lose no mail and keep the last routes.  TAP output.
. "$(dirname "$0")/lib/e2e.sh"
plan 13
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
mxd_setup || { echo "Bail out! mxdetourd did not start"; exit 1; }
timeouts() { grep -c 'connect to mx[12].blocked.test.*Connection timed out' "$BED_MAILLOG"; }

bed_send a@mta.test u0@open.test >/dev/null
check "the open domain is delivered direct" bed_wait_sink open 1 20

# The block starts: both MX addresses of blocked.test drop SYNs.
bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
t0=$(date +%s)
bed_send a@mta.test u1@blocked.test >/dev/null
bed_send a@mta.test u2@blocked.test >/dev/null
check "mxdetourd detects the block and detours the domain" \
    mxd_wait 'detour: blocked.test \(mx1.blocked.test\[198.18.0.2\], mx2.blocked.test\[198.18.0.3\]\) blocked after 2 connect timeouts in 10m; routing via relay-out' 40
check "the route is in Postfix's table" route_is blocked.test "smtp:[$BED_RELAY_ADDR]:25" 5
check "the deferred messages reach the relay" bed_wait_sink relay 2 40 'blocked.test'
echo "# detected and delivered through the relay $(( $(date +%s) - t0 ))s after the first message"
before=$(timeouts)
bed_send a@mta.test u3@blocked.test >/dev/null
check "new mail goes to the relay at once" bed_wait_sink relay 3 20 'blocked.test'
expect_eq "with no new connect timeout" "$(timeouts)" "$before"
if grep -q 'detour: open.test' "$(mxd_log)"; then fail "open.test is never detoured"; else pass "open.test is never detoured"; fi
out=$(mxd_ctl show blocked.test)
expect_match "mxdetourctl shows the route and why" "$out" 'route: +smtp:\[198.19.0.2\]:25'

# The block lifts: after the cool-down, probes see greetings; routes return.
bed_uncensor "$BED_MX1_ADDR"; bed_uncensor "$BED_MX2_ADDR"
check "the block lifts and blocked.test goes direct again" mxd_wait 'blocked.test.*(restored|direct again|no longer)' 90
i=0; while postmap -q blocked.test "hash:$MXD_DIR/transport" >/dev/null && ((i++ < 100)); do sleep 0.1; done
if postmap -q blocked.test "hash:$MXD_DIR/transport" >/dev/null; then fail "the route is removed"; else pass "the route is removed"; fi
n1=$(bed_sink_count mx1)
sleep 12   # Postfix's table check (10 s) after a removal, which needs no reload
bed_send a@mta.test u4@blocked.test >/dev/null
check "mail goes direct again" bed_wait_sink mx1 $((n1 + 1)) 30

# mxdetourd killed and Redis stopped: Postfix keeps routing with the last table.
bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
mxd_ctl block blocked.test --via relay-out --ttl 1h --reason "test" >/dev/null
mxd_wait 'manual block of blocked.test' 10
i=0; until postmap -q blocked.test "hash:$MXD_DIR/transport" >/dev/null || ((i++ > 100)); do sleep 0.1; done
# No mail waits for blocked.test, so no reload: Postfix's own table check
# (within 10 s) brings the route in.
sleep 12
mxd_kill KILL; bed_kill redis
r=$(bed_sink_count relay); o=$(bed_sink_count open)
bed_send a@mta.test u5@blocked.test >/dev/null
bed_send a@mta.test u6@open.test >/dev/null
check "with mxdetourd and Redis dead, detoured mail still reaches the relay" bed_wait_sink relay $((r + 1)) 30
check "and other mail is still delivered" bed_wait_sink open $((o + 1)) 30
tap_exit

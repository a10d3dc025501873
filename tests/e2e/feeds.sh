#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: block-list feeds in a running mxdetourd, with the milter.
#   - trust "detour": blocked.test, whose MX addresses a registry dump lists,
#     reaches the relay at its FIRST message, with no connect timeout;
#   - trust "probe": probed.test's listed, silently dropped MX is detoured
#     after one failed probe (the threshold of 2 timeouts is not needed);
#   - trust "probe": answer.test's listed MX answers, so it stays direct;
#   - an allow list: allowed.test, listed by the dump too and dropped, is
#     never detoured however many timeouts it has;
#   - a truncated new dump is refused and the old listing stays in force;
#   - a dump that no longer lists blocked.test's addresses ends its detour;
#   - mxdetourctl show names the feed, the line and what the probe found.
. "$(dirname "$0")/lib/e2e.sh"
plan 23
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
PROBED=198.18.0.20 ANSWER=198.18.0.21 ALLOWED=198.18.0.22
bed_dns_add "mx-host=probed.test,mx.probed.test,10" "host-record=mx.probed.test,$PROBED" \
    "mx-host=answer.test,mx.answer.test,10" "host-record=mx.answer.test,$ANSWER" \
    "mx-host=allowed.test,mx.allowed.test,10" "host-record=mx.allowed.test,$ALLOWED" ||
    { echo "Bail out! DNS"; exit 1; }
bed_sink_start probed "$PROBED" -h mx.probed.test && bed_sink_start answer "$ANSWER" -h mx.answer.test &&
    bed_sink_start allowed "$ALLOWED" -h mx.allowed.test || { echo "Bail out! sinks"; exit 1; }

FEEDS=$BED_DIR/feeds
mkdir -p "$FEEDS"
# registry LINES... -> a dump as administrators download it: cp1251, CRLF.
registry() {
    printf 'Updated: 2026-11-20 06:00:00 +0000\n'
    for l in "$@"; do printf '%s\n' "$l"; done
} 
to_dump() { iconv -f utf-8 -t cp1251 | sed 's/$/\r/'; }
filler() { for i in $(seq "$1" "$2"); do echo "203.0.113.$i;filler$i.example;;Суд;2-$i;2020-01-0$((i % 9 + 1))"; done; }
{ registry "$BED_MX1_ADDR | $BED_MX2_ADDR;blocked.test;\"https://blocked.test/?a=1;b=2\";Генпрокуратура;27-31-2020/Ид2971-20;2020-01-29" \
    "$ALLOWED;allowed.test;;Роскомнадзор;2-6-27/ск2020-0421;2020-04-21"; filler 1 7; } | to_dump >"$FEEDS/dump.csv.new"
mv "$FEEDS/dump.csv.new" "$FEEDS/dump.csv"
printf '# suspected, to be probed\n%s\n%s/32  # answers\n' "$PROBED" "$ANSWER" >"$FEEDS/suspects.txt"
printf '# partners: never detour\n%s\n' "$ALLOWED" >"$FEEDS/allow.txt"

MXD_PROBE_EXTRA='relay_interval = "1h";'
METRICS_PORT=9466       # inside the bed's own network namespace
mxd_setup "milter = { socket = \"unix:$BED_DIR/mxd/milter.sock\"; route_wait = \"3s\"; };
feed_check = \"1s\";
metrics = { listen = \"127.0.0.1:$METRICS_PORT\"; };
feeds = (
  { name = \"registry\"; file = \"$FEEDS/dump.csv\"; trust = \"detour\"; },
  { name = \"suspects\"; file = \"$FEEDS/suspects.txt\"; format = \"plain\"; trust = \"probe\"; recheck = \"1h\"; },
  { name = \"partners\"; file = \"$FEEDS/allow.txt\"; trust = \"allow\"; }
);" || { echo "Bail out! mxdetourd did not start"; exit 1; }
for i in $(seq 50); do [ -S "$BED_DIR/mxd/milter.sock" ] && break; sleep 0.1; done
chgrp postfix "$BED_DIR/mxd/milter.sock"
bed_postconf "smtpd_milters=unix:$BED_DIR/mxd/milter.sock" "non_smtpd_milters=unix:$BED_DIR/mxd/milter.sock" \
    "milter_default_action=accept" "milter_protocol=6"
timeouts_for() { grep -c "to=<[^>]*@$1>.*Connection timed out" "$BED_MAILLOG"; }
check "the registry dump is loaded" mxd_wait 'feed registry: .*dump.csv: loaded, registry format.*10 entries' 5

bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
bed_censor "$PROBED" drop; bed_censor "$ALLOWED" drop

# trust detour: the first message ever to blocked.test.
bed_send a@mta.test first@blocked.test >/dev/null
check "trust detour: the first message to blocked.test reaches the relay" bed_wait_sink relay 1 30 'blocked.test'
expect_eq "with no connect timeout for blocked.test" "$(timeouts_for blocked.test)" 0
out=$(mxd_ctl show "$BED_MX1_ADDR")
expect_match "show ADDRESS names the feed, line and entry" "$out" "registry line 2: $BED_MX1_ADDR/32"
expect_match "with the registry's decision and date" "$out" '27-31-2020/Ид2971-20.*2020-01-29'

# trust probe, dropped: detoured after one failed probe.
bed_send a@mta.test first@probed.test >/dev/null
check "trust probe: the probe of probed.test's listed MX gets no greeting" \
    mxd_wait "$PROBED.*listed by feed suspects line 2.*probe got no greeting" 30
check "and probed.test is detoured" mxd_wait 'detour: probed.test' 10
check "its message reaches the relay" bed_wait_sink relay 1 40 'probed.test'
out=$(mxd_ctl show probed.test)
expect_match "show DOMAIN names the feed and line of its MX address" "$out" \
    "feed: +$PROBED listed by suspects line 2: $PROBED/32 \\(trust probe\\)"
expect_match "and what the probe found" "$out" 'the probe got no greeting \(timeout\) at .*: detoured'

# trust probe, answering: stays direct.
bed_send a@mta.test first@answer.test >/dev/null
check "trust probe: answer.test's listed MX answers and its mail goes direct" bed_wait_sink answer 1 30
check "the probe's greeting is recorded" \
    bash -c "for i in \$(seq 100); do $MXD_BIN/mxdetourctl -c $MXD_CONF show $ANSWER 2>/dev/null | grep -q 'probe saw a greeting' && exit 0; sleep 0.1; done; exit 1"
expect_eq "answer.test is not detoured" "$(postmap -q answer.test "hash:$MXD_DIR/transport")" ""

# allow list: never detoured, whatever the timeouts and the registry say.
for i in 1 2 3; do bed_send a@mta.test "m$i@allowed.test" >/dev/null; done
check "allowed.test's messages time out" bash -c "for i in \$(seq 200); do [ \$(grep -c 'to=<[^>]*@allowed.test>.*Connection timed out' $BED_MAILLOG) -ge 3 ] && exit 0; sleep 0.1; done; exit 1"
sleep 2
check "allowed.test is never detoured" bash -c "! grep -q 'detour: allowed.test' $(mxd_log)"
expect_eq "and has no route" "$(postmap -q allowed.test "hash:$MXD_DIR/transport")" ""

# A truncated download: refused, and the listing stays.
{ registry "$BED_MX1_ADDR;blocked.test;;x;y;z"; } | to_dump >"$FEEDS/dump.csv.new"
mv "$FEEDS/dump.csv.new" "$FEEDS/dump.csv"
check "a truncated dump is refused" mxd_wait 'dump.csv: new version refused \(truncated' 10
expect_eq "blocked.test stays detoured" "$(postmap -q blocked.test "hash:$MXD_DIR/transport")" "smtp:[$BED_RELAY_ADDR]:25"

# A full dump that no longer lists blocked.test: its detour ends.
{ registry "$ALLOWED;allowed.test;;Роскомнадзор;2-6-27;2020-04-21"; filler 1 9; } | to_dump >"$FEEDS/dump.csv.new"
mv "$FEEDS/dump.csv.new" "$FEEDS/dump.csv"
check "a dump without blocked.test's addresses ends its detour" route_is blocked.test "" 15
check "and mxdetourd says why" mxd_wait "$BED_MX1_ADDR: no longer listed by any feed" 5
scrape=$(bed_exec mta curl -s "http://127.0.0.1:$METRICS_PORT/metrics")
expect_match "metrics count the refused version" "$scrape" 'mxdetour_feed_loads_total\{result="truncated"\} 1'
expect_match "and the failed probe" "$scrape" 'mxdetour_feed_actions_total\{action="probe_failed"\} 1'
expect_match "and the released addresses" "$scrape" 'mxdetour_feed_actions_total\{action="released"\} 2'
tap_exit

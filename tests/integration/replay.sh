#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mxdetourctl replay over log lines captured from a real Postfix on the netns
# test bed (tests/data/postfix): what it counts as evidence, what it decides.
set -u
. "$top_srcdir/tests/lib/tap.sh"
data="$top_srcdir/tests/data/postfix"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-replay.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cat >"$tmp/mxdetour.conf" <<CONF
site = "lab";
redis = { socket = "$tmp/no-redis-needed.sock"; };
relays = ( { name = "relay-out"; nexthop = "smtp:[198.19.0.2]:25"; } );
destinations = ( { domains = [ "*" ]; relays = [ "relay-out" ]; } );
CONF
ctl="$top_builddir/mxdetourctl -c $tmp/mxdetour.conf"
plan 10

out=$($ctl replay "$data/timeout.log"); rc=$?
expect_eq "replay runs without Redis" "$rc" 0
expect_match "dropped SYNs are timeouts on both MX addresses" "$out" 'evidence 2, |timeout 2, refused 0'
cat "$data/timeout.log" "$data/timeout.log" "$data/timeout.log" >"$tmp/three.log"
out=$($ctl replay "$tmp/three.log")
expect_match "three rounds of timeouts detour the domain, explained" "$out" \
    'decision detour: blocked.test \(mx1.blocked.test\[198.18.0.2\], mx2.blocked.test\[198.18.0.3\]\) blocked after 3 connect timeouts in 10m'
expect_match "the summary names the detoured domain" "$out" '^detoured at the end: blocked.test$'
out=$($ctl replay "$data/quoted_timeout.log")
expect_match "a 4xx reply quoting 'Connection timed out' is no evidence" "$out" 'timeout 0, refused 0, unreach 0, greeting 0, tls 0; [1-9][0-9]* replies; 0 decisions'
out=$($ctl replay "$data/greylist.log")
expect_match "greylisting (4xx) proves the path open" "$out" 'timeout 0, .*; [1-9][0-9]* replies; 0 decisions'
out=$($ctl replay "$data/refused.log")
expect_match "a TCP reset is 'refused'" "$out" 'refused [1-9]'
out=$($ctl replay "$data/unreach.log")
expect_match "an ICMP unreachable is 'unreach'" "$out" 'unreach [1-9]'
out=$($ctl --json replay "$tmp/three.log")
expect_match "--json gives events and a summary" "$out" '"summary":\{"lines":[0-9]+,.*"detoured_at_end":\["blocked.test"\]\}\}$'
printf 'garbage\000\001\377 line\n%0999d\n' 7 | cat - "$data/timeout.log" >"$tmp/junk.log"
out=$($ctl replay "$tmp/junk.log"); rc=$?
summary=$(printf '%s\n' "$out" | grep '^summary:')
expect_match "binary junk is rejected and counted, the rest still read" "$summary rc=$rc" \
    '^summary: 10 lines \(2 rejected\), evidence: timeout 2,.* rc=0$'
tap_exit

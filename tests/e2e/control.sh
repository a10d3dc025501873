#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 17 end to end: verdicts from a race of the direct path against a
# control path, a real SOCKS5 proxy (Debian's microsocks) in the tunnel
# exit's namespace, outside the censor, named by the smarthost relay-out
# (control = "socks5://198.18.3.2:1080").  With the milter (route_wait from
# the control default), on the netns bed:
#   A  a fresh block: the first message ever to pm.test, sent after the
#      censor began to drop, is delivered via the relay with no connect
#      timeout in Postfix's log; the route is in force within fast_confirm
#      and publication;
#   B  a host down everywhere: "down everywhere", no detour, the mail stays
#      queued direct and goes direct once the host is back;
#   C  a range block: ten destinations in distinct networks dropped at once:
#      all detoured, a range-block warning, no local outage;
#   D  the control path dies: no verdict changes, the path is down in the
#      log and in `status --check`;
#   E  a real uplink outage (every path out: proxy and relay too): a local
#      outage, nothing detoured.
# The breaker's threshold is 5: any detour seen here came from a verdict.
. "$(dirname "$0")/lib/e2e.sh"
plan 28
[[ -x /usr/bin/microsocks ]] || { echo "1..0 # SKIP no /usr/bin/microsocks (apt-get install microsocks)"; exit 0; }
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
PROXY=$BED_TX_ADDR
bed_bg tx microsocks /usr/bin/microsocks -i "$PROXY" -p 1080 >/dev/null
for i in $(seq 50); do bed_exec tx ss -Hltn "src $PROXY:1080" | grep -q LISTEN && break; sleep 0.1; done

# Destinations of this test: down.test (198.18.0.9, no host), c1/c2.test
# (refuse), r1..r10.test (198.18.17-26.1) and o1..o5.test (198.18.27-31.1),
# each in a network of its own.
ip -n "$BED_NS_INET" route add 198.18.16.0/20 via 198.18.4.2 dev mx0
dns=("mx-host=down.test,mx.down.test,10" "address=/mx.down.test/198.18.0.9"
     "mx-host=c1.test,mx.c1.test,10" "address=/mx.c1.test/198.18.0.10"
     "mx-host=c2.test,mx.c2.test,10" "address=/mx.c2.test/198.18.0.11")
for i in $(seq 10); do dns+=("mx-host=r$i.test,mx.r$i.test,10" "address=/mx.r$i.test/198.18.$((16 + i)).1"); done
for i in $(seq 5); do dns+=("mx-host=o$i.test,mx.o$i.test,10" "address=/mx.o$i.test/198.18.$((26 + i)).1"); done
bed_dns_add "${dns[@]}"
bed_addr_add 198.18.0.10; bed_addr_add 198.18.0.11
# The bed's sinks live in 198.18.0.0/24; these ten need networks of their own.
for i in $(seq 10); do
    a=198.18.$((16 + i)).1
    bed_exec mx ip addr add "$a/32" dev lo
    mkdir -p "$BED_DIR/sink/r$i" && chown nobody "$BED_DIR/sink/r$i"
    bed_bg mx "sink-r$i" smtp-sink -u nobody -d "$BED_DIR/sink/r$i/%Y%m%d%H%M%S." "$a:25" 64 >/dev/null
done

MXD_THRESHOLD=5 MXD_PROBE_TIMEOUT=6s
mxd_setup "milter = { socket = \"unix:$BED_DIR/mxd/milter.sock\"; };" \
    || { echo "Bail out! mxdetourd did not start"; exit 1; }
sed -i "s|nexthop = \"smtp:\[$BED_RELAY_ADDR\]:25\"; }|nexthop = \"smtp:[$BED_RELAY_ADDR]:25\"; control = \"socks5://$PROXY:1080\"; }|" "$MXD_CONF"
bed_kill mxdetourd; mxd_start
check "relay-out's control path is configured" mxd_wait "control path relay-out: SOCKS5 proxy, fast confirm 3000 ms" 5
for i in $(seq 50); do [[ -S $BED_DIR/mxd/milter.sock ]] && break; sleep 0.1; done
chgrp postfix "$BED_DIR/mxd/milter.sock"
bed_postconf "smtpd_milters=unix:$BED_DIR/mxd/milter.sock" "milter_default_action=accept" "milter_protocol=6"
timeouts_for() { grep -c "to=<[^>]*@$1>.*Connection timed out" "$BED_MAILLOG"; }
log_has() { grep -Eq -- "$1" "$(mxd_log)"; }

# ---- A: a fresh block, first met by the milter
bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
t0=$EPOCHREALTIME
bed_send a@mta.test first@pm.test >/dev/null
t1=$EPOCHREALTIME
check "A: the first message to pm.test reaches the relay" bed_wait_sink relay 1 30 'pm.test'
expect_eq "A: with no connect timeout for pm.test" "$(timeouts_for pm.test)" 0
check "A: the verdict is explained: no answer on the direct path, a greeting through relay-out" \
    log_has 'mx1.blocked.test\[198.18.0.2\] via relay-out: blocked here: no answer in 3\.[0-9]+s on the direct path, greeting in [0-9.]+s through relay-out'
check "A: and the domain's decision says so" log_has 'detour: pm.test .*blocked here: .*; routing via relay-out'
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "# A: the milter answered (route in force) $secs s after the message began, fast_confirm 3 s"
check "A: the route was in force before the message was queued, within 8 s" \
    awk -v s="$secs" 'BEGIN { exit !(s < 8) }'
out=$(mxd_ctl show 198.18.0.2)
expect_match "A: show gives the verdict" "$out" 'verdict: +blocked-here at '
out=$(mxd_ctl list --json)
expect_match "A: list --json gives it too" "$out" '"verdict":"blocked-here"'
check "A: Redis holds the verdict in the address record" \
    bash -c "redis-cli -s $MXD_DIR/redis.sock --scan | grep -F 198.18.0.2 | head -1 | xargs -r -I{} redis-cli -s $MXD_DIR/redis.sock HGET {} b | grep -q 'verdict=blocked-here:'"

# ---- B: down everywhere
bed_log_mark
bed_send a@mta.test x@down.test >/dev/null
check "B: the host nobody reaches is down everywhere" \
    mxd_wait 'mx.down.test\[198.18.0.9\] via relay-out: down everywhere: no answer in 6' 30
sleep 4
check "B: no route for down.test" route_is down.test "" 1
expect_eq "B: nothing reached the relay for down.test" "$(bed_sink_count relay down.test)" 0
check "B: the mail waits in the queue, direct" bash -c "(( \$(postqueue -c $BED_PF_DIR -j | grep -c down.test) >= 1 ))"
out=$(mxd_ctl show 198.18.0.9)
expect_match "B: show says down everywhere" "$out" 'verdict: +down-everywhere'
expect_match "B: and direct" "$out" '^state: +direct'
bed_sink_start down 198.18.0.9 >/dev/null
bed_flush >/dev/null 2>&1
check "B: when the host is back, the mail goes direct" bed_wait_sink down 1 40

# ---- C: a range block
for i in $(seq 10); do bed_censor "198.18.$((16 + i)).1" drop; done
for i in $(seq 10); do bed_send a@mta.test "x@r$i.test" >/dev/null & done; wait
n=0
for i in $(seq 10); do route_is "r$i.test" "smtp:[$BED_RELAY_ADDR]:25" 20 && n=$((n + 1)); done
expect_eq "C: all ten destinations are detoured" "$n" 10
check "C: a loud range-block warning" log_has 'range block: [0-9]+ unrelated destinations are blocked here'
check "C: and no local outage" bash -c "! grep -q 'local outage:' $(mxd_log)"
check "C: their mail reaches the relay" bed_wait_sink relay 10 40 'r[0-9]+.test'

# ---- D: the control path dies
bed_kill microsocks
bed_send a@mta.test x@c1.test >/dev/null; bed_send a@mta.test x@c2.test >/dev/null
check "D: the dead proxy puts the control path down" mxd_wait 'control path relay-out is down: ' 20
check "D: a race through it gives no verdict" log_has 'via relay-out: control path relay-out failed'
out=$(mxd_ctl show 198.18.0.2)
expect_match "D: pm.test's address keeps its verdict" "$out" 'verdict: +blocked-here'
check "D: and its route" route_is pm.test "smtp:[$BED_RELAY_ADDR]:25" 1
out=$(mxd_ctl show 198.18.0.10)
expect_eq "D: c1.test's address has no verdict" "$(grep -c 'verdict:' <<<"$out")" 0
check "D: status --check names the control path" \
    bash -c "sleep 6; $MXD_BIN/mxdetourctl -c $MXD_CONF status --check | grep -q 'control path relay-out down'"

# ---- E: a real uplink outage: every path out is gone
bed_outage on
ip netns exec "$BED_NS_INET" nft insert rule inet censor outage_in iifname mta0 udp dport 53 accept
for i in $(seq 5); do bed_send a@mta.test "x1@o$i.test" >/dev/null & bed_send a@mta.test "x2@o$i.test" >/dev/null & done; wait
check "E: a local outage is declared" mxd_wait 'local outage: [0-9]+ of [0-9]+ unrelated destinations failing' 40
n=0
for i in $(seq 5); do [[ -n $(postmap -q "o$i.test" "hash:$MXD_DIR/transport") ]] && n=$((n + 1)); done
expect_eq "E: nothing of the outage is detoured" "$n" 0
bed_outage off
tap_exit

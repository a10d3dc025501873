#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: the kernel-mode detour over IPv6.  The bed is IPv4; this test
# adds an IPv6 layer to it (ULA fd18::/16: the MTA's uplink, the tunnel veth,
# the exit's masquerade, an MX host fd18::2 with only an AAAA record, and a
# censor that drops port 25 to it), turns on IPv6 in Postfix, and checks that
# a blocked IPv6 address goes into the IPv6 set, the mail of a never-seen
# domain on it reaches the MX host through the tunnel at its first message,
# and it goes direct again once the address leaves the set.
. "$(dirname "$0")/lib/e2e.sh"
plan 7
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
MX6=fd18::2
v6() {  # NS ARGS...: ip -6 in a namespace
    local ns=$1; shift; ip -n "$ns" -6 "$@"
}
six() {
    v6 "$BED_NS_MTA" addr add fd18:1::2/64 dev up0 nodad &&
    v6 "$BED_NS_MTA" addr add fd18:2::2/64 dev tnl0 nodad &&
    v6 "$BED_NS_MTA" route add default via fd18:1::1 dev up0 &&
    v6 "$BED_NS_INET" addr add fd18:1::1/64 dev mta0 nodad &&
    v6 "$BED_NS_INET" addr add fd18:3::1/64 dev tx0 nodad &&
    v6 "$BED_NS_INET" addr add fd18:4::1/64 dev mx0 nodad &&
    v6 "$BED_NS_INET" route add fd18::/64 via fd18:4::2 dev mx0 &&
    v6 "$BED_NS_MX" addr add fd18:4::2/64 dev up0 nodad &&
    v6 "$BED_NS_MX" addr add "$MX6/128" dev lo &&
    v6 "$BED_NS_MX" route add default via fd18:4::1 dev up0 &&
    v6 "$BED_NS_TX" addr add fd18:2::1/64 dev tnl0 nodad &&
    v6 "$BED_NS_TX" addr add fd18:3::2/64 dev up0 nodad &&
    v6 "$BED_NS_TX" route add default via fd18:3::1 dev up0 &&
    v6 "$BED_NS_TX" route add fd18:1::/64 via fd18:2::2 dev tnl0 &&
    ip netns exec "$BED_NS_INET" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
    ip netns exec "$BED_NS_TX" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
    ip netns exec "$BED_NS_TX" nft add table ip6 tx6 &&
    ip netns exec "$BED_NS_TX" nft add chain ip6 tx6 post '{ type nat hook postrouting priority srcnat; }' &&
    ip netns exec "$BED_NS_TX" nft add rule ip6 tx6 post oifname up0 masquerade &&
    ip netns exec "$BED_NS_INET" nft add table ip6 censor6 &&
    ip netns exec "$BED_NS_INET" nft add chain ip6 censor6 fw6 '{ type filter hook forward priority filter; }' &&
    ip netns exec "$BED_NS_INET" nft add set ip6 censor6 drop6 '{ type ipv6_addr; }' &&
    ip netns exec "$BED_NS_INET" nft add rule ip6 censor6 fw6 iifname mta0 ip6 daddr @drop6 tcp dport 25 drop
}
six || { echo "Bail out! no IPv6 on the bed"; exit 1; }
sink6=$BED_DIR/sink/mx6; mkdir -p "$sink6"; chmod 777 "$sink6"
bed_bg mx sink-mx6 smtp-sink -u nobody -d "$sink6/%Y%m%d%H%M%S." "[$MX6]:25" 64 >/dev/null
bed_dns_add "mx-host=v6.test,mx6.v6.test,10" "host-record=mx6.v6.test,$MX6" \
    "mx-host=other6.test,mx6.v6.test,10"
bed_postconf "inet_protocols=all"
bed_postfix_stop; bed_postfix_start
MXD_THRESHOLD=2
mxd_setup "" || { echo "Bail out! mxdetourd did not start"; exit 1; }
wg="{ name = \"wg\"; type = \"tunnel\"; mode = \"kernel\"; interface = \"$BED_TUN_IF\"; route_table = $BED_TUN_TABLE; fwmark = 0x25; gateway = \"$BED_TUN_PEER\"; gateway6 = \"fd18:2::1\"; },"
sed -i "s|^relays = (|relays = (\n  $wg|; s|relays = \[ \"relay-out\" \]|relays = [ \"wg\" ]|" "$MXD_CONF"
bed_kill mxdetourd; mxd_start
check "mode kernel starts" mxd_wait 'tunnel wg: added' 10
check "the IPv6 policy rule and route are in place" \
    bash -c "ip -n $BED_NS_MTA -6 rule | grep -q 'fwmark 0x25 lookup 125' && ip -n $BED_NS_MTA -6 route show table 125 | grep -q 'default via fd18:2::1'"

ip netns exec "$BED_NS_INET" nft add element ip6 censor6 drop6 "{ $MX6 }"
mxd_ctl block "$MX6" --reason "ipv6 test" >/dev/null
set6() { bed_exec mta nft list set inet mxdetour d6_wg | grep -q "elements = { $MX6 }"; }
i=0; until set6 || ((i++ > 50)); do sleep 0.1; done
check "the blocked IPv6 address is in the IPv6 set" set6
bed_log_mark
bed_send a@mta.test u1@other6.test >/dev/null
check "a never-seen domain on it is delivered through the tunnel" \
    bed_wait_log "to=<u1@other6.test>, relay=mx6.v6.test\[$MX6\]:25.*status=sent" 20
expect_eq "with no connect timeout" "$(bed_log_since | grep -c 'Connection timed out')" 0
expect_eq "the MX host saw the tunnel exit's address" \
    "$(grep -l 'u1@other6.test' "$sink6"/* | xargs grep -h '^X-Client-Addr' | tr -d '\r')" "X-Client-Addr: ipv6:fd18:3::2"

# Unblocked, uncensored: out of the set, the next message goes direct.
ip netns exec "$BED_NS_INET" nft flush set ip6 censor6 drop6
mxd_ctl clear "$MX6" >/dev/null
i=0; while set6 && ((i++ < 50)); do sleep 0.1; done
bed_send a@mta.test u2@v6.test >/dev/null
bed_wait_log "to=<u2@v6.test>, relay=mx6.v6.test\[$MX6\]:25.*status=sent" 20
expect_eq "direct again: the MX host saw the MTA's own address" \
    "$(grep -l 'u2@v6.test' "$sink6"/* | xargs grep -h '^X-Client-Addr' | tr -d '\r')" "X-Client-Addr: ipv6:fd18:1::2"
tap_exit

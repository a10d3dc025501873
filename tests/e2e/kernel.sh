#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: a tunnel relay in mode "kernel" (docs/kernel.md).  Blocked MX
# addresses go into mxdetour's nftables set in the MTA's namespace; marked
# port-25 connections take the tunnel (a veth path past the censor standing
# in for WireGuard) to the real MX host.  Three domains on two blocked
# addresses (blocked.test and pm.test on both, custom.test on the first)
# are delivered at their first message, with no connect timeout and no
# transport table entry.  Then: a lifted block leaves the set and mail goes
# direct; SIGKILL leaves the set and a restart reconciles it with Redis
# without ever removing an address that stays blocked; with Redis down the
# last known state is kept; a dead tunnel empties the set and a live one
# fills it again; strict rp_filter and a missing interface are reported.
. "$(dirname "$0")/lib/e2e.sh"
plan 29
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
MXD_THRESHOLD=2
MXD_PROBE_EXTRA='relay_interval = "1s";'
mxd_setup "" || { echo "Bail out! mxdetourd did not start"; exit 1; }
wg="{ name = \"wg\"; type = \"tunnel\"; mode = \"kernel\"; interface = \"$BED_TUN_IF\"; route_table = $BED_TUN_TABLE; fwmark = 0x25; gateway = \"$BED_TUN_PEER\"; source_address = \"$BED_TUN_ADDR\"; check = \"$BED_OPEN_ADDR:25\"; },"
sed -i "s|^relays = (|relays = (\n  $wg|; s|relays = \[ \"relay-out\", \"relay-two\" \]|relays = [ \"wg\" ]|" "$MXD_CONF"
bed_kill mxdetourd; mxd_start
check "mode kernel starts and makes the tunnel's table" mxd_wait 'tunnel wg: added [0-9]+, removed [0-9]+' 10

# nft_set: the IPv4 set's elements, one per line.
nft_set() { bed_exec mta nft list set inet mxdetour d4_wg 2>/dev/null | sed -n '/elements = {/,/}/p' |
    tr -d '{}=,' | tr ' \t' '\n\n' | grep -E '^[0-9]' || true; }
# set_is "ADDR ADDR" SECONDS: polls until the set holds exactly these (sorted).
set_is() {
    local want i=0; want=$(tr ' ' '\n' <<<"$1" | grep . | sort | tr '\n' ' ')
    until [[ $(nft_set | sort | tr '\n' ' ') == "$want" ]]; do
        ((i++ >= $2 * 10)) && { echo "# set: $(nft_set | tr '\n' ' ') want: $want" >&2; return 1; }
        sleep 0.1; done
}
check "the policy rule sends marked packets to table 125" \
    bash -c "ip -n $BED_NS_MTA rule | grep -q 'fwmark 0x25 lookup 125'"

# The block is per address: learnt once (here from mxdetourctl), it covers
# every domain on it, even one never seen.
bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
mxd_ctl block "$BED_MX1_ADDR" --reason "kernel test" >/dev/null
mxd_ctl block "$BED_MX2_ADDR" --reason "kernel test" >/dev/null
check "both blocked addresses are in the set" set_is "$BED_MX1_ADDR $BED_MX2_ADDR" 5
bed_log_mark
for d in blocked.test pm.test custom.test; do bed_send a@mta.test "u1@$d" >/dev/null; done
check "three first messages reach the real MX host" bed_wait_sink mx1 3 20
check "Postfix logged delivery to the real MX for custom.test" \
    bed_wait_log 'to=<u1@custom.test>, relay=mx1.blocked.test\[198.18.0.2\]:25.*status=sent' 5
expect_eq "no connect timeout in the log" "$(bed_log_since | grep -c 'Connection timed out')" 0
expect_eq "the MX host saw the tunnel's exit address" \
    "$(grep -h '^X-Client-Addr' "$(bed_sink_dir mx1)"/* | sort -u | tr -d '\r')" "X-Client-Addr: $BED_TX_ADDR"
expect_eq "no transport table entry for any of them" \
    "$(postmap -s "hash:$MXD_DIR/transport" | wc -l)" 0
out=$(mxd_ctl kernel)
expect_match "mxdetourctl kernel lists the address with its reason" "$out" "$BED_MX1_ADDR manual block by .*kernel test"

# SIGKILL: the set stays.  While mxdetourd is away, Redis changes: mx2's
# block ends; a new address is blocked.  The restart reconciles in one
# transaction; mx1, blocked all along, is never removed.
mxd_kill KILL
check "SIGKILL leaves the set in force" set_is "$BED_MX1_ADDR $BED_MX2_ADDR" 1
mxd_ctl clear "$BED_MX2_ADDR" >/dev/null
mxd_ctl block 198.18.0.9 --reason "while down" >/dev/null
bed_bg mta nftmon nft monitor >/dev/null
sleep 0.3
: >"$(mxd_log)"; mxd_start
check "the restart reconciles the set with Redis" set_is "$BED_MX1_ADDR 198.18.0.9" 10
bed_kill nftmon
mon=$BED_DIR/log/nftmon.log
expect_match "the reconciliation removed mx2 and added the new address" \
    "$(tr '\n' ' ' <"$mon")" "add element inet mxdetour d4_wg \{ 198.18.0.9 \}.*|delete element inet mxdetour d4_wg \{ $BED_MX2_ADDR \}"
expect_eq "mx1 never left the set" "$(grep -c "delete element.*$BED_MX1_ADDR" "$mon")" 0

# Redis down at start: the last known state is kept.  (mx2 may be back in
# the set by now: pm.test's new MX address is probed before it goes direct.)
mxd_kill KILL; bed_kill redis
held=$(nft_set | tr '\n' ' ')
: >"$(mxd_log)"; bed_bg mta mxdetourd "$MXD_BIN/mxdetourd" -f -c "$MXD_CONF" >/dev/null
check "with Redis down the last known state is kept, and said so" \
    mxd_wait "redis does not answer: the tunnel sets keep the $(wc -w <<<"$held") addresses" 10
sleep 1
check "the set is unchanged" set_is "$held" 1
bed_bg mta redis redis-server --port 0 --unixsocket "$MXD_DIR/redis.sock" --dir "$MXD_DIR" \
    --save "" --appendonly no >/dev/null
check "Redis back: its state is confirmed" mxd_wait 'redis answers: the addresses of the last known state' 15
# The new Redis is empty: nothing is blocked any more.
check "an empty Redis empties the set" set_is "" 10
mxd_ctl block "$BED_MX1_ADDR" --reason "again" >/dev/null
check "a new block goes into the set" set_is "$BED_MX1_ADDR" 5

# A dead tunnel: its addresses leave the set; back, they return.
bed_tunnel_cut on
check "a dead tunnel is reported" mxd_wait 'tunnel wg is down: its blocked addresses leave its set' 15
check "and its addresses leave the set" set_is "" 5
bed_tunnel_cut off
check "the tunnel back fills the set again" set_is "$BED_MX1_ADDR" 15

# After the block lifts, the address leaves the set and mail goes direct.
bed_uncensor "$BED_MX1_ADDR"
mxd_ctl clear "$BED_MX1_ADDR" >/dev/null
check "a lifted block leaves the set" set_is "" 5
before=$(bed_sink_count mx1)
bed_send a@mta.test u2@custom.test >/dev/null
bed_wait_sink mx1 $((before + 1)) 20
expect_match "mail goes direct again" "$(grep -h '^X-Client-Addr' $(ls -t "$(bed_sink_dir mx1)"/* | head -n 1) | tr -d '\r')" "X-Client-Addr: $BED_MTA_ADDR"

# The usual way in: Postfix's own connect timeouts block the address, and
# the next domain on it goes through the tunnel at its first message.
bed_censor "$BED_MX1_ADDR" drop
bed_log_mark
bed_send a@mta.test u3@custom.test >/dev/null; bed_send a@mta.test u4@custom.test >/dev/null
check "connect timeouts put the address into the set" set_is "$BED_MX1_ADDR" 20
expect_match "mxdetourctl kernel gives the timeouts as the reason" "$(mxd_ctl kernel)" "$BED_MX1_ADDR .*(timeout|timed out)"
bed_log_mark
bed_send a@mta.test u5@pm.test >/dev/null
check "another domain on it is delivered through the tunnel at its first attempt" \
    bed_wait_log 'to=<u5@pm.test>, relay=mx1.blocked.test\[198.18.0.2\]:25.*status=sent' 10
bed_uncensor "$BED_MX1_ADDR"

# Checks: strict rp_filter is named; a missing interface refuses to start.
bed_exec mta sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.tnl0.rp_filter=1
out=$(bed_exec mta "$MXD_BIN/mxdetourd" -t -c "$MXD_CONF" 2>&1)
expect_match "mxdetourd -t warns about strict rp_filter, naming the sysctl" "$out" "net.ipv4.conf.tnl0.rp_filter=2"
sed -i "s|interface = \"$BED_TUN_IF\"|interface = \"nosuch0\"|" "$MXD_CONF"
out=$(bed_exec mta "$MXD_BIN/mxdetourd" -t -c "$MXD_CONF" 2>&1); rc=$?
expect_match "mxdetourd -t refuses a missing interface" "$rc: $out" "^[1-9].*interface nosuch0 does not exist"
# Without root there is no privileged helper: kernel mode refuses to start.
np=$BED_DIR/np; mkdir -p "$np"; chmod 777 "$np"
: >"$np/transport"; postmap "hash:$np/transport"; chmod 666 "$np"/*
sed -e "s|^state_dir = .*|state_dir = \"$np\";|; s|^pid_file = .*|pid_file = \"$np/pid\";|" \
    -e "s|^routes = .*|routes = { table = \"$np/transport\"; reload = \"never\"; };|" \
    -e "s|interface = \"nosuch0\"|interface = \"$BED_TUN_IF\"|" "$MXD_CONF" >"$np/mxdetour.conf"
chmod 644 "$np/mxdetour.conf"
out=$(timeout 20 ip netns exec "$BED_NS_MTA" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$MXD_BIN/mxdetourd" -f -c "$np/mxdetour.conf" 2>&1); rc=$?
expect_match "without root, kernel mode refuses to start and says why" "rc=$rc $(tr '\n' ' ' <<<"$out")" \
    '^rc=3 .*mode "kernel" needs the privileged helper.*start mxdetourd as root'
tap_exit

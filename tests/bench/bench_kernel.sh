#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark of the kernel-mode detour (docs/kernel.md, docs/benchmarks.md),
# on the netns test bed, all figures from one run:
#
#  1. latency: from a state change (mxdetourctl block ADDRESS, or clear:
#     the moment Redis publishes it on the site's change channel, as a
#     subscriber sees it) to the nftables set holding the new state, as
#     `nft monitor` reports it; from then on the next connection's first
#     packet takes the new path.  A removal waits KERNELPUB_REMOVE_DELAY_MS
#     (1 s) on purpose.  Beside it, for a domain on a
#     transport-mode relay: from mxdetourctl block DOMAIN (with a message
#     deferred for it, so that it gets a reload) to the end of the
#     `postfix reload` that puts the route in force.
#  2. throughput: MESSAGES to open.test (an unblocked destination) through
#     Postfix, timed from submission to the last delivery, with (a) no
#     changes (the baseline), (b) addresses added to and removed from the
#     set as fast as CHURNERS mxdetourctl loops can write them, (c) domains
#     detoured and restored on a transport-mode relay as fast (the table
#     publisher; no mail waits for those domains, so no reload since
#     routes_reload.c; before it, at most one per routes.reload_interval =
#     1s).  tests/bench/bench_churn.sh compares builds and generators.  Ratios are against (a), from the same run; ROUNDS rounds of the
#     three, interleaved, medians reported.
#
# usage: tests/bench/bench_kernel.sh [CHANGES] [MESSAGES] [ROUNDS] [CHURNERS]   (as root)
# Defaults: 40 latency samples, 600 messages a run, 3 rounds, 3 churn loops.
set -u
CH=${1:-40} M=${2:-600} ROUNDS=${3:-3} CHURNERS=${4:-3}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MXD_BIN=${MXD_BIN:-$top_builddir}
. "$top_srcdir/tests/e2e/lib/bed.sh"
. "$top_srcdir/tests/e2e/lib/mxd.sh"
bed_setup >/dev/null || { echo "the test bed did not come up"; exit 1; }
mxd_setup "" >/dev/null || { echo "mxdetourd did not start"; exit 1; }
wg="{ name = \"wg\"; type = \"tunnel\"; mode = \"kernel\"; interface = \"$BED_TUN_IF\"; route_table = $BED_TUN_TABLE; fwmark = 0x25; gateway = \"$BED_TUN_PEER\"; },"
sed -i "s|^relays = (|relays = (\n  $wg|; s|relays = \[ \"relay-out\", \"relay-two\" \]|relays = [ \"wg\" ]|; s|reload_interval = \"2s\"|reload_interval = \"1s\"|" "$MXD_CONF"
bed_kill mxdetourd; mxd_start >/dev/null
mxd_wait 'tunnel wg: added' 10 || { echo "kernel mode did not start"; exit 1; }
bed_postconf "default_destination_concurrency_limit=20" "in_flow_delay=0"
ctl() { "$MXD_BIN/mxdetourctl" -c "$MXD_CONF" "$@" >/dev/null; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR) printf "%.1f", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else print "-"}'; }
p90() { sort -n | awk '{v[NR]=$1} END {if (NR) printf "%.1f", v[int(NR*0.9+0.5) ? int(NR*0.9+0.5) : 1]; else print "-"}'; }

# --- 1. latency
mon=$BED_DIR/mon.log
stamp() { while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done; }
ip netns exec "$BED_NS_MTA" stdbuf -oL nft monitor | stamp >"$mon" &
monpid=$!
pub=$BED_DIR/pub.log
stdbuf -oL redis-cli -s "$MXD_DIR/redis.sock" SUBSCRIBE mxd:bed:changes | stamp >"$pub" &
pubpid=$!
sleep 0.5
lat=$BED_DIR/lat
for ((i = 0; i < CH; i++)); do
    a=198.18.0.$((100 + i % 100))
    for op in block clear; do
        n0=$(wc -l <"$mon") p0=$(wc -l <"$pub")
        ip netns exec "$BED_NS_MTA" "$MXD_BIN/mxdetourctl" -c "$MXD_CONF" "$op" "$a" >/dev/null
        want=$([[ $op == block ]] && echo add || echo delete)
        for ((k = 0; k < 500; k++)); do
            l=$(tail -n "+$((n0 + 1))" "$mon" | grep -m1 "$want element inet mxdetour d4_wg { $a }") && break
            sleep 0.005
        done
        p=$(tail -n "+$((p0 + 1))" "$pub" | grep -m1 "manual $a\$")
        [[ -n $l && -n $p ]] && echo "$op $(echo "(${l%% *} - ${p%% *}) * 1000" | bc)" >>"$lat"
    done
done
# The transport publisher: block a domain on a smarthost relay, wait for the
# reload that puts it in force.  A reload is only for a detour with mail
# waiting (docs/routing.md): one message to dnsfail.test (its DNS fails, so
# it is deferred) waits in the queue before each sample.
tlat=$BED_DIR/tlat
for ((i = 0; i < CH / 4 + 1; i++)); do
    bed_log_mark
    bed_send a@mta.test "u$i@dnsfail.test" "lat $i" >/dev/null
    bed_wait_log "to=<u$i@dnsfail.test>.*status=deferred" 20
    n0=$(grep -c 'reload: done' "$(mxd_log)")
    t0=$EPOCHREALTIME
    ip netns exec "$BED_NS_MTA" "$MXD_BIN/mxdetourctl" -c "$MXD_CONF" block dnsfail.test >/dev/null
    t0=$EPOCHREALTIME           # from the Redis write on, like the kernel set's figure
    for ((k = 0; k < 1000; k++)); do
        (($(grep -c 'reload: done' "$(mxd_log)") > n0)) && break
        sleep 0.005
    done
    echo "$(echo "($EPOCHREALTIME - $t0) * 1000" | bc)" >>"$tlat"
    ctl clear dnsfail.test; sleep 1.2
done
kill "$monpid" "$pubpid" 2>/dev/null

echo "# bench_kernel: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## state change -> in force (ms): median, p90, samples"
printf '%-40s %8s %8s %5s\n' "kernel set: address added" "$(awk '$1=="block"{print $2}' "$lat" | median)" \
    "$(awk '$1=="block"{print $2}' "$lat" | p90)" "$(grep -c block "$lat")"
printf '%-40s %8s %8s %5s\n' "kernel set: address removed" "$(awk '$1=="clear"{print $2}' "$lat" | median)" \
    "$(awk '$1=="clear"{print $2}' "$lat" | p90)" "$(grep -c clear "$lat")"
printf '%-40s %8s %8s %5s\n' "transport table + postfix reload" "$(median <"$tlat")" "$(p90 <"$tlat")" "$(wc -l <"$tlat")"

# --- 2. throughput: ROUNDS rounds of the three setups, interleaved so that
# the machine's load drifts over all of them alike; medians are reported.
cnt=$BED_DIR/changes
churn_kernel() {  # one churner: its own 16 addresses, block then clear
    local j=$1 i=0 a
    while :; do
        a=198.18.0.$((150 + j * 16 + i % 16))
        ctl block "$a" && echo >>"$cnt"; ctl clear "$a" && echo >>"$cnt"; i=$((i + 1))
    done
}
churn_table() {
    local j=$1 i=0 d
    while :; do
        d=churn$j-$((i % 16)).test
        ctl block "$d" && echo >>"$cnt"; ctl clear "$d" && echo >>"$cnt"; i=$((i + 1))
    done
}
run() {  # NAME CHURN_FUNCTION|-  -> "NAME|msg/s|changes/s|commits/s"
    local name=$1 churn=$2 pids=() t0 t1 n c0 c1 k0 k1 j
    bed_log_mark
    : >"$cnt"
    if [[ $churn != - ]]; then
        for ((j = 0; j < CHURNERS; j++)); do $churn "$j" & pids+=($!); done
        sleep 1
    fi
    c0=$(grep -cE 'tunnel wg: added|reload: done' "$(mxd_log)")
    k0=$(wc -l <"$cnt")
    t0=$EPOCHREALTIME
    bed_send_bulk "$M" bulk@open.test 10 >/dev/null 2>&1
    bed_wait_log 'to=<bulk@open.test>.*status=sent' 300 "$M"
    t1=$EPOCHREALTIME
    k1=$(wc -l <"$cnt")
    c1=$(grep -cE 'tunnel wg: added|reload: done' "$(mxd_log)")
    for j in "${pids[@]}"; do kill "$j"; wait "$j" 2>/dev/null; done
    n=$(bed_log_since | grep -c 'to=<bulk@open.test>.*status=sent')
    echo "$name|$(echo "$n / ($t1 - $t0)" | bc -l)|$(echo "($k1 - $k0) / ($t1 - $t0)" | bc -l)|$(echo "($c1 - $c0) / ($t1 - $t0)" | bc -l)"
    purge_all
}
# Between runs: an empty queue, and time for the last changes (and the
# reload a table change still owes) to land before the next run starts.
purge_all() { ip netns exec "$BED_NS_MTA" postsuper -c "$BED_PF_DIR" -d ALL >/dev/null 2>&1; sleep 3; }
res=$BED_DIR/res
for ((r = 0; r < ROUNDS; r++)); do
    run "no changes (baseline)" - >>"$res"
    run "kernel set churn" churn_kernel >>"$res"
    run "transport table + reload churn" churn_table >>"$res"
done
col() { grep -F "$1|" "$res" | cut -d'|' -f"$2" | median; }
base=$(col "no changes (baseline)" 2)
echo "## Postfix throughput: $M messages to an unblocked destination, median of $ROUNDS rounds;"
echo "## $CHURNERS mxdetourctl loops make the changes (block, clear, block, ...)"
printf '%-32s %8s %7s %10s %14s\n' "setup" "msg/s" "ratio" "changes/s" "commits/s"
for name in "no changes (baseline)" "kernel set churn" "transport table + reload churn"; do
    printf '%-32s %8s %7.2f %10s %14s\n' "$name" "$(col "$name" 2)" "$(echo "$(col "$name" 2) / $base" | bc -l)" \
        "$(col "$name" 3)" "$(col "$name" 4)"
done
echo "# (commits/s: nftables transactions for the kernel set, postfix reloads for the table)"

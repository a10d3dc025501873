#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Postfix throughput while routes churn (docs/benchmarks.md, "Routes under
# churn"), on the netns test bed; derived from bench_kernel.sh part 2.
#
# MESSAGES to open.test (an unblocked destination, so no mail ever waits
# for a churned route) through Postfix, from submission to the last
# delivery, in these setups, ROUNDS rounds interleaved, each setup right
# after a baseline run of its own; the ratio is per pair, medians reported:
#
#   baseline          no changes
#   ctl only          CHURNERS mxdetourctl loops, mxdetourd stopped: what the
#                     generator alone costs Postfix
#   table before      CHURNERS mxdetourctl loops detouring and restoring
#                     domains on a smarthost relay, mxdetourd from BEFORE_BIN
#                     (a reload for every new detour, coalesced to one per
#                     routes.reload_interval = 1s)
#   table after       the same with this build (a reload only when mail waits)
#   table after, redis   one process writing the same kind of change straight
#                     to Redis at RATE changes a second (no mxdetourctl)
#   kernel            CHURNERS mxdetourctl loops blocking and clearing
#                     addresses on a kernel-mode tunnel
#   kernel, redis     one process writing them straight to Redis at RATE
#
# usage: tests/bench/bench_churn.sh BEFORE_BIN [MESSAGES] [ROUNDS] [CHURNERS] [RATE]   (as root)
# BEFORE_BIN: a directory with the old mxdetourd and mxdetour-helper; MXD_BIN
# (default the build directory) holds the new ones and mxdetourctl.
# Defaults: 400 messages, 5 rounds, 3 loops, 28 changes a second.  ONLY: a
# regular expression of the setups to run besides the baseline.  The
# daemon's log is kept as ${BENCH_KEEP:-/tmp}/bench_churn.mxdetourd.log.
set -u
BEFORE=${1:?usage: bench_churn.sh BEFORE_BIN [MESSAGES] [ROUNDS] [CHURNERS] [RATE]}
M=${2:-400} ROUNDS=${3:-5} CHURNERS=${4:-3} RATE=${5:-28}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MXD_BIN=${MXD_BIN:-$top_builddir}
AFTER=$MXD_BIN
. "$top_srcdir/tests/e2e/lib/bed.sh"
. "$top_srcdir/tests/e2e/lib/mxd.sh"
export MXDETOUR_HELPER=$AFTER/mxdetour-helper
bed_setup >/dev/null || { echo "the test bed did not come up"; exit 1; }
mxd_setup "" >/dev/null || { echo "mxdetourd did not start"; exit 1; }
wg="{ name = \"wg\"; type = \"tunnel\"; mode = \"kernel\"; interface = \"$BED_TUN_IF\"; route_table = $BED_TUN_TABLE; fwmark = 0x25; gateway = \"$BED_TUN_PEER\"; },"
sed -i "s|^relays = (|relays = (\n  $wg|; s|relays = \[ \"relay-out\", \"relay-two\" \]|relays = [ \"wg\" ]|; s|reload_interval = \"2s\"|reload_interval = \"1s\"|" "$MXD_CONF"
bed_postconf "default_destination_concurrency_limit=20" "in_flow_delay=0"
ctl() { "$AFTER/mxdetourctl" -c "$MXD_CONF" "$@" >/dev/null; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR) printf "%.2f", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2); else print "-"}'; }

running=""
daemon() {  # BIN|stop: (re)start mxdetourd from BIN, wait until kernel mode is up
    local bin=$1 n
    [[ $running == "$bin" ]] && return 0
    bed_kill mxdetourd
    running=$bin
    [[ $bin == stop ]] && return 0
    n=$(grep -c 'tunnel wg: added' "$(mxd_log)")
    MXDETOUR_HELPER=$bin/mxdetour-helper MXD_BIN=$bin mxd_start >/dev/null
    for ((i = 0; i < 100; i++)); do
        (($(grep -c 'tunnel wg: added' "$(mxd_log)") > n)) && break
        sleep 0.1
    done
    sleep 1
}

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
# One bash process (builtins only, no fork per change) feeding one
# redis-cli: a manual record as mxdetourctl writes it (docs/state.md), and
# the news on the site's channel.
redis_writer() {  # KIND (kernel|table)
    local kind=$1 i=0 name now pause
    pause=$(echo "scale=4; 1 / $RATE" | bc)
    [[ -p $BED_DIR/pace ]] || mkfifo "$BED_DIR/pace"
    exec 9<>"$BED_DIR/pace"     # nothing is ever written: read -t is a sleep without a fork
    while :; do
        if [[ $kind == kernel ]]; then name=198.18.0.$((200 + i % 32)); else name=direct-$((i % 32)).test; fi
        now=$((${EPOCHREALTIME/./} / 1000))
        if ((i / 32 % 2 == 0)); then
            printf 'HSET mxd:bed:manual:%s action block via "" reason bench by bench@bed created %s expires %s\n' \
                "$name" "$now" $((now + 86400000))
        else
            printf 'DEL mxd:bed:manual:%s\n' "$name"
        fi
        printf 'PUBLISH mxd:bed:changes "manual %s"\n' "$name"
        echo >>"$cnt"
        i=$((i + 1))
        read -r -t "$pause" -u 9 || true
    done | redis-cli -s "$MXD_DIR/redis.sock" >/dev/null
}
count() { grep -cE "$1" "$(mxd_log)"; }
run() {  # NAME BIN|stop CHURN|- ARG -> $BED_DIR/last: "NAME|msg/s|changes/s|reloads/s|decisions/s"
    local name=$1 bin=$2 churn=$3 pids=() t0 t1 n r0 r1 l0 l1 k0 k1 j
    echo "== $name $(date +%T.%N)" >>"$(mxd_log)"
    daemon "$bin"
    bed_log_mark
    : >"$cnt"
    if [[ $churn == redis_writer ]]; then
        redis_writer "$4" & pids+=($!)
        sleep 1
    elif [[ $churn != - ]]; then
        for ((j = 0; j < CHURNERS; j++)); do $churn "$j" & pids+=($!); done
        sleep 1
    fi
    r0=$(count 'reload: done') l0=$(count 'reload for ')
    k0=$(wc -l <"$cnt")
    t0=$EPOCHREALTIME
    bed_send_bulk "$M" bulk@open.test 10 >/dev/null 2>&1
    bed_wait_log 'to=<bulk@open.test>.*status=sent' 300 "$M"
    t1=$EPOCHREALTIME
    k1=$(wc -l <"$cnt")
    r1=$(count 'reload: done') l1=$(count 'reload for ')
    for j in "${pids[@]}"; do pkill -P "$j" 2>/dev/null; kill "$j"; wait "$j" 2>/dev/null; done
    n=$(bed_log_since | grep -c 'to=<bulk@open.test>.*status=sent')
    echo "$name|$(echo "$n / ($t1 - $t0)" | bc -l)|$(echo "($k1 - $k0) / ($t1 - $t0)" | bc -l)|$(echo "($r1 - $r0) / ($t1 - $t0)" | bc -l)|$(echo "($l1 - $l0) / ($t1 - $t0)" | bc -l)" >"$BED_DIR/last"
    ip netns exec "$BED_NS_MTA" postsuper -c "$BED_PF_DIR" -d ALL >/dev/null 2>&1
    sleep 3     # the last changes, and a reload still owed, land before the next run
}
names=("ctl only" "table before" "table after" "table after, redis" "kernel" "kernel, redis")
res=$BED_DIR/res
# Each setup right after a baseline run of its own: the machine's load
# drifts, so the ratio is taken per pair, and the pairs' median reported.
pair() {  # NAME BIN CHURN [ARG]
    [[ $1 =~ ${ONLY:-.} ]] || return 0
    local b x
    run "baseline" "$AFTER" -
    b=$(<"$BED_DIR/last")
    run "$@"
    x=$(<"$BED_DIR/last")
    echo "$b" >>"$res"
    echo "$x|$(echo "$(cut -d'|' -f2 <<<"$x") / $(cut -d'|' -f2 <<<"$b")" | bc -l)" >>"$res"
}
for ((r = 0; r < ROUNDS; r++)); do
    pair "ctl only" stop churn_table
    pair "table before" "$BEFORE" churn_table
    pair "table after" "$AFTER" churn_table
    pair "table after, redis" "$AFTER" redis_writer table
    pair "kernel" "$AFTER" churn_kernel
    pair "kernel, redis" "$AFTER" redis_writer kernel
done
col() { grep -F "$1|" "$res" | cut -d'|' -f"$2" | median; }
echo "# bench_churn: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## $M messages to an unblocked destination, $ROUNDS rounds; each setup paired with a baseline run just before it"
printf '%-20s %8s %8s %12s %10s %10s %12s\n' "setup" "msg/s" "baseline" "ratio(pairs)" "changes/s" "reloads/s" "decisions/s"
for name in "${names[@]}"; do
    grep -qF "$name|" "$res" || continue
    printf '%-20s %8s %8s %12s %10s %10s %12s\n' "$name" "$(col "$name" 2)" \
        "$(grep -A0 -B1 -F "$name|" "$res" | grep -F 'baseline|' | cut -d'|' -f2 | median)" \
        "$(col "$name" 6)" "$(col "$name" 3)" "$(col "$name" 4)" "$(col "$name" 5)"
done
echo "# per run: $res"; sed 's/^/#   /' "$res"
cp "$(mxd_log)" "${BENCH_KEEP:-/tmp}/bench_churn.mxdetourd.log"

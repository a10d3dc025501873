#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench_milter.sh - what mxdetour's milter costs Postfix, side by side:
#
#   a. no milter
#   b. tests/bench/null_milter: a libmilter milter that accepts everything
#      (the cost of the milter protocol itself)
#   c. the mxdetour milter (tests/milter/milter_harness: the real milter
#      module and route view, with DOMAINS domains answered from a file)
#
# A private Postfix on 127.0.0.1 (no network namespace) takes the same
# number of messages for each with smtp-source (PROCS processes, SESSIONS
# sessions in all, one recipient per message, each process mailing a
# different domain of the view) and throws them away (default_transport =
# blackhole, a discard(8) service: the milter skips recipients whose
# transport is named "discard").  in_flow_delay = 0, so that acceptance is not paced by delivery.
# Each round runs a, b and c once; the result is the median over rounds, in
# messages per second, with the ratios c/a, c/b and b/a.  Since throughput
# moves with whatever else the machine runs, it also gives the CPU time the
# milter process itself spent per message (b and c, from /proc), which does
# not.
#
# usage: bash tests/bench/bench_milter.sh [-m MESSAGES] [-s SESSIONS]
#                                         [-p PROCS] [-r ROUNDS] [-d DOMAINS]
# Defaults: -m 4000 -s 20 -p 5 -r 3 -d 300.  Run as root from the top
# directory (or with top_srcdir/top_builddir set); builds the two milters
# with make when missing.  Everything lives in a temporary directory that
# the exit trap removes, with the processes it started.
set -u
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
HARNESS=$top_builddir/tests/milter/milter_harness
NULL=$top_builddir/tests/bench/null_milter
MESSAGES=4000 SESSIONS=20 PROCS=5 ROUNDS=3 DOMAINS=300
while getopts m:s:p:r:d: opt; do
    case $opt in
    m) MESSAGES=$OPTARG ;; s) SESSIONS=$OPTARG ;; p) PROCS=$OPTARG ;;
    r) ROUNDS=$OPTARG ;; d) DOMAINS=$OPTARG ;;
    *) sed -n '/^# usage/,/^# Defaults/p' "$0" >&2; exit 2 ;;
    esac
done
die() { echo "bench_milter: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (a private Postfix instance)"
for c in postfix postconf postqueue smtp-source flock; do
    command -v "$c" >/dev/null || die "$c is not installed"
done
if [[ ! -x $HARNESS || ! -x $NULL ]]; then
    make -s -C "$top_builddir" tests/milter/milter_harness tests/bench/null_milter >/dev/null ||
        die "cannot build the milters"
fi

tmp=$(mktemp -d /tmp/mxd-bench.XXXXXX) || exit 1
chmod 755 "$tmp"
pf=$tmp/postfix/etc q=$tmp/postfix/spool log=$tmp/postfix/maillog
pids=()
# alternate_config_directories in /etc/postfix/main.cf, under the test bed's lock
pfdir() { # add|del DIR
    (
        flock -w 20 9 || exit 1
        cur=$(postconf -h alternate_config_directories 2>/dev/null) new=
        for d in ${cur//,/ }; do [[ $d != "$2" ]] && new+="${new:+ }$d"; done
        [[ $1 == add ]] && new+="${new:+ }$2"
        [[ $new == "$cur" ]] || postconf -e "alternate_config_directories = $new"
    ) 9>/run/lock/mxdbed-postfix-main.cf.lock
}
cleanup() {
    postfix -c "$pf" stop >/dev/null 2>&1
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pfdir del "$pf"
    [[ -n ${KEEP:-} ]] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the Postfix instance
port=$((20000 + RANDOM % 20000))
while ss -Hltn "src 127.0.0.1:$port" | grep -q .; do port=$((port + 1)); done
mkdir -p "$pf" "$q" "$tmp/postfix/data" && chown postfix "$tmp/postfix/data"
cp /etc/postfix/master.cf "$pf/"
[[ -f /etc/postfix/dynamicmaps.cf ]] && cp /etc/postfix/dynamicmaps.cf "$pf/"
cat >"$pf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $q
data_directory = $tmp/postfix/data
maillog_file = $log
maillog_file_prefixes = $tmp
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mta.bench.test
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = blackhole:bench
relay_transport = blackhole:bench
in_flow_delay = 0
smtpd_tls_security_level = none
milter_default_action = accept
milter_protocol = 6
EOF
echo 'postlog   unix-dgram n  -       n       -       1       postlogd' >>"$pf/master.cf"
postconf -c "$pf" -M# smtp/inet
postconf -c "$pf" -Me "127.0.0.1:$port/inet = 127.0.0.1:$port inet n - n - - smtpd"
postconf -c "$pf" -Me "blackhole/unix = blackhole unix - - n - - discard"
postconf -c "$pf" -F '*/*/chroot = n'
pfdir add "$pf"
postfix -c "$pf" start >/dev/null 2>&1 || { tail "$log" >&2; die "postfix did not start"; }
for _ in $(seq 100); do ss -Hltn "src 127.0.0.1:$port" | grep -q LISTEN && break; sleep 0.1; done

# ---- the milters
{
    for i in $(seq "$DOMAINS"); do
        if ((i % 2)); then echo "d$i.bench.test direct"; else echo "d$i.bench.test detour relay-fi"; fi
    done
    echo "reject.bench.test policy reject"
} >"$tmp/answers"
cat >"$tmp/mxdetour.conf" <<EOF
site = "bench";
destinations = ( { name = "refused"; domains = [ "reject.bench.test" ]; policy = "reject"; } );
milter = { route_wait = "2s"; };
EOF
"$NULL" "unix:$tmp/null.sock" 2>"$tmp/null.log" &
null_pid=$!
pids+=($!)
"$HARNESS" -c "$tmp/mxdetour.conf" -a "$tmp/answers" -s "unix:$tmp/mxd.sock" 2>"$tmp/mxd.log" &
mxd_pid=$!
pids+=($!)
hz=$(getconf CLK_TCK)
# cpu_us PID: user + system CPU time of a process, in microseconds
cpu_us() { awk -v hz="$hz" '{sub(/.*\) /, ""); print ($12 + $13) * 1000000 / hz}' "/proc/$1/stat"; }
for _ in $(seq 100); do [[ -S $tmp/null.sock && -S $tmp/mxd.sock ]] && break; sleep 0.1; done
chmod 666 "$tmp/null.sock" "$tmp/mxd.sock"      # smtpd runs as postfix

use_milter() { # SOCKET or "" ; reload and wait until it is in force
    local mark
    mark=$(wc -l <"$log")
    postconf -c "$pf" -e "smtpd_milters = $1"
    postfix -c "$pf" reload >/dev/null 2>&1
    for _ in $(seq 100); do tail -n "+$((mark + 1))" "$log" | grep -q 'reload -- version' && break; sleep 0.1; done
    sleep 1.5                   # old smtpd processes finish their clients
}
drained() { for _ in $(seq 600); do [[ -z $(postqueue -c "$pf" -j) ]] && return 0; sleep 0.1; done; return 1; }

# one_run: all messages through the current milter; prints messages per second
one_run() {
    local per=$((MESSAGES / PROCS)) s=$((SESSIONS / PROCS)) t0 t1 rc=0 p run=()
    drained || die "the queue did not drain"
    t0=$EPOCHREALTIME
    for p in $(seq "$PROCS"); do
        smtp-source -s "$s" -m "$per" -f bench@mta.bench.test -t "u@d$((p * DOMAINS / PROCS)).bench.test" \
            -M client.bench.test "127.0.0.1:$port" 2>>"$tmp/source.err" &
        run+=($!)
    done
    for p in "${run[@]}"; do wait "$p" || rc=1; done
    t1=$EPOCHREALTIME
    ((rc == 0)) || { cat "$tmp/source.err" >&2; die "smtp-source failed"; }
    awk -v n="$((per * PROCS))" -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN{printf "%.0f\n", n / (b - a)}'
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo "# $(nproc) CPUs; $MESSAGES messages per run, $SESSIONS sessions in $PROCS smtp-source, $ROUNDS rounds;" \
    "mxdetour view: $DOMAINS domains"
use_milter "unix:$tmp/mxd.sock"
smtp-source -m 1 -t u@reject.bench.test "127.0.0.1:$port" >/dev/null 2>&1 &&
    die "the mxdetour milter is not in the path (reject.bench.test was accepted)"
declare -A r=() cpu=()
for round in $(seq "$ROUNDS"); do
    for v in a b c; do
        case $v in a) use_milter "" ;; b) use_milter "unix:$tmp/null.sock" ;; c) use_milter "unix:$tmp/mxd.sock" ;; esac
        smtp-source -s 2 -m 100 -t u@d1.bench.test "127.0.0.1:$port" >/dev/null 2>&1   # warm up
        mpid=
        [[ $v == b ]] && mpid=$null_pid
        [[ $v == c ]] && mpid=$mxd_pid
        [[ -n $mpid ]] && c0=$(cpu_us "$mpid")
        rate=$(one_run)
        r[$v]+="$rate "
        line="round $round  $v  $rate msg/s"
        if [[ -n $mpid ]]; then
            us=$(awk -v a="$c0" -v b="$(cpu_us "$mpid")" -v n="$(((MESSAGES / PROCS) * PROCS))" \
                'BEGIN{printf "%.0f", (b - a) / n}')
            cpu[$v]+="$us "
            line+="  (milter CPU $us us/message)"
        fi
        echo "$line"
    done
done
a=$(tr ' ' '\n' <<<"${r[a]}" | grep . | median)
b=$(tr ' ' '\n' <<<"${r[b]}" | grep . | median)
c=$(tr ' ' '\n' <<<"${r[c]}" | grep . | median)
printf '\n%-34s %10s\n' "median of $ROUNDS rounds" "msg/s"
printf '%-34s %10s\n' "a. no milter" "$a" "b. null milter (libmilter)" "$b" "c. mxdetour milter" "$c"
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN{printf "ratios: c/a %.2f  c/b %.2f  b/a %.2f\n", c / a, c / b, b / a}'
cb=$(tr ' ' '\n' <<<"${cpu[b]}" | grep . | median)
cc=$(tr ' ' '\n' <<<"${cpu[c]}" | grep . | median)
echo "milter CPU per message (median): null $cb us, mxdetour $cc us; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
grep -E 'Sanitizer|runtime error' "$tmp/mxd.log" >&2 && die "the milter reported a sanitizer error"
exit 0

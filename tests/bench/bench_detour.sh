#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark: the same burst of mail to a blocked destination on the same test
# bed, in one run, through (1) stock Postfix, (2) Postfix with
# smtp_fallback_relay, (3) Postfix with mxdetour.  Reports per setup: how
# many messages were delivered within the run window, their mean and maximum
# delay (submission to delivery, Postfix's own delay=), the smtp(8)
# process-seconds spent waiting on connect timeouts, and, for mxdetour, how
# long mail that was already deferred waited after detection.
#
# usage: tests/bench/bench_detour.sh [MESSAGES] [SESSIONS] [CONNECT_TIMEOUT] [WINDOW]
# Defaults 20 messages in 5 sessions, smtp_connect_timeout 3s (Postfix's
# default is 30s: scaled down 10x so a run takes minutes), window 60 s.
set -u
N=${1:-20} S=${2:-5} CT=${3:-3} WIN=${4:-60}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
BED_CONNECT_TIMEOUT=${CT}s
. "$top_srcdir/tests/e2e/lib/bed.sh"
. "$top_srcdir/tests/e2e/lib/mxd.sh"
bed_setup >/dev/null || { echo "the test bed did not come up"; exit 1; }
bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop

# Postfix's own tunables that decide the stock figures: keep them default but
# for the connect timeout and a short queue run, so retries happen in the window.
bed_postconf "queue_run_delay=10s" "minimal_backoff_time=10s" "maximal_backoff_time=20s"

# phase NAME: sends the burst, waits WIN seconds or until all are delivered,
# and prints one result row.
purge() { ip netns exec "$BED_NS_MTA" postsuper -c "$BED_PF_DIR" -d ALL >/dev/null 2>&1; }
phase() {
    local name=$1 rcpt=$2 t0 sent delays mean max timeouts
    purge
    bed_log_mark
    t0=$(date +%s)
    bed_send_bulk "$N" $rcpt@blocked.test "$S" >/dev/null 2>&1
    t_detect=""
    while (( $(date +%s) - t0 < WIN )); do
        sent=$(bed_log_since | grep -c "to=<$rcpt@blocked.test>.*status=sent")
        if [[ -z $t_detect && -n ${MXD_CONF:-} ]] && grep -q 'detour: blocked.test' "$(mxd_log)"; then
            t_detect=$(date +%s.%N)
        fi
        ((sent >= N)) && break
        sleep 0.2
    done
    [[ -n $t_detect ]] && after_detect=$(echo "$(date +%s.%N) - $t_detect" | bc | cut -c1-4)
    sent=$(bed_log_since | grep -c "to=<$rcpt@blocked.test>.*status=sent")
    delays=$(bed_log_since | grep "to=<$rcpt@blocked.test>.*status=sent" | sed -n 's/.*, delay=\([0-9.]*\),.*/\1/p')
    mean=$(echo $delays | tr ' ' '\n' | awk 'NF {s+=$1; n++} END {if (n) printf "%.2f", s/n; else print "-"}')
    max=$(echo $delays | tr ' ' '\n' | awk 'NF {if ($1>m) m=$1; n++} END {if (n) printf "%.2f", m; else print "-"}')
    timeouts=$(bed_log_since | grep -c 'connect to mx[12].blocked.test.*Connection timed out')
    printf '%-22s %9s %10s %9s %12s\n' "$name" "$sent/$N" "$mean" "$max" "$((timeouts * CT))"
    purge
}

echo "# bench_detour: $N messages in $S sessions to a domain whose 2 MX addresses drop SYNs;"
echo "# smtp_connect_timeout=${CT}s (Postfix default 30s), window ${WIN}s; $(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-22s %9s %10s %9s %12s\n' "setup" "delivered" "mean delay" "max delay" "timeout s"
phase "stock Postfix" stock
bed_postconf "smtp_fallback_relay=[$BED_RELAY_ADDR]:25"
phase "smtp_fallback_relay" fallback
bed_postconf "smtp_fallback_relay="
mxd_setup >/dev/null || { echo "mxdetourd did not start"; exit 1; }
after_detect=""
phase "mxdetour" mxd
echo "# mxdetour: the deferred part of the burst was delivered ${after_detect:-?} s after detection"
echo "# mxdetour: $(grep -c 'Connection timed out' "$BED_MAILLOG") timeouts in the whole run;" \
     "detection line: $(grep -m1 'detour: blocked.test' "$(mxd_log)" | cut -c1-120)"
# Second burst now that the destination is known: no timeout at all.
phase "mxdetour (known)" known

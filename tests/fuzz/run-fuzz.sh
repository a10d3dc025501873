#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run-fuzz.sh - builds tests/fuzz/fuzz_logparse with clang's libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer straight from the lib/
# sources (no configure needed), and runs it.
#
# usage: tests/fuzz/run-fuzz.sh [SECONDS]     (default 30)
#
# Seeds: the log files under tests/data/logparse and tests/data/postfix.
# The work directory (corpus, crash artifacts) is FUZZ_WORKDIR or a new
# /tmp/mxd-fuzz-XXXXXX; it is removed after a clean run unless FUZZ_KEEP=1.
# Exits non-zero when the fuzzer finds a crash, a leak or a timeout.
set -eu

secs=${1:-30}
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CLANG:-clang}
work=${FUZZ_WORKDIR:-$(mktemp -d /tmp/mxd-fuzz-XXXXXX)}
mkdir -p "$work/corpus" "$work/seeds"

# The lib sources include config.h; all they need from it is _GNU_SOURCE.
printf '#define _GNU_SOURCE 1\n' > "$work/config.h"
"$cc" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$work" -I"$top/lib/base" -I"$top/lib/evidence" -Wall -Wextra -Werror \
    -o "$work/fuzz_logparse" "$top/tests/fuzz/fuzz_logparse.c" \
    "$top/lib/evidence/logparse.c" "$top/lib/evidence/logparse_fields.c" "$top/lib/evidence/logtime.c" "$top/lib/base/netaddr.c" "$top/lib/evidence/evidence.c" \
    "$top/lib/base/clock.c"

for f in "$top"/tests/data/logparse/*.log "$top"/tests/data/postfix/*.log; do
    [ -f "$f" ] && cp "$f" "$work/seeds/"
done

# Words Postfix writes, to reach the deeper branches sooner.
cat > "$work/postfix.dict" <<'DICT'
"connect to "
"]:25: "
": Connection timed out"
": Connection refused"
": No route to host"
": Network is unreachable"
"lost connection with "
"conversation with "
" timed out while receiving the initial server greeting"
" while receiving the initial server greeting"
"host "
" said: "
" refused to talk to me"
"SSL_connect error to "
"Cannot start TLS: handshake failure"
"delivery temporarily suspended: "
"Verified TLS connection established to "
"server dropped connection without sending the initial SMTP greeting"
" postfix/smtp["
" postfix/error["
" postfix-out/lmtp["
"]: "
": to=<"
">, orig_to=<"
", relay="
", relay=none"
", conn_use=2"
", delay=3, delays=0/0/3/0"
", dsn=4.4.1"
", status=deferred ("
", status=sent ("
", status=bounced ("
"Nov 23 11:02:03 mta"
"2026-11-23T11:02:03.123456+00:00 mta"
"[2001:db8::1]"
"[198.18.0.2]"
"8A3D8A72178: "
DICT

set +e
( cd "$work" && ./fuzz_logparse -max_total_time="$secs" -max_len=12000 -timeout=10 \
    -rss_limit_mb=2048 -dict=postfix.dict -artifact_prefix="$work/" \
    -print_final_stats=1 corpus seeds )
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "run-fuzz: fuzz_logparse failed (exit $rc); artifacts in $work" >&2
    exit 1
fi
echo "run-fuzz: no crash in ${secs}s; corpus $(ls "$work/corpus" | wc -l) inputs"
[ "${FUZZ_KEEP:-0}" = 1 ] || [ -n "${FUZZ_WORKDIR:-}" ] || rm -rf "$work"

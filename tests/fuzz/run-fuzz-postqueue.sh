#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run-fuzz-postqueue.sh - builds tests/fuzz/fuzz_postqueue_json with clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer straight from
# the sources (no configure needed), and runs it.
#
# usage: tests/fuzz/run-fuzz-postqueue.sh [SECONDS]     (default 30)
#
# Seeds: real `postqueue -j` lines (postfix-notes.md) and variations written
# below.  The work directory (corpus, crash artifacts) is FUZZ_WORKDIR or a
# new /tmp/mxd-fuzz-pq-XXXXXX; it is removed after a clean run unless
# FUZZ_KEEP=1.  Exits non-zero when the fuzzer finds a crash, a leak or a
# timeout.
set -eu

secs=${1:-30}
case $secs in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
top=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CLANG:-clang}
work=${FUZZ_WORKDIR:-$(mktemp -d /tmp/mxd-fuzz-pq-XXXXXX)}
mkdir -p "$work/corpus" "$work/seeds"

# The sources include config.h; all they need from it is _GNU_SOURCE.
printf '#define _GNU_SOURCE 1\n' > "$work/config.h"
"$cc" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -I"$work" -I"$top/lib/base" -I"$top/relay/routes" -Wall -Wextra -Werror \
    -o "$work/fuzz_postqueue_json" "$top/tests/fuzz/fuzz_postqueue_json.c" \
    "$top/relay/routes/postqueue_json.c" "$top/lib/base/netaddr.c"

cat > "$work/seeds/real" <<'SEED'
{"queue_name": "deferred", "queue_id": "8A3D8A72178", "arrival_time": 1795417386, "message_size": 392, "forced_expire": false, "sender": "a@mta.test", "recipients": [{"address": "u2@blocked.test", "delay_reason": "connect to 198.18.0.2[198.18.0.2]:25: Connection timed out"}]}
{"queue_name": "active", "queue_id": "4Jx9Yz2Nq5z9abc", "arrival_time": 1795417390, "message_size": 1200, "forced_expire": false, "sender": "", "recipients": [{"address": "a@one.test"}, {"address": "b@two.test", "delay_reason": "delivery temporarily suspended: connect to mx2.blocked.test[198.18.0.3]:25: Connection timed out"}]}
SEED
printf '%s\n' '{"queue_name":"hold","queue_id":"A1","recipients":[{"address":"\u0075\ud83d\ude00@b\u00fccher.test"},{"address":"\"q\\\"x\"@x.test"}],"x":[1,-2.5e3,true,null,{"y":[]}]}' \
    > "$work/seeds/escapes"

cat > "$work/json.dict" <<'DICT'
"{"
"}"
"["
"]"
":"
","
"\""
"\\u"
"\\ud83d\\ude00"
"\\\""
"true"
"false"
"null"
"-0.5e+3"
"\"queue_name\": "
"\"queue_id\": "
"\"recipients\": "
"\"address\": "
"\"deferred\""
"\"delay_reason\": "
"@blocked.test"
DICT

set +e
( cd "$work" && ./fuzz_postqueue_json -max_total_time="$secs" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -dict=json.dict -artifact_prefix="$work/" \
    -print_final_stats=1 corpus seeds )
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
    echo "run-fuzz-postqueue: fuzz_postqueue_json failed (exit $rc); artifacts in $work" >&2
    exit 1
fi
echo "run-fuzz-postqueue: no crash in ${secs}s; corpus $(ls "$work/corpus" | wc -l) inputs"
[ "${FUZZ_KEEP:-0}" = 1 ] || [ -n "${FUZZ_WORKDIR:-}" ] || rm -rf "$work"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# log_health.sh - a log that gives no evidence is said so, in
# `mxdetourctl status --check` (WARNING), the gauge mxdetour_logs_not_read
# and the daemon's log, and reading again is logged: a log file that does not
# exist (no rsyslog), one that `postfix logrotate` left mode 0600 for root
# while mxdetourd runs as its user, and a log with no Postfix line for
# log_silence while Postfix runs (a live pid in QUEUE/pid/master.pid, here a
# stand-in process).  `mxdetourd -t` warns about the missing log and a
# source address that is not this host's.  A real redis-server and a real
# daemon running as nobody; root only (the daemon drops to nobody).
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/redis.sh"
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP not root (mxdetourd must drop to nobody)"; exit 0; fi
for tool in curl python3; do
    command -v $tool >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-loghealth.XXXXXX") || exit 1
dpid= master=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    [ -n "$master" ] && kill "$master" 2>/dev/null
    redis_stop; rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
mxd="$top_builddir/mxdetourd"
ctl() { "$top_builddir/mxdetourctl" -c "$tmp/conf" "$@"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

plan 17
chmod 755 "$tmp"
mkdir "$tmp/state" "$tmp/postfix" "$tmp/queue" "$tmp/queue/pid"
chown nobody "$tmp/state"
redis_start "$tmp" || { echo "Bail out! redis-server did not start"; exit 1; }
chmod 666 "$REDIS_SOCK"
# Postfix's master as the daemon finds it: queue_directory from main.cf.
sleep 600 & master=$!
echo "$master" >"$tmp/queue/pid/master.pid"
echo "queue_directory = $tmp/queue" >"$tmp/postfix/main.cf"
cat >"$tmp/conf" <<CONF
site = "lab"; user = "nobody"; state_dir = "$tmp/state"; pid_file = "$tmp/pid";
redis = { socket = "$REDIS_SOCK"; };
logs = ( { file = "$tmp/mail.log"; } );
log_silence = "8s";   # longer than the health file's 5 s period
postfix = { config_directory = "$tmp/postfix"; };
routes = { table = "$tmp/state/transport"; reload = "never"; };
metrics = { listen = "127.0.0.1:$port"; };
CONF
postfix_line() {
    echo "$(date '+%b %e %H:%M:%S') mx postfix/qmgr[4711]: 4BC1F2A0: removed" >>"$tmp/mail.log"
}
# wait_line REGEX SECONDS: runs the check until its line matches.
wait_line() {
    i=0; while out=$(ctl status --check 2>&1); rc=$?; ! printf '%s\n' "$out" | grep -Eq -- "$1"; do
        i=$((i + 1)); [ $i -gt $(($2 * 4)) ] && return 1; sleep 0.25; done
}
gauge() {  # STATE: the value of mxdetour_logs_not_read{state="STATE"}
    curl -sf "http://127.0.0.1:$port/metrics" | awk -v s="mxdetour_logs_not_read{state=\"$1\"}" '$1 == s { print $2 }'
}
wait_gauge() {  # STATE WANT SECONDS
    i=0; while [ "$(gauge "$1")" != "$2" ]; do
        i=$((i + 1)); [ $i -gt $(($3 * 4)) ] && return 1; sleep 0.25; done
}
waitfor() {  # file regex seconds
    i=0; while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1; done
}

out=$("$mxd" -t -c "$tmp/conf" 2>&1); rc=$?
expect_eq "-t: a missing log is a warning, not an error (exit 0)" "$rc" 0
expect_match "... saying what to configure instead" "$out" "warning: logs: $tmp/mail.log does not exist.*maillog_file.*journal"

"$mxd" -f -c "$tmp/conf" >"$tmp/out" 2>&1 & dpid=$!
check "the daemon starts with the log missing" waitfor "$tmp/out" 'connected to redis' 10
wait_line "log $tmp/mail.log missing" 15
expect_eq "a missing log: status --check WARNING (1)" "$rc" 1
expect_match "... naming the log" "$out" "^MXDETOUR WARNING - log $tmp/mail.log missing for [0-9]+ s: no evidence from it"
check "... the gauge counts it" wait_gauge missing 1 10
check "... the daemon's log says what to do" waitfor "$tmp/out" "$tmp/mail.log does not exist: no evidence from this log until it appears" 5

: >"$tmp/mail.log"; chmod 644 "$tmp/mail.log"
check "the log appears: reading it is logged" waitfor "$tmp/out" "reading $tmp/mail.log again, after [0-9]+ s missing" 10
wait_line "no Postfix line" 25
expect_match "no Postfix line for log_silence while Postfix runs: WARNING" "$out" "^MXDETOUR WARNING - log $tmp/mail.log: no Postfix line for [0-9]+ s while Postfix runs"
check "... the gauge counts it as silent" wait_gauge silent 1 10

postfix_line
check "a Postfix line: its return is logged" waitfor "$tmp/out" "Postfix lines arrive again, after [0-9]+ s of silence" 10
wait_line "^MXDETOUR OK" 10
expect_eq "... and the check is OK again" "$rc" 0

# As `postfix logrotate` does: the old file renamed, a new one for root only.
mv "$tmp/mail.log" "$tmp/mail.log.0"
install -m 600 /dev/null "$tmp/mail.log"
postfix_line
wait_line "unreadable" 20
expect_match "a log the daemon's user cannot read: WARNING with the reason" "$out" "^MXDETOUR WARNING - log $tmp/mail.log unreadable for [0-9]+ s \(open $tmp/mail.log: Permission denied\): no evidence from it"
check "... the gauge counts it" wait_gauge unreadable 1 10
chmod 644 "$tmp/mail.log"
check "readable again: logged" waitfor "$tmp/out" "reading $tmp/mail.log again, after [0-9]+ s unreadable" 10

# Postfix stopped: silence is not a problem then.
kill "$master"; wait "$master" 2>/dev/null; master=
postfix_line
sleep 5
out=$(ctl status --check 2>&1); rc=$?
expect_eq "no Postfix running: a silent log is not reported" "$rc" 0

sed 's/^logs = .*/logs = ( { file = "\/nonexistent\/mail.log"; } );\nprobe = { source_address = "192.0.2.77"; };/' \
    "$tmp/conf" >"$tmp/conf2"
out=$("$mxd" -t -c "$tmp/conf2" 2>&1)
expect_match "-t warns about a source address that is not this host's" "$out" "warning: probe.source_address: 192.0.2.77 is not an address of this host"
tap_exit

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daemon_lifecycle.sh - mxdetourd's process life, as an administrator sees it
# (TAP): -t, the pid file lock, a stale pid file, SIGHUP with a broken and
# with a good configuration, SIGTERM, detaching, the user to run as.
#
# Needs no Redis: no module is registered yet.  Runs with top_srcdir and
# top_builddir set by "make check"; by hand: top_builddir=. top_srcdir=. sh
# tests/integration/daemon_lifecycle.sh.  Every file lives in a temporary
# directory that the trap removes, with any mxdetourd still running.

set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
MXD=$top_builddir/mxdetourd

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-lifecycle.XXXXXX") || exit 1
pid=
cleanup() {
    for p in $pid $(cat "$tmp"/run/*.pid 2>/dev/null); do
        kill -TERM "$p" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
mkdir "$tmp/run"
conf=$tmp/mxdetour.conf
pidf=$tmp/run/mxdetourd.pid
log=$tmp/log

echo 1..22
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    echo "not ok $n - $1"
    for f in "$tmp/out" "$tmp/err" "$log"; do
        [ -s "$f" ] && sed "s|^|# ${f##*/}: |" "$f"
    done
    return 0
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check DESCRIPTION COMMAND...: one test point from a command's success.
check() {
    desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# Polls for up to 10 s (sanitizer builds start slowly).
eventually() {
    i=0
    while [ $i -lt 100 ]; do
        "$@" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
logged() { grep -q "$1" "$log"; }
pidfile_is() { [ -f "$pidf" ] && [ "$(cat "$pidf")" = "$1" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }

# write_conf [EXTRA]: a valid configuration with its pid file in $tmp.
write_conf() {
    cat >"$conf" <<EOF
site = "lifecycle";
pid_file = "$pidf";
state_dir = "$tmp";
${1:-}
EOF
}

# --- -t ---------------------------------------------------------------------
"$MXD" -t -c "$top_srcdir/conf/mxdetour.conf" >"$tmp/out" 2>"$tmp/err"
st=$?
check "-t accepts the example configuration (exit 0)" [ $st -eq 0 ]
check "-t says the configuration is valid" \
    grep -qx "mxdetourd: configuration $top_srcdir/conf/mxdetour.conf is valid" "$tmp/out"

(cd "$top_srcdir/tests/data/cfg" && "$MXD" -t -c three-errors.conf) >"$tmp/out" 2>"$tmp/err"
st=$?
check "-t on three-errors.conf exits 1" [ $st -eq 1 ]
check "-t prints exactly the three FILE:LINE errors" \
    cmp -s "$tmp/err" "$top_srcdir/tests/data/cfg/three-errors.expected"

"$MXD" -x >"$tmp/out" 2>"$tmp/err"
st=$?
check "an unknown option exits 2" [ $st -eq 2 ]

write_conf 'user = "no-such-user-mxd";'
"$MXD" -f -c "$conf" >"$tmp/out" 2>"$tmp/err"
st=$?
check "a user that does not exist: exit 1, named" \
    eval '[ $st -eq 1 ] && grep -q "user \"no-such-user-mxd\" does not exist" "$tmp/err"'
check "... and no pid file is left" [ ! -e "$pidf" ]

# --- foreground life --------------------------------------------------------
write_conf
"$MXD" -f -c "$conf" 2>"$log" &
pid=$!
check "-f: the pid file appears with the daemon's pid" eventually pidfile_is "$pid"
check "-f: started is logged" eventually logged "mxdetourd: started: version .*, pid $pid,"

"$MXD" -f -c "$conf" >"$tmp/out" 2>"$tmp/err"
st=$?
check "a second instance refuses to start (exit 3)" [ $st -eq 3 ]
check "... naming the process that holds the pid file" \
    grep -q "pid file $pidf is locked by process $pid" "$tmp/err"
check "... and leaves the pid file alone" pidfile_is "$pid"

cp "$top_srcdir/tests/data/cfg/three-errors.conf" "$conf"
kill -HUP "$pid"
check "HUP with a broken configuration: reload failed is logged" \
    eventually logged "warning: reload failed, keeping the running configuration"
check "... with each error" logged "warning: $conf:9: destinations\[0\].relays"
check "... and the daemon keeps running" kill -0 "$pid"

write_conf 'probe = { timeout = "20s"; };'
kill -HUP "$pid"
check "HUP with a good changed configuration: the reload is logged" \
    eventually logged "configuration $conf reloaded"

kill -TERM "$pid"
wait "$pid"
st=$?
pid=
check "TERM: exit status 0 (no leak under ASan)" [ $st -eq 0 ]
check "TERM: the pid file is removed" [ ! -e "$pidf" ]

# --- a stale pid file, detaching --------------------------------------------
sh -c 'exit 0' &
dead=$!
wait "$dead"
echo "$dead" >"$pidf"
: >"$log"
"$MXD" -c "$conf" >"$tmp/out" 2>"$tmp/err"
st=$?
daemon_pid=$(cat "$pidf" 2>/dev/null)
check "detached start over a stale pid file: the parent exits 0, takes it over" \
    eval '[ $st -eq 0 ] && grep -q "process $dead is gone, taking the file over" "$tmp/err"'
check "... the pid file names the running daemon" \
    eval '[ -n "$daemon_pid" ] && [ "$daemon_pid" != "$dead" ] && kill -0 "$daemon_pid"'
kill -TERM "$daemon_pid" 2>/dev/null
check "... TERM stops it and removes the pid file" \
    eval 'eventually gone "$daemon_pid" && [ ! -e "$pidf" ]'

# --- dropping root ----------------------------------------------------------
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
    skip "as root, runs as user nobody and cannot regain root" "needs root and user nobody"
else
    # The daemon reloads and removes its pid file as nobody.
    chmod 0755 "$tmp"
    chown nobody "$tmp/run"
    write_conf 'user = "nobody";'
    chmod 0644 "$conf"
    : >"$log"
    "$MXD" -f -c "$conf" 2>"$log" &
    pid=$!
    uid=$(id -u nobody)
    eventually pidfile_is "$pid"
    ids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
    kill -HUP "$pid"
    eventually logged "configuration $conf reloaded"
    kill -TERM "$pid"
    wait "$pid"
    st=$?
    pid=
    check "as root, runs as user nobody, reloads, stops (exit 0)" \
        eval '[ "$ids" = "$uid $uid $uid $uid" ] && [ $st -eq 0 ] && [ ! -e "$pidf" ]'
fi

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daemon_notify.sh - mxdetourd tells systemd how it is doing (TAP): with
# NOTIFY_SOCKET set (an abstract name, then a path), a foreground daemon
# sends READY=1 once it has started (its pid file is written by then),
# RELOADING=1 and READY=1 around each SIGHUP (with a STATUS= that says
# whether the new file was taken), and STOPPING=1 on SIGTERM; the
# datagrams arrive in that order and no other.  A python3 listener stands
# in for systemd.  Needs no Redis (minimal configuration).
#
# By hand: top_builddir=BUILD top_srcdir=. sh tests/integration/daemon_notify.sh
set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"
MXD=$top_builddir/mxdetourd

if ! command -v python3 >/dev/null 2>&1; then
    echo "1..0 # SKIP python3 is not installed"; exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-notify.XXXXXX") || exit 1
pid= listener=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
    [ -n "$listener" ] && kill -TERM "$listener" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

conf=$tmp/mxdetour.conf
write_conf() {
    cat >"$conf" <<CONF
site = "notify";
pid_file = "$tmp/mxdetourd.pid";
state_dir = "$tmp";
routes = { table = "$tmp/transport"; reload = "never"; };
${1:-}
CONF
}
# Polls for up to 10 s (sanitizer builds start slowly).
# The datagrams received so far, one per line, "\n" inside shown as "|".
got() { cat "$tmp/got" 2>/dev/null; }
count_is() { [ "$(got | wc -l | tr -d ' ')" = "$1" ]; }

# listen ADDR: a datagram socket at ADDR ("@name" or a path) writing to got.
listen() {
    : >"$tmp/got"
    rm -f "$tmp/listening"
    python3 - "$1" "$tmp/got" "$tmp/listening" <<'PY' &
import socket, sys
addr, out, flag = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(flag, "w").close()
with open(out, "a") as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", "|") + "\n")
        f.flush()
PY
    listener=$!
    eventually test -e "$tmp/listening"
}

# life ADDR: one daemon's life, told to the listener at ADDR.
life() {
    listen "$1" || { fail "the listener at $1 starts"; return; }
    write_conf
    NOTIFY_SOCKET=$1 "$MXD" -f -c "$conf" 2>"$tmp/log" &
    pid=$!
    eventually count_is 1
    expect_eq "$2: READY=1 once started" "$(got)" "READY=1|STATUS=running"
    check "$2: ... by then the pid file is written" test -s "$tmp/mxdetourd.pid"

    write_conf 'probe = { timeout = "20s"; };'
    kill -HUP "$pid"
    eventually count_is 3
    expect_eq "$2: HUP: RELOADING=1, then READY=1, reloaded" "$(got | sed -n '2,3p' | tr '\n' ' ')" \
        "RELOADING=1 READY=1|STATUS=running; configuration reloaded "

    cp "$top_srcdir/tests/data/cfg/three-errors.conf" "$conf"
    kill -HUP "$pid"
    eventually count_is 5
    expect_eq "$2: HUP with a broken file: READY=1 again, the running one kept" \
        "$(got | sed -n '4,5p' | tr '\n' ' ')" \
        "RELOADING=1 READY=1|STATUS=running; reload failed, the running configuration is kept "

    kill -TERM "$pid"
    wait "$pid"
    status=$?
    pid=
    expect_eq "$2: TERM: exit status 0" "$status" 0
    expect_eq "$2: ... STOPPING=1, the last datagram" "$(got | sed -n '6,$p')" "STOPPING=1"
    kill -TERM "$listener" 2>/dev/null
    wait "$listener" 2>/dev/null
    listener=
}

plan 13
life "@mxd-notify-test/$$" "abstract"
life "$tmp/notify" "path"

# Without NOTIFY_SOCKET nothing is sent and nothing complains.
write_conf
env -u NOTIFY_SOCKET "$MXD" -f -c "$conf" 2>"$tmp/log" &
pid=$!
eventually grep -q "started: " "$tmp/log"
kill -TERM "$pid"
wait "$pid"
pid=
if grep -q "cannot notify" "$tmp/log"; then fail "no NOTIFY_SOCKET: not a word about it"; sed 's/^/#   /' "$tmp/log"
else pass "no NOTIFY_SOCKET: not a word about it"; fi
tap_exit

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daemon_syslog.sh - `mxdetourd -f -s`, as the systemd unit runs it, logs to
# syslog with the idents mxdetour/<module> and facility mail, as a detached
# daemon does, while errors in the configuration file still go to stderr
# (TAP).  The daemon runs in a private mount namespace whose /dev/log is a
# datagram socket of the test (python3), so the machine's syslog is not
# touched.  Root only (unshare -m).
#
# By hand: top_builddir=BUILD top_srcdir=. sh tests/integration/daemon_syslog.sh
set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"
MXD=$top_builddir/mxdetourd

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP not root"; exit 0; fi
for tool in unshare python3; do
    command -v $tool >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-syslog.XXXXXX") || exit 1
listener=
cleanup() {
    [ -n "$listener" ] && kill -TERM "$listener" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

python3 - "$tmp/log.sock" "$tmp/got" "$tmp/listening" <<'PY' &
import socket, sys
path, out, flag = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(flag, "w").close()
with open(out, "a") as f:
    while True:
        f.write(s.recv(8192).decode(errors="replace").rstrip("\n") + "\n")
        f.flush()
PY
listener=$!
eventually test -e "$tmp/listening" || { echo "Bail out! the syslog listener did not start"; exit 1; }

cat >"$tmp/mxdetour.conf" <<CONF
site = "syslog";
pid_file = "$tmp/mxdetourd.pid";
state_dir = "$tmp";
routes = { table = "$tmp/transport"; reload = "never"; };
CONF

# In a private mount namespace: a /dev of the essentials, /dev/log = ours
# (run.sh 1) or none (run.sh 0).  run.sh CONF STDERR: the daemon is stopped
# by SIGTERM once it has logged "started", or has exited by itself.
cat >"$tmp/run.sh" <<RUN
set -e
with_log=\$1 conf=\$2 err=\$3
mkdir -p "$tmp/dev"
mount -t tmpfs -o mode=755 tmpfs "$tmp/dev"
for n in null zero random urandom; do
    touch "$tmp/dev/\$n"; mount --bind "/dev/\$n" "$tmp/dev/\$n"
done
if [ "\$with_log" = 1 ]; then touch "$tmp/dev/log"; mount --bind "$tmp/log.sock" "$tmp/dev/log"; fi
mount --rbind "$tmp/dev" /dev
"$MXD" -f -s -c "\$conf" 2>"\$err" &
pid=\$!
i=0
while [ \$i -lt 100 ] && kill -0 \$pid 2>/dev/null && ! grep -q "started: " "$tmp/got" "\$err"; do
    sleep 0.1; i=\$((i + 1))
done
kill -TERM \$pid 2>/dev/null || true
wait \$pid
RUN
unshare -m --propagation private sh "$tmp/run.sh" 1 "$tmp/mxdetour.conf" "$tmp/stderr" >"$tmp/out" 2>&1
status=$?

plan 10
expect_eq "mxdetourd -f -s starts and stops with status 0" "$status" 0
[ "$status" = 0 ] || sed 's/^/#   /' "$tmp/out" "$tmp/stderr"
pri_info_mail=$((2 * 8 + 6))
expect_match "started goes to syslog as mxdetour/daemon, facility mail, with the pid" \
    "$(grep 'started: ' "$tmp/got")" "^<$pri_info_mail>.* mxdetour/daemon\\[[0-9]+\\]: started: version "
expect_match "the modules log under their own idents" "$(cat "$tmp/got")" ' mxdetour/(routes|engine)\[[0-9]+\]: '
expect_match "stopped is there too" "$(cat "$tmp/got")" ' mxdetour/daemon\[[0-9]+\]: stopped, pid '
expect_eq "nothing goes to stderr" "$(cat "$tmp/stderr")" ""

# No syslog socket (no rsyslog, no journald): glibc would drop every line.
: >"$tmp/got"
unshare -m --propagation private sh "$tmp/run.sh" 0 "$tmp/mxdetour.conf" "$tmp/stderr2" >"$tmp/out2" 2>&1
expect_eq "without /dev/log mxdetourd -f -s still runs (status 0)" "$?" 0
expect_match "... says so on stderr" "$(head -1 "$tmp/stderr2")" \
    "^mxdetourd: warning: no syslog socket at /dev/log .*logging to standard error$"
expect_match "... and logs to stderr instead" "$(cat "$tmp/stderr2")" "mxdetourd: started: version "

# libmilter logs with syslog() itself: its lines have a name of their own,
# not the name of the module that logged last.
sed "s|^site = .*|&\nmilter = { socket = \"unix:$tmp/no-such-dir/milter.sock\"; };|" \
    "$tmp/mxdetour.conf" >"$tmp/milter.conf"
: >"$tmp/got"
unshare -m --propagation private sh "$tmp/run.sh" 1 "$tmp/milter.conf" "$tmp/stderr3" >"$tmp/out3" 2>&1
expect_match "libmilter's own lines go out as mxdetour/libmilter" "$(cat "$tmp/got")" \
    " mxdetour/libmilter\[[0-9]+\]: "

echo 'site = "bad site";' >"$tmp/bad.conf"
"$MXD" -f -s -c "$tmp/bad.conf" 2>"$tmp/stderr"
expect_match "errors in the file still go to stderr (the journal)" "$(grep -v 'no syslog socket' "$tmp/stderr" | head -1)" \
    "^$tmp/bad.conf:1: site: "
tap_exit

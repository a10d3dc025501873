#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mxdetourctl doctor against a private Postfix configuration directory (read
# by the real postconf) and a real redis-server on a Unix socket: a broken
# setup (a missing transport table, a relay transport not in master.cf, the
# milter socket outside smtpd's chroot, milter_default_action tempfail,
# Redis down) gives exit code 2 and one line for each; the fixed setup 0;
# a log without Postfix lines, mxdetour's table second or locally
# submitted mail without the milter 1; -C and --json; and permissions judged for
# the daemon's user.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-doctor.XXXXXX")
milter=
trap '[ -n "$milter" ] && kill $milter 2>/dev/null; redis_stop; rm -rf "$tmp"' EXIT INT TERM
chmod 755 "$tmp"        # the daemon's user below must be able to look inside
conf=$tmp/mxdetour.conf
ctl="$top_builddir/mxdetourctl -c $conf"
pf=$tmp/pf

if ! command -v postconf >/dev/null || ! command -v postmap >/dev/null; then
    echo "1..0 # SKIP postconf and postmap (package postfix) are not installed"
    exit 0
fi
plan 26

# Postfix's own master.cf, as the package installs it (smtpd chrooted).
mkdir -p "$pf" "$tmp/spool/mxdetour" "$tmp/state" "$tmp/run"
if [ -f /usr/share/postfix/master.cf.dist ]; then cp /usr/share/postfix/master.cf.dist "$pf/master.cf"
else cp /etc/postfix/master.cf "$pf/master.cf"; fi
postconf -c "$pf" -F 'smtp/inet/chroot = y' 'cleanup/unix/chroot = y'
cat >"$pf/main.cf" <<EOF
queue_directory = $tmp/spool
transport_maps = hash:$tmp/state/transport, hash:$pf/transport
smtpd_milters = unix:$tmp/run/milter.sock
non_smtpd_milters = \$smtpd_milters
EOF
: >"$tmp/state/transport"
postmap "hash:$tmp/state/transport"
printf '%s mta postfix/smtpd[4711]: connect from localhost[127.0.0.1]\n' "$(date '+%b %e %T')" >"$tmp/maillog"
write_conf() {      # $1: milter.socket, $2: postfix.config_directory, $3: extra settings
    cat >"$conf" <<EOF
site = "lab";
${3:-}
pid_file = "$tmp/state/mxdetourd.pid";
state_dir = "$tmp/state";
redis = { socket = "$tmp/redis.sock"; };
logs = ( { file = "$tmp/maillog"; } );
relays = ( { name = "relay-fi"; nexthop = "smtp:[198.19.0.2]:25"; },
           { name = "wg"; type = "tunnel"; transport = "smtp-wg"; source_address = "127.0.0.1"; } );
destinations = ( { domains = [ "*" ]; relays = [ "wg", "relay-fi" ]; } );
routes = { table = "$tmp/state/transport"; };
milter = { socket = "$1"; };
postfix = { config_directory = "$2"; };
EOF
}

# --- broken: everything the issue met on a real Debian install ---
write_conf "unix:$tmp/run/milter.sock" "$pf"
out=$($ctl doctor); rc=$?
expect_eq "a broken setup is CRITICAL (exit 2)" "$rc" 2
expect_match "a missing transport table, and what to do" "$out" \
    "^CRITICAL transport_maps: hash:$pf/transport does not exist \($pf/transport.db: No such file or directory\): Postfix answers every recipient \"451 4.3.0 Temporary lookup failure\"; create it \(postmap hash:$pf/transport\) or remove it from transport_maps\$"
expect_match "a relay transport missing from master.cf" "$out" \
    "^CRITICAL master.cf: relay wg: transport smtp-wg is not a unix service in $pf/master.cf, so mail detoured through it stays deferred"
expect_match "the milter socket outside smtpd's chroot" "$out" \
    "^CRITICAL milter: smtpd runs chrooted in $tmp/spool \(master.cf smtp/inet, column 5 = y\), so it looks for unix:$tmp/run/milter.sock at $tmp/spool$tmp/run/milter.sock: put the socket under $tmp/spool"
expect_match "milter_default_action left at tempfail" "$out" \
    "^CRITICAL milter: milter_default_action = tempfail: while mxdetourd's milter is down Postfix defers every message; set milter_default_action = accept"
expect_match "Redis down, with the connect error and what to do" "$out" \
    "^CRITICAL redis: cannot connect to redis at $tmp/redis.sock: No such file or directory: start redis-server, with unixsocket set to this path"
expect_match "the summary line counts the findings" "$out" '^doctor: CRITICAL \(5 critical, 0 unknown, 0 warning, [0-9]+ ok\)$'
bad=$(printf '%s\n' "$out" | grep -Ev '^(OK|WARNING|CRITICAL|UNKNOWN) +[a-z_.]+: |^doctor: ' | head -3)
expect_eq "every finding is one line: SEVERITY check: text" "$bad" ""

out=$($ctl --json doctor); rc=$?
expect_eq "--json exits with the same code" "$rc" 2
got=$(printf '%s' "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["status"], sum(f["severity"] == "CRITICAL" for f in d["findings"]),
      sorted({f["check"] for f in d["findings"] if f["severity"] == "CRITICAL"}))')
expect_eq "--json lists the findings" "$got" "CRITICAL 5 ['master.cf', 'milter', 'redis', 'transport_maps']"

# -C: postfix.config_directory names a wrong directory; -C the right one.
write_conf "unix:$tmp/run/milter.sock" "$tmp/nonexistent"
out=$($ctl --json doctor)
expect_match "a wrong config_directory is UNKNOWN for Postfix's checks" "$out" \
    "\"severity\":\"UNKNOWN\",\"check\":\"postfix\",\"message\":\"cannot run /usr/sbin/postconf -c $tmp/nonexistent: "
out=$($ctl doctor -C "$pf")
expect_match "-C DIR reads that Postfix instead" "$out" "^CRITICAL transport_maps: hash:$pf/transport does not exist"

# --- fixed: as docs/milter.md and docs/routing.md say ---
postconf -c "$pf" -e "transport_maps = hash:$tmp/state/transport" 'smtpd_milters = unix:/mxdetour/milter.sock' \
    'milter_default_action = accept'
postconf -c "$pf" -M 'smtp-wg/unix=smtp-wg unix - - n - - smtp -o smtp_bind_address=127.0.0.1'
write_conf "unix:$tmp/spool/mxdetour/milter.sock" "$pf"
redis_start "$tmp" || { echo "Bail out! redis-server did not start"; exit 1; }
[ "$REDIS_SOCK" = "$tmp/redis.sock" ] || { echo "Bail out! redis.sh moved the socket"; exit 1; }
# A listener stands in for mxdetourd's milter (mode 0660 and a group of
# Postfix's in the real thing; 0666 here).
python3 -c 'import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(5)
time.sleep(60)' "$tmp/spool/mxdetour/milter.sock" &
milter=$!
eventually test -S "$tmp/spool/mxdetour/milter.sock"
out=$($ctl doctor); rc=$?
expect_eq "the fixed setup is OK (exit 0)" "$rc" 0
expect_match "and says so" "$out" '^doctor: OK \(0 critical, 0 unknown, 0 warning, [0-9]+ ok\)$'
expect_match "the milter is seen from inside the chroot" "$out" \
    "^OK +milter: $tmp/spool/mxdetour/milter.sock answers, and smtpd and cleanup can reach it\$"
expect_match "Redis answers" "$out" '^OK +redis: Redis answers'
expect_match "mxdetour's table exists and comes first" "$out" \
    "^OK +transport_maps: every table exists and mxdetour's hash:$tmp/state/transport comes first\$"

# --- warnings: exit 1 ---
printf 'Jan  1 00:00:00 mta kernel: nothing of Postfix\n' >"$tmp/maillog"
out=$($ctl doctor); rc=$?
expect_eq "a log without Postfix lines is a WARNING (exit 1)" "$rc" 1
expect_match "which says what to check" "$out" \
    "^WARNING +logs: $tmp/maillog has no line of postfix.syslog_names in its last 64 KB"
printf '%s mta postfix/smtpd[4711]: connect from localhost[127.0.0.1]\n' "$(date '+%b %e %T')" >"$tmp/maillog"
: >"$pf/local"; postmap "hash:$pf/local"
postconf -c "$pf" -e "transport_maps = hash:$pf/local, hash:$tmp/state/transport" 'non_smtpd_milters ='
out=$($ctl doctor); rc=$?
expect_eq "mxdetour's table second, and no non_smtpd_milters: WARNING (exit 1)" "$rc" 1
expect_match "the table's place, and what to change" "$out" \
    "^WARNING +transport_maps: mxdetour's table hash:$tmp/state/transport is not first in transport_maps, so an earlier table's entry for a domain hides its detour: put it first\$"
expect_match "locally submitted mail skips the milter" "$out" \
    "^WARNING +milter: non_smtpd_milters does not reach mxdetour's milter from cleanup \(chrooted\), so locally submitted mail skips it: set non_smtpd_milters = unix:/mxdetour/milter.sock\$"
postconf -c "$pf" -e "transport_maps = hash:$tmp/state/transport" 'non_smtpd_milters = $smtpd_milters'
# TCP: libmilter's inet:PORT@HOST is Postfix's inet:HOST:PORT; nothing listens on it here.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
postconf -c "$pf" -e "smtpd_milters = inet:127.0.0.1:$port"
write_conf "inet:$port@127.0.0.1" "$pf"
out=$($ctl doctor); rc=$?
expect_match "a TCP milter is matched across the two notations, and probed" "$rc:$out" \
    "^1:WARNING +milter: nothing listens on inet:$port@127.0.0.1 \(Connection refused\)"
postconf -c "$pf" -e 'smtpd_milters = unix:/mxdetour/milter.sock'

# --- permissions are the daemon's user's, not the caller's ---
if id nobody >/dev/null 2>&1; then
    chmod 700 "$tmp/state"
    write_conf "unix:$tmp/spool/mxdetour/milter.sock" "$pf" 'user = "nobody";'
    out=$($ctl doctor); rc=$?
    expect_eq "what the daemon's user may not do is CRITICAL, though root may" "$rc" 2
    expect_match "state_dir that user nobody may not write, and how to fix it" "$out" \
        "^CRITICAL files: state_dir: nobody may not write $tmp/state \($tmp/state is mode 0700 [a-z0-9]+:[a-z0-9]+\): install -d -o nobody $tmp/state"
    kill $milter; wait $milter 2>/dev/null; milter=
    out=$($ctl doctor)
    expect_match "a socket nobody listens on is a WARNING" "$out" \
        "^WARNING +milter: $tmp/spool/mxdetour/milter.sock does not answer \(Connection refused\)"
else
    for i in 1 2 3; do pass "# SKIP no user nobody"; done
fi
tap_exit

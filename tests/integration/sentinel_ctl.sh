#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mxdetourctl through Redis Sentinel (a master, a replica and three
# sentinels, real processes, all requiring a password): it finds the
# master, skips a dead sentinel, refuses a "master" that ROLE shows is a
# replica (and so does mxdetourd), says why when no sentinel answers, and
# follows a failover.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sentinel.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-sctl.XXXXXX")
dpid=
trap '[ -n "$dpid" ] && kill $dpid 2>/dev/null && wait $dpid; sentinel_stop; rm -rf "$tmp"' EXIT INT TERM
S_PASS="pw-$$-test"

plan 14
sentinel_start "$tmp" mxm || { echo "Bail out! redis and its sentinels did not start"; exit 1; }
printf '%s\n' "$S_PASS" >"$tmp/secret"
dead=$(free_ports 1)
mkconf() {  # FILE MASTER_NAME SENTINEL...
    f=$1; m=$2; shift 2; list=""
    for s in "$@"; do list="$list${list:+, }\"127.0.0.1:$s\""; done
    cat >"$f" <<CONF
site = "lab";
redis = { sentinels = [ $list ]; master_name = "$m";
          password_file = "$tmp/secret"; sentinel_password_file = "$tmp/secret"; };
relays = ( { name = "relay-out"; nexthop = "smtp:[198.19.0.2]:25"; } );
destinations = ( { domains = [ "*" ]; relays = [ "relay-out" ]; } );
CONF
}
ctl() { f=$1; shift; "$top_builddir/mxdetourctl" -c "$f" "$@" 2>&1; }
mkconf "$tmp/ok.conf" mxm $S_PORTS

out=$("$top_builddir/mxdetourd" -t -c "$tmp/ok.conf" 2>&1); rc=$?
expect_eq "mxdetourd -t accepts the sentinel settings" "$rc" 0
out=$(ctl "$tmp/ok.conf" block blocked.test --ttl 2h); rc=$?
expect_eq "block through the sentinels exits 0" "$rc" 0
out=$(s_cli -p "$S_MASTER_PORT" EXISTS mxd:lab:manual:blocked.test)
expect_eq "the block is written on the master the sentinels name" "$out" 1
out=$(ctl "$tmp/ok.conf" list)
expect_match "list reads it back" "$out" '^manual +blocked.test +block'

mkconf "$tmp/dead-first.conf" mxm $dead $S_PORTS
out=$(ctl "$tmp/dead-first.conf" list); rc=$?
expect_eq "a dead first sentinel is skipped" "$rc:$(printf '%s' "$out" | grep -c blocked.test)" 0:1

printf 'wrong\n' >"$tmp/wrong"
sed "s|sentinel_password_file = \"$tmp/secret\"|sentinel_password_file = \"$tmp/wrong\"|" \
    "$tmp/ok.conf" >"$tmp/wrong.conf"
out=$(ctl "$tmp/wrong.conf" list); rc=$?
expect_eq "a wrong sentinel password is a Redis error (4)" "$rc" 4
expect_match "and says the sentinel refused the login" "$out" 'sentinel 127.0.0.1:[0-9]+: login refused'

mkconf "$tmp/none.conf" mxm $dead
out=$(ctl "$tmp/none.conf" list); rc=$?
expect_eq "no sentinel reachable: exit 4" "$rc" 4
expect_match "and the reason names the master and the sentinel" "$out" \
    "^mxdetourctl: no master mxm from the sentinels: sentinel 127.0.0.1:$dead: .*refused"

# A sentinel that names a replica as master (as one may just after a
# failover it has not seen): ROLE shows it, and nothing is written there.
set -- $S_PORTS
s_cli -p "$1" SENTINEL MONITOR fake 127.0.0.1 "$S_REPLICA_PORT" 2 >/dev/null
s_cli -p "$1" SENTINEL SET fake auth-pass "$S_PASS" >/dev/null
mkconf "$tmp/fake.conf" fake "$1"
out=$(ctl "$tmp/fake.conf" block other.test); rc=$?
expect_eq "a replica named as master is refused (4)" "$rc" 4
expect_match "and the log says what it is" "$out" \
    "sentinel 127.0.0.1:$1 names 127.0.0.1:$S_REPLICA_PORT, which is a slave"
out=$(s_cli -p "$S_REPLICA_PORT" EXISTS mxd:lab:manual:other.test)
expect_eq "nothing was written on the replica" "$out" 0
# mxdetourd, asking on its event loop, refuses it the same way.
{ cat "$tmp/fake.conf"; echo "state_dir = \"$tmp\"; pid_file = \"$tmp/pid\";"; } >"$tmp/daemon.conf"
"$top_builddir/mxdetourd" -f -c "$tmp/daemon.conf" >"$tmp/daemon.out" 2>&1 & dpid=$!
i=0; until grep -q 'named master by the sentinels, is a slave; asking them again' "$tmp/daemon.out" ||
    [ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
expect_eq "mxdetourd refuses the replica too, and never says it is connected" \
    "$(grep -c 'is a slave; asking them again' "$tmp/daemon.out"):$(grep -c 'connected to redis' "$tmp/daemon.out")" 1:0
kill $dpid; wait $dpid; dpid=
s_cli -p "$1" SENTINEL REMOVE fake >/dev/null

# An administrator's failover: mxdetourctl goes to the new master.
s_cli -p "$1" SENTINEL FAILOVER mxm >/dev/null
i=0; until [ "$(sentinel_master_port)" = "$S_REPLICA_PORT" ] || [ $i -gt 150 ]; do i=$((i + 1)); sleep 0.1; done
i=0; until s_cli -p "$S_REPLICA_PORT" ROLE 2>/dev/null | head -1 | grep -q master || [ $i -gt 50 ]; do
    i=$((i + 1)); sleep 0.1; done
out=$(ctl "$tmp/ok.conf" block after.test --ttl 1h); rc=$?
expect_eq "after a failover, block goes to the new master" \
    "$rc:$(s_cli -p "$S_REPLICA_PORT" EXISTS mxd:lab:manual:after.test mxd:lab:manual:blocked.test)" 0:2
tap_exit

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# mxdetourctl against a real redis-server: block, list, show, unblock, clear,
# --json, TTLs, exit codes, status (whether mxdetourd runs, why Redis is
# down), config, and what it says when Redis is down.
set -u
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-ctl.XXXXXX")
greeter= locker=
trap '[ -n "$greeter" ] && kill $greeter 2>/dev/null; [ -n "$locker" ] && kill $locker 2>/dev/null;
      redis_stop; rm -rf "$tmp"' EXIT INT TERM
ctl="$top_builddir/mxdetourctl -c $tmp/mxdetour.conf"

plan 36
redis_start "$tmp" || { echo "Bail out! redis-server did not start"; exit 1; }
cat >"$tmp/mxdetour.conf" <<CONF
site = "lab";
pid_file = "$tmp/mxdetourd.pid";
state_dir = "$tmp";
redis = { socket = "$REDIS_SOCK"; prefix = "t"; };
relays = ( { name = "relay-fi"; nexthop = "smtp:[198.19.0.2]:25"; },
           { name = "wg"; type = "tunnel"; transport = "smtp-wg"; } );
destinations = ( { name = "proton"; domains = [ "pm.test", "blocked.test" ]; relays = [ "wg", "relay-fi" ]; },
                 { domains = [ "*" ]; relays = [ "relay-fi" ]; } );
CONF

out=$($ctl status); rc=$?
expect_eq "status exits 0 with Redis up" "$rc" 0
expect_match "status names the site" "$out" '^site: +lab'
expect_match "status says mxdetourd does not run, and why" "$out" "^mxdetourd: +not running \(no pid file $tmp/mxdetourd.pid"
# A process that holds the pid file's lock, as mxdetourd does (relay/core/pidfile.h).
python3 -c 'import fcntl,os,sys,time
f = open(sys.argv[1], "w"); fcntl.flock(f, fcntl.LOCK_EX); f.write("%d\n" % os.getpid()); f.flush()
time.sleep(60)' "$tmp/mxdetourd.pid" &
locker=$!
eventually grep -q "^$locker\$" "$tmp/mxdetourd.pid"
out=$($ctl status)
expect_match "status says mxdetourd runs, with its pid and since when" "$out" \
    "^mxdetourd: +running \(pid $locker\) since 20[0-9-]+T[0-9:]+Z \((0s|[0-9]+s) ago\)$"
out=$($ctl --json status)
expect_match "status --json has the pid" "$out" "\"mxdetourd\":\"running\",\"pid\":$locker,\"since\":[0-9]+,"
kill $locker; wait $locker 2>/dev/null; locker=
out=$($ctl status)
expect_match "a pid file nobody locks is a daemon that is gone" "$out" "^mxdetourd: +not running \(pid [0-9]+ of $tmp/mxdetourd.pid is gone\)$"
out=$($ctl list); rc=$?
expect_match "an empty list says so" "$rc:$out" '^0:nothing detoured and no manual override'
out=$($ctl config)
expect_match "config prints what the file sets" "$out" "^redis.socket = $tmp/redis.sock\$"
expect_match "config prints list members by name" "$out" '^relays.wg.transport = smtp-wg$'
if printf '%s\n' "$out" | grep -q '^probe.port'; then fail "config leaves out defaults"; else pass "config leaves out defaults"; fi
out=$($ctl config --all)
expect_match "config --all marks the defaults" "$out" '^probe.port = 25 +# default$'
expect_match "config --all prints set values unmarked" "$out" '^site = lab$'
out=$($ctl block blocked.test --via relay-fi --ttl 2h --reason "registry entry"); rc=$?
expect_eq "block exits 0" "$rc" 0
expect_match "block says what it did" "$out" '^blocked blocked.test via relay-fi for 2h$'
out=$($ctl show blocked.test)
expect_match "show names the destination and its relays" "$out" '^destination: proton \(policy detour, relays wg relay-fi\)'
expect_match "show gives the route from the manual block" "$out" '^route: +smtp:\[198.19.0.2\]:25$'
expect_match "show names the manual block and its reason" "$out" '^manual: +block via relay-fi until .* \(in (1h59m|2h)[0-9ms]*\) by .*: registry entry'
out=$($ctl --json show blocked.test)
expect_match "show --json is one object with the route" "$out" '^\{"domain":"blocked.test",.*"route":"smtp:\[198.19.0.2\]:25"\}$'
$ctl block 198.18.0.2 --ttl 1s >/dev/null
out=$($ctl list)
expect_match "list shows the domain override" "$out" '^manual +blocked.test +block'
expect_match "list shows the address override" "$out" '^manual +198.18.0.2 +block'
sleep 1.3
out=$($ctl list)
if printf '%s' "$out" | grep -q 198.18.0.2; then fail "a 1s block expires"; else pass "a 1s block expires"; fi
out=$($ctl --json list)
expect_match "list --json has the three arrays" "$out" '^\{"addresses":\[\],"destinations":\[\],"manual":\[\{"name":"blocked.test","action":"block"'
$ctl show unknown.test >/dev/null; rc=$?
expect_eq "show of an unknown domain exits 1" "$rc" 1
$ctl block 'not a domain!' >/dev/null 2>&1; rc=$?
expect_eq "a bad name is a usage error (2)" "$rc" 2
$ctl block pm.test --via nosuch >/dev/null 2>&1; rc=$?
expect_eq "an undefined relay is a usage error (2)" "$rc" 2
$ctl block 198.18.0.9 >/dev/null
out=$($ctl show 198.18.0.9)
expect_match "show of a blocked address ends its route sentence" "$out" \
    '^route: +detoured: a domain goes via its relays once all of its MX addresses are detoured$'
$ctl clear 198.18.0.9 >/dev/null
out=$($ctl unblock blocked.test)
expect_match "unblock replaces the block for 1h by default" "$out" '^unblocked blocked.test for 1h$'
out=$($ctl clear blocked.test); rc=$?
expect_eq "clear removes the override" "$rc" 0
# probe: a greeting server on loopback, then nothing on that port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 20 python3 -c '
import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
open(sys.argv[2], "w").close()
c,_=s.accept(); c.sendall(b"220 greeter ESMTP\r\n"); c.recv(100); c.close()' "$port" "$tmp/greeter.ready" &
greeter=$!
i=0; while [ ! -f "$tmp/greeter.ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sed -i "s/^site = \"lab\";/site = \"lab\"; probe = { port = $port; timeout = \"2s\"; };/" "$tmp/mxdetour.conf"
out=$($ctl probe 127.0.0.1); rc=$?
expect_match "probe reports the greeting" "$rc:$out" '^0:127.0.0.1: greeting 220 after [0-9]+ms$'
wait $greeter; greeter=
out=$($ctl --json probe 127.0.0.1)
expect_match "probe of a closed port says refused (--json)" "$out" '"address":"127.0.0.1".*"result":"refused"'
out=$($ctl show 127.0.0.1)
expect_match "probe results are recorded as evidence" "$out" 'evidence: +timeout 0, refused 1,'
expect_match "a greeting on the direct path counts as a success" "$out" 'success 20[0-9][0-9]-'
redis_stop
out=$($ctl status 2>&1); rc=$?
expect_eq "status exits 4 with Redis down" "$rc" 4
expect_match "status says why Redis is down" "$out" "^redis: +down: cannot connect to redis at $tmp/redis.sock: (No such file or directory|Connection refused)$"
out=$($ctl --json status 2>&1)
expect_match "status --json gives the reason too" "$out" '"redis":"down","redis_error":"cannot connect to redis at '

out=$($ctl list 2>&1); rc=$?
expect_match "list with Redis down names the socket" "$rc:$out" "^4:mxdetourctl: cannot connect to redis at $tmp/redis.sock"
tap_exit

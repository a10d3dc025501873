#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# routes_postfix.sh - routes reach a real Postfix (TAP), on the netns test
# bed (tests/e2e/lib/bed.sh): a private Postfix with
# transport_maps = hash:TABLE, both MX addresses of blocked.test dropped by
# the censor.  Driven through tests/integration/routes_cli:
#
#   1. publish / reload / kick by hand: mail deferred with connect timeouts
#      is delivered through the relay within seconds of the kick; new mail
#      goes to the relay at once, with no connect timeout; removing the route
#      (censor lifted) sends mail the direct way again.
#   2. the modules as mxdetourd runs them ("serve", dropped to nobody with a
#      root helper for the reload): one "set" line detours deferred mail;
#      after kill -9 Postfix still routes with the table (fail-static) and
#      the root helper is gone; a restart starts from the table in force; a
#      removal needs no reload and Postfix sees it by its own table check.
#      The detour reloads because mail waits for it (the deferred message);
#      the log says so, and why the removal does not.
#
# Prints the measured delays as "# delay ..." lines.  Runs with top_srcdir
# and top_builddir set by "make check", or by hand from the top directory:
# bash tests/integration/routes_postfix.sh.  Skips unless root with
# network namespaces and the bed's packages.  Takes about a minute.
set -u
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
CLI=$top_builddir/tests/integration/routes_cli

# shellcheck source=bedtap.sh
. "$top_srcdir/tests/integration/bedtap.sh"
bedtap_require postmap postqueue
[[ -x $CLI ]] || skip "$CLI is not built"
relay_re="relay=$BED_RELAY_ADDR\\[$BED_RELAY_ADDR\\]:25"

echo "1..29"
if ! bed_setup; then
    echo "Bail out! bed_setup failed"
    exit 1
fi
echo "# run $BED_ID in $BED_DIR"
TDIR=$BED_DIR/routes
TABLE=$TDIR/transport
mkdir -p "$TDIR"
CLI_LOG=$BED_DIR/log/cli.log
cli() { bed_exec mta "$CLI" -c "$BED_PF_DIR" -t "$TABLE" "$@" 2>>"$CLI_LOG"; }
lookup() { postmap -c "$BED_PF_DIR" -q "$1" "hash:$TABLE"; }

# ------------------------------------------------ by hand: publish, reload, kick

check "an empty table is published" cli publish
check "transport_maps = hash:TABLE is in force" bed_postconf "transport_maps = hash:$TABLE"
bed_censor "$BED_MX1_ADDR" drop && bed_censor "$BED_MX2_ADDR" drop
ok $? "the censor drops port 25 to mx1 and mx2"

bed_log_mark
q1=$(bed_send a@mta.test u1@blocked.test "routes 1")
bed_wait_log "$q1: to=<u1@blocked.test>.*status=deferred \\(connect to .*Connection timed out\\)" 25
ok $? "mail to blocked.test is deferred with connect timeouts"

t_pub=$(now)
out=$(cli publish "blocked.test=smtp:[$BED_RELAY_ADDR]:25")
ok $? "publish blocked.test -> smtp:[$BED_RELAY_ADDR]:25 ($out)"
[[ $(lookup blocked.test) == "smtp:[$BED_RELAY_ADDR]:25" ]]
ok $? "postmap -q blocked.test answers the new route"
out=$(cli reload)
ok $? "postfix reload through the privileged helper ($out)"
t_kick=$(now)
out=$(cli kick blocked.test)
grep -q '^kicked 1 of 1 deferred' <<<"$out"
ok $? "kick finds and schedules the deferred message ($out)"
bed_wait_sink relay 1 20 'u1@blocked.test'
ok $? "the deferred message reaches the relay"
echo "# delay: deferred message delivered $(since "$t_kick") s after the kick," \
    "$(since "$t_pub") s after publish (publish + reload + kick included)"
bed_log_since | grep -qE "$q1: to=<u1@blocked.test>, $relay_re.*status=sent"
ok $? "the maillog shows it sent via the relay"

bed_log_mark
t0=$(now)
q2=$(bed_send a@mta.test u2@blocked.test "routes 2")
bed_wait_sink relay 1 10 'u2@blocked.test'
ok $? "new mail to blocked.test goes to the relay (in $(since "$t0") s)"
! bed_log_since | grep -q 'Connection timed out'
ok $? "with no connect timeout"

bed_uncensor "$BED_MX1_ADDR" && bed_uncensor "$BED_MX2_ADDR"
cli publish >/dev/null && cli reload >/dev/null && [[ -z $(lookup blocked.test) ]]
ok $? "the route is removed (censor lifted) and Postfix reloaded"
bed_log_mark
q3=$(bed_send a@mta.test u3@blocked.test "routes 3")
bed_wait_log "$q3: to=<u3@blocked.test>, relay=mx1.blocked.test\\[$BED_MX1_ADDR\\]:25.*status=sent" 15
ok $? "mail to blocked.test goes direct again"

# ------------------------------------------------ the modules, as mxdetourd runs them

bed_censor "$BED_MX1_ADDR" drop && bed_censor "$BED_MX2_ADDR" drop
bed_log_mark
q4=$(bed_send a@mta.test u4@blocked.test "routes 4")
bed_wait_log "$q4: to=<u4@blocked.test>.*status=deferred" 25
ok $? "censored again: the next message is deferred"

chown -R nobody "$TDIR"
mkfifo "$TDIR/cmd"
SERVE_LOG=$BED_DIR/log/serve.log
serve() { # starts "routes_cli serve" as nobody, commands from the fifo on fd 7
    bed_bg mta serve sh -c 'exec "$0" "$@" <"'"$TDIR/cmd"'"' "$CLI" -c "$BED_PF_DIR" -t "$TABLE" \
        -u nobody -i 2000 serve >/dev/null
    exec 7<>"$TDIR/cmd"         # read-write: never blocks, even if serve failed
    local t; t=$(now)
    until grep -q '^ready' "$SERVE_LOG" 2>/dev/null; do
        awk -v a="$t" -v b="$(now)" 'BEGIN{exit !(b - a > 10)}' && return 1
        sleep 0.05
    done
}
: >"$SERVE_LOG"
serve
ok $? "serve starts: helper forked as root, then runs as nobody"
hpid=$(sed -n 's/.*privileged helper started, pid \([0-9]*\).*/\1/p' "$SERVE_LOG" | tail -n 1)
spid=$(cat "$BED_DIR/pids/serve")
[[ -n $hpid && $(stat -c %U "/proc/$hpid") == root && $(stat -c %U "/proc/$spid") == nobody ]]
ok $? "the helper (pid ${hpid:-?}) is root, the module process (pid $spid) is nobody"

t_set=$(now)
echo "set blocked.test smtp:[$BED_RELAY_ADDR]:25" >&7
bed_wait_sink relay 1 25 'u4@blocked.test'
ok $? "one routes_set: the deferred message reaches the relay"
echo "# delay: deferred message delivered $(since "$t_set") s after routes_set" \
    "(coalescing floor 10 ms + postmap + reload + 500 ms + kick)"
grep -q 'route for blocked.test: smtp:\[198.19.0.2\]:25 (was direct)' "$SERVE_LOG" &&
    grep -q "reload for blocked.test: 1 message waiting in Postfix's queue" "$SERVE_LOG" &&
    grep -q 'postfix -c .* reload: done' "$SERVE_LOG" &&
    grep -q 'scheduled 1 deferred message again' "$SERVE_LOG"
ok $? "the log shows the change, why it reloads (mail waiting), the reload and the kick"
[[ $(stat -c %U "$TABLE.db") == nobody ]]
ok $? "the table was rebuilt by the unprivileged process"

bed_kill serve KILL
exec 7>&-
t0=$(now)
while [[ -d /proc/$hpid ]] && [[ $(awk '{print $3}' "/proc/$hpid/stat" 2>/dev/null) != Z ]] &&
    awk -v a="$t0" -v b="$(now)" 'BEGIN{exit !(b - a < 3)}'; do sleep 0.05; done
! [[ -d /proc/$hpid && $(awk '{print $3}' "/proc/$hpid/stat" 2>/dev/null) != Z ]]
ok $? "after kill -9 of the module process the root helper is gone too"
bed_log_mark
t0=$(now)
q5=$(bed_send a@mta.test u5@blocked.test "routes 5")
bed_wait_sink relay 1 10 'u5@blocked.test' && ! bed_log_since | grep -q 'Connection timed out'
ok $? "fail-static: with mxdetour dead Postfix still routes via the relay (in $(since "$t0") s)"
[[ $(lookup blocked.test) == "smtp:[$BED_RELAY_ADDR]:25" ]]
ok $? "fail-static: the table still answers"

: >"$SERVE_LOG"
serve && grep -q '1 route in force from' "$SERVE_LOG"
ok $? "a restart starts from the table in force"
echo "show blocked.test" >&7
sleep 0.3
grep -q "^blocked.test smtp:\\[$BED_RELAY_ADDR\\]:25" "$SERVE_LOG"
ok $? "routes_get answers the loaded route"

bed_uncensor "$BED_MX1_ADDR" && bed_uncensor "$BED_MX2_ADDR"
bed_log_mark
t_rm=$(now)
echo "set blocked.test direct" >&7
bed_wait_log "table hash:$TABLE.*has changed -- restarting" 15
ok $? "removal: Postfix's own table check sees the new table (after $(since "$t_rm") s)"
! grep -q 'reload: done' "$SERVE_LOG" &&
    grep -q 'no reload for blocked.test: route removed' "$SERVE_LOG"
ok $? "removal: no postfix reload, and the log says why"
q6=$(bed_send a@mta.test u6@blocked.test "routes 6")
bed_wait_log "$q6: to=<u6@blocked.test>, relay=mx1.blocked.test\\[$BED_MX1_ADDR\\]:25.*status=sent" 15
ok $? "after the removal mail goes direct"
echo quit >&7
exec 7>&-
t0=$(now)
while kill -0 "$(cat "$BED_DIR/pids/serve")" 2>/dev/null &&
    awk -v a="$t0" -v b="$(now)" 'BEGIN{exit !(b - a < 5)}'; do sleep 0.05; done
! kill -0 "$(cat "$BED_DIR/pids/serve")" 2>/dev/null && [[ -z $(lookup blocked.test) ]]
ok $? "quit stops cleanly; the table keeps what was published"

if ((FAILS)); then
    echo "# cli log:"; sed 's/^/#   /' "$CLI_LOG"
    echo "# serve log:"; sed 's/^/#   /' "$SERVE_LOG"
    echo "# maillog (last 40 lines):"; tail -n 40 "$BED_MAILLOG" | sed 's/^/#   /'
fi
exit $((FAILS > 0))

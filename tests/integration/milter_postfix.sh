#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# milter_postfix.sh - the milter in front of a real Postfix (TAP), on the
# netns test bed (tests/e2e/lib/bed.sh).  The private Postfix gets
#
#   smtpd_milters = unix:SOCKET, non_smtpd_milters = $smtpd_milters,
#   milter_default_action = accept, milter_protocol = 6
#
# and tests/milter/milter_harness is the milter (the real milter module, with
# routing answers from a file instead of the engine):
#   custom.test  policy reject    pm.test  policy hold    blocked.test  policy tempfail
#   open.test    direct           late.test  policy reject, answered 0.5 s after it is asked
#
#   a. reject: the SMTP client gets 550 5.7.1 and the configured text at RCPT
#   b. tempfail: 451 4.4.1 for that recipient, while another recipient of the
#      same message is accepted and delivered
#   c. a domain with no answer yet is asked for, and refused before the RCPT
#      is answered (the wait is bounded by milter.route_wait)
#   d. hold: the message lands in the hold queue (postqueue -j)
#   e. local submissions (sendmail): reject passes (Postfix cannot refuse one
#      recipient there), hold holds
#   f. the milter killed: Postfix still accepts and delivers mail
#      (milter_default_action = accept)
#
# Not here: "the first message to a new domain whose MX addresses are
# already blocked goes to the relay with no connect timeout" needs the full
# daemon (engine + routes + milter): tests/e2e/first_message.sh.
#
# Runs with top_srcdir and top_builddir set by "make check", or by hand from
# the top directory: bash tests/integration/milter_postfix.sh.  Skips unless
# root with network namespaces and the bed's packages.  Takes about 20 s.
set -u
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir}" && pwd)
HARNESS=$top_builddir/tests/milter/milter_harness

# shellcheck source=bedtap.sh
. "$top_srcdir/tests/integration/bedtap.sh"
bedtap_require postqueue sendmail
[[ -x $HARNESS ]] || skip "$HARNESS is not built (make check builds it)"
diag() { sed 's/^/# /'; }
# swaks TO... : one SMTP transaction from the mta namespace; prints the dialogue
smtp() {
    local to=$1; shift
    ip netns exec "$BED_NS_MTA" swaks --server 127.0.0.1 --port 25 --helo client.mta.test \
        --from a@mta.test --to "$to" --timeout 20 "$@" 2>&1
}
# local_send TO SUBJECT: sendmail(1) into the bed's instance (non-SMTP mail)
local_send() {
    printf 'Subject: %s\n\nmxdetour local submission\n' "$2" |
        ip netns exec "$BED_NS_MTA" sendmail -C "$BED_PF_DIR" -f a@mta.test "$1"
}
in_queue() { bed_queue_json | grep "\"queue_id\": \"$1\"" | grep -q "\"queue_name\": \"$2\""; }
grep_q() { grep -qE -- "$2" <<<"$1"; }

echo "1..23"
if ! bed_setup; then
    echo "Bail out! bed_setup failed"
    exit 1
fi
echo "# run $BED_ID in $BED_DIR"

# ---- the milter: the harness, as the Postfix user would reach mxdetourd's
m=$BED_DIR/milter
mkdir -p "$m" && chmod 755 "$m"
sock=$m/milter.sock
cat >"$m/mxdetour.conf" <<EOF
site = "milter-it";
# The socket is given to this user (mode 0660), as mxdetourd gives it to its own.
user = "postfix";
relays = ( { name = "relay-fi"; nexthop = "smtp:[$BED_RELAY_ADDR]:25"; } );
destinations = (
  { name = "refused"; domains = [ "custom.test", "late.test" ]; policy = "reject";
    reply = "mail to this destination is refused by mta.test policy"; },
  { name = "deferred"; domains = [ "blocked.test" ]; policy = "tempfail"; },
  { name = "held"; domains = [ "pm.test" ]; policy = "hold"; },
  { name = "default"; domains = [ "*" ]; relays = [ "relay-fi" ]; }
);
milter = { socket = "unix:$sock"; route_wait = "3s"; trace_header = false; };
EOF
cat >"$m/answers" <<EOF
custom.test   policy reject every MX address blocked
blocked.test  policy tempfail every MX address blocked
pm.test       policy hold every MX address blocked
open.test     direct
? late.test   policy reject every MX address blocked
EOF
bed_bg host milter "$HARNESS" -v -d 500 -c "$m/mxdetour.conf" -a "$m/answers" >/dev/null
t0=$(now)
while [[ ! -S $sock ]] && _bed_elapsed_lt "$t0" 10; do sleep 0.05; done
check "the milter listens on $sock" test -S "$sock"
ok "$([[ $(stat -c '%U %a' "$sock" 2>/dev/null) == "postfix 660" ]]; echo $?)" \
    "the socket belongs to the configured user, mode 0660"

bed_log_mark
BED_NO_RELOAD=1 bed_postconf "smtpd_milters = unix:$sock" 'non_smtpd_milters = $smtpd_milters' \
    "milter_default_action = accept" "milter_protocol = 6"
bed_postfix_reload
check "Postfix reloads with the milter configured" bed_wait_log 'reload -- version' 10
sleep 1     # let the old smtpd processes finish

# ---- a. reject
bed_log_mark
out=$(smtp u1@custom.test)
ok "$(grep_q "$out" '^<\*\* +550 5\.7\.1 mail to this destination is refused by mta\.test policy$'; echo $?)" \
    "a. reject: the client gets 550 5.7.1 and the configured text at RCPT"
[[ $FAILS == 0 ]] || grep -E '^(<-|<\*\*|->)' <<<"$out" | tail -n 8 | diag
check "a. Postfix logs the milter-reject of the recipient" \
    bed_wait_log 'milter-reject: RCPT from .*: 550 5\.7\.1 mail to this destination is refused by mta\.test policy; from=<a@mta\.test> to=<u1@custom\.test>' 5

# ---- b. tempfail one recipient, deliver the other
bed_log_mark
out=$(smtp u2@blocked.test,u3@open.test)
ok "$(grep_q "$out" '^<\*\* +451 4\.4\.1 destination temporarily unreachable from this network; try again later$'; echo $?)" \
    "b. tempfail: 451 4.4.1 and the default text for that recipient"
ok "$(grep_q "$out" '^<- +250 .*queued as'; echo $?)" "b. the message is accepted for the other recipient"
check "b. ... and delivered to it" bed_wait_sink open 1 10 'u3@open.test'
ok "$(bed_log_since | grep -q 'to=<u2@blocked.test>.*status='; [[ $? != 0 ]]; echo $?)" \
    "b. the tempfailed recipient was never queued"

# ---- c. a domain new to the view
bed_log_mark
t=$(now)
out=$(smtp u4@late.test)
took=$(since "$t")
ok "$(grep_q "$out" '^<\*\* +550 5\.7\.1 mail to this destination is refused'; echo $?)" \
    "c. a domain with no answer yet is refused once the answer comes"
echo "# c. the SMTP transaction took ${took}s (answer after 0.5 s, route_wait 3 s)"
ok "$(awk -v t="$took" 'BEGIN{exit !(t >= 0.5 && t < 3)}'; echo $?)" "c. within route_wait"
check "c. the milter asked for the domain" grep -q 'request late.test' "$BED_DIR/log/milter.log"

# ---- d. hold
bed_log_mark
q=$(bed_send a@mta.test u5@pm.test "milter hold")
check "d. hold: the message is accepted" test -n "$q"
check "d. Postfix logs the milter's HOLD" bed_wait_log "$q: milter-hold: END-OF-MESSAGE .*milter triggers HOLD action" 5
check "d. the message is in the hold queue (postqueue -j)" in_queue "$q" hold

# ---- e. local submissions
bed_log_mark
local_send l1@custom.test "local reject"
check "e. local mail to a reject destination is queued and delivered" \
    bed_wait_log 'to=<l1@custom.test>, relay=mx1\.blocked\.test.*status=sent' 15
ok "$(bed_log_since | grep -q "can't reject recipient in non-smtpd"; [[ $? != 0 ]]; echo $?)" \
    "e. ... with no 'can't reject recipient' error from Postfix"
local_send l2@pm.test "local hold"
check "e. local mail to a hold destination is held" bed_wait_log 'milter-hold: END-OF-MESSAGE .*to=<l2@pm.test>' 10
check "e. nothing is left in the maildrop" test "$(bed_queue_count maildrop)" = 0

ok "$(grep -qE 'Sanitizer|runtime error:' "$BED_DIR/log/milter.log"; [[ $? != 0 ]]; echo $?)" \
    "the milter logged no sanitizer report"

# ---- f. the milter dies
bed_kill milter KILL
bed_log_mark
q=$(bed_send a@mta.test u6@custom.test "milter gone")
check "f. with the milter killed, Postfix still accepts mail (default_action accept)" test -n "$q"
check "f. ... and delivers it" bed_wait_log "$q: to=<u6@custom.test>, relay=mx1\.blocked\.test.*status=sent" 15
check "f. Postfix logs that the milter is unreachable" \
    bed_wait_log 'warning: connect to Milter service unix:.*milter\.sock: (Connection refused|No such file)' 5

if ((FAILS)); then
    echo "# milter log:"; tail -n 30 "$BED_DIR/log/milter.log" | diag
    echo "# maillog:"; tail -n 40 "$BED_MAILLOG" | diag
fi
exit $((FAILS > 0))

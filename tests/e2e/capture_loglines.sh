#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/capture_loglines.sh [OUTDIR] -- make a real Postfix log each kind
# of delivery failure on the test bed (lib/bed.sh) and save the raw maillog
# lines into OUTDIR (default tests/data/postfix/), one file per kind, plus a
# README.md describing them.  Run as root; takes about a minute.
#
# Each file holds every maillog line written while its messages were
# submitted and tried (smtpd, cleanup, qmgr, smtp, error, bounce ...), so a
# parser sees the lines it must ignore too.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../data/postfix}
# shellcheck source-path=SCRIPTDIR source=lib/bed.sh disable=SC2119
. "$HERE/lib/bed.sh"

mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 1
FROM=sender@mta.test
T_START=$EPOCHREALTIME
declare -A DESC

say() { echo "capture: $*" >&2; }
fail() { say "FAILED: $*"; FAILED=1; }
FAILED=""

bed_setup || exit 1
say "bed $BED_ID up ($BED_DIR)"

# One destination domain per kind, each on its own MX address.
bed_dns_add \
    "mx-host=slow.test,mx.slow.test,10" "host-record=mx.slow.test,198.18.0.10" \
    "mx-host=grey.test,mx.grey.test,10" "host-record=mx.grey.test,198.18.0.11" \
    "mx-host=quoted.test,mx.quoted.test,10" "host-record=mx.quoted.test,198.18.0.12" \
    "mx-host=quoted421.test,mx.quoted421.test,10" "host-record=mx.quoted421.test,198.18.0.13" \
    "mx-host=notls.test,mx.notls.test,10" "host-record=mx.notls.test,198.18.0.14" \
    "mx-host=badtls.test,mx.badtls.test,10" "host-record=mx.badtls.test,198.18.0.15" \
    "mx-host=lost.test,mx.lost.test,10" "host-record=mx.lost.test,198.18.0.16" \
    "mx-host=busy.test,mx.busy.test,10" "host-record=mx.busy.test,198.18.0.17" \
    "mx-host=susp.test,mx1.blocked.test,10" "mx-host=susp.test,mx2.blocked.test,20" \
    "mx-host=fallback.test,mx1.blocked.test,10" "mx-host=fallback.test,mx2.blocked.test,20" ||
    exit 1

# settle: wait for stray log lines, then empty the queue so nothing retries
settle() {
    sleep 0.3
    postsuper -c "$BED_PF_DIR" -d ALL >/dev/null 2>&1
    sleep 0.3
}

# begin FILE DESCRIPTION: start a capture
begin() {
    CUR=$1
    DESC[$1]=$2
    : >"$OUT/$1"
    settle
    bed_log_mark
    say "$1 ..."
}

# send_wait TO [TIMEOUT]: submit one message and wait until every recipient
# has a status= line
send_wait() {
    local to=$1 t=${2:-20} qid n
    qid=$(bed_send "$FROM" "$to" "capture $CUR") || { fail "$CUR: not queued"; return 1; }
    n=$(tr ',' '\n' <<<"$to" | wc -l)
    bed_wait_log "$qid: to=<.*status=" "$t" "$n" || { fail "$CUR: no status line for $qid"; return 1; }
}

# finish [REQUIRED_REGEX...]: save the lines and check they say what we want
finish() {
    local re
    sleep 0.5
    bed_log_since >"$OUT/$CUR"
    for re in "$@"; do
        grep -qE -- "$re" "$OUT/$CUR" || fail "$CUR: no line matches /$re/"
    done
    say "$CUR: $(wc -l <"$OUT/$CUR") lines"
}

bed_postconf smtp_connect_timeout=3s smtp_helo_timeout=3s

# --- successful delivery ------------------------------------------------
begin sent.log "successful deliveries: open.test, then one message to blocked.test, pm.test and custom.test (all three on mx1.blocked.test, delivered by one smtp process)"
send_wait u1@open.test
send_wait u1@blocked.test,u2@pm.test,u3@custom.test
finish 'status=sent \(250 ' 'relay=mx1\.blocked\.test\[198\.18\.0\.2\]:25'

# --- dropped SYN: connect timeout ---------------------------------------
bed_censor "$BED_MX1_ADDR" drop
bed_censor "$BED_MX2_ADDR" drop
begin timeout.log "both MX addresses of blocked.test drop SYNs (censor mode drop), smtp_connect_timeout=3s: 'Connection timed out' for each, then status=deferred"
t0=$EPOCHREALTIME
send_wait u1@blocked.test 30
T_TIMEOUT=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}')
finish 'connect to mx1\.blocked\.test\[198\.18\.0\.2\]:25: Connection timed out' \
    'connect to mx2\.blocked\.test\[198\.18\.0\.3\]:25: Connection timed out' 'status=deferred'

# --- TCP reset: connection refused --------------------------------------
bed_censor "$BED_MX1_ADDR" reset
bed_censor "$BED_MX2_ADDR" reset
begin refused.log "both MX addresses of pm.test answer SYNs with a TCP reset (censor mode reset): 'Connection refused'"
send_wait u1@pm.test
finish 'connect to mx1\.blocked\.test\[198\.18\.0\.2\]:25: Connection refused' 'status=deferred'

# --- ICMP host unreachable ----------------------------------------------
bed_censor "$BED_MX1_ADDR" unreach
bed_censor "$BED_MX2_ADDR" unreach
begin unreach.log "the MX address of custom.test (mx1 only) is answered with ICMP host-unreachable (censor mode unreach): 'No route to host'"
send_wait u1@custom.test
finish 'connect to mx1\.blocked\.test\[198\.18\.0\.2\]:25: No route to host' 'status=deferred'
bed_censor_clear

# --- server accepts TCP and never greets ---------------------------------
bed_sink_start slow 198.18.0.10 -h mx.slow.test -W CONNECT:120 || exit 1
begin greeting_timeout.log "mx.slow.test accepts TCP but never sends its greeting (smtp-sink -W CONNECT:120), smtp_helo_timeout=3s"
send_wait u1@slow.test 30
finish 'timed out while receiving the initial server greeting' 'status=deferred'

# --- server closes right after accept ------------------------------------
bed_sink_start lost 198.18.0.16 -h mx.lost.test -q CONNECT || exit 1
begin greeting_lost.log "mx.lost.test accepts TCP and closes at once (smtp-sink -q CONNECT): 'lost connection ... while receiving the initial server greeting'"
send_wait u1@lost.test
finish 'lost connection with mx\.lost\.test' 'status=deferred'

# --- 4xx replies ---------------------------------------------------------
bed_sink_start grey 198.18.0.11 -h mx.grey.test -r RCPT \
    -b "450 4.7.1 <u1@grey.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/grey.test.html" || exit 1
bed_sink_start busy 198.18.0.17 -h mx.busy.test -r CONNECT -b "421 4.3.2 mx.busy.test Service not available, too many connections" || exit 1
begin greylist.log "mx.grey.test answers RCPT with a 450 greylisting reply; then mx.busy.test greets with 421 (server replies: the path is open)"
send_wait u1@grey.test
send_wait u2@busy.test
finish 'said: 450 4\.7\.1' 'refused to talk to me: 421' 'status=deferred'

# --- 4xx reply whose text looks like a Postfix connect failure -----------
bed_sink_start quoted 198.18.0.12 -h mx.quoted.test -r RCPT \
    -b "451 4.4.1 connect to 1.2.3.4[1.2.3.4]:25: Connection timed out" || exit 1
bed_sink_start quoted421 198.18.0.13 -h mx.quoted421.test -r CONNECT \
    -b "421 4.4.2 connect to 1.2.3.4[1.2.3.4]:25: Connection timed out" || exit 1
begin quoted_timeout.log "remote replies that quote a connect timeout: mx.quoted.test answers RCPT with '451 4.4.1 connect to 1.2.3.4[1.2.3.4]:25: Connection timed out', mx.quoted421.test greets with the same text as 421; NOT evidence of a block"
send_wait u1@quoted.test
send_wait u2@quoted421.test
finish 'said: 451 4\.4\.1 connect to 1\.2\.3\.4' 'refused to talk to me: 421 4\.4\.2 connect to 1\.2\.3\.4'

# --- delivery temporarily suspended --------------------------------------
bed_censor "$BED_MX1_ADDR" drop
bed_censor "$BED_MX2_ADDR" drop
begin suspended.log "10 messages to susp.test (MX mx1+mx2, both dropping SYNs): the first ones time out, then qmgr declares the destination dead and postfix/error defers the rest with 'delivery temporarily suspended'"

for i in $(seq 1 10); do
    bed_send "$FROM" "u$i@susp.test" "capture suspended $i" >/dev/null
done
bed_wait_log 'to=<u[0-9]+@susp\.test>.*status=' 40 10 || fail "suspended.log: not every message got a status line"
finish 'postfix/error\[[0-9]+\]: .*delivery temporarily suspended: connect to' 'Connection timed out'

# --- smtp_fallback_relay after timeouts ----------------------------------
bed_postconf "smtp_fallback_relay = [relay.test]:25"
begin fallback.log "fallback.test (MX mx1+mx2, both dropping SYNs) with smtp_fallback_relay=[relay.test]:25: two connect timeouts, then status=sent via the relay"
send_wait u1@fallback.test 30
finish 'Connection timed out' 'relay=relay\.test\[198\.19\.0\.2\]:25.*status=sent'
bed_postconf "smtp_fallback_relay ="
bed_censor_clear

# --- TLS failures ----------------------------------------------------------
bed_sink_start notls 198.18.0.14 -h mx.notls.test || exit 1
bed_fake_smtp badtls 198.18.0.15 starttls-garbage || exit 1
bed_postconf smtp_tls_security_level=encrypt
begin tls_fail.log "smtp_tls_security_level=encrypt: mx.notls.test offers no STARTTLS; mx.badtls.test offers it and then sends garbage (handshake failure); then with level may against mx.badtls.test (Postfix 3.7 defers that too: no plaintext retry within the attempt). Includes the reload lines of the settings change"
send_wait u1@notls.test
send_wait u2@badtls.test
bed_postconf smtp_tls_security_level=may
sleep 0.5
send_wait u3@badtls.test
finish 'TLS is required, but was not offered' 'Cannot start TLS: handshake failure'
bed_postconf smtp_tls_security_level=none

# --- DNS failures (not a network block) ----------------------------------
begin dns_tempfail.log "the DNS server answers SERVFAIL for dnsfail.test: 'Host or domain name not found ... try again', dsn=4.4.3"
send_wait u1@dnsfail.test 30
finish 'Name service error for name=dnsfail\.test' 'status=deferred'

begin dns_nxdomain.log "nx.test does not exist (NXDOMAIN): the message bounces (dsn=5.4.4); the bounce to the local sender is discarded"
send_wait u1@nx.test 30
finish 'status=bounced'

settle
# --- README ----------------------------------------------------------------
{
    echo "# Captured Postfix log lines"
    echo
    echo "Raw \`maillog_file\` lines written by a real Postfix $(postconf -h mail_version) (Debian"
    echo "$(cat /etc/debian_version)) on the mxdetour network test bed. Generated by"
    echo "\`tests/e2e/capture_loglines.sh\` (re-run it to refresh; every file is overwritten)."
    echo
    echo "Format: \`Nov 23 11:20:48 mta postfix/smtp[10826]: text\` (Postfix's own"
    echo "maillog_file format: month, day, time without year, host name \`mta\`,"
    echo "syslog_name \`postfix\`, SERVICE[PID])."
    echo "Each file holds all lines logged while its messages were submitted and tried,"
    echo "including smtpd/cleanup/qmgr lines a parser must ignore."
    echo
    echo "Addresses: mx1.blocked.test 198.18.0.2, mx2.blocked.test 198.18.0.3,"
    echo "mx.open.test 198.18.0.4, relay.test 198.19.0.2, other mx.*.test 198.18.0.10-17;"
    echo "blocked.test/pm.test/susp.test/fallback.test: MX 10 mx1, MX 20 mx2; custom.test: MX mx1 only."
    echo "\`1.2.3.4\` appears only as text inside remote replies (quoted_timeout.log)."
    echo
    echo "Settings: smtp_connect_timeout=3s, smtp_helo_timeout=3s, otherwise Postfix defaults"
    echo "(minimal_backoff_time=300s, initial_destination_concurrency=5, ...)."
    echo
    echo "| file | lines | what happened |"
    echo "|---|---|---|"
    for f in $(printf '%s\n' "${!DESC[@]}" | sort); do
        echo "| \`$f\` | $(wc -l <"$OUT/$f") | ${DESC[$f]} |"
    done
} >"$OUT/README.md"

say "timeout.log: submission to deferred took ${T_TIMEOUT}s"
say "done in $(awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}')s${FAILED:+ WITH FAILURES}"
[[ -z $FAILED ]]

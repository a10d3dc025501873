#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# debian_default.sh - the Debian package on Debian's own Postfix, set up as
# debconf's "Internet Site" leaves it (main.cf from main.cf.debian with the
# postinst's settings, master.cf.dist: smtpd, cleanup and smtp chrooted),
# wired in by running the shell blocks of docs/operations.md that are
# marked `<!-- step: NAME -->` (the doc and this test cannot drift apart),
# then upgraded, removed and purged; after every step a message must still
# be accepted (no 451) and local mail delivered.  TAP.
#
#   - the .deb is built as tests/packaging/deb.sh builds it;
#   - Redis: a redis-server of the test's own on 127.0.0.1 (a free port; the
#     doc's Debian default is 6379);
#   - the relay outside the blocking network is smtp-sink on 127.0.0.1 (a
#     free port); the detoured destination is pre-seeded with
#     `mxdetourctl block DOMAIN --via relay-out`;
#   - mxdetourd runs as the unit runs it, as far as that goes without systemd
#     as PID 1: the unit's ExecStart (without -s: there is no /dev/log here,
#     stderr is the test's log), its CapabilityBoundingSet and no_new_privs
#     (setpriv, as tests/packaging/unit_caps.sh), UMask, and the
#     RuntimeDirectory /run/mxdetour made as systemd makes it.
#
# Assertions marked need the daemon to create the milter socket
# after it has dropped root and to remove it at stop (a change in mxdetourd
# itself).  Until then they fail, and the test goes on with the milter
# switched off in mxdetour.conf (main.cf still names it: with
# milter_default_action = accept mail keeps flowing, which is checked too).
#
# Root only; changes the machine's /etc/postfix, /etc/aliases(.db),
# /var/log/postfix.log, /etc/cron.daily/postfix-logrotate and the default
# Postfix instance while it runs, and
# restores them (and stops everything it started) at exit.  By hand:
#   sh tests/packaging/debian_default.sh
# MXD_DEB_KEEP=1 keeps the temporary directory; MXD_DEB=FILE.deb installs
# that package instead of building one (the build is then not tested).
# Tests that install the package (deb.sh and this one) take the lock
# /run/lock/mxdetour-package.lock, so that they do not run into each other.
set -u
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/packaging/build_deb.sh"
doc=$top_srcdir/docs/operations.md

if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP not root: the test installs a package and runs the system's Postfix"; exit 0
fi
for tool in dpkg-buildpackage fakeroot dh setpriv redis-server redis-cli postfix smtp-sink swaks; do
    command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
exec 9>/run/lock/mxdetour-package.lock
flock -w 900 9 || { echo "Bail out! another package test holds /run/lock/mxdetour-package.lock"; exit 1; }
if dpkg-query -W -f='${Status}' mxdetour 2>/dev/null | grep -q installed; then
    echo "Bail out! the package mxdetour is installed already; remove it first (dpkg -P mxdetour)"
    exit 1
fi
if postfix status >/dev/null 2>&1; then
    echo "Bail out! the default Postfix instance runs already; the test needs it for itself"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-debdef.XXXXXX") || exit 1
chmod 755 "$tmp"
run=$(basename "$tmp" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')
dom=detour-$run.test                     # the detoured destination
luser=mxdt$(printf '%s' "$run" | tail -c 6)   # a local recipient of this run
user_before=no; getent passwd mxdetour >/dev/null && user_before=yes
pid= redis_pid= sink_pid=

# ---- saving and restoring the machine -------------------------------------
cp -a /etc/postfix "$tmp/etc-postfix"
for f in /etc/aliases /etc/aliases.db /etc/mailname /var/log/postfix.log /etc/cron.daily/postfix-logrotate; do
    [ -e "$f" ] && cp -a "$f" "$tmp/saved.$(basename "$f")"
done
acd_before=$(postconf -h alternate_config_directories 2>/dev/null)

teardown() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    postfix stop >/dev/null 2>&1
    i=0; while postfix status >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    postsuper -d ALL >/dev/null 2>&1
    [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
    [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
    if dpkg-query -W -f='${Status}' mxdetour 2>/dev/null | grep -q 'ok'; then
        dpkg -P mxdetour >/dev/null 2>&1
    fi
    rm -rf /var/lib/mxdetour /var/spool/postfix/mxdetour /run/mxdetour /etc/mxdetour
    if [ "$user_before" = no ] && getent passwd mxdetour >/dev/null; then
        deluser --quiet --system mxdetour >/dev/null 2>&1
    fi
    getent passwd "$luser" >/dev/null && deluser --quiet --system "$luser" >/dev/null 2>&1
    rm -f "/var/mail/$luser"
    # Other tests may have added their private instances meanwhile: keep
    # the alternate_config_directories of now.
    acd_now=$(postconf -h alternate_config_directories 2>/dev/null)
    rm -rf /etc/postfix && cp -a "$tmp/etc-postfix" /etc/postfix
    [ "$acd_now" != "$acd_before" ] && postconf -e "alternate_config_directories = $acd_now"
    for f in /etc/aliases /etc/aliases.db /etc/mailname /var/log/postfix.log /etc/cron.daily/postfix-logrotate; do
        if [ -e "$tmp/saved.$(basename "$f")" ]; then cp -a "$tmp/saved.$(basename "$f")" "$f"; else rm -f "$f"; fi
    done
    rm -f /var/log/postfix.log.*-*
    if [ "${MXD_DEB_KEEP:-}" = 1 ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap teardown EXIT
trap 'exit 1' HUP INT TERM

show() { [ -s "$1" ] && tail -"${2:-30}" "$1" | sed 's/^/#   /'; return 0; }
# A free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# The shell block of docs/operations.md after "<!-- step: NAME -->".
doc_step() {
    awk -v m="<!-- step: $1 -->" '
        $0 == m { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$doc"
}
# Runs a step as the doc shows it (sh -e), output to $tmp/step.NAME.
run_step() {
    doc_step "$1" >"$tmp/step.$1.sh"
    if [ ! -s "$tmp/step.$1.sh" ]; then echo "# no step $1 in $doc"; return 1; fi
    sh -e "$tmp/step.$1.sh" >"$tmp/step.$1.out" 2>&1
    st=$?
    [ $st = 0 ] || { sed 's/^/#   step: /' "$tmp/step.$1.sh"; show "$tmp/step.$1.out"; }
    return $st
}
log=/var/log/postfix.log
wait_for() {  # SECONDS CMD...: CMD every 0.2 s until it succeeds
    _n=$(($1 * 5)); shift
    while [ $_n -gt 0 ]; do "$@" && return 0; sleep 0.2; _n=$((_n - 1)); done
    return 1
}
# Sends one message with swaks to smtpd on 127.0.0.1:25; the token goes in
# the subject.  Exit status 0 only when the message was queued.
send() {  # TO TOKEN
    swaks --server 127.0.0.1:25 --from "sender@$(hostname)" --to "$1" \
        --header "Subject: $2" --body "mxdetour debian_default $2" >"$tmp/swaks.$2" 2>&1 &&
        grep -q '<- *250 .*queued' "$tmp/swaks.$2"
}
sent_locally() { grep -q "$1" "/var/mail/$luser" 2>/dev/null; }
at_sink() { grep -rqs "$1" "$tmp/sink"; }
# After a step: a local message is accepted and delivered to the mailbox.
local_mail_flows() {  # WHEN
    tok=local-$(echo "$1" | tr -c 'a-z0-9\n' '-')-$run
    if send "$luser@localhost" "$tok"; then pass "$1: a local message is accepted"
    else fail "$1: a local message is accepted"; show "$tmp/swaks.$tok" 8; fi
    if wait_for 20 sent_locally "$tok"; then pass "$1: ... and delivered to the mailbox"
    else fail "$1: ... and delivered to the mailbox"; grep "$luser" "$log" | tail -5 | sed 's/^/#   /'; fi
}
# The daemon as the unit runs it (see the head of this file).
unit=/lib/systemd/system/mxdetourd.service
start_daemon() {
    spec=-all
    for c in $(sed -n 's/^CapabilityBoundingSet=//p' "$unit"); do
        spec="$spec,+$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')"
    done
    # shellcheck disable=SC2046
    set -- $(sed -n 's/^ExecStart=//p' "$unit" | sed 's/ -s / /')
    install -d -m "$(sed -n 's/^RuntimeDirectoryMode=//p' "$unit")" /run/mxdetour
    : >"$tmp/mxdetourd.log"
    (umask "$(sed -n 's/^UMask=//p' "$unit")"
     exec setpriv --bounding-set "$spec" --no-new-privs "$@") >>"$tmp/mxdetourd.log" 2>&1 &
    pid=$!
    wait_for 15 grep -q 'started: ' "$tmp/mxdetourd.log"
}
stop_daemon() {
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; st=$?; pid=
    rm -rf /run/mxdetour     # systemd removes the RuntimeDirectory at stop
    return $st
}

plan 67
start=$(date +%s)

# ---- build (as deb.sh) ------------------------------------------------------
if [ -n "${MXD_DEB:-}" ]; then
    cp "$MXD_DEB" "$tmp/mxdetour_prebuilt.deb" && pass "# SKIP the build: installing $MXD_DEB"
else
    build_deb "$top_srcdir" "$tmp"
    status=$?
    expect_eq "dpkg-buildpackage builds the package" "$status" 0
    [ "$status" = 0 ] || { show "$tmp/build.log" 40; echo "Bail out! no package"; exit 1; }
fi
deb=$(ls "$tmp"/mxdetour_*.deb | head -1)
# The same package with a higher version, for the upgrade.
dpkg-deb -R "$deb" "$tmp/bumped"
version=$(sed -n 's/^Version: //p' "$tmp/bumped/DEBIAN/control")
sed -i "s/^Version: .*/Version: $version+up1/" "$tmp/bumped/DEBIAN/control"
dpkg-deb --root-owner-group -b "$tmp/bumped" "$tmp/bumped.deb" >/dev/null

# ---- Debian's default Postfix ("Internet Site") -----------------------------
(
    set -e
    cd /etc/postfix
    cp /usr/share/postfix/master.cf.dist master.cf
    cp /usr/share/postfix/main.cf.debian main.cf
    [ -f /etc/ssl/private/ssl-cert-snakeoil.key ] && cat /usr/share/postfix/main.cf.tls >>main.cf
    fqdn=$(hostname --fqdn 2>/dev/null || hostname)
    # What postfix.postinst sets with debconf's defaults for "Internet Site".
    postconf -e "smtpd_relay_restrictions=permit_mynetworks permit_sasl_authenticated defer_unauth_destination" \
        "myhostname=$fqdn" "alias_maps=hash:/etc/aliases" "alias_database=hash:/etc/aliases" \
        "myorigin=/etc/mailname" "mydestination=\$myhostname, $fqdn, localhost.localdomain, localhost" \
        "relayhost=" "mynetworks=127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128" \
        "mailbox_size_limit=0" "recipient_delimiter=+" "inet_interfaces=all" "inet_protocols=all"
    [ -n "$acd_before" ] && postconf -e "alternate_config_directories = $acd_before"
    [ -f /etc/mailname ] || echo "$fqdn" >/etc/mailname
    newaliases
) >"$tmp/debconf.log" 2>&1
expect_eq "Postfix has Debian's \"Internet Site\" configuration" "$?" 0
expect_eq "... smtpd runs chrooted (master.cf: smtp inet ... chroot y)" \
    "$(postconf -Fh smtp/inet/chroot cleanup/unix/chroot)" "y
y"
adduser --system --quiet --no-create-home "$luser" >/dev/null 2>&1

# Postfix starts as Debian's unit starts it (configure-instance.sh, then
# postfix start).  No rsyslog here: it logs nowhere until the doc's step
# postfix-log below.
rm -f "$log"
/usr/lib/postfix/configure-instance.sh - >"$tmp/postfix-start.log" 2>&1
postfix start >>"$tmp/postfix-start.log" 2>&1
if wait_for 10 postfix status; then pass "Debian's Postfix starts"
else fail "Debian's Postfix starts"; show "$tmp/postfix-start.log"; fi
local_mail_flows "before mxdetour"

# Redis and the relay.
rport=$(free_port)
redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no --dir "$tmp" \
    >"$tmp/redis.log" 2>&1 &
redis_pid=$!
sport=$(free_port)
mkdir "$tmp/sink" && chown nobody "$tmp/sink"
smtp-sink -u nobody -h relay-out.test -d "$tmp/sink/%H%M%S." "127.0.0.1:$sport" 10 >"$tmp/sink.log" 2>&1 &
sink_pid=$!
wait_for 10 redis-cli -p "$rport" ping >/dev/null

# ---- install and wire it in, as docs/operations.md says ----------------------
dpkg -i "$deb" >"$tmp/install.log" 2>&1
status=$?
expect_eq "dpkg -i installs it" "$status" 0
[ "$status" = 0 ] || { show "$tmp/install.log"; echo "Bail out! not installed"; exit 1; }
expect_eq "the milter directory /var/spool/postfix/mxdetour is mxdetour:postfix 750" \
    "$(stat -c '%U:%G %a' /var/spool/postfix/mxdetour 2>&1)" "mxdetour:postfix 750"
check "/etc/mxdetour/mxdetour.conf is there, unconfigured" grep -q '^unconfigured = ' /etc/mxdetour/mxdetour.conf
check "... and is not a conffile (no upgrade prompts for it)" \
    sh -c '! dpkg-query -W -f="\${Conffiles}" mxdetour | grep -q mxdetour.conf'
check "the annotated example is in the docs, and alerts.yml" \
    test -f /usr/share/doc/mxdetour/examples/mxdetour.conf -a -f /usr/share/doc/mxdetour/alerts.yml

# The administrator's own edits (site, relay, where Redis listens), then
# the doc's steps.
conf=/etc/mxdetour/mxdetour.conf
sed -i -e "s/^site = .*/site = \"debdef-$run\";/" \
    -e "s/^  port = 6379;/  port = $rport;/" \
    -e "s|smtp:\[relay.example.net\]:587|smtp:[127.0.0.1]:$sport|" "$conf"
for step in postfix-log postfix-logrotate configure; do
    if run_step "$step"; then pass "doc step $step runs"; else fail "doc step $step runs"; fi
done
check "... the configuration is valid now (mxdetourd -t)" /usr/sbin/mxdetourd -t

# "systemctl restart mxdetourd", as far as it goes here.
if start_daemon; then
    pass "mxdetourd starts with the unit's capabilities and the milter in the chroot"
    milter=yes
else
    fail "mxdetourd starts with the unit's capabilities and the milter in the chroot"
    show "$tmp/mxdetourd.log" 5
    stop_daemon
    echo "# going on with milter.socket commented out (main.cf still names the milter)"
    sed -i 's/^milter = /# milter = /' "$conf"
    milter=no
    start_daemon || { show "$tmp/mxdetourd.log"; echo "Bail out! mxdetourd does not start"; exit 1; }
fi
expect_eq "the milter socket is mxdetour:postfix 660" \
    "$(stat -c '%U:%G %a' /var/spool/postfix/mxdetour/milter.sock 2>&1)" "mxdetour:postfix 660"
dstatus=$(cat "/proc/$pid/status" 2>/dev/null)
expect_match "mxdetourd runs as mxdetour" "$dstatus" "Uid:[[:space:]]+$(id -u mxdetour)[[:space:]]"
expect_match "... with no capability left" "$dstatus" 'CapEff:[[:space:]]+0000000000000000'

/usr/sbin/mxdetourctl doctor >"$tmp/doctor.before" 2>&1
expect_eq "before main.cf names the table, mxdetourctl doctor says CRITICAL (exit 2)" "$?" 2
expect_match "... naming transport_maps" "$(cat "$tmp/doctor.before")" \
    "CRITICAL transport_maps: .*hash:/var/lib/mxdetour/transport"
if run_step main-cf; then pass "doc step main-cf runs (transport_maps, milter, postfix check, reload)"
else fail "doc step main-cf runs (transport_maps, milter, postfix check, reload)"; fi
expect_eq "... transport_maps names mxdetour's table only (Debian has no other)" \
    "$(postconf -h transport_maps)" "hash:/var/lib/mxdetour/transport"
run_step main-cf >/dev/null 2>&1
expect_eq "... and a second run of the step changes nothing" \
    "$(postconf -h transport_maps)" "hash:/var/lib/mxdetour/transport"
if run_step check; then pass "doc step check runs (mxdetourctl status, postmap, doctor)"
else fail "doc step check runs (mxdetourctl status, postmap, doctor)"; fi
sleep 1
local_mail_flows "wired in"

# ---- a detoured destination -------------------------------------------------
/usr/sbin/mxdetourctl block "$dom" --via relay-out --ttl 1h --reason "debian_default.sh" >"$tmp/block.out" 2>&1
expect_eq "mxdetourctl block $dom --via relay-out" "$?" 0
routed() { postmap -q "$dom" hash:/var/lib/mxdetour/transport >/dev/null 2>&1; }
if wait_for 30 routed; then pass "mxdetourd publishes the route"
else fail "mxdetourd publishes the route"; show "$tmp/mxdetourd.log"; fi
expect_eq "... to the relay" "$(postmap -q "$dom" hash:/var/lib/mxdetour/transport)" "smtp:[127.0.0.1]:$sport"
# No mail waits for it, so no reload: Postfix's own table check (within
# 10 s) brings the route in (docs/routing.md).
sleep 12
lines=$(wc -l <"$log")
tok=detour-$run
if send "u@$dom" "$tok"; then pass "a message to $dom is accepted"
else fail "a message to $dom is accepted"; show "$tmp/swaks.$tok" 8; fi
if wait_for 30 at_sink "$tok"; then pass "... and reaches the relay (smtp-sink)"
else fail "... and reaches the relay (smtp-sink)"; grep "$dom" "$log" | tail -5 | sed 's/^/#   /'; fi
# A local submission (sendmail, pickup, cleanup with non_smtpd_milters).
tok=sendmail-$run
printf 'Subject: %s\n\n%s\n' "$tok" "mxdetour debian_default" | /usr/sbin/sendmail "$luser@localhost"
if wait_for 20 sent_locally "$tok"; then pass "a local submission (sendmail) is delivered to the mailbox"
else fail "a local submission (sendmail) is delivered to the mailbox"; fi
milter_warn=$(tail -n +"$((lines + 1))" "$log" | grep -E 'warning: .*[Mm]ilter' | head -3)
expect_eq "chrooted smtpd and cleanup reached the milter: no milter warning in the log" \
    "$milter_warn" ""

# Postfix's log after a rotation by the doc's job: the daemon reads on.
echo "# Postfix's log before the rotation: $(stat -c '%U:%G %a' "$log")"
/etc/cron.daily/postfix-logrotate >"$tmp/logrotate.out" 2>&1
expect_eq "the doc's rotation job (postfix logrotate) runs" "$?" 0
check "... and rotates the log" sh -c "ls $log.*-* >/dev/null 2>&1"
expect_eq "... the new log is root:adm 640, readable by mxdetour" \
    "$(stat -c '%U:%G %a' "$log"; su -s /bin/sh -c "head -c0 $log && echo readable" mxdetour 2>&1)" \
    "root:adm 640
readable"
tok=rotated-$run
send "u@$dom" "$tok"
if wait_for 30 at_sink "$tok"; then pass "after the rotation a detoured message still reaches the relay"
else fail "after the rotation a detoured message still reaches the relay"; fi
check "... and mxdetourd gave no warning about the log" sh -c "! grep -q 'warning: log $log' $tmp/mxdetourd.log"

# ---- upgrade ----------------------------------------------------------------
cp "$conf" "$tmp/conf.before-upgrade"
dpkg -i "$tmp/bumped.deb" >"$tmp/upgrade.log" 2>&1
expect_eq "dpkg -i of version $version+up1 upgrades it" "$?" 0
show "$tmp/upgrade.log" 5
check "... without a prompt: the configuration is as the administrator left it" \
    cmp -s "$conf" "$tmp/conf.before-upgrade"
check "... no unconfigured line came back" sh -c "! grep -q '^unconfigured' $conf"
check "... the route table kept its route" routed
check "... mxdetourd still runs (without systemd the postinst says to restart it)" kill -0 "$pid"
stop_daemon
start_daemon
check "... and starts again from the new program" kill -0 "${pid:-0}"
local_mail_flows "upgraded"
tok=detour2-$run
send "u@$dom" "$tok"
if wait_for 30 at_sink "$tok"; then pass "upgraded: a detoured message still reaches the relay"
else fail "upgraded: a detoured message still reaches the relay"; fi

# ---- remove -----------------------------------------------------------------
dpid=$pid
sock_was=absent; [ -S /var/spool/postfix/mxdetour/milter.sock ] && sock_was=there
dpkg -r mxdetour >"$tmp/remove.log" 2>&1
expect_eq "dpkg -r removes it" "$?" 0
show "$tmp/remove.log" 6
stopped() { ! kill -0 "$dpid" 2>/dev/null; }
if wait_for 10 stopped; then pass "... and stops mxdetourd"; else fail "... and stops mxdetourd"; fi
wait "$dpid" 2>/dev/null; pid=
rm -rf /run/mxdetour
expect_eq "... the route table is empty (no detour stays in force)" \
    "$(postmap -s hash:/var/lib/mxdetour/transport 2>&1)" ""
check "... and says so" grep -q 'emptied the route table' "$tmp/remove.log"
check "... and says the milter named in main.cf is harmless with milter_default_action = accept" \
    grep -q 'milter_default_action = accept keeps mail flowing' "$tmp/remove.log"
sock_now=removed; [ -e /var/spool/postfix/mxdetour/milter.sock ] && sock_now=left
expect_eq "... and mxdetourd removed its milter socket at stop" "$sock_was, $sock_now" "there, removed"
sleep 1
local_mail_flows "removed"
tok=afterremove-$run
if send "u@$dom" "$tok"; then pass "removed: a message to the formerly detoured $dom is accepted (no 451)"
else fail "removed: a message to the formerly detoured $dom is accepted (no 451)"; show "$tmp/swaks.$tok" 8; fi

# ---- purge ------------------------------------------------------------------
dpkg -P mxdetour >"$tmp/purge.log" 2>&1
expect_eq "dpkg -P purges it" "$?" 0
show "$tmp/purge.log" 6
check "... keeps the empty table while main.cf names it" \
    test -f /var/lib/mxdetour/transport -a -f /var/lib/mxdetour/transport.db
check "... and says so in one line" grep -q 'kept the empty /var/lib/mxdetour/transport' "$tmp/purge.log"
expect_eq "... removes the rest of /var/lib/mxdetour, the milter directory and /etc/mxdetour" \
    "$(ls -A /var/lib/mxdetour | tr '\n' ' '; ls -d /var/spool/postfix/mxdetour /etc/mxdetour 2>/dev/null)" \
    "transport transport.db "
sleep 11    # trivial-rewrite re-reads its tables within 10 s
local_mail_flows "purged"

# ---- the doc's way out: unwire, then delete the table -----------------------
if run_step unwire; then pass "doc step unwire runs"; else fail "doc step unwire runs"; fi
expect_eq "... main.cf names neither the table nor the milter" \
    "$(postconf -h transport_maps smtpd_milters non_smtpd_milters | tr -d '\n')" ""
sleep 11
local_mail_flows "unwired"
echo "# whole test $(($(date +%s) - start))s"
tap_exit

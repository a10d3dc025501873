#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# deb.sh - the Debian package, end to end (TAP): builds mxdetour with
# dpkg-buildpackage from a copy of the tree in a temporary directory,
# checks it with lintian (no errors), installs it on this machine with
# dpkg -i, checks what it put in place (programs, man pages, conffiles,
# units, the system user, the state and milter directories), verifies the installed units
# with systemd-analyze, runs the unit's ExecStart on the shipped
# configuration (refused: "edit /etc/mxdetour/mxdetour.conf: ..."), then
# removes and purges it and checks that nothing it made is left and that
# Postfix's files did not change.
#
# Root only (it installs a package); tests/run-suite.sh runs it once per CI
# run, as a stage of its own, not under `make check`.  By hand, as root:
#   sh tests/packaging/deb.sh
# MXD_DEB_KEEP=1 keeps the build directory (its path is printed).
# The system user mxdetour stays after a purge, as Debian does; the test
# deletes it again when it did not exist before the test.
set -u
top_srcdir=$(cd "${top_srcdir:-$(dirname "$0")/../..}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/packaging/build_deb.sh"

if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP not root: the test installs a package"; exit 0
fi
for tool in dpkg-buildpackage lintian systemd-analyze fakeroot dh; do
    command -v "$tool" >/dev/null 2>&1 || { echo "1..0 # SKIP $tool is not installed"; exit 0; }
done
# One package test at a time (debian_default.sh takes the same lock).
exec 9>/run/lock/mxdetour-package.lock
flock -w 900 9 || { echo "Bail out! another package test holds /run/lock/mxdetour-package.lock"; exit 1; }
if dpkg-query -W -f='${Status}' mxdetour 2>/dev/null | grep -q installed; then
    echo "Bail out! the package mxdetour is installed already; remove it first (dpkg -P mxdetour)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-deb.XXXXXX") || exit 1
user_before=no
getent passwd mxdetour >/dev/null && user_before=yes
group_before=no
getent group mxdetour >/dev/null && group_before=yes
teardown() {
    if dpkg-query -W -f='${Status}' mxdetour 2>/dev/null | grep -q 'ok'; then
        dpkg -P mxdetour >/dev/null 2>&1
    fi
    if [ "$user_before" = no ] && getent passwd mxdetour >/dev/null; then
        deluser --quiet --system mxdetour >/dev/null 2>&1
    fi
    if [ "$group_before" = no ] && getent group mxdetour >/dev/null; then
        delgroup --quiet --system mxdetour >/dev/null 2>&1
    fi
    if [ "${MXD_DEB_KEEP:-}" = 1 ]; then echo "# kept $tmp"; else rm -rf "$tmp"; fi
}
trap teardown EXIT
trap 'exit 1' HUP INT TERM

# Shows a file's tail as TAP comments (after a failure).
show() { [ -s "$1" ] && tail -"${2:-30}" "$1" | sed 's/^/#   /'; return 0; }
# Checksums of Postfix's configuration files, to compare after the purge.
# main.cf without alternate_config_directories: the test bed of the e2e
# tests (tests/e2e/lib/bed.sh) adds its private instances there, and may
# run beside this test on a developer's machine.
postfix_sums() {
    find /etc/postfix -type f ! -name main.cf -exec sha256sum {} + 2>/dev/null | sort
    grep -v '^alternate_config_directories' /etc/postfix/main.cf | sha256sum
}

plan 52
start=$(date +%s)

# ---- build ----------------------------------------------------------------
build_deb "$top_srcdir" "$tmp"
status=$?
expect_eq "dpkg-buildpackage -us -uc -b succeeds" "$status" 0
[ "$status" = 0 ] || show "$tmp/build.log" 40
deb=$(ls "$tmp"/mxdetour_*.deb 2>/dev/null | head -1)
changes=$(ls "$tmp"/mxdetour_*.changes 2>/dev/null | head -1)
check "... and makes mxdetour_VERSION_ARCH.deb beside the tree" test -f "$deb"
build_secs=$(($(date +%s) - start))

lintian --fail-on error --info --display-info "$changes" >"$tmp/lintian.out" 2>&1
status=$?
expect_eq "lintian finds no error" "$status" 0
sed 's/^/# lintian: /' "$tmp/lintian.out"
unexplained=$(grep -E '^[EW]: ' "$tmp/lintian.out" | wc -l | tr -d ' ')
expect_eq "... and no warning without an override that explains it" "$unexplained" 0

if [ ! -f "$deb" ]; then
    echo "Bail out! no package to install"; exit 1
fi

# ---- install ----------------------------------------------------------------
postfix_sums >"$tmp/postfix.before"
dpkg -i "$deb" >"$tmp/install.log" 2>&1
status=$?
expect_eq "dpkg -i installs it" "$status" 0
[ "$status" = 0 ] || show "$tmp/install.log"

check "/usr/sbin/mxdetourd is installed and runs" /usr/sbin/mxdetourd -h
check "/usr/sbin/mxdetourctl is installed" test -x /usr/sbin/mxdetourctl
missing=""
for m in man8/mxdetourd.8 man8/mxdetourctl.8 man5/mxdetour.conf.5; do
    [ -f "/usr/share/man/$m.gz" ] || missing="$missing $m"
done
expect_eq "the man pages are installed" "$missing" ""
conffiles=$(dpkg-query -W -f='${Conffiles}\n' mxdetour | awk 'NF {print $1}' | sort | tr '\n' ' ')
expect_eq "the feed settings are the only conffile (mxdetour.conf is made by the postinst)" \
    "$conffiles" "/etc/default/mxdetour-feed "
expect_match "the postinst made the short configuration, behind the \"unconfigured\" line" \
    "$(grep -c -e '^unconfigured = ' -e '^site = ' /etc/mxdetour/mxdetour.conf)" '^2$'
check "... from /usr/share/mxdetour/mxdetour.conf" cmp /usr/share/mxdetour/mxdetour.conf /etc/mxdetour/mxdetour.conf
check "the annotated example and alerts.yml are in the docs" \
    test -f /usr/share/doc/mxdetour/examples/mxdetour.conf -a -f /usr/share/doc/mxdetour/alerts.yml
check "the example configuration and Postfix snippets are in the docs" \
    test -f /usr/share/doc/mxdetour/examples/main.cf.mxdetour
check "docs/operations.md is in the docs" \
    sh -c 'ls /usr/share/doc/mxdetour/operations.md* >/dev/null'
missing=""
for u in mxdetourd.service mxdetour-feed.service mxdetour-feed.timer; do
    [ -f "/lib/systemd/system/$u" ] || missing="$missing $u"
done
expect_eq "the units are in /lib/systemd/system" "$missing" ""
check "the feed download script is installed" test -x /usr/libexec/mxdetour/mxdetour-feed-download
check "the root helper is installed as /usr/libexec/mxdetour/mxdetour-helper" \
    test -x /usr/libexec/mxdetour/mxdetour-helper
check "... and that is where the installed mxdetourd looks for it" \
    sh -c 'grep -qa "/usr/libexec/mxdetour/mxdetour-helper" /usr/sbin/mxdetourd'
check "/etc/default/mxdetour-feed sets no URL: the timer downloads nothing" \
    sh -c '! grep -q "^FEED_URL=" /etc/default/mxdetour-feed'

# The user.
check "the system user mxdetour exists" getent passwd mxdetour
uid=$(id -u mxdetour 2>/dev/null || echo 99999)
check "... with a system uid (< 1000)" test "$uid" -lt 1000
expect_eq "... no login shell" "$(getent passwd mxdetour | cut -d: -f7)" /usr/sbin/nologin
if getent group postfix >/dev/null && [ "$user_before" = no ]; then
    expect_eq "... its group is postfix (the milter socket is the group's)" \
        "$(id -gn mxdetour)" postfix
else
    pass "# SKIP its group: no postfix group, or the user existed before the test"
fi
groups=" $(id -Gn mxdetour) "
expect_match "... in adm (mail.log) and postdrop (postqueue under NoNewPrivileges)" \
    "$groups" ' adm .*postdrop |postdrop .*adm '
expect_eq "/var/lib/mxdetour belongs to mxdetour" "$(stat -c %U /var/lib/mxdetour 2>&1)" mxdetour
expect_eq "... and /var/lib/mxdetour/feeds too" "$(stat -c %U /var/lib/mxdetour/feeds 2>&1)" mxdetour
if [ -d /var/spool/postfix ]; then
    expect_eq "the milter directory /var/spool/postfix/mxdetour is mxdetour:postfix 750" \
        "$(stat -c '%U:%G %a' /var/spool/postfix/mxdetour 2>&1)" "mxdetour:postfix 750"
else
    fail "no /var/spool/postfix: the package depends on postfix"
fi
check "an empty route table exists for transport_maps" test -f /var/lib/mxdetour/transport.db
if dpkg-query -W -f='${Status}' postfix 2>/dev/null | grep -q installed; then
    check "the postinst starts no mxdetourd, enables it" \
        sh -c 'grep -q "deb-systemd-helper enable .mxdetourd.service" /var/lib/dpkg/info/mxdetour.postinst &&
               ! grep -q "deb-systemd-invoke \$_dh_action .mxdetourd.service" /var/lib/dpkg/info/mxdetour.postinst &&
               ! grep -q "deb-systemd-invoke start .mxdetourd.service" /var/lib/dpkg/info/mxdetour.postinst'
    check "... restarts a running one after an upgrade; the prerm stops it at removal" \
        sh -c 'grep -q "deb-systemd-invoke try-restart mxdetourd.service" /var/lib/dpkg/info/mxdetour.postinst &&
               grep -q "deb-systemd-invoke stop mxdetourd.service" /var/lib/dpkg/info/mxdetour.prerm'
else
    fail "postfix is not installed: the package depends on it"
fi

# Again, as an upgrade would: the postinst runs a second time, and an edited
# conffile is the administrator's.
echo "# edited by deb.sh" >>/etc/mxdetour/mxdetour.conf
dpkg -i "$deb" >"$tmp/reinstall.log" 2>&1 </dev/null
status=$?
expect_eq "installing it again succeeds (the postinst runs twice)" "$status" 0
[ "$status" = 0 ] || show "$tmp/reinstall.log"
expect_eq "... and keeps the edited configuration" "$(tail -1 /etc/mxdetour/mxdetour.conf)" \
    "# edited by deb.sh"

# The units, as installed.
systemd-analyze verify /lib/systemd/system/mxdetourd.service \
    /lib/systemd/system/mxdetour-feed.service /lib/systemd/system/mxdetour-feed.timer \
    >"$tmp/verify.out" 2>&1
status=$?
expect_eq "systemd-analyze verify accepts the installed units" "$status" 0
[ "$status" = 0 ] || show "$tmp/verify.out"
systemd-analyze security --offline=true --no-pager /lib/systemd/system/mxdetourd.service \
    >"$tmp/security.out" 2>&1
score=$(sed -n 's/.*Overall exposure level for mxdetourd.service: \([0-9.]*\).*/\1/p' "$tmp/security.out")
echo "# systemd-analyze security: exposure $score"
expect_match "systemd-analyze security rates mxdetourd.service OK (exposure below 3.0)" \
    "$score" '^[0-2]\.[0-9]$'
[ -n "$score" ] || show "$tmp/security.out"

# The daemon refuses the shipped configuration, as the unit runs it.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/mxdetourd.service)
# shellcheck disable=SC2086
$exec_start -p "$tmp/mxdetourd.pid" >"$tmp/out" 2>"$tmp/err"
expect_eq "the unit's ExecStart ($exec_start) exits 1 on the shipped configuration" "$?" 1
# (without /dev/log, as in a container, a line saying so comes first)
expect_match "... saying what to edit" "$(grep -v 'no syslog socket' "$tmp/err" | head -1)" \
    '^/etc/mxdetour/mxdetour.conf:[0-9]+: edit /etc/mxdetour/mxdetour.conf: set site, '
/usr/sbin/mxdetourd -t >"$tmp/out" 2>"$tmp/err"
expect_eq "mxdetourd -t (the unit's reload check) refuses it too" "$?" 1
check "nothing runs /usr/sbin/mxdetourd" sh -c '! pgrep -f "^/usr/sbin/mxdetourd" >/dev/null'

# ---- remove ----------------------------------------------------------------
dpkg -r mxdetour >"$tmp/remove.log" 2>&1
expect_eq "dpkg -r removes it" "$?" 0
check "... the programs are gone" sh -c '! test -e /usr/sbin/mxdetourd && ! test -e /usr/sbin/mxdetourctl'
check "... the units are gone" sh -c '! ls /lib/systemd/system/mxdetour* >/dev/null 2>&1'
check "... the configuration stays until the purge" test -f /etc/mxdetour/mxdetour.conf
check "... and so does the state" test -d /var/lib/mxdetour

dpkg -P mxdetour >"$tmp/purge.log" 2>&1
expect_eq "dpkg -P purges it" "$?" 0
[ -s "$tmp/purge.log" ] && show "$tmp/purge.log"
check "... /etc/mxdetour is gone" test ! -e /etc/mxdetour
check "... /etc/default/mxdetour-feed is gone" test ! -e /etc/default/mxdetour-feed
check "... /var/lib/mxdetour is gone (main.cf does not name its table)" test ! -e /var/lib/mxdetour
check "... /var/spool/postfix/mxdetour is gone" test ! -e /var/spool/postfix/mxdetour
left=$(find /usr /lib /etc /var/lib -xdev \( -name '*mxdetour*' -o -name 'mxdetour-feed*' \) \
       -not -path '/var/lib/dpkg/*' 2>/dev/null | grep -v "^$top_srcdir" | head -5)
expect_eq "... no file named mxdetour is left in /usr, /lib, /etc, /var/lib" "$left" ""
check "... dpkg forgot it" sh -c '! dpkg-query -W mxdetour >/dev/null 2>&1'
check "... the system user stays (Debian practice; the test removes it if it made it)" \
    getent passwd mxdetour
postfix_sums >"$tmp/postfix.after"
if cmp -s "$tmp/postfix.before" "$tmp/postfix.after"; then
    pass "Postfix's files in /etc/postfix are unchanged"
else
    fail "Postfix's files in /etc/postfix are unchanged"
    diff "$tmp/postfix.before" "$tmp/postfix.after" | sed 's/^/#   /'
fi
echo "# package build ${build_secs}s, whole test $(($(date +%s) - start))s"
tap_exit

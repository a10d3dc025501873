#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# unconfigured.sh - the configuration the Debian package installs
# (debian/unconfigured.conf in front of conf/mxdetour-site.conf, as
# debian/rules builds it) is refused, with one clear line, by `mxdetourd
# -t`, by the unit's ExecStart command line (conf/mxdetourd.service) and by
# mxdetourctl; the short file without that head is valid, and so is the
# annotated example.  TAP.
#
# By hand: top_builddir=BUILD top_srcdir=. sh tests/packaging/unconfigured.sh
set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-unconfigured.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

conf=$tmp/mxdetour.conf
cat "$top_srcdir/debian/unconfigured.conf" "$top_srcdir/conf/mxdetour-site.conf" >"$conf"
# The line of the setting, as the error must name it.
line=$(grep -n '^unconfigured = ' "$conf" | cut -d: -f1)
want="^$conf:$line: edit $conf: set site, .*then delete this line\$"

plan 12

"$top_builddir/mxdetourd" -t -c "$conf" >"$tmp/out" 2>"$tmp/err"
expect_eq "mxdetourd -t refuses the unedited file (exit status 1)" "$?" 1
expect_eq "... with exactly one error line" "$(wc -l <"$tmp/err" | tr -d ' ')" 1
expect_match "... that says which file to edit, and where" "$(cat "$tmp/err")" "$want"

# The unit's own command line, with this build's programs and the temp file.
exec_start=$(sed -n 's/^ExecStart=//p' "$top_srcdir/conf/mxdetourd.service")
expect_match "the unit runs mxdetourd in the foreground, logging to syslog" \
    "$exec_start" '^/usr/sbin/mxdetourd -f -s -c /etc/mxdetour/mxdetour.conf$'
set -- $(printf '%s\n' "$exec_start" | sed "s|^/usr/sbin/mxdetourd|$top_builddir/mxdetourd|; s|/etc/mxdetour/mxdetour.conf|$conf|")
"$@" -p "$tmp/mxdetourd.pid" >"$tmp/out" 2>"$tmp/err"
status=$?
expect_eq "the unit's ExecStart exits 1, which RestartPreventExitStatus does not retry" "$status" 1
grep -q '^RestartPreventExitStatus=1\b' "$top_srcdir/conf/mxdetourd.service"
expect_eq "... (the unit says RestartPreventExitStatus=1)" "$?" 0
expect_match "... and tells the journal (stderr) why" "$(grep -v 'no syslog socket' "$tmp/err" | head -1)" "$want"
check "... before taking a pid file" test ! -e "$tmp/mxdetourd.pid"

"$top_builddir/mxdetourctl" -c "$conf" status >"$tmp/out" 2>"$tmp/err"
expect_match "mxdetourctl refuses it too, with the same line" "$(cat "$tmp/err")" "$want"

{ echo 'unconfigured = true;'; cat "$top_srcdir/conf/mxdetour.conf"; } >"$tmp/bool.conf"
"$top_builddir/mxdetourd" -t -c "$tmp/bool.conf" >"$tmp/out" 2>"$tmp/err"
expect_match "unconfigured without a text is refused all the same" "$(cat "$tmp/err")" \
    "^$tmp/bool.conf:1: edit $tmp/bool.conf: it is an unedited example; delete the \"unconfigured\" line when done\$"

"$top_builddir/mxdetourd" -t -c "$top_srcdir/conf/mxdetour-site.conf" >"$tmp/out" 2>&1
expect_eq "the short file without the head is valid" "$?" 0
"$top_builddir/mxdetourd" -t -c "$top_srcdir/conf/mxdetour.conf" >"$tmp/out" 2>&1
expect_eq "the annotated example is valid" "$?" 0
tap_exit

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# unit_caps.sh - mxdetourd starts within the sandbox of conf/mxdetourd.service
# as far as it can be built without systemd (TAP): as root, with only the
# unit's CapabilityBoundingSet and with no_new_privs (setpriv), it opens the
# milter socket, gives it to the user with mode 0660 (made as the user in a
# directory of the user's own, as under Postfix's chroot, and removed at
# stop), drops to the user
# with no capability left, and stops cleanly.  Without CAP_CHOWN it cannot
# start: the set is not larger than needed, and the test can fail.  With
# routes.reload "auto" it executes the root helper (mxdetour-helper, through
# MXDETOUR_HELPER as make check sets it) under the same set: the helper is
# root with those capabilities and nothing more, the daemon is not, and the
# helper ends when the daemon does.
# The milter socket in a directory of the user's own (as the Debian package
# makes /var/spool/postfix/mxdetour for a chrooted smtpd): made under the
# user's ids, and removed at stop.
# (`postfix reload` under the same set is checked in docs/operations.md.)
#
# Root only.  By hand: top_builddir=BUILD top_srcdir=. sh tests/packaging/unit_caps.sh
set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"
MXD=$top_builddir/mxdetourd
unit=$top_srcdir/conf/mxdetourd.service

if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP not root"; exit 0; fi
command -v setpriv >/dev/null 2>&1 || { echo "1..0 # SKIP setpriv is not installed"; exit 0; }
getent passwd nobody >/dev/null || { echo "1..0 # SKIP no user nobody"; exit 0; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-caps.XXXXXX") || exit 1
pid=
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$tmp"
mkdir "$tmp/run" "$tmp/state"
chown nobody "$tmp/state"
conf=$tmp/mxdetour.conf
cat >"$conf" <<CONF
site = "caps";
user = "nobody";
pid_file = "$tmp/run/mxdetourd.pid";
state_dir = "$tmp/state";
routes = { table = "$tmp/state/transport"; reload = "never"; };
milter = { socket = "unix:$tmp/run/milter.sock"; };
CONF
chmod 644 "$conf"

# "CAP_SETUID CAP_CHOWN" -> "-all,+setuid,+chown", less the ones named in $1.
bounding() {
    set -- "${1:-}" $(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
    drop=$1; shift
    spec=-all
    for c in "$@"; do
        c=$(echo "${c#CAP_}" | tr 'A-Z' 'a-z')
        [ "$c" = "$drop" ] || spec="$spec,+$c"
    done
    echo "$spec"
}

plan 17
spec=$(bounding)
expect_match "the unit's bounding set is read ($spec)" "$spec" '^-all,\+setuid,\+setgid,\+chown'

setpriv --bounding-set "$spec" --no-new-privs "$MXD" -f -c "$conf" 2>"$tmp/log" &
pid=$!
if eventually grep -q "started: " "$tmp/log"; then pass "mxdetourd starts with only those capabilities"
else fail "mxdetourd starts with only those capabilities"; sed 's/^/#   /' "$tmp/log"; fi
expect_eq "the milter socket is the user's, mode 660" \
    "$(stat -c '%U %a' "$tmp/run/milter.sock" 2>&1)" "nobody 660"
status=$(cat "/proc/$pid/status" 2>/dev/null)
expect_match "it runs as the user" "$status" "Uid:[[:space:]]+$(id -u nobody)[[:space:]]"
expect_match "... with no capability left" "$status" 'CapEff:[[:space:]]+0000000000000000'
expect_match "... and no_new_privs" "$status" 'NoNewPrivs:[[:space:]]+1'
kill -TERM "$pid"
wait "$pid"
expect_eq "TERM: exit status 0" "$?" 0
pid=

# The root helper, executed under the same sandbox.
sed 's/reload = "never"/reload = "auto"/' "$conf" >"$tmp/auto.conf"
printf '#!/bin/sh\nexit 0\n' >"$tmp/postfix" && chmod 755 "$tmp/postfix"
printf 'postfix = { postfix = "%s"; config_directory = "%s"; };\n' "$tmp/postfix" "$tmp" >>"$tmp/auto.conf"
rm -f "$tmp/run/"*
: >"$tmp/log"
setpriv --bounding-set "$spec" --no-new-privs "$MXD" -f -c "$tmp/auto.conf" 2>"$tmp/log" &
pid=$!
if eventually grep -q "started: " "$tmp/log"; then pass "with reload auto, mxdetourd starts with the helper"
else fail "with reload auto, mxdetourd starts with the helper"; sed 's/^/#   /' "$tmp/log"; fi
hpid=$(sed -n 's/.*privileged helper started, pid \([0-9]*\).*/\1/p' "$tmp/log" | tail -n 1)
expect_match "the helper is the program mxdetour-helper" \
    "$(tr '\0' ' ' <"/proc/${hpid:-0}/cmdline" 2>&1)" "^$MXDETOUR_HELPER -f -p $tmp/postfix -c $tmp "
hstatus=$(cat "/proc/${hpid:-0}/status" 2>/dev/null)
expect_match "... runs as root" "$hstatus" 'Uid:[[:space:]]+0[[:space:]]'
expect_match "... with no capability outside the unit's set" "$hstatus" \
    "CapBnd:[[:space:]]+$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)\$"
expect_match "... while mxdetourd itself runs as the user" "$(cat "/proc/$pid/status" 2>/dev/null)" \
    "Uid:[[:space:]]+$(id -u nobody)[[:space:]]"
kill -TERM "$pid"
wait "$pid"
pid=
ended=no
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -e "/proc/${hpid:-0}" ] || { ended=yes; break; }
    sleep 0.2
done
expect_eq "the helper ends with the daemon" "$ended" yes

# The milter socket as the Debian package places it for a chrooted smtpd:
# in a directory of the user's own, mode 0750 (the package's
# /var/spool/postfix/mxdetour, mxdetour:postfix).  Root without
# CAP_DAC_OVERRIDE may not even look in there, so the daemon must make the
# socket after it has become the user, and remove it at stop.
#: these need that change in mxdetourd.
mkdir "$tmp/spool"
chown nobody:"$(id -gn nobody)" "$tmp/spool" && chmod 750 "$tmp/spool"
sed "s|unix:$tmp/run/milter.sock|unix:$tmp/spool/milter.sock|" "$conf" >"$tmp/spool.conf"
rm -f "$tmp/run/"*
: >"$tmp/log"
setpriv --bounding-set "$spec" --no-new-privs "$MXD" -f -c "$tmp/spool.conf" 2>"$tmp/log" &
pid=$!
if eventually grep -q "started: " "$tmp/log"; then
    pass "with the socket in the user's 0750 directory, mxdetourd starts"
else
    fail "with the socket in the user's 0750 directory, mxdetourd starts"
    sed 's/^/#   /' "$tmp/log"
fi
expect_eq "... the socket is the user's, mode 660" \
    "$(stat -c '%U %a' "$tmp/spool/milter.sock" 2>&1)" "nobody 660"
was=absent; [ -S "$tmp/spool/milter.sock" ] && was=there
kill -TERM "$pid" 2>/dev/null
wait "$pid"
pid=
now=removed; [ -e "$tmp/spool/milter.sock" ] && now=left
expect_eq "... and is removed at stop" "$was, $now" "there, removed"

rm -f "$tmp/run/"*
setpriv --bounding-set "$(bounding chown)" --no-new-privs "$MXD" -f -c "$conf" >"$tmp/out" 2>&1
expect_eq "without CAP_CHOWN it cannot give the socket away: not started (exit 3)" "$?" 3
tap_exit

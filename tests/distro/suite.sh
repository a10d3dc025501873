#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# suite.sh - the build and the suite inside another Debian release (TAP):
#   sh tests/distro/suite.sh [SUITE]        (default trixie, Debian 13)
# Makes or refreshes the root build/roots/SUITE (tests/distro/mkroot.sh;
# the first run downloads some 700 MB, later runs reuse it), copies the
# source tree into it, and runs there, in a chroot with /proc, /sys, /dev
# and a private /run mounted: README.md's build (autoreconf, configure
# --enable-werror, make), `make check` (every tier: unit, integration,
# e2e, milter, packaging, tree), and tests/packaging/deb.sh (the package
# built with dpkg-buildpackage, lintian, installed and purged in the root).
# Each test of `make check` is one TAP point, named "[SUITE] NAME"; a whole
# script that skipped is "ok # SKIP" with its reason.  Everything it
# mounted is unmounted and its copy of the tree removed in a trap; the
# root itself stays (it is the cache).  Root only.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
suite=${1:-trixie}
root=$top/build/roots/$suite
n=0 failed=0
point() {  # ok|not ok, name
    n=$((n + 1)); echo "$1 $n - $2"
    [ "$1" = ok ] || failed=$((failed + 1))
}
finish() { echo "1..$n"; exit $((failed > 0)); }

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP not root: the test makes a chroot"; exit 0; }
command -v debootstrap >/dev/null || { echo "Bail out! debootstrap is not installed (tests/deps.sh installs it)"; exit 1; }
t0=$(date +%s)
if sh "$top/tests/distro/mkroot.sh" "$suite" "$root" >"$top/build/roots/$suite.mkroot.out" 2>&1; then
    point ok "[$suite] root $root ready ($(($(date +%s) - t0))s)"
else
    tail -20 "$top/build/roots/$suite.mkroot.out" | sed 's/^/# /'
    point "not ok" "[$suite] root $root (see build/roots/$suite.mkroot.out)"; finish
fi

work=$(mktemp -d "$root/tmp/mxd-src.XXXXXX") || exit 1
inside=${work#"$root"}
mounted=""
cleanup() {
    for m in $mounted; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mnt() {  # type-or-bind, source, target below root
    mountpoint -q "$root/$3" && return 0
    mkdir -p "$root/$3"
    if [ "$1" = bind ]; then
        mount --rbind "$2" "$root/$3" && mount --make-rslave "$root/$3"
    else
        mount -t "$1" "$2" "$root/$3"
    fi || return 1
    mounted="$root/$3 $mounted"
}
mnt proc proc proc && mnt bind /sys sys && mnt bind /dev dev && mnt tmpfs tmpfs run \
    || { point "not ok" "[$suite] mounts for the chroot"; finish; }
mkdir -p "$root/run/lock" "$root/run/netns"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$top" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - --) | tar xf - -C "$work"
else
    (cd "$top" && tar cf - --exclude=./build --exclude='./build*' .) | tar xf - -C "$work"
fi
in_root() {  # command line, run by sh in the copy of the tree inside the root
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        TMPDIR=/tmp ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} sh -c "cd $inside && $1"
}
versions=$(in_root "gcc -dumpfullversion; dpkg-query -W -f='\${Package} \${Version}, ' libhiredis-dev postfix redis-server libnftables-dev systemd" 2>&1 | tr '\n' ' ')
echo "# $suite: gcc $versions"

# README.md's build, as it says (a build directory of its own here).
t0=$(date +%s)
if in_root "autoreconf -fi && mkdir -p b && cd b && ../configure -q --enable-werror && make -j2" >"$work.build.out" 2>&1; then
    point ok "[$suite] build: autoreconf, configure --enable-werror, make ($(($(date +%s) - t0))s; $(grep -h 'TLS to Redis' "$work/b/config.log" "$work.build.out" 2>/dev/null | sed 's/.*: //' | head -1 | sed 's/^/redis.tls /'))"
else
    tail -40 "$work.build.out" | sed 's/^/# /'
    point "not ok" "[$suite] build"; rm -f "$work.build.out"; finish
fi
rm -f "$work.build.out"

t0=$(date +%s)
logs=$top/build/roots/$suite-logs
rm -rf "$logs"
in_root "cd b && make -j2 check" >"$work/check.out" 2>&1
while IFS= read -r line; do
    case $line in
    PASS:*|XFAIL:*) point ok "[$suite] ${line#*: }" ;;
    SKIP:*) n=$((n + 1)); echo "ok $n - [$suite] ${line#*: } # SKIP $(f=$(echo "${line#*: }" | sed 's/ .*//'); sed -n 's/^1\.\.0 # SKIP //p' "$work/b/$f.log" 2>/dev/null | head -1)" ;;
    FAIL:*|XPASS:*|ERROR:*) point "not ok" "[$suite] ${line#*: }"
        f=$(echo "${line#*: }" | sed 's/ .*//')
        # Kept outside the copy (removed at exit) for a look afterwards.
        mkdir -p "$logs/$(dirname "$f")" && cp "$work/b/$f.log" "$logs/$f.log" 2>/dev/null ;;
    esac
done <<EOF_CHECK
$(grep -E '^(PASS|FAIL|XPASS|ERROR|XFAIL|SKIP):' "$work/check.out")
EOF_CHECK
grep -qE '^(PASS|FAIL|ERROR):' "$work/check.out" \
    || { tail -30 "$work/check.out" | sed 's/^/# /'; point "not ok" "[$suite] make check ran no test"; }
echo "# [$suite] make check took $(($(date +%s) - t0))s"
[ -d "$logs" ] && echo "# [$suite] the logs of the failed tests: $logs"

# The package: built, lintian, installed and purged inside the root.
t0=$(date +%s)
in_root "sh tests/packaging/deb.sh" >"$work/deb.out" 2>&1
if grep -q '^1\.\.0 # SKIP' "$work/deb.out"; then
    n=$((n + 1)); echo "ok $n - [$suite] tests/packaging/deb.sh # SKIP $(sed -n 's/^1\.\.0 # SKIP //p' "$work/deb.out")"
else
    while IFS= read -r line; do
        case $line in
        "ok "*) point ok "[$suite] deb.sh: $(echo "$line" | sed 's/^ok [0-9]* - //')" ;;
        "not ok "*) point "not ok" "[$suite] deb.sh: $(echo "$line" | sed 's/^not ok [0-9]* - //')" ;;
        esac
    done <<EOF_DEB
$(grep -E '^(ok|not ok) ' "$work/deb.out")
EOF_DEB
    grep -qE '^(not ok|Bail out)' "$work/deb.out" && grep -vE '^ok ' "$work/deb.out" | tail -40 | sed 's/^/# /'
    grep -q '^ok ' "$work/deb.out" || point "not ok" "[$suite] deb.sh ran no test"
fi
grep -E '^# (systemd-analyze security|package build)' "$work/deb.out" | sed "s/^# /# [$suite] /"
echo "# [$suite] package took $(($(date +%s) - t0))s"
finish

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/milter/run.sh - the milter's miltertest suite (TAP): one test point
# per tests/milter/*.lua script (lib.lua is their helper library).
#
# For each script: a fresh temporary directory, a copy of mxdetour.conf, and
# milter_harness (event loop + route view + milter, answers from
# answers.txt) listening on a Unix socket there; then miltertest runs the
# script against it, and the harness is stopped with SIGTERM.  A script
# fails when miltertest fails, when the harness does not stop within 10 s or
# exits non-zero (a sanitizer report included), or when a line it names is
# missing from the harness's log.  Script headers:
#
#   -- harness: OPTIONS      extra milter_harness options (-d, -w, -t, -T, -n)
#   -- expect-log: TEXT      TEXT must appear in the harness's stderr (-v)
#
# miltertest gets the globals sock, srcdir, conf and harness_pid (-D).
# Run by "make check", or by hand from the build directory:
#   top_srcdir=. top_builddir=. sh tests/milter/run.sh
# Needs miltertest (Debian package miltertest); skips without it.

set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
harness=$top_builddir/tests/milter/milter_harness
dir=$top_srcdir/tests/milter

if ! command -v miltertest >/dev/null 2>&1; then
    echo "1..0 # SKIP miltertest is not installed (Debian package miltertest)"
    exit 0
fi
if [ ! -x "$harness" ]; then
    echo "Bail out! $harness is not built (make check builds it)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-milter.XXXXXX") || exit 1
hpid=
cleanup() {
    [ -n "$hpid" ] && kill -KILL "$hpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# alive PID: the process runs (a zombie does not count)
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

scripts=
for f in "$dir"/*.lua; do
    [ "${f##*/}" = lib.lua ] || scripts="$scripts $f"
done
# shellcheck disable=SC2086 # the paths hold no blanks (tests/milter/*.lua)
set -- $scripts
echo "1..$#"
n=0 failed=0
for script in "$@"; do
    name=$(basename "$script" .lua)
    n=$((n + 1))
    run=$tmp/$name
    mkdir "$run"
    cp "$dir/mxdetour.conf" "$run/mxdetour.conf"
    opts=$(sed -n 's/^-- harness: *//p' "$script" | head -n 1)
    sock=$run/milter.sock
    # shellcheck disable=SC2086 # opts are words
    "$harness" -v -c "$run/mxdetour.conf" -a "$dir/answers.txt" -s "unix:$sock" $opts \
        2>"$run/harness.log" >/dev/null &
    hpid=$!
    i=0
    while [ ! -S "$sock" ] && [ $i -lt 100 ] && alive "$hpid"; do
        sleep 0.1
        i=$((i + 1))
    done

    why=
    if [ ! -S "$sock" ]; then
        why="the harness did not listen on $sock"
    elif ! miltertest -D "sock=unix:$sock" -D "srcdir=$top_srcdir" -D "conf=$run/mxdetour.conf" \
        -D "harness_pid=$hpid" -s "$script" >"$run/miltertest.out" 2>&1; then
        why="miltertest failed"
    fi

    kill -TERM "$hpid" 2>/dev/null
    i=0
    while alive "$hpid" && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ $i -ge 100 ]; then
        kill -KILL "$hpid" 2>/dev/null
        why=${why:-"the harness did not stop within 10 s of SIGTERM"}
    fi
    wait "$hpid"
    status=$?
    hpid=
    [ -z "$why" ] && [ "$status" -ne 0 ] && why="the harness exited with status $status"
    if [ -z "$why" ] && grep -qE 'Sanitizer|runtime error:' "$run/harness.log"; then
        why="sanitizer report"
    fi
    if [ -z "$why" ]; then
        sed -n 's/^-- expect-log: *//p' "$script" >"$run/expect"
        while IFS= read -r want; do
            grep -qF -- "$want" "$run/harness.log" || { why="harness log lacks: $want"; break; }
        done <"$run/expect"
    fi

    if [ -z "$why" ]; then
        echo "ok $n - $name"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name: $why"
        for f in miltertest.out harness.log; do
            [ -s "$run/$f" ] && sed "s|^|# $f: |" "$run/$f" | tail -n 40
        done
    fi
done
exit $((failed > 0))

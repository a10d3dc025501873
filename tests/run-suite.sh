#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite, as CI runs it (.ci/run):
#   1. install the Debian packages (tests/deps.sh),
#   2. build with -Werror in build/release and run `make check`,
#   3. build again with -fsanitize=address,undefined in build/asan and run
#      `make check` there too,
#   4. fuzz briefly, and build, install and purge the Debian package once,
#      and once more on Debian's default Postfix (package-debian),
# and end with one line "N passed, N failed, N skipped" over both runs.
# A skipped test is not a passed one: each is named; under CI=true (CI
# sets it) every skip is also a failure, since README.md promises that the
# whole suite runs there.
# Options: --no-deps (skip apt), --no-asan (one build only), -j N.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
deps=1 asan=1 jobs=2
while [ $# -gt 0 ]; do
    case "$1" in
    --no-deps) deps=0 ;;
    --no-asan) asan=0 ;;
    -j) shift; jobs=$1 ;;
    *) echo "usage: $0 [--no-deps] [--no-asan] [-j N]" >&2; exit 2 ;;
    esac
    shift
done

[ "$deps" = 1 ] && { sh "$top/tests/deps.sh" || exit 1; }
cd "$top" && autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed" >&2; autoreconf -fi; exit 1; }

passed=0 failed=0 skipped=0 skips=""
note_skip() {  # "[stage] what: why"
    skipped=$((skipped + 1)); skips="$skips
$1"
}
run_build() {  # name, extra configure flags
    name=$1; shift
    dir="$top/build/$name"
    echo "== $name build ($*)"
    mkdir -p "$dir"
    ( cd "$dir" && "$top/configure" -q --enable-werror "$@" >configure.out 2>&1 ) \
        || { cat "$dir/configure.out"; failed=$((failed + 1)); return; }
    ( cd "$dir" && make -s -j"$jobs" >make.out 2>&1 ) \
        || { tail -40 "$dir/make.out"; echo "not ok - $name build"; failed=$((failed + 1)); return; }
    ( cd "$dir" && make -s -j"$jobs" check >check.out 2>&1 )
    # One line per test case, from the TAP harness.
    grep -hE '^(PASS|FAIL|XPASS|ERROR|XFAIL|SKIP):' "$dir/check.out" | sed "s/^/[$name] /"
    p=$(grep -cE '^(PASS|XFAIL):' "$dir/check.out")
    f=$(grep -cE '^(FAIL|XPASS|ERROR):' "$dir/check.out")
    # Whole scripts that skipped (1..0 # SKIP), and TAP points marked SKIP.
    while IFS= read -r line; do
        [ -n "$line" ] && note_skip "[$name] ${line#SKIP: }"
    done <<EOF_SKIPS
$(grep -E '^SKIP:' "$dir/check.out")
EOF_SKIPS
    # Check cases that said SKIP_CASE read "ok": counted as skipped instead.
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        note_skip "[$name] $line"; p=$((p - 1))
    done <<EOF_CASES
$(find "$dir/tests" -name '*.log' -exec grep -H '^# SKIP case ' {} + 2>/dev/null | sed "s|^$dir/||; s|\.log:# SKIP case |: |")
EOF_CASES
    if [ "$f" -gt 0 ]; then
        for log in $(grep -lE '^(not ok|Bail out)' $(find "$dir/tests" -name '*.log') 2>/dev/null); do
            echo "---- $log"; tail -60 "$log"
        done
    fi
    passed=$((passed + p)) failed=$((failed + f))
}

run_build release
if [ "$asan" = 1 ]; then
    export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_build asan --enable-sanitizers
fi
# The parser's libFuzzer target, briefly (issue: fuzzing runs in CI).
fuzz_secs=${FUZZ_SECONDS:-20}
for target in tests/fuzz/run-fuzz.sh tests/fuzz/run-fuzz-postqueue.sh; do
    [ -f "$top/$target" ] || continue
    echo "== fuzz $target ${fuzz_secs}s"
    if sh "$top/$target" "$fuzz_secs" >"$top/build/fuzz.out" 2>&1; then
        echo "[fuzz] PASS: $target ${fuzz_secs}s without a crash"; passed=$((passed + 1))
    else
        tail -30 "$top/build/fuzz.out"; echo "[fuzz] FAIL: $target"; failed=$((failed + 1))
    fi
done

# The Debian package (issue 10): built from a copy of the tree, checked with
# lintian, installed, removed and purged, once per run (it builds everything
# again, so not in each build).  Root only; its TAP lines count like the rest.
if [ -f "$top/tests/packaging/deb.sh" ]; then
    echo "== package tests/packaging/deb.sh"
    t0=$(date +%s)
    sh "$top/tests/packaging/deb.sh" >"$top/build/package.out" 2>&1
    rc=$?
    grep -E '^(ok|not ok) ' "$top/build/package.out" | sed 's/^/[package] /'
    p=$(grep -cE '^ok ' "$top/build/package.out")
    f=$(grep -cE '^not ok ' "$top/build/package.out")
    planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$top/build/package.out" | head -1)
    if grep -q '^1\.\.0 # SKIP' "$top/build/package.out"; then
        echo "[package] SKIP: $(sed -n 's/^1\.\.0 # SKIP //p' "$top/build/package.out")"
        note_skip "[package] tests/packaging/deb.sh: $(sed -n 's/^1\.\.0 # SKIP //p' "$top/build/package.out")"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] || [ "${planned:-x}" != $((p + f)) ]; then
        tail -30 "$top/build/package.out"
        echo "[package] FAIL: tests/packaging/deb.sh (exit status $rc, $((p + f)) of ${planned:-?} planned)"
        f=$((f + 1))
    fi
    grep -E '^# (systemd-analyze security|package build)' "$top/build/package.out" | sed 's/^/[package] /'
    echo "[package] stage took $(($(date +%s) - t0))s"
    passed=$((passed + p)) failed=$((failed + f))
fi

# The package on Debian's default Postfix ("Internet Site", smtpd chrooted),
# wired in by the steps of docs/operations.md, then upgraded, removed and
# purged with mail flowing after each step.  Root only; builds the package
# again from a copy of the tree; restores /etc/postfix.
if [ -f "$top/tests/packaging/debian_default.sh" ]; then
    echo "== package-debian tests/packaging/debian_default.sh"
    t0=$(date +%s)
    sh "$top/tests/packaging/debian_default.sh" >"$top/build/package-debian.out" 2>&1
    rc=$?
    grep -E '^(ok|not ok) ' "$top/build/package-debian.out" | sed 's/^/[package-debian] /'
    p=$(grep -cE '^ok ' "$top/build/package-debian.out")
    f=$(grep -cE '^not ok ' "$top/build/package-debian.out")
    planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$top/build/package-debian.out" | head -1)
    if grep -q '^1\.\.0 # SKIP' "$top/build/package-debian.out"; then
        echo "[package-debian] SKIP: $(sed -n 's/^1\.\.0 # SKIP //p' "$top/build/package-debian.out")"
        note_skip "[package-debian] tests/packaging/debian_default.sh: $(sed -n 's/^1\.\.0 # SKIP //p' "$top/build/package-debian.out")"
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] || [ "${planned:-x}" != $((p + f)) ]; then
        tail -30 "$top/build/package-debian.out"
        echo "[package-debian] FAIL: tests/packaging/debian_default.sh (exit status $rc, $((p + f)) of ${planned:-?} planned)"
        f=$((f + 1))
    fi
    echo "[package-debian] stage took $(($(date +%s) - t0))s"
    passed=$((passed + p)) failed=$((failed + f))
fi

if [ "$skipped" -gt 0 ]; then
    echo "== skipped ($skipped):"
    echo "$skips" | sed '/^$/d; s/^/  SKIP /'
    if [ "${CI:-}" = true ]; then
        echo "CI: README.md promises every one of these runs; each skip counts as a failure"
        failed=$((failed + skipped))
    fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

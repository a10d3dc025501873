# SPDX-License-Identifier: GPL-2.0-or-later
# tap.sh - TAP helpers for shell tests: `ok COND-EXIT DESC` style.
# Usage: . tests/lib/tap.sh; plan N; check "desc" cmd args...; done_testing
tap_n=0
tap_failed=0
plan() { echo "1..$1"; }
pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $1"; }
# check DESC CMD...: passes when CMD exits 0.
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
# expect_eq DESC GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; printf '#   got:  %s\n#   want: %s\n' "$2" "$3"; fi
}
# expect_match DESC TEXT REGEX
expect_match() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then pass "$1"; else
        fail "$1"; printf '%s\n' "$2" | sed 's/^/#   /'; echo "#   wanted: $3"; fi
}
tap_exit() { exit $((tap_failed > 0)); }
# eventually CMD...: runs CMD every 0.1 s until it succeeds, 10 s at most.
eventually() {
    _ev_i=0
    while [ $_ev_i -lt 100 ]; do "$@" && return 0; sleep 0.1; _ev_i=$((_ev_i + 1)); done
    return 1
}

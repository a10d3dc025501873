#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# feed_download.sh - conf/mxdetour-feed-download (run by
# mxdetour-feed.service) replaces the feed file atomically when a download
# succeeds and mxdetourctl would load it, and leaves it untouched, with no
# temporary file behind, when the source is missing, too big, or a file
# mxdetourd would refuse.  Downloads are file:// URLs: no network.  TAP.
#
# By hand: top_builddir=BUILD top_srcdir=. sh tests/packaging/feed_download.sh
set -u
top_srcdir=$(cd "${top_srcdir:-.}" && pwd)
top_builddir=$(cd "${top_builddir:-.}" && pwd)
. "$top_srcdir/tests/lib/tap.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-feed-download.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if ! command -v curl >/dev/null 2>&1; then
    plan 1; pass "# SKIP curl is not installed"; tap_exit
fi
dl=$top_srcdir/conf/mxdetour-feed-download
sample=$top_srcdir/tests/data/feeds/sample-registry.csv
mkdir "$tmp/feeds" "$tmp/src"
export MXDETOURCTL="$top_builddir/mxdetourctl" FEED_FILE="$tmp/feeds/registry.csv"
run() { FEED_URL=$1 sh "$dl" >"$tmp/out" 2>"$tmp/err"; }
inode() { stat -c %i "$FEED_FILE"; }
leftovers() { find "$tmp/feeds" -name '*.download.*' | wc -l | tr -d ' '; }

plan 15

FEED_URL= sh "$dl" >"$tmp/out" 2>"$tmp/err"
expect_eq "no FEED_URL: exit status 2" "$?" 2
check "... and no file made" test ! -e "$FEED_FILE"

cp "$sample" "$tmp/src/good.csv"
run "file://$tmp/src/good.csv"
expect_eq "a good download succeeds" "$?" 0
check "... and is in place, byte for byte" cmp -s "$sample" "$FEED_FILE"
expect_eq "... readable by everyone (mode 644)" "$(stat -c %a "$FEED_FILE")" 644
expect_eq "... with no temporary file left" "$(leftovers)" 0
before=$(inode)

run "file://$tmp/src/missing.csv"
check "a missing source fails" test -s "$tmp/err"
expect_eq "... and leaves the file as it was (same inode)" "$(inode)" "$before"

head -c 100000 /dev/zero | tr '\0' 'x' >"$tmp/src/big.csv"
# 1000 bytes: rounded up to two 512-byte blocks of ulimit -f.
FEED_MAX_BYTES=1000 run "file://$tmp/src/big.csv"
status=$?
case $status in
23|63) pass "a file over FEED_MAX_BYTES is refused (curl exit $status)" ;;
*) fail "a file over FEED_MAX_BYTES is refused (curl exit $status, want 23 or 63)"; sed 's/^/#   /' "$tmp/err" ;;
esac
expect_eq "... and the file stays" "$(inode)" "$before"
expect_eq "... with no temporary file left" "$(leftovers)" 0

: >"$tmp/src/empty.csv"
run "file://$tmp/src/empty.csv"
expect_match "a file mxdetourd would refuse (empty) is not installed" "$(cat "$tmp/err")" \
    'would refuse this file; .* is unchanged'
check "... the old one still is, byte for byte" cmp -s "$sample" "$FEED_FILE"
expect_eq "... and no temporary file is left" "$(leftovers)" 0

sed 's/192\.0\.2\.25/192.0.2.99/' "$sample" >"$tmp/src/next.csv"
run "file://$tmp/src/next.csv"
after=$(inode)
if [ "$after" != "$before" ] && cmp -s "$tmp/src/next.csv" "$FEED_FILE"; then
    pass "a new version replaces the file by rename (a new inode)"
else
    fail "a new version replaces the file by rename (a new inode)"
fi
tap_exit

# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/e2e/lib/e2e.sh -- the common start of an end-to-end test: TAP
# helpers, a skip where the bed cannot run (not root, no Postfix), then the
# bed and mxdetourd libraries.  Source it first: . "$(dirname "$0")/lib/e2e.sh"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"
if [[ $(id -u) != 0 ]] || ! command -v postfix >/dev/null; then
    echo "1..0 # SKIP needs root and postfix"; exit 0
fi
. "$top_srcdir/tests/e2e/lib/bed.sh"
. "$top_srcdir/tests/e2e/lib/mxd.sh"

# route_is DOMAIN NEXTHOP SECONDS: polls mxdetour's published table
# ("" for no route).
route_is() {
    local i=0
    until [[ $(postmap -q "$1" "hash:$MXD_DIR/transport") == "$2" ]]; do
        ((i++ >= $3 * 10)) && return 1; sleep 0.1; done
}

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: the censored-network demo (tests/e2e/demo.sh) where this machine
# allows network namespaces (root), else the state-store demo below.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
export top_srcdir top_builddir
if [ "$(id -u)" = 0 ] && ip netns list >/dev/null 2>&1 && command -v postfix >/dev/null; then
    exec bash "$top_srcdir/tests/e2e/demo.sh"
fi
echo "(not root, or no network namespaces: showing the shared state only, on a private Redis;"
echo " a demo, not an installation: a real one starts at README.md, \"Installing\")"
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-demo.XXXXXX")
trap 'redis_stop; rm -rf "$tmp"' EXIT INT TERM
redis_start "$tmp"
cat >"$tmp/mxdetour.conf" <<CONF
site = "demo";
redis = { socket = "$REDIS_SOCK"; };
relays = ( { name = "relay-fi"; nexthop = "smtp:[relay.example.net]:587"; } );
destinations = ( { name = "proton"; domains = [ "protonmail.com", "pm.me" ]; relays = [ "relay-fi" ]; } );
CONF
ctl="$top_builddir/mxdetourctl -c $tmp/mxdetour.conf"
set -x
$ctl block protonmail.com --via relay-fi --ttl 1d --reason "registry entry 2020-04-14"
$ctl show protonmail.com
$ctl list
$ctl clear protonmail.com

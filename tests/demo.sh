#!/bin/sh
# make demo: what mxdetour does, shown on this machine.
# Foundation stage: a private Redis holds a site's shared state and
# mxdetourctl blocks, shows, lists and releases a destination, as an
# administrator would during a block.  (The censored-network demo with a real
# Postfix replaces this once the test bed lands: see docs/ and issue 5.)
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
. "$top_srcdir/tests/lib/redis.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-demo.XXXXXX")
trap 'redis_stop; rm -rf "$tmp"' EXIT INT TERM
say() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

redis_start "$tmp"
cat >"$tmp/mxdetour.conf" <<CONF
site = "demo";
redis = { socket = "$REDIS_SOCK"; };
relays = ( { name = "relay-fi"; nexthop = "smtp:[relay.example.net]:587"; } );
destinations = ( { name = "proton"; domains = [ "protonmail.com", "pm.me" ]; relays = [ "relay-fi" ]; } );
CONF
ctl="$top_builddir/mxdetourctl -c $tmp/mxdetour.conf"
say "A private Redis on $REDIS_SOCK holds the shared state of site 'demo'."
run "$top_builddir/mxdetourd" -t -c "$tmp/mxdetour.conf" 2>&1 || true
run $ctl status
say "The registry announces a block of ProtonMail: the administrator detours it for a day."
run $ctl block protonmail.com --via relay-fi --ttl 1d --reason "registry entry 2020-04-14"
say "Every MTA of the site now sees the route (Postfix would get this transport entry):"
run $ctl show protonmail.com
run $ctl --json show protonmail.com
run $ctl list
say "The block lifts: release it, and mail goes direct again."
run $ctl clear protonmail.com
run $ctl show protonmail.com || true
say "demo finished"

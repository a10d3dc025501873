#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/tree/helper_link.sh - the root helper, mxdetour-helper, carries only
# what it needs: libnftables and libmnl besides the C library, and none of
# the daemon's libraries (libevent, hiredis, libmilter, libconfig, c-ares)
# nor any of their symbols.  The process that keeps root never holds code
# that parses configuration, Redis replies, milter packets or DNS.  TAP.
set -u
bin=${top_builddir:-.}/mxdetour-helper
echo "1..2"
if ! command -v readelf >/dev/null 2>&1 || [ ! -x "$bin" ]; then
    echo "not ok 1 - $bin and readelf are here"; echo "not ok 2 - # not tried"; exit 1
fi
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
bad=$(echo "$needed" | tr ' ' '\n' | grep -E '^lib(event|hiredis|milter|config|cares)' | tr '\n' ' ')
if [ -z "$bad" ] && echo "$needed" | grep -q libnftables; then
    echo "ok 1 - it links only $needed"
else
    echo "not ok 1 - it links $needed (of the daemon's: ${bad:-none}; libnftables missing?)"
fi
syms=$(nm -D --undefined-only "$bin" 2>/dev/null; nm "$bin" 2>/dev/null)
hit=$(echo "$syms" | grep -E ' (event_base_|evtimer_|redis[A-Z]|smfi_|config_init|config_read|ares_|cfg_load|store_async_|routes_|engine_)' | head -5)
if [ -z "$hit" ]; then
    echo "ok 2 - no symbol of the event loop, Redis, the milter, the configuration or DNS"
else
    echo "not ok 2 - symbols of the daemon in the helper:"; echo "$hit" | sed 's/^/# /'
fi
[ -z "$bad" ] && [ -z "$hit" ]

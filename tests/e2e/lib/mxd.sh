# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/e2e/lib/mxd.sh -- run redis-server and mxdetourd inside the test
# bed's MTA namespace, wired to its private Postfix.  Source after bed.sh.
#
#   mxd_setup [EXTRA_CONFIG_TEXT]   writes $MXD_CONF, starts redis and mxdetourd,
#                                   points Postfix's transport_maps at the table
#   mxd_log                         the daemon's log ($BED_DIR/log/mxdetourd.log)
#   mxd_wait REGEX SECONDS          polls the daemon's log
#   mxd_ctl ARGS...                 mxdetourctl in the MTA namespace
#   mxd_kill [SIGNAL]               stops mxdetourd (default TERM)
#   mxd_start                       starts it again with the same configuration
#
# Tunables: MXD_THRESHOLD (2), MXD_COOLDOWN (15s), MXD_PROBE_TIMEOUT (3s),
# MXD_BIN (the build directory holding mxdetourd and mxdetourctl).

: "${MXD_BIN:=${top_builddir:-$(pwd)}}"
: "${MXD_THRESHOLD:=2}"
: "${MXD_COOLDOWN:=15s}"
: "${MXD_PROBE_TIMEOUT:=3s}"

mxd_setup() {
    local extra=${1:-}
    MXD_DIR=$BED_DIR/mxd
    MXD_CONF=$MXD_DIR/mxdetour.conf
    mkdir -p "$MXD_DIR"
    # An empty table first: Postfix must find it before mxdetourd writes one.
    : >"$MXD_DIR/transport"
    postmap "hash:$MXD_DIR/transport"
    cat >"$MXD_CONF" <<CONF
site = "bed";
state_dir = "$MXD_DIR";
pid_file = "$MXD_DIR/mxdetourd.pid";
redis = { socket = "$MXD_DIR/redis.sock"; };
logs = ( { file = "$BED_MAILLOG"; } );
postfix = { config_directory = "$BED_PF_DIR"; };
detection = { threshold = $MXD_THRESHOLD; window = "10m"; cooldown = "$MXD_COOLDOWN";
              cooldown_max = "1m"; probe_successes = 2; };
probe = { timeout = "$MXD_PROBE_TIMEOUT"; jitter = "0s"; ${MXD_PROBE_EXTRA:-} };
relays = (
  { name = "relay-out"; type = "smarthost"; nexthop = "smtp:[$BED_RELAY_ADDR]:25"; },
  { name = "relay-two"; type = "smarthost"; nexthop = "smtp:[198.19.0.3]:25"; }
);
destinations = (
  { name = "provider"; domains = [ "blocked.test", "pm.test", "custom.test" ];
    relays = [ "relay-out", "relay-two" ]; },
  { name = "rest"; domains = [ "*" ]; relays = [ "relay-out" ]; }
);
routes = { table = "$MXD_DIR/transport"; reload = "auto"; reload_interval = "2s"; };
$extra
CONF
    bed_bg mta redis redis-server --port 0 --unixsocket "$MXD_DIR/redis.sock" --dir "$MXD_DIR" \
        --save "" --appendonly no >/dev/null
    local i=0
    while [[ ! -S $MXD_DIR/redis.sock ]] && ((i++ < 50)); do sleep 0.1; done
    bed_postconf "transport_maps=hash:$MXD_DIR/transport"
    mxd_start
}

mxd_start() {
    bed_bg mta mxdetourd "$MXD_BIN/mxdetourd" -f -c "$MXD_CONF" >/dev/null
    mxd_wait 'connected to redis' 10
}

mxd_log() { echo "$BED_DIR/log/mxdetourd.log"; }

mxd_wait() {  # REGEX SECONDS
    local i=0
    while ! grep -Eq -- "$1" "$(mxd_log)" 2>/dev/null; do
        ((i++ >= $2 * 10)) && return 1
        sleep 0.1
    done
}

mxd_ctl() { bed_exec mta "$MXD_BIN/mxdetourctl" -c "$MXD_CONF" "$@"; }

mxd_kill() { bed_kill mxdetourd "${1:-TERM}"; }

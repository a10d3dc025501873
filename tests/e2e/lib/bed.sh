# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2119,SC2120
# tests/e2e/lib/bed.sh -- network test bed for mxdetour end-to-end tests.
#
# Source this file from a bash script run as root, then call bed_setup.
# Everything a run creates carries a per-run id, so runs in parallel never
# collide; bed_teardown (registered on EXIT INT TERM by bed_setup) removes
# it all again and is safe to call more than once.
#
#   . "$(dirname "$0")/lib/bed.sh"
#   bed_setup                       # namespaces, DNS, MX sinks, censor, Postfix
#   bed_send a@mta.test u1@blocked.test
#   bed_wait_log 'to=<u1@blocked.test>.*status=sent' 10
#   bed_censor "$BED_MX1_ADDR" drop
#
# Only addresses from 198.18.0.0/15 are used.
#
# Topology (namespace names are "$BED_ID-<role>", e.g. mxdAb3xYz-mta; the
# interface names below are the same in every run: each lives in its own
# namespace)
#
#   mta                         inet (router, "the internet")           mx
#  +--------------+  up0  mta0 +--------------------------+ mx0   up0 +--------------------------+
#  | private      |------------| CENSOR: nft table        |-----------| on lo:                   |
#  | Postfix      | .1.2  .1.1 | "inet censor" (forward), | .4.1 .4.2 | 198.18.0.2 mx1.blocked.test
#  | (tests add   |            | matches packets entering |           | 198.18.0.3 mx2.blocked.test
#  | redis,       |            | on mta0 only             |           | 198.18.0.4 mx.open.test  |
#  | mxdetourd)   |            |                          |           | 198.18.0.5-.254 free     |
#  |              |            | DNS: dnsmasq on lo,      |           +--------------------------+
#  |              |            |      198.19.53.53        | rly0  up0 +--------------------------+
#  |              |            |                          |-----------| relay, on lo:            |
#  |              |            |                          | .5.1 .5.2 | 198.19.0.2 relay.test    |
#  +--------------+            +--------------------------+           +--------------------------+
#     tnl0 | .2.2                   tx0 | .3.1
#          |  (veth standing in         |
#          |   for a tunnel)            |
#     tnl0 | .2.1                   up0 | .3.2
#         +-------------------------------+
#         | tx: tunnel exit; forwards and |
#         | masquerades to 198.18.3.2,    |
#         | routes replies for 198.18.1.0/24
#         | back into the tunnel          |
#         +-------------------------------+
#   (".1.2" = 198.18.1.2, all links are /24s)
#
#  mta: default route via 198.18.1.1 (up0, censored).  Routing table
#  $BED_TUN_TABLE (125) holds "default via 198.18.2.1 dev tnl0", and
#  "ip rule from 198.18.2.2 lookup 125" is installed, so a socket bound to
#  $BED_TUN_ADDR (smtp_bind_address) leaves through the tunnel.  For the
#  fwmark detour add: ip rule add fwmark 0x25 lookup $BED_TUN_TABLE (and an
#  nft "type route hook output" chain that sets the mark).
#  rp_filter in mta is 2 (loose) on all/up0/tnl0; with 1 (strict) the replies of
#  fwmark-detoured connections (they come back on tnl0) are dropped.
#  The censor only matches packets entering inet on mta0, so tunnel traffic
#  (entering from tx) is never censored.  The mta's resolv.conf points at
#  198.19.53.53 (/etc/netns/$BED_NS_MTA/resolv.conf); DNS goes over the
#  uplink, so bed_outage also breaks DNS.
#
# DNS (dnsmasq, --no-resolv --no-hosts, local=/test/ so unknown names are NXDOMAIN)
#   blocked.test, pm.test  MX 10 mx1.blocked.test, MX 20 mx2.blocked.test
#   custom.test            MX 10 mx1.blocked.test
#   open.test              MX 10 mx.open.test
#   dnsfail.test           SERVFAIL (upstream refused) -> Postfix "try again"
#   A: mx1.blocked.test 198.18.0.2, mx2.blocked.test 198.18.0.3,
#      mx.open.test 198.18.0.4, relay.test 198.19.0.2, mta.test 198.18.1.2
#   Queries are logged to $BED_DIR/dns/dnsmasq.log.
#
# SMTP sinks (smtp-sink, one dump file per received message)
#   mx1 198.18.0.2:25, mx2 198.18.0.3:25, open 198.18.0.4:25 (ns mx),
#   relay 198.19.0.2:25 (ns relay).  bed_sink_count NAME counts messages.
#
# Exported variables (after bed_setup)
#   BED_ID         run id, e.g. mxdAb3xYz (letters/digits, 9 chars)
#   BED_DIR        per-run temp dir (mode 755); deleted by teardown
#   BED_NS_MTA BED_NS_INET BED_NS_MX BED_NS_RELAY BED_NS_TX   namespace names
#   BED_MX1_ADDR=198.18.0.2 BED_MX2_ADDR=198.18.0.3 BED_OPEN_ADDR=198.18.0.4
#   BED_RELAY_ADDR=198.19.0.2 BED_DNS_ADDR=198.19.53.53
#   BED_MTA_ADDR=198.18.1.2 BED_MTA_IF=up0 BED_GW_ADDR=198.18.1.1 BED_CENSOR_IF=mta0
#   BED_TUN_IF=tnl0 BED_TUN_ADDR=198.18.2.2 BED_TUN_PEER=198.18.2.1 BED_TUN_TABLE=125
#   BED_TX_ADDR=198.18.3.2 (source address the MX hosts see for tunnelled mail)
#   BED_PF_DIR     Postfix config dir (main.cf, master.cf): postconf -c "$BED_PF_DIR"
#   BED_PF_QUEUE   Postfix queue directory
#   BED_MAILLOG    the instance's maillog file
#   BED_LOG_MARK   line number set by bed_log_mark (bed_wait_log looks after it)
#
# Tunables (set before bed_setup)
#   BED_CONNECT_TIMEOUT  smtp_connect_timeout (default 3s)
#   BED_SYSLOG_NAME      syslog_name of the instance (default postfix)
#   BED_NO_POSTFIX=1     do not start Postfix in bed_setup
#   BED_KEEP=1           teardown keeps BED_DIR (for debugging); namespaces still go
#   BED_VERBOSE=1        log bed actions to stderr
#   BED_REGISTRY         run registry for bed_gc (default /run/mxdbed)
#
# Notes
#   - bed_setup adds BED_PF_DIR to alternate_config_directories in
#     /etc/postfix/main.cf (under a flock) so that non-root postqueue/sendmail
#     work; teardown removes it again.
#   - The library is safe under set -e / set -u.  bash runs a trap only after the
#     current foreground command ends: avoid long foreground sleeps in tests
#     (use bed_wait_* polls) or SIGTERM cleanup waits for them.
#   - If you set your own EXIT trap after bed_setup, call bed_teardown from it.
#   - The instance's smtpd listens on 127.0.0.1:25 in the mta namespace only;
#     mynetworks = 127.0.0.0/8; mydestination = mta.test, localhost and local
#     mail (bounces to the senders) is discarded (local_transport = discard).
#
# Functions: see the "API" comments above each function below.  Short list:
#   bed_setup bed_teardown bed_ns bed_exec bed_bg bed_kill bed_addr_add
#   bed_censor bed_uncensor bed_censor_clear bed_censor_list bed_outage bed_tunnel_cut
#   bed_dns_add bed_dns_restart
#   bed_sink_start bed_fake_smtp bed_sink_stop bed_sink_dir bed_sink_count bed_sink_rcpts bed_wait_sink
#   bed_postfix_start bed_postfix_stop bed_postfix_reload bed_postfix_running bed_postfix bed_postconf
#   bed_send bed_send_bulk bed_maillog bed_log_mark bed_log_since bed_wait_log
#   bed_queue_json bed_queue_count bed_flush
#   bed_gc (removes leftovers of runs that were killed with SIGKILL)

[[ -n ${_BED_SH_LOADED:-} ]] && return 0
_BED_SH_LOADED=1
_BED_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

BED_MX1_ADDR=198.18.0.2
BED_MX2_ADDR=198.18.0.3
BED_OPEN_ADDR=198.18.0.4
BED_RELAY_ADDR=198.19.0.2
BED_DNS_ADDR=198.19.53.53
BED_MTA_ADDR=198.18.1.2
BED_MTA_IF=up0
BED_GW_ADDR=198.18.1.1
BED_CENSOR_IF=mta0
BED_TUN_IF=tnl0
BED_TUN_ADDR=198.18.2.2
BED_TUN_PEER=198.18.2.1
BED_TUN_TABLE=125
BED_TX_ADDR=198.18.3.2
BED_LOG_MARK=0
: "${BED_CONNECT_TIMEOUT:=3s}"
: "${BED_SYSLOG_NAME:=postfix}"
: "${BED_REGISTRY:=/run/mxdbed}"
export BED_MX1_ADDR BED_MX2_ADDR BED_OPEN_ADDR BED_RELAY_ADDR BED_DNS_ADDR \
    BED_MTA_ADDR BED_MTA_IF BED_GW_ADDR BED_CENSOR_IF BED_TUN_IF BED_TUN_ADDR \
    BED_TUN_PEER BED_TUN_TABLE BED_TX_ADDR

_bed_log() { [[ -n ${BED_VERBOSE:-} ]] && echo "bed: $*" >&2; return 0; }
_bed_err() { echo "bed: error: $*" >&2; }
_bed_now() { echo "${EPOCHREALTIME/,/.}"; }
# _bed_elapsed_lt START LIMIT: true while now - START < LIMIT (seconds, decimals ok)
_bed_elapsed_lt() { awk -v s="$1" -v l="$2" -v n="$(_bed_now)" 'BEGIN{exit !(n - s < l)}'; }

# API: bed_ns ROLE -> prints the namespace name of ROLE (mta inet mx relay tx)
bed_ns() {
    case $1 in
        mta) echo "$BED_NS_MTA" ;; inet) echo "$BED_NS_INET" ;; mx) echo "$BED_NS_MX" ;;
        relay) echo "$BED_NS_RELAY" ;; tx) echo "$BED_NS_TX" ;;
        *) _bed_err "unknown role '$1'"; return 1 ;;
    esac
}

# API: bed_exec ROLE CMD [ARGS...] -> runs CMD inside ROLE's namespace (foreground)
bed_exec() {
    local ns; ns=$(bed_ns "$1") || return 1; shift
    ip netns exec "$ns" "$@"
}

# API: bed_bg ROLE NAME CMD [ARGS...] -> starts CMD in ROLE's namespace in the
# background, stdout+stderr to $BED_DIR/log/NAME.log; prints the pid.
# Teardown kills it (and everything else in the namespaces).  ROLE "host"
# runs it in the root namespace (still killed by teardown).
bed_bg() {
    local role=$1 name=$2 ns pid; shift 2
    mkdir -p "$BED_DIR/log" "$BED_DIR/pids"
    if [[ $role == host ]]; then
        "$@" </dev/null >>"$BED_DIR/log/$name.log" 2>&1 &
    else
        ns=$(bed_ns "$role") || return 1
        ip netns exec "$ns" "$@" </dev/null >>"$BED_DIR/log/$name.log" 2>&1 &
    fi
    pid=$!
    echo "$pid" >"$BED_DIR/pids/$name"
    echo "$pid $(_bed_starttime "$pid")" >>"$BED_DIR/pids.all"
    _bed_log "started $name pid $pid: $*"
    echo "$pid"
}

# _bed_starttime PID: the process's start time (field 22 of /proc/PID/stat), to
# tell our process from a later one that reused its pid
_bed_starttime() {
    local st fields
    st=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
    read -ra fields <<<"${st##*) }"
    echo "${fields[19]:-0}"
}

# _bed_ours PID START: true if PID is alive and still the process we started
_bed_ours() { [[ $2 != 0 && $(_bed_starttime "$1") == "$2" ]]; }

# API: bed_kill NAME [SIGNAL] -> stops a process started with bed_bg NAME
bed_kill() {
    local f="$BED_DIR/pids/$1" pid i
    [[ -f $f ]] || return 0
    pid=$(<"$f")
    if [[ -f $BED_DIR/pids.all ]]; then
        sed -i "/^$pid /d" "$BED_DIR/pids.all"
    fi
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$f"
    return 0
}

_bed_role_of_addr() {
    case $1 in
        198.18.0.*) echo mx ;;
        198.19.0.*) echo relay ;;
        *) _bed_err "address $1 is not in a service range (198.18.0.0/24 mx, 198.19.0.0/24 relay)"; return 1 ;;
    esac
}

# API: bed_addr_add ADDR -> adds ADDR/32 to lo of the host that serves it
# (198.18.0.0/24 -> mx, 198.19.0.0/24 -> relay); the router already routes these ranges.
bed_addr_add() {
    local role; role=$(_bed_role_of_addr "$1") || return 1
    bed_exec "$role" ip addr replace "$1/32" dev lo
}

_bed_veth() { # NS1 IF1 ADDR1 NS2 IF2 ADDR2 (addresses with prefix)
    ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
    ip -n "$1" addr add "$3" dev "$2" && ip -n "$1" link set "$2" up &&
        ip -n "$4" addr add "$6" dev "$5" && ip -n "$4" link set "$5" up
}

_bed_netns_add() {
    ip netns add "$1" || return 1
    echo "$1" >>"$BED_DIR/netns"
    ip -n "$1" link set lo up
}

# Postfix reloads a table/config file whose mtime is not in the past
# (dict_load_file), costing 1-2 s per postconf call right after a change:
# backdate files we just wrote.
_bed_backdate() { touch -d "@$((EPOCHSECONDS - 2))" "$@" 2>/dev/null; return 0; }

_bed_register_pfdir() { # add|del DIR: alternate_config_directories in /etc/postfix/main.cf
    local op=$1 dir=$2 cur new d
    mkdir -p /run/lock
    (
        flock -w 20 9 || exit 1
        cur=$(postconf -h alternate_config_directories 2>/dev/null)
        new=""
        for d in ${cur//,/ }; do
            [[ $d == "$dir" ]] && continue
            # drop entries of bed runs whose directory is gone
            [[ $d == */mxdbed.*/postfix/etc && ! -d $d ]] && continue
            new+="${new:+ }$d"
        done
        [[ $op == add ]] && new+="${new:+ }$dir"
        if [[ $new != "$cur" ]]; then
            postconf -e "alternate_config_directories = $new"
            _bed_backdate /etc/postfix/main.cf
        fi
    ) 9>/run/lock/mxdbed-postfix-main.cf.lock
}

# API: bed_setup -> builds the whole bed (namespaces, routes, censor table,
# DNS, sinks, Postfix) and registers bed_teardown on EXIT INT TERM.
bed_setup() {
    if [[ $(id -u) != 0 ]]; then _bed_err "must run as root"; return 1; fi
    if [[ -n ${BED_DIR:-} && -d ${BED_DIR:-} ]]; then _bed_err "bed already set up ($BED_DIR)"; return 1; fi
    BED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mxdbed.XXXXXX") || return 1
    chmod 755 "$BED_DIR"
    BED_ID="mxd${BED_DIR##*.}"
    BED_OWNER_PID=$BASHPID
    BED_NS_MTA="$BED_ID-mta" BED_NS_INET="$BED_ID-inet" BED_NS_MX="$BED_ID-mx"
    BED_NS_RELAY="$BED_ID-relay" BED_NS_TX="$BED_ID-tx"
    BED_PF_DIR="$BED_DIR/postfix/etc" BED_PF_QUEUE="$BED_DIR/postfix/spool"
    BED_MAILLOG="$BED_DIR/postfix/maillog"
    BED_LOG_MARK=0
    export BED_DIR BED_ID BED_NS_MTA BED_NS_INET BED_NS_MX BED_NS_RELAY BED_NS_TX \
        BED_PF_DIR BED_PF_QUEUE BED_MAILLOG
    _BED_TORN_DOWN=""
    trap 'bed_teardown' EXIT
    trap 'bed_teardown; trap - INT; exit 130' INT
    trap 'bed_teardown; trap - TERM; exit 143' TERM
    mkdir -p "$BED_REGISTRY" && printf '%s %s\n' "$BED_OWNER_PID" "$BED_DIR" >"$BED_REGISTRY/$BED_ID"
    echo "$BED_OWNER_PID" >"$BED_DIR/owner"
    : >"$BED_DIR/netns"
    _bed_log "run $BED_ID in $BED_DIR"
    _bed_net_setup || { _bed_err "network setup failed"; return 1; }
    _bed_dns_setup || { _bed_err "dns setup failed"; return 1; }
    bed_sink_start mx1 "$BED_MX1_ADDR" -h mx1.blocked.test || return 1
    bed_sink_start mx2 "$BED_MX2_ADDR" -h mx2.blocked.test || return 1
    bed_sink_start open "$BED_OPEN_ADDR" -h mx.open.test || return 1
    bed_sink_start relay "$BED_RELAY_ADDR" -h relay.test || return 1
    _bed_postfix_init || { _bed_err "postfix init failed"; return 1; }
    if [[ -z ${BED_NO_POSTFIX:-} ]]; then
        bed_postfix_start || return 1
    fi
    return 0
}

_bed_net_setup() {
    local ns
    for ns in "$BED_NS_MTA" "$BED_NS_INET" "$BED_NS_MX" "$BED_NS_RELAY" "$BED_NS_TX"; do
        _bed_netns_add "$ns" || return 1
    done
    _bed_veth "$BED_NS_MTA" up0 198.18.1.2/24 "$BED_NS_INET" mta0 198.18.1.1/24 || return 1
    _bed_veth "$BED_NS_MTA" tnl0 198.18.2.2/24 "$BED_NS_TX" tnl0 198.18.2.1/24 || return 1
    _bed_veth "$BED_NS_TX" up0 198.18.3.2/24 "$BED_NS_INET" tx0 198.18.3.1/24 || return 1
    _bed_veth "$BED_NS_MX" up0 198.18.4.2/24 "$BED_NS_INET" mx0 198.18.4.1/24 || return 1
    _bed_veth "$BED_NS_RELAY" up0 198.18.5.2/24 "$BED_NS_INET" rly0 198.18.5.1/24 || return 1
    # mta
    ip -n "$BED_NS_MTA" route add default via 198.18.1.1 dev up0 || return 1
    ip -n "$BED_NS_MTA" route add default via "$BED_TUN_PEER" dev tnl0 table "$BED_TUN_TABLE" || return 1
    ip -n "$BED_NS_MTA" rule add from "$BED_TUN_ADDR" lookup "$BED_TUN_TABLE" pref 1000 || return 1
    ip netns exec "$BED_NS_MTA" sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.tnl0.rp_filter=2 \
        net.ipv4.conf.up0.rp_filter=2 || return 1
    mkdir -p "/etc/netns/$BED_NS_MTA" || return 1
    printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$BED_DNS_ADDR" >"/etc/netns/$BED_NS_MTA/resolv.conf"
    # router
    ip netns exec "$BED_NS_INET" sysctl -qw net.ipv4.ip_forward=1 || return 1
    ip -n "$BED_NS_INET" addr add "$BED_DNS_ADDR/32" dev lo || return 1
    ip -n "$BED_NS_INET" route add 198.18.0.0/24 via 198.18.4.2 dev mx0 || return 1
    ip -n "$BED_NS_INET" route add 198.19.0.0/24 via 198.18.5.2 dev rly0 || return 1
    ip netns exec "$BED_NS_INET" nft -f - <<'EOF' || return 1
table inet censor {
    set c_drop    { type ipv4_addr . inet_service; }
    set c_reset   { type ipv4_addr . inet_service; }
    set c_unreach { type ipv4_addr . inet_service; }
    chain forward {
        type filter hook forward priority filter; policy accept;
        iifname "mta0" ip daddr . tcp dport @c_drop drop
        iifname "mta0" ip daddr . tcp dport @c_reset reject with tcp reset
        iifname "mta0" ip daddr . tcp dport @c_unreach reject with icmp type host-unreachable
    }
    chain outage_fwd { type filter hook forward priority -10; policy accept; }
    chain outage_in  { type filter hook input priority -10; policy accept; }
}
EOF
    # tunnel exit
    ip -n "$BED_NS_TX" route add default via 198.18.3.1 dev up0 || return 1
    # like a real tunnel exit (WireGuard AllowedIPs), send replies for the mta's
    # own addresses back into the tunnel, even those of packets that entered it
    # with the uplink source address (fwmark detour)
    ip -n "$BED_NS_TX" route add 198.18.1.0/24 via "$BED_TUN_ADDR" dev tnl0 || return 1
    ip netns exec "$BED_NS_TX" sysctl -qw net.ipv4.ip_forward=1 || return 1
    ip netns exec "$BED_NS_TX" nft -f - <<'EOF' || return 1
table ip tx {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "up0" masquerade
    }
    chain cut { type filter hook forward priority filter; policy accept; }
}
EOF
    # destinations
    ip -n "$BED_NS_MX" route add default via 198.18.4.1 dev up0 || return 1
    ip -n "$BED_NS_RELAY" route add default via 198.18.5.1 dev up0 || return 1
    local a
    for a in "$BED_MX1_ADDR" "$BED_MX2_ADDR" "$BED_OPEN_ADDR"; do
        ip -n "$BED_NS_MX" addr add "$a/32" dev lo || return 1
    done
    ip -n "$BED_NS_RELAY" addr add "$BED_RELAY_ADDR/32" dev lo || return 1
    return 0
}

# ---------------------------------------------------------------- censor

_bed_check_mode() {
    case $1 in drop | reset | unreach) return 0 ;; esac
    _bed_err "censor mode must be drop, reset or unreach (got '$1')"
    return 1
}

# API: bed_censor ADDR MODE [PORT] -> from now on, TCP to ADDR:PORT (default
# 25) from the mta's uplink is dropped (MODE drop: "Connection timed out"),
# answered with a TCP reset (reset: "Connection refused") or with ICMP
# host-unreachable (unreach: "No route to host").  Replaces an earlier mode.
bed_censor() {
    local addr=$1 mode=$2 port=${3:-25} m
    _bed_check_mode "$mode" || return 1
    for m in drop reset unreach; do
        [[ $m == "$mode" ]] && continue
        ip netns exec "$BED_NS_INET" nft delete element inet censor "c_$m" "{ $addr . $port }" 2>/dev/null || true
    done
    ip netns exec "$BED_NS_INET" nft add element inet censor "c_$mode" "{ $addr . $port }"
}

# API: bed_uncensor ADDR [PORT] -> lifts any censoring of ADDR:PORT (default 25)
bed_uncensor() {
    local addr=$1 port=${2:-25} m
    for m in drop reset unreach; do
        ip netns exec "$BED_NS_INET" nft delete element inet censor "c_$m" "{ $addr . $port }" 2>/dev/null || true
    done
    return 0
}

# API: bed_censor_clear -> lifts every censor entry
bed_censor_clear() {
    local m
    for m in drop reset unreach; do
        ip netns exec "$BED_NS_INET" nft flush set inet censor "c_$m" || return 1
    done
}

# API: bed_censor_list -> prints "MODE ADDR PORT" lines for active entries
bed_censor_list() {
    local m
    for m in drop reset unreach; do
        ip netns exec "$BED_NS_INET" nft list set inet censor "c_$m" |
            tr -d '\n' | sed -n 's/.*elements = {\([^}]*\)}.*/\1/p' | tr ',' '\n' |
            awk -v m="$m" 'NF == 3 { print m, $1, $3 }'
    done
}

# API: bed_outage on|off -> simulates the mta's own uplink failing: every
# packet from the mta on up0 is dropped (DNS included), the tunnel still works.
bed_outage() {
    local x="ip netns exec $BED_NS_INET nft"
    $x flush chain inet censor outage_fwd && $x flush chain inet censor outage_in || return 1
    if [[ $1 == on ]]; then
        $x add rule inet censor outage_fwd iifname mta0 drop &&
            $x add rule inet censor outage_in iifname mta0 drop
    fi
}

# API: bed_tunnel_cut on|off -> the tunnel exit drops everything it would forward
bed_tunnel_cut() {
    local x="ip netns exec $BED_NS_TX nft"
    $x flush chain ip tx cut || return 1
    [[ $1 == on ]] && { $x add rule ip tx cut drop || return 1; }
    return 0
}

# ---------------------------------------------------------------- DNS

_bed_dns_setup() {
    mkdir -p "$BED_DIR/dns" || return 1
    chown dnsmasq "$BED_DIR/dns" 2>/dev/null || chown nobody "$BED_DIR/dns"
    cat >"$BED_DIR/dns/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=$BED_DNS_ADDR
port=53
pid-file=
log-queries
log-facility=$BED_DIR/dns/dnsmasq.log
local=/test/
local=/18.198.in-addr.arpa/
local=/19.198.in-addr.arpa/
server=/dnsfail.test/127.0.0.1#9
mx-host=blocked.test,mx1.blocked.test,10
mx-host=blocked.test,mx2.blocked.test,20
mx-host=pm.test,mx1.blocked.test,10
mx-host=pm.test,mx2.blocked.test,20
mx-host=custom.test,mx1.blocked.test,10
mx-host=open.test,mx.open.test,10
host-record=mx1.blocked.test,$BED_MX1_ADDR
host-record=mx2.blocked.test,$BED_MX2_ADDR
host-record=mx.open.test,$BED_OPEN_ADDR
host-record=relay.test,$BED_RELAY_ADDR
host-record=mta.test,$BED_MTA_ADDR
EOF
    : >"$BED_DIR/dns/extra.conf"
    bed_dns_restart
}

# API: bed_dns_restart -> (re)starts dnsmasq with dnsmasq.conf + extra.conf
bed_dns_restart() {
    bed_kill dnsmasq
    bed_bg inet dnsmasq dnsmasq --keep-in-foreground --conf-file="$BED_DIR/dns/dnsmasq.conf" \
        --conf-file="$BED_DIR/dns/extra.conf" >/dev/null || return 1
    local t0; t0=$(_bed_now)
    while _bed_elapsed_lt "$t0" 5; do
        ip netns exec "$BED_NS_INET" ss -Hlnu "src $BED_DNS_ADDR:53" 2>/dev/null | grep -q . && return 0
        sleep 0.05
    done
    _bed_err "dnsmasq did not start; see $BED_DIR/log/dnsmasq.log"
    cat "$BED_DIR/log/dnsmasq.log" >&2
    return 1
}

# API: bed_dns_add LINE... -> adds dnsmasq config lines and restarts dnsmasq, e.g.
#   bed_dns_add "mx-host=new.test,mx.new.test,10" "host-record=mx.new.test,198.18.0.20"
bed_dns_add() {
    printf '%s\n' "$@" >>"$BED_DIR/dns/extra.conf"
    bed_dns_restart
}

# ---------------------------------------------------------------- sinks

# API: bed_sink_start NAME ADDR[:PORT] [smtp-sink options...] -> starts
# smtp-sink on ADDR (port 25 by default) in the mx (198.18.0.x) or relay
# (198.19.0.x) namespace, adding the address if needed.  Each received
# message becomes one file in $(bed_sink_dir NAME).  Extra options go to
# smtp-sink, e.g. -h NAME, -r RCPT -b "450 4.7.1 Greylisted" (see smtp-sink(1)).
bed_sink_start() {
    local name=$1 hp=$2 addr port role dir t0; shift 2
    addr=${hp%%:*}; port=25; [[ $hp == *:* ]] && port=${hp##*:}
    role=$(_bed_role_of_addr "$addr") || return 1
    bed_addr_add "$addr" || return 1
    dir="$BED_DIR/sink/$name"
    mkdir -p "$dir" && chown nobody "$dir" || return 1
    bed_bg "$role" "sink-$name" smtp-sink -u nobody -d "$dir/%Y%m%d%H%M%S." "$@" "$addr:$port" 64 >/dev/null || return 1
    t0=$(_bed_now)
    while _bed_elapsed_lt "$t0" 5; do
        bed_exec "$role" ss -Hltn "src $addr:$port" 2>/dev/null | grep -q LISTEN && return 0
        sleep 0.05
    done
    _bed_err "smtp-sink $name did not start"; cat "$BED_DIR/log/sink-$name.log" >&2
    return 1
}

# API: bed_fake_smtp NAME ADDR[:PORT] MODE -> starts lib/fake_smtp.py (MODE
# starttls-garbage | silent | close) like a sink; stop it with bed_kill fake-NAME.
bed_fake_smtp() {
    local name=$1 hp=$2 mode=$3 addr port role t0
    addr=${hp%%:*}; port=25; [[ $hp == *:* ]] && port=${hp##*:}
    role=$(_bed_role_of_addr "$addr") || return 1
    bed_addr_add "$addr" || return 1
    bed_bg "$role" "fake-$name" /usr/bin/python3 "$_BED_LIB_DIR/fake_smtp.py" "$mode" "$addr" "$port" >/dev/null || return 1
    t0=$(_bed_now)
    while _bed_elapsed_lt "$t0" 5; do
        bed_exec "$role" ss -Hltn "src $addr:$port" 2>/dev/null | grep -q LISTEN && return 0
        sleep 0.05
    done
    _bed_err "fake_smtp $name did not start"; cat "$BED_DIR/log/fake-$name.log" >&2
    return 1
}

# API: bed_sink_stop NAME -> stops that sink (the address then refuses connections)
bed_sink_stop() { bed_kill "sink-$1"; }

# API: bed_sink_dir NAME -> prints the dump directory of a sink
bed_sink_dir() { echo "$BED_DIR/sink/$1"; }

# API: bed_sink_count NAME [RCPT_REGEX] -> number of messages the sink received
# (only those with an X-Rcpt-Args line matching RCPT_REGEX, if given)
bed_sink_count() {
    local dir="$BED_DIR/sink/$1"
    if [[ -n ${2:-} ]]; then
        { grep -lE "^X-Rcpt-Args: .*$2" "$dir"/* 2>/dev/null || true; } | wc -l
    else
        find "$dir" -type f 2>/dev/null | wc -l
    fi
}

# API: bed_sink_rcpts NAME -> prints the RCPT TO arguments of every message received
bed_sink_rcpts() {
    { grep -h '^X-Rcpt-Args:' "$BED_DIR/sink/$1"/* 2>/dev/null || true; } | sed 's/^X-Rcpt-Args: //'
}

# API: bed_wait_sink NAME COUNT TIMEOUT [RCPT_REGEX] -> waits until the sink holds COUNT messages
bed_wait_sink() {
    local t0; t0=$(_bed_now)
    while :; do
        (($(bed_sink_count "$1" "${4:-}") >= $2)) && return 0
        _bed_elapsed_lt "$t0" "$3" || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- Postfix

_bed_postfix_init() {
    local d="$BED_DIR/postfix"
    mkdir -p "$BED_PF_DIR" "$BED_PF_QUEUE" "$d/data" || return 1
    chown postfix "$d/data" || return 1
    cp /etc/postfix/master.cf "$BED_PF_DIR/master.cf" || return 1
    [[ -f /etc/postfix/dynamicmaps.cf ]] && cp /etc/postfix/dynamicmaps.cf "$BED_PF_DIR/"
    cat >"$BED_PF_DIR/main.cf" <<EOF
# private Postfix instance of mxdetour test bed $BED_ID
compatibility_level = 3.6
syslog_name = $BED_SYSLOG_NAME
queue_directory = $BED_PF_QUEUE
data_directory = $d/data
maillog_file = $BED_MAILLOG
maillog_file_prefixes = $BED_DIR
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mta.test
mydomain = mta.test
myorigin = \$myhostname
mydestination = \$myhostname, localhost
local_recipient_maps =
local_transport = discard:local
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
append_dot_mydomain = no
biff = no
readme_directory = no
smtp_connect_timeout = $BED_CONNECT_TIMEOUT
smtp_tls_security_level = none
smtpd_tls_security_level = none
delay_warning_time = 0
EOF
    if ! grep -q '^postlog[[:space:]]' "$BED_PF_DIR/master.cf"; then
        echo 'postlog   unix-dgram n  -       n       -       1       postlogd' >>"$BED_PF_DIR/master.cf"
    fi
    _bed_backdate "$BED_PF_DIR/main.cf" "$BED_PF_DIR/master.cf"
    postconf -c "$BED_PF_DIR" -F '*/*/chroot = n' || return 1
    _bed_backdate "$BED_PF_DIR/main.cf" "$BED_PF_DIR/master.cf"
    # non-root clients (postqueue, sendmail) need the directory listed in the default main.cf
    _bed_register_pfdir add "$BED_PF_DIR"
    echo "$BED_PF_DIR" >"$BED_DIR/pfdir"
}

# API: bed_postfix_running -> true if the instance's master process is alive
bed_postfix_running() {
    local f="$BED_PF_QUEUE/pid/master.pid" pid
    [[ -s $f ]] || return 1
    pid=$(tr -dc 0-9 <"$f")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# API: bed_postfix_start -> starts the private instance inside the mta namespace
# and waits until smtpd answers on 127.0.0.1:25 there.
bed_postfix_start() {
    bed_postfix_running && return 0
    local out t0
    out=$(ip netns exec "$BED_NS_MTA" postfix -c "$BED_PF_DIR" start 2>&1) || {
        _bed_err "postfix start failed: $out"
        tail -n 20 "$BED_MAILLOG" >&2 2>/dev/null
        return 1
    }
    t0=$(_bed_now)
    while _bed_elapsed_lt "$t0" 10; do
        if bed_postfix_running &&
            ip netns exec "$BED_NS_MTA" ss -Hltn 'src 127.0.0.1:25' | grep -q LISTEN &&
            grep -q 'daemon started' "$BED_MAILLOG" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    _bed_err "postfix did not come up"
    tail -n 20 "$BED_MAILLOG" >&2 2>/dev/null
    return 1
}

# API: bed_postfix_stop -> stops the instance and waits for its processes to exit
bed_postfix_stop() {
    bed_postfix_running || return 0
    local pid t0
    pid=$(tr -dc 0-9 <"$BED_PF_QUEUE/pid/master.pid")
    ip netns exec "$BED_NS_MTA" postfix -c "$BED_PF_DIR" stop >/dev/null 2>&1 || true
    t0=$(_bed_now)
    while kill -0 "$pid" 2>/dev/null && _bed_elapsed_lt "$t0" 10; do sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        ip netns exec "$BED_NS_MTA" postfix -c "$BED_PF_DIR" abort >/dev/null 2>&1 || true
        sleep 0.2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    return 0
}

# API: bed_postfix_reload -> postfix reload (when running)
bed_postfix_reload() {
    bed_postfix_running || return 0
    ip netns exec "$BED_NS_MTA" postfix -c "$BED_PF_DIR" reload >/dev/null 2>&1
}

# API: bed_postfix CMD... -> runs "postfix -c $BED_PF_DIR CMD..." in the mta namespace
bed_postfix() { ip netns exec "$BED_NS_MTA" postfix -c "$BED_PF_DIR" "$@"; }

# API: bed_postconf KEY=VALUE... -> postconf -e on the instance, then reload.
#      bed_postconf -OPTION ARGS... -> postconf -c DIR -OPTION ARGS... then reload
#      (e.g. bed_postconf -Me 'tun/unix = tun unix - - n - - smtp -o smtp_bind_address=198.18.2.2')
# Set BED_NO_RELOAD=1 to skip the reload.  inet_interfaces changes need
# bed_postfix_stop + bed_postfix_start.
bed_postconf() {
    if [[ ${1:-} == -* ]]; then
        postconf -c "$BED_PF_DIR" "$@" || return 1
    else
        postconf -c "$BED_PF_DIR" -e "$@" || return 1
    fi
    _bed_backdate "$BED_PF_DIR/main.cf" "$BED_PF_DIR/master.cf"
    [[ -n ${BED_NO_RELOAD:-} ]] || bed_postfix_reload
}

# API: bed_send FROM TO [SUBJECT [swaks options...]] -> submits one message to
# the instance's smtpd (127.0.0.1:25 in the mta namespace) with swaks; TO may
# be a comma-separated list.  Prints the queue id; fails if not queued.
bed_send() {
    local from=$1 to=$2 subj=${3:-"bed test $(date +%s.%N)"} out qid
    shift 2; (($#)) && shift
    out=$(ip netns exec "$BED_NS_MTA" swaks --server 127.0.0.1 --port 25 --helo client.mta.test \
        --from "$from" --to "$to" --header "Subject: $subj" --body "mxdetour bed test message" \
        --timeout 20 "$@" 2>&1) || true
    qid=$(sed -n 's/.*250 .*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$out" | tail -n 1)
    if [[ -z $qid ]]; then
        _bed_err "bed_send $from -> $to not queued:"; grep -E '^(<\*\*|\*\*\*)' <<<"$out" >&2
        return 1
    fi
    echo "$qid"
}

# API: bed_send_bulk COUNT TO [SESSIONS] [FROM] -> submits COUNT messages to TO
# in SESSIONS parallel sessions (default 1) with smtp-source.
bed_send_bulk() {
    ip netns exec "$BED_NS_MTA" smtp-source -m "$1" -s "${3:-1}" -f "${4:-bulk@mta.test}" -t "$2" \
        -S "bed bulk" -M client.mta.test 127.0.0.1:25
}

# API: bed_maillog -> prints the maillog path
bed_maillog() { echo "$BED_MAILLOG"; }

# API: bed_log_mark -> remembers the current end of the maillog; bed_wait_log
# and bed_log_since then only look at lines written after it
bed_log_mark() {
    BED_LOG_MARK=$(wc -l <"$BED_MAILLOG" 2>/dev/null || echo 0)
}

# API: bed_log_since [MARK] -> prints maillog lines after the mark
bed_log_since() { tail -n "+$((${1:-$BED_LOG_MARK} + 1))" "$BED_MAILLOG" 2>/dev/null; }

# API: bed_wait_log REGEX TIMEOUT [COUNT] -> polls the maillog (lines after the
# mark) until COUNT (default 1) lines match the extended REGEX; TIMEOUT in
# seconds (decimals ok).  Returns 1 on timeout.
bed_wait_log() {
    local re=$1 to=${2:-10} n=${3:-1} t0 c
    t0=$(_bed_now)
    while :; do
        c=$(bed_log_since | grep -cE -- "$re") || true
        ((c >= n)) && return 0
        if ! _bed_elapsed_lt "$t0" "$to"; then
            _bed_log "timeout waiting for /$re/ ($c/$n)"
            return 1
        fi
        sleep 0.1
    done
}

# API: bed_queue_json -> postqueue -j output of the instance (one JSON object per line)
bed_queue_json() { postqueue -c "$BED_PF_DIR" -j; }

# API: bed_queue_count [QUEUE_NAME] -> number of queued messages (in that queue)
bed_queue_count() {
    if [[ -n ${1:-} ]]; then
        bed_queue_json | grep -c "\"queue_name\": \"$1\"" || true
    else
        bed_queue_json | grep -c '"queue_id"' || true
    fi
}

# API: bed_flush [QUEUE_ID] -> postqueue -i QUEUE_ID, or -f for all deferred mail
bed_flush() {
    if [[ -n ${1:-} ]]; then postqueue -c "$BED_PF_DIR" -i "$1"; else postqueue -c "$BED_PF_DIR" -f; fi
}

# ---------------------------------------------------------------- teardown

_bed_any_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }

_bed_kill_ns_pids() { # kill every process in the given namespaces
    local ns i w pids
    for i in 1 2 3; do
        pids=()
        for ns in "$@"; do
            [[ -e /run/netns/$ns ]] && mapfile -t -O "${#pids[@]}" pids < <(ip netns pids "$ns" 2>/dev/null)
        done
        ((${#pids[@]})) || return 0
        if ((i < 3)); then kill -TERM "${pids[@]}" 2>/dev/null; else kill -KILL "${pids[@]}" 2>/dev/null; fi
        for ((w = 0; w < 40; w++)); do
            _bed_any_alive "${pids[@]}" || break
            sleep 0.05
        done
    done
}

# _bed_teardown_dir DIR: removes everything of the run whose temp dir is DIR
_bed_teardown_dir() {
    local dir=$1 id ns pid w nslist=() keep=${2:-}
    id="mxd${dir##*.}"
    if [[ -f $dir/netns ]]; then mapfile -t nslist <"$dir/netns"; fi
    for ns in "$id-mta" "$id-inet" "$id-mx" "$id-relay" "$id-tx"; do
        [[ " ${nslist[*]} " == *" $ns "* ]] || nslist+=("$ns")
    done
    # orderly Postfix stop first (flushes its logs), then everything else
    if [[ -s $dir/postfix/spool/pid/master.pid && -e /run/netns/$id-mta ]]; then
        pid=$(tr -dc 0-9 <"$dir/postfix/spool/pid/master.pid")
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            ip netns exec "$id-mta" postfix -c "$dir/postfix/etc" stop >/dev/null 2>&1
            for ((w = 0; w < 60; w++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        fi
    fi
    # processes started with bed_bg (pid + start time, so a reused pid is spared)
    local st
    if [[ -f $dir/pids.all ]]; then
        while read -r pid st; do _bed_ours "$pid" "$st" && kill -TERM "$pid" 2>/dev/null; done <"$dir/pids.all"
    fi
    _bed_kill_ns_pids "${nslist[@]}"
    if [[ -f $dir/pids.all ]]; then
        while read -r pid st; do _bed_ours "$pid" "$st" && kill -KILL "$pid" 2>/dev/null; done <"$dir/pids.all"
    fi
    for ns in "${nslist[@]}"; do
        [[ -e /run/netns/$ns ]] && ip netns del "$ns" 2>/dev/null
        [[ -n $ns && -d /etc/netns/$ns ]] && rm -rf "/etc/netns/$ns"
    done
    _bed_register_pfdir del "$dir/postfix/etc" 2>/dev/null
    rm -f "$BED_REGISTRY/$id"
    if [[ -z $keep && -d $dir && $dir == */mxdbed.* ]]; then rm -rf "$dir"; fi
    return 0
}

# API: bed_teardown -> kills every process the run started, deletes its
# namespaces (and with them all veths), /etc/netns entries and the temp dir.
# Idempotent; registered on EXIT INT TERM by bed_setup.
bed_teardown() {
    [[ -n ${BED_DIR:-} ]] || return 0
    [[ -n ${_BED_TORN_DOWN:-} ]] && return 0
    # only the shell that set the bed up tears it down (not subshells)
    [[ ${BED_OWNER_PID:-} == "$BASHPID" ]] || return 0
    _BED_TORN_DOWN=1
    _bed_log "teardown $BED_ID"
    local bgpids=() p
    [[ -f $BED_DIR/pids.all ]] && mapfile -t bgpids < <(awk '{print $1}' "$BED_DIR/pids.all")
    # in a subshell: immune to the caller's set -e / set -u
    (set +eu; _bed_teardown_dir "$BED_DIR" "${BED_KEEP:-}")
    # reap our background children quietly (only ours: never a plain `wait`)
    for p in "${bgpids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [[ -n ${BED_KEEP:-} ]]; then echo "bed: kept $BED_DIR" >&2; fi
    return 0
}

# API: bed_gc -> tears down leftovers of runs whose owner process is gone
# (e.g. killed with SIGKILL), found via $BED_REGISTRY and `ip netns list`.
bed_gc() { (set +eu; _bed_gc); }
_bed_gc() {
    local f pid dir ns id
    for f in "$BED_REGISTRY"/mxd*; do
        [[ -f $f ]] || continue
        read -r pid dir <"$f"
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bed_gc: removing $(basename "$f") ($dir)" >&2
            _bed_teardown_dir "$dir"
            rm -f "$f"
        fi
    done
    # namespaces without a registry entry
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^mxd[A-Za-z0-9]{6}-(mta|inet|mx|relay|tx)$'); do
        id=${ns%-*}
        [[ -f $BED_REGISTRY/$id ]] && continue
        echo "bed_gc: removing orphan namespace $ns" >&2
        _bed_kill_ns_pids "$ns"
        ip netns del "$ns" 2>/dev/null
        rm -rf "/etc/netns/$ns"
    done
    _bed_register_pfdir del /nonexistent/mxdbed.gc/postfix/etc 2>/dev/null
    return 0
}

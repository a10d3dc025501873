# SPDX-License-Identifier: GPL-2.0-or-later
# sentinel.sh - a private Redis master, one replica and three sentinels on
# free loopback ports, all under the temp dir $1, for the HA tests.
# sentinel_start DIR NAME: sets S_MASTER_PORT, S_MASTER_PID, S_REPLICA_PORT,
# S_PORTS (the three sentinels), S_SENTINEL_PIDS and S_PIDS (everything);
# returns once the replica is in sync and every sentinel knows it and
# its two peers.  With S_PASS set beforehand, Redis and the sentinels all
# require it (s_cli logs in with it).
# sentinel_master_port: the port the first answering sentinel names.
# sentinel_stop: stops whatever is still running.
S_PIDS=""
s_cli() { redis-cli ${S_PASS:+-a "$S_PASS" --no-auth-warning} "$@"; }
free_ports() {  # N: N distinct free loopback TCP ports
    python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()' "$1"
}
s_redis() {  # DIR PORT [args]: a redis-server in DIR
    s_d=$1; s_p=$2; shift 2; mkdir -p "$s_d"
    redis-server --port "$s_p" --bind 127.0.0.1 --dir "$s_d" --save "" --appendonly no \
        --loglevel notice --logfile "$s_d/log" --daemonize no \
        ${S_PASS:+--requirepass "$S_PASS" --masterauth "$S_PASS"} "$@" &
    S_PIDS="$S_PIDS $!"
}
s_wait() {  # PORT CMD...: until redis-cli on PORT answers CMD without error
    s_p=$1; shift; s_i=0
    until s_cli -p "$s_p" "$@" >/dev/null 2>&1; do
        s_i=$((s_i + 1)); [ $s_i -gt 100 ] && return 1; sleep 0.1; done
}
sentinel_start() {
    set -- "$1" "$2" $(free_ports 5)
    S_DIR=$1; S_NAME=$2; S_MASTER_PORT=$3; S_REPLICA_PORT=$4; S_PORTS="$5 $6 $7"
    # No 5 s wait before the first full sync (Redis 7's default).
    s_redis "$S_DIR/master" "$S_MASTER_PORT" --repl-diskless-sync-delay 0
    S_MASTER_PID=$!
    s_wait "$S_MASTER_PORT" PING || return 1
    # Writable replica: the test deletes keys on it to stand for writes that
    # never reached it before its master died.
    s_redis "$S_DIR/replica" "$S_REPLICA_PORT" --replicaof 127.0.0.1 "$S_MASTER_PORT" \
        --replica-read-only no
    s_n=0
    for s_p in $S_PORTS; do
        s_n=$((s_n + 1)); mkdir -p "$S_DIR/s$s_n"
        cat >"$S_DIR/s$s_n/sentinel.conf" <<CONF
port $s_p
bind 127.0.0.1
dir $S_DIR/s$s_n
logfile $S_DIR/s$s_n/log
sentinel monitor $S_NAME 127.0.0.1 $S_MASTER_PORT 2
sentinel down-after-milliseconds $S_NAME 1000
sentinel failover-timeout $S_NAME 4000
sentinel parallel-syncs $S_NAME 1
CONF
        [ -n "${S_PASS:-}" ] && printf 'requirepass %s\nsentinel auth-pass %s %s\nsentinel sentinel-pass %s\n' \
            "$S_PASS" "$S_NAME" "$S_PASS" "$S_PASS" >>"$S_DIR/s$s_n/sentinel.conf"
        redis-sentinel "$S_DIR/s$s_n/sentinel.conf" --daemonize no &
        S_PIDS="$S_PIDS $!"; S_SENTINEL_PIDS="${S_SENTINEL_PIDS:-}${S_SENTINEL_PIDS:+ }$!"
    done
    # Ready when the replica holds the master's data (a failover to a
    # replica still waiting for its first sync would lose everything) ...
    s_i=0
    until s_cli -p "$S_REPLICA_PORT" INFO replication 2>/dev/null | grep -q '^master_link_status:up'; do
        s_i=$((s_i + 1)); [ $s_i -gt 300 ] && return 1; sleep 0.1; done
    # ... and every sentinel knows the replica and its two peers.
    for s_p in $S_PORTS; do
        s_i=0
        until [ "$(s_cli -p "$s_p" SENTINEL replicas "$S_NAME" 2>/dev/null | grep -c '^ip$')" -ge 1 ] &&
              [ "$(s_cli -p "$s_p" SENTINEL sentinels "$S_NAME" 2>/dev/null | grep -c '^ip$')" -ge 2 ]; do
            s_i=$((s_i + 1)); [ $s_i -gt 300 ] && return 1; sleep 0.1; done
    done
}
sentinel_master_port() {
    for s_p in $S_PORTS; do
        s_m=$(s_cli -p "$s_p" SENTINEL get-master-addr-by-name "$S_NAME" 2>/dev/null | sed -n 2p)
        [ -n "$s_m" ] && echo "$s_m" && return
    done
}
sentinel_stop() {
    for s_p in $S_PIDS; do kill "$s_p" 2>/dev/null; done
    for s_p in $S_PIDS; do wait "$s_p" 2>/dev/null; done
    S_PIDS=""
}

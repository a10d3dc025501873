# SPDX-License-Identifier: GPL-2.0-or-later
# redis.sh - a private redis-server on a Unix socket in $1 (a temp dir).
# redis_start DIR: sets REDIS_SOCK and REDIS_PID.  redis_stop: stops it.
redis_start() {
    REDIS_SOCK="$1/redis.sock"
    redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --dir "$1" \
        --save "" --appendonly no --loglevel warning --daemonize no >"$1/redis.log" 2>&1 &
    REDIS_PID=$!
    i=0
    while [ ! -S "$REDIS_SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    [ -S "$REDIS_SOCK" ]
}
redis_stop() {
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
    return 0
}

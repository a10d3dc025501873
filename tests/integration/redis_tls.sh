#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# redis.tls against a real redis-server listening with TLS only (a CA, a
# server and a client certificate made with openssl in a temp dir; the
# server asks for the client's): mxdetourctl writes and reads over TLS,
# mxdetourd connects over TLS, and a wrong CA, a missing client
# certificate, a plain client, or TLS on a Unix socket are refused.
# In `make check` only where configure found hiredis_ssl (hiredis 1.x).
set -u
. "$top_srcdir/tests/lib/tap.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxd-tls.XXXXXX")
rpid= dpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for tool in openssl redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "Bail out! $tool is not installed (tests/deps.sh)"; exit 1; }
done

plan 8
cd "$tmp" || exit 1
mkcert() {  # name, subject, extension line; signed by ca (or self-signed: ca)
    openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null &&
    printf '%s\n' "$3" >"$1.ext" &&
    if [ "$1" = ca ] || [ "$1" = other ]; then
        openssl x509 -req -in "$1.csr" -signkey "$1.key" -days 2 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    else
        openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
            -extfile "$1.ext" -out "$1.crt" 2>/dev/null
    fi
}
mkcert ca "mxdetour test CA" "basicConstraints=critical,CA:TRUE" &&
mkcert other "another CA" "basicConstraints=critical,CA:TRUE" &&
mkcert server redis.test "subjectAltName=DNS:redis.test,IP:127.0.0.1" &&
mkcert client mxdetour "extendedKeyUsage=clientAuth" \
    || { echo "Bail out! openssl could not make the certificates"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port 0 --tls-port "$port" --bind 127.0.0.1 --tls-cert-file server.crt \
    --tls-key-file server.key --tls-ca-cert-file ca.crt --tls-auth-clients yes --dir "$tmp" \
    --save "" --appendonly no --daemonize no >redis.log 2>&1 &
rpid=$!
rcli() { redis-cli -h 127.0.0.1 -p "$port" --tls --cacert ca.crt --cert client.crt --key client.key "$@"; }
i=0; until [ "$(rcli ping 2>/dev/null)" = PONG ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(rcli ping 2>/dev/null)" = PONG ] || { cat redis.log; echo "Bail out! redis-server with TLS did not start"; exit 1; }

mkconf() {  # file, tls group
    cat >"$1" <<CONF
site = "lab"; state_dir = "$tmp"; pid_file = "$tmp/$1.pid";
redis = { host = "127.0.0.1"; port = $port; prefix = "t"; $2 };
logs = ( { file = "$tmp/mail.log"; } );
relays = ( { name = "relay-fi"; nexthop = "smtp:[198.19.0.2]:25"; } );
destinations = ( { domains = [ "*" ]; relays = [ "relay-fi" ]; } );
CONF
}
: >mail.log
mkconf good.conf "tls = { ca_file = \"$tmp/ca.crt\"; cert_file = \"$tmp/client.crt\"; key_file = \"$tmp/client.key\"; server_name = \"redis.test\"; };"
mkconf wrongca.conf "tls = { ca_file = \"$tmp/other.crt\"; cert_file = \"$tmp/client.crt\"; key_file = \"$tmp/client.key\"; };"
mkconf nocert.conf "tls = { ca_file = \"$tmp/ca.crt\"; };"
mkconf plain.conf ""
ctl="$top_builddir/mxdetourctl"

out=$($ctl -c good.conf block blocked.test --via relay-fi --ttl 1h 2>&1); rc=$?
expect_match "mxdetourctl block over TLS" "$rc:$out" '^0:blocked blocked.test via relay-fi'
expect_match "the record is in Redis (read back with redis-cli --tls)" "$(rcli --scan --pattern 't:lab:*' 2>&1)" 't:lab:'
out=$($ctl -c good.conf list 2>&1)
expect_match "mxdetourctl list over TLS reads it" "$out" 'blocked.test'
out=$($ctl -c wrongca.conf list 2>&1); rc=$?
expect_match "a server certificate from another CA is refused" "$rc:$out" '^[1-9][0-9]*:.*(certificate|SSL|TLS)'
out=$($ctl -c nocert.conf list 2>&1); rc=$?
expect_match "no client certificate where the server asks for one is refused" "$rc:$out" '^[1-9][0-9]*:'
out=$($ctl -c plain.conf list 2>&1); rc=$?
expect_match "a plain client on the TLS port gets nothing" "$rc:$out" '^[1-9][0-9]*:'
mkconf sock.conf "socket = \"$tmp/r.sock\"; tls = { ca_file = \"$tmp/ca.crt\"; };"
sed -i 's/host = "127.0.0.1"; port = [0-9]*; //' sock.conf
out=$("$top_builddir/mxdetourd" -t -c sock.conf 2>&1); rc=$?
expect_match "redis.tls with redis.socket is a FILE:LINE error" "$rc:$out" '^[1-9][0-9]*:.*sock.conf:2: .*redis.tls: Redis speaks TLS on its TCP port only'
"$top_builddir/mxdetourd" -f -c good.conf >daemon.out 2>&1 &
dpid=$!
i=0; until grep -q 'connected to redis' daemon.out || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
expect_match "mxdetourd connects to Redis over TLS" "$(cat daemon.out)" 'connected to redis'

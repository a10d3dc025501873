#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end: two MTAs of one site, each a real Postfix with its own
# mxdetourd, share one Redis.  The first learns of the block the hard way;
# the second learns the destination's MX hosts from the first one's record,
# publishes the detour before any mail, and sends its first message to the
# blocked destination through the relay without a single connect timeout.
. "$(dirname "$0")/lib/e2e.sh"
plan 7
bed_setup || { echo "Bail out! the test bed did not come up"; exit 1; }
mxd_setup || { echo "Bail out! mxdetourd did not start"; exit 1; }

# The second MTA: a copy of the bed's Postfix on 127.0.0.2, with its own
# queue, log and transport table, and its own mxdetourd (with the milter).
PF2=$BED_DIR/postfix2 M2=$BED_DIR/mxd2
ip -n "$BED_NS_MTA" addr add 127.0.0.2/8 dev lo   # Postfix wants an interface address
mkdir -p "$PF2/etc" "$PF2/queue" "$PF2/data" "$M2"
chown postfix "$PF2/data"
cp "$BED_PF_DIR/main.cf" "$BED_PF_DIR/master.cf" "$PF2/etc/"
[[ -f $BED_PF_DIR/dynamicmaps.cf ]] && cp "$BED_PF_DIR/dynamicmaps.cf" "$PF2/etc/"
: >"$M2/transport"; postmap "hash:$M2/transport"
postconf -c "$PF2/etc" -e "queue_directory=$PF2/queue" "data_directory=$PF2/data" \
    "maillog_file=$PF2/maillog" "maillog_file_prefixes=$BED_DIR" "inet_interfaces=127.0.0.2" \
    "myhostname=mta2.test" "transport_maps=hash:$M2/transport" \
    "smtpd_milters=unix:$M2/milter.sock" "non_smtpd_milters=unix:$M2/milter.sock" \
    "milter_default_action=accept"
sed -e "s|$BED_DIR/mxd/mxdetour|$M2/mxdetour|; s|state_dir = \"$BED_DIR/mxd\"|state_dir = \"$M2\"|" \
    -e "s|pid_file = \"$BED_DIR/mxd/mxdetourd.pid\"|pid_file = \"$M2/mxdetourd.pid\"|" \
    -e "s|file = \"$BED_MAILLOG\"|file = \"$PF2/maillog\"|" \
    -e "s|config_directory = \"$BED_PF_DIR\"|config_directory = \"$PF2/etc\"|" \
    -e "s|table = \"$BED_DIR/mxd/transport\"|table = \"$M2/transport\"|" "$MXD_CONF" >"$M2/mxdetour.conf"
echo "milter = { socket = \"unix:$M2/milter.sock\"; route_wait = \"3s\"; };" >>"$M2/mxdetour.conf"
stop2() {
    ip netns exec "$BED_NS_MTA" postfix -c "$PF2/etc" stop >/dev/null 2>&1
    bed_teardown
}
trap stop2 EXIT INT TERM
ip netns exec "$BED_NS_MTA" postfix -c "$PF2/etc" start >/dev/null 2>&1
i=0; until ip netns exec "$BED_NS_MTA" ss -Hltn 'src 127.0.0.2:25' | grep -q LISTEN || ((i++ > 100)); do sleep 0.1; done
bed_bg mta mxdetourd2 "$MXD_BIN/mxdetourd" -f -c "$M2/mxdetour.conf" >/dev/null
i=0; until [ -S "$M2/milter.sock" ] || ((i++ > 50)); do sleep 0.1; done
chgrp postfix "$M2/milter.sock"      # Postfix reaches it through a shared group
check "the second MTA and its mxdetourd are up" \
    bash -c "for i in \$(seq 100); do grep -q 'connected to redis' $BED_DIR/log/mxdetourd2.log && break; sleep 0.1; done
             grep -q 'connected to redis' $BED_DIR/log/mxdetourd2.log && ip netns exec $BED_NS_MTA ss -Hltn 'src 127.0.0.2:25' | grep -q LISTEN"

bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
bed_send a@mta.test u1@blocked.test >/dev/null; bed_send a@mta.test u2@blocked.test >/dev/null
check "the first MTA learns of the block the hard way" mxd_wait 'detour: blocked.test' 40
check "the second MTA's mxdetourd learns it through Redis" \
    bash -c "for i in \$(seq 50); do grep -q 'mx2.blocked.test\[198.18.0.3\]: direct -> detoured' $BED_DIR/log/mxdetourd2.log && exit 0; sleep 0.1; done; exit 1"
check "the second MTA routes blocked.test via the relay before any mail, from the destination record" \
    bash -c "for i in \$(seq 100); do [ \"\$(postmap -q blocked.test hash:$M2/transport)\" = 'smtp:[$BED_RELAY_ADDR]:25' ] && exit 0; sleep 0.1; done; exit 1"
r=$(bed_sink_count relay)
ip netns exec "$BED_NS_MTA" swaks --server 127.0.0.2 --port 25 --helo c2.mta.test --from b@mta2.test \
    --to first@blocked.test --timeout 20 >/dev/null 2>&1
check "the second MTA's first message to blocked.test reaches the relay" bed_wait_sink relay $((r + 1)) 30 'first@blocked.test'
expect_eq "without a connect timeout on the second MTA" \
    "$(grep -c 'Connection timed out' "$PF2/maillog")" 0
expect_match "and Postfix logged it going to the relay at its first attempt" \
    "$(grep 'to=<first@blocked.test>' "$PF2/maillog")" 'relay=198.19.0.2\[198.19.0.2\]:25, delay=[0-9.]+, .*status=sent'
tap_exit

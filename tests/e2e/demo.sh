#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: a censored network in network namespaces, a real Postfix and
# Redis, and mxdetourd detouring mail live.  Tells in plain lines what
# happens, prints a summary table, and tears everything down.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/e2e/lib/bed.sh"
. "$top_srcdir/tests/e2e/lib/mxd.sh"
T0=$(date +%s.%N)
say() { printf '[%5.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
show() { sed 's/^/           | /'; }
timeouts() { grep -c 'Connection timed out' "$BED_MAILLOG"; }

say "Building a censored network: an MTA with Postfix, Redis and mxdetourd; a router that censors;"
say "MX hosts mx1/mx2.blocked.test (198.18.0.2, .3) serving blocked.test; a relay outside (198.19.0.2)."
say "Demo values, to end in about a minute: a block after $MXD_THRESHOLD connect timeouts (default 3), a cool-down"
say "of $MXD_COOLDOWN (default 5m), 3 s timeouts. This is a test bed, not an installation: a real one starts"
say "at README.md, \"Installing\", and docs/operations.md."
bed_setup >/dev/null || { echo "the test bed did not come up (needs root and network namespaces)"; exit 1; }
mxd_setup >/dev/null || { echo "mxdetourd did not start"; exit 1; }
say "Everything is up. Sending one message to open.test and one to blocked.test, direct."
bed_send a@mta.test alice@open.test >/dev/null; bed_send a@mta.test bob@blocked.test >/dev/null
bed_wait_sink open 1 20; bed_wait_sink mx1 1 20
say "Delivered direct: open.test $(bed_sink_count open), blocked.test $(bed_sink_count mx1)."

say "The censor starts silently dropping SMTP to 198.18.0.2 and 198.18.0.3 (as Russian ISPs did to ProtonMail)."
bed_censor "$BED_MX1_ADDR" drop; bed_censor "$BED_MX2_ADDR" drop
t_block=$(date +%s)
bed_send a@mta.test carol@blocked.test >/dev/null; bed_send a@mta.test dave@blocked.test >/dev/null
say "Two messages to blocked.test: Postfix waits out its connect timeouts (3 s each here)..."
bed_wait_log 'Connection timed out' 20
grep 'Connection timed out' "$BED_MAILLOG" | head -2 | show
mxd_wait 'detour: blocked.test' 40
say "mxdetourd saw the timeouts and decided:"
grep -E 'detour: blocked.test|route for blocked.test|reload: done' "$(mxd_log)" | show
bed_wait_sink relay 2 40 'blocked.test'
t_relay=$(date +%s)
say "The two stuck messages were kicked from the deferred queue and delivered through the relay."
grep -E 'relay=198.19.0.2.*status=sent' "$BED_MAILLOG" | tail -2 | show
before=$(timeouts)
bed_send a@mta.test erin@blocked.test >/dev/null
bed_wait_sink relay 3 20 'blocked.test'
say "A new message to blocked.test went straight to the relay: $(( $(timeouts) - before )) new connect timeouts."
say "mxdetourctl, as an administrator would ask:"
mxd_ctl show blocked.test | show

say "The block lifts. After the cool-down mxdetourd probes the direct path..."
bed_uncensor "$BED_MX1_ADDR"; bed_uncensor "$BED_MX2_ADDR"
t_lift=$(date +%s)
mxd_wait 'direct: blocked.test .* restored' 90
t_back=$(date +%s)
grep -E 'half-open|restored|route for blocked.test: direct' "$(mxd_log)" | show
sleep 11   # Postfix notices a removed route within 10 s; removals need no reload
n1=$(bed_sink_count mx1)
bed_send a@mta.test frank@blocked.test >/dev/null
bed_wait_sink mx1 $((n1 + 1)) 30
say "Direct again: the next message went to mx1.blocked.test itself."

echo
printf '%-44s %s\n' "what" "measured"
printf '%-44s %s\n' "--------------------------------------------" "--------"
printf '%-44s %s\n' "block start -> stuck mail delivered via relay" "$((t_relay - t_block)) s"
printf '%-44s %s\n' "connect timeouts after detection" "$(( $(timeouts) - before ))"
printf '%-44s %s\n' "block lift -> direct routing again" "$((t_back - t_lift)) s (demo cool-down $MXD_COOLDOWN + 2 probes)"
printf '%-44s %s\n' "messages: direct to mx1 / via relay / open" "$(bed_sink_count mx1) / $(bed_sink_count relay) / $(bed_sink_count open)"
printf '%-44s %s\n' "messages left in Postfix's queue" "$(bed_queue_count)"
echo
say "Tearing the network down."

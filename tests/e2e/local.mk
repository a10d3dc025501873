# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e: scenarios on the netns bed (tests/e2e/lib/bed.sh): a private
# Postfix, test hosts in network namespaces, nft dropping port 25.  Root
# only; each says why when it skips.
EXTRA_DIST += tests/e2e
TESTS += tests/e2e/detour.sh tests/e2e/failover.sh tests/e2e/first_message.sh \
	tests/e2e/tunnel.sh tests/e2e/outage.sh tests/e2e/two_mtas.sh tests/e2e/feeds.sh \
	tests/e2e/kernel.sh tests/e2e/kernel_ipv6.sh

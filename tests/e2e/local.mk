# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e: scenarios on the netns bed (tests/e2e/lib/bed.sh): a private
# Postfix, test hosts in network namespaces, nft dropping port 25.  Root
# only; each says why when it skips.
# Listed by name: a directory would bring the build's logs and objects too.
EXTRA_DIST += tests/e2e/README.md tests/e2e/bed_gc.sh tests/e2e/bed_smoke.sh \
	tests/e2e/capture_loglines.sh tests/e2e/demo.sh tests/e2e/detour.sh \
	tests/e2e/failover.sh tests/e2e/feeds.sh tests/e2e/first_message.sh tests/e2e/kernel.sh \
	tests/e2e/kernel_ipv6.sh tests/e2e/lib/bed.sh tests/e2e/lib/e2e.sh \
	tests/e2e/lib/fake_smtp.py tests/e2e/lib/mxd.sh tests/e2e/outage.sh tests/e2e/tunnel.sh \
	tests/e2e/two_mtas.sh tests/e2e/control.sh
TESTS += tests/e2e/detour.sh tests/e2e/failover.sh tests/e2e/first_message.sh \
	tests/e2e/tunnel.sh tests/e2e/outage.sh tests/e2e/two_mtas.sh tests/e2e/feeds.sh \
	tests/e2e/kernel.sh tests/e2e/kernel_ipv6.sh
# tests/e2e/control.sh (issue 17) is shipped but not yet run by make check:
# its first runs did not finish within 7 minutes (see the issue's note).

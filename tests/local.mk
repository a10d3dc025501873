# SPDX-License-Identifier: GPL-2.0-or-later
# tests: the suite's and the demo's entry points and shared shell helpers.
# The tiers have fragments of their own (tests/*/local.mk).
EXTRA_DIST += tests/run-suite.sh tests/run-demo.sh tests/deps.sh tests/demo.sh tests/lib tests/data \
	tests/distro/mkroot.sh tests/distro/suite.sh

# make demo: the README's first command ends here.
demo: all
	$(TEST_ENV) sh $(top_srcdir)/tests/demo.sh
.PHONY: demo

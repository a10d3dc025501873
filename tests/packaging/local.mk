# SPDX-License-Identifier: GPL-2.0-or-later
# tests/packaging: the units' capabilities, the unconfigured-file guard and
# the feed download.  The package build and install tests (deb.sh, and
# debian_default.sh: the package on Debian's default Postfix, following
# docs/operations.md) are not `make check` tests: tests/run-suite.sh runs
# each once, as a stage of its own.
EXTRA_DIST += tests/packaging/build_deb.sh tests/packaging/deb.sh tests/packaging/debian_default.sh tests/packaging/unit_caps.sh \
	tests/packaging/unconfigured.sh tests/packaging/feed_download.sh
TESTS += tests/packaging/unit_caps.sh tests/packaging/unconfigured.sh \
	tests/packaging/feed_download.sh

# SPDX-License-Identifier: GPL-2.0-or-later
# tests/packaging: the units' capabilities, the unconfigured-file guard and
# the feed download.  The package build and install test (deb.sh) is not a
# `make check` test: tests/run-suite.sh runs it once, as a stage of its own.
EXTRA_DIST += tests/packaging/deb.sh tests/packaging/unit_caps.sh \
	tests/packaging/unconfigured.sh tests/packaging/feed_download.sh
TESTS += tests/packaging/unit_caps.sh tests/packaging/unconfigured.sh \
	tests/packaging/feed_download.sh

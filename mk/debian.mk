# mk/debian.mk: running under systemd and as a Debian package (issue 10):
# relay/sdnotify (readiness to systemd, in the daemon), its unit test, the
# unconfigured-file guard and feed download test, and the files of conf/
# and debian/ that ship the units.  The package build and install test
# (tests/packaging/deb.sh) is not a `make check` test: tests/run-suite.sh
# runs it once, as a stage of its own.  docs/operations.md describes it all.
libmxd_a_SOURCES += relay/core/sdnotify.c relay/core/sdnotify.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_sdnotify
tests_unit_test_sdnotify_SOURCES = tests/unit/test_sdnotify.c tests/unit/check_main.h
tests_unit_test_sdnotify_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_sdnotify_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_sdnotify
endif
TESTS += tests/integration/daemon_notify.sh tests/integration/daemon_syslog.sh \
	tests/packaging/unit_caps.sh tests/packaging/unconfigured.sh \
	tests/packaging/feed_download.sh

EXTRA_DIST += debian conf/mxdetourd.service conf/mxdetour-feed.service \
	conf/mxdetour-feed.timer conf/mxdetour-feed.default conf/mxdetour-feed-download \
	tests/packaging/deb.sh tests/packaging/unit_caps.sh tests/packaging/unconfigured.sh \
	tests/packaging/feed_download.sh tests/integration/daemon_notify.sh tests/integration/daemon_syslog.sh

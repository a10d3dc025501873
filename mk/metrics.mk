# mk/metrics.mk: operations (issue 10, parts 3 and 4).  lib/metrics is the
# registry and its Prometheus text form, lib/cfg_metrics the metrics section
# of the configuration, relay/metrics_http the daemon's GET /metrics
# endpoint, relay/health the daemon's health file, and relay/ctl_check
# `mxdetourctl status --check`.  docs/metrics.md describes them.
libmxd_a_SOURCES += lib/metrics/metrics.c lib/metrics/metrics.h lib/config/cfg_metrics.c lib/config/cfg_metrics.h \
	relay/ops/metrics_http.c relay/ops/metrics_http.h relay/ops/health.c relay/ops/health.h
mxdetourctl_SOURCES += relay/ctl/ctl_check.c

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c tests/unit/check_main.h
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -pthread
tests_unit_test_metrics_LDADD = $(TEST_LIBS)
tests_unit_test_metrics_LDFLAGS = -pthread
TESTS += tests/unit/test_metrics
endif

# A real daemon scraped and checked by promtool, the example alerting rules
# checked by promtool, and the health check's exit codes in each state;
# metrics_postfix.sh needs root and the netns bed of tests/e2e (skips otherwise).
TESTS += tests/integration/metrics.sh tests/integration/check.sh
TESTS += tests/integration/metrics_postfix.sh

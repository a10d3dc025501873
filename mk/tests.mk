# Unit tests (Check, TAP output, one "ok" per test case).
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_util
tests_unit_test_util_SOURCES = tests/unit/test_util.c tests/unit/check_main.h
tests_unit_test_util_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_util_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_util
endif

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_cfg
tests_unit_test_cfg_SOURCES = tests/unit/test_cfg.c tests/unit/check_main.h
tests_unit_test_cfg_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_cfg_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_cfg
endif

# Integration: the state store against a real redis-server.
if HAVE_CHECK
check_PROGRAMS += tests/integration/test_store
tests_integration_test_store_SOURCES = tests/integration/test_store.c \
	tests/integration/redis_helper.c tests/integration/redis_helper.h
tests_integration_test_store_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_integration_test_store_LDADD = $(TEST_LIBS)
TESTS += tests/integration/test_store
endif
TESTS += tests/integration/ctl.sh

# make demo: the README's first command ends here.
demo: all
	sh $(top_srcdir)/tests/demo.sh
.PHONY: demo
TESTS += tests/integration/replay.sh
TESTS += tests/integration/daemon_shared.sh
TESTS += tests/e2e/detour.sh
TESTS += tests/e2e/failover.sh
TESTS += tests/e2e/first_message.sh
TESTS += tests/e2e/tunnel.sh
TESTS += tests/e2e/outage.sh
TESTS += tests/e2e/two_mtas.sh

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

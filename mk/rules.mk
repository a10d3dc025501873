# mk/rules.mk: the rules engine (lib/breaker, lib/outage, lib/rules, lib/addrtable)
# and its unit tests.  See Makefile.am for how the fragments fit together.
libmxd_a_SOURCES += lib/breaker.c lib/breaker.h lib/breaker_text.c lib/breaker_int.h \
	lib/outage.c lib/outage.h \
	lib/rules.c lib/rules.h lib/rules_int.h lib/rules_text.c lib/rules_view.c \
	lib/addrtable.c lib/addrtable.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_breaker tests/unit/test_outage tests/unit/test_rules
tests_unit_test_breaker_SOURCES = tests/unit/test_breaker.c tests/unit/check_main.h
tests_unit_test_breaker_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_breaker_LDADD = $(TEST_LIBS)
tests_unit_test_outage_SOURCES = tests/unit/test_outage.c tests/unit/check_main.h
tests_unit_test_outage_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_outage_LDADD = $(TEST_LIBS)
tests_unit_test_rules_SOURCES = tests/unit/test_rules.c tests/unit/check_main.h
tests_unit_test_rules_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_rules_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_breaker tests/unit/test_outage tests/unit/test_rules
endif

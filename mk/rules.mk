# mk/rules.mk: the rules engine (lib/breaker, lib/outage, lib/rules, lib/addrtable)
# and its unit tests.  See Makefile.am for how the fragments fit together.
libmxd_a_SOURCES += lib/rules/breaker.c lib/rules/breaker.h lib/rules/breaker_text.c lib/rules/breaker_int.h \
	lib/rules/outage.c lib/rules/outage.h \
	lib/rules/rules.c lib/rules/rules.h lib/rules/rules_int.h lib/rules/rules_text.c lib/rules/rules_view.c \
	lib/rules/addrtable.c lib/rules/addrtable.h

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

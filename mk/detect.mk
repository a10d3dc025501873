# mk/detect.mk: evidence from Postfix's log.  lib/logparse reads log lines
# (their timestamps: lib/logtime),
# relay/follower follows a log file, pipe or command; their unit tests and
# the parser's benchmark.  The libFuzzer target is built with clang by
# tests/fuzz/run-fuzz.sh, outside automake.
libmxd_a_SOURCES += lib/evidence/logparse.c lib/evidence/logparse.h lib/evidence/logparse_int.h lib/evidence/logparse_fields.c lib/evidence/logtime.c lib/evidence/logtime.h \
	relay/evidence/follower.c relay/evidence/follower.h

noinst_PROGRAMS += tests/bench/bench_logparse
tests_bench_bench_logparse_SOURCES = tests/bench/bench_logparse.c
tests_bench_bench_logparse_LDADD = libmxd.a $(DEP_LIBS)

EXTRA_DIST += tests/fuzz/fuzz_logparse.c tests/fuzz/run-fuzz.sh

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_logparse tests/unit/test_follower
tests_unit_test_logparse_SOURCES = tests/unit/test_logparse.c tests/unit/check_main.h
tests_unit_test_logparse_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_logparse_LDADD = $(TEST_LIBS)
tests_unit_test_follower_SOURCES = tests/unit/test_follower.c tests/unit/check_main.h
tests_unit_test_follower_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_follower_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_logparse tests/unit/test_follower
endif

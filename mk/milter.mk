# mk/milter.mk: the milter (milter/), its miltertest suite and the harness
# that runs it without the daemon, the Postfix integration test, and the
# baseline milter of tests/bench/bench_milter.sh.  See Makefile.am.
libmxd_a_SOURCES += milter/milter.c milter/milter.h milter/milter_cb.c milter/milter_int.h

# The harness: event loop + route view + milter, answers from a file.
check_PROGRAMS += tests/milter/milter_harness
tests_milter_milter_harness_SOURCES = tests/milter/milter_harness.c
tests_milter_milter_harness_LDADD = libmxd.a $(DEP_LIBS)

# One miltertest Lua script per behaviour, run by run.sh; then a private
# Postfix on the netns test bed (root only, skipped otherwise).
TESTS += tests/milter/run.sh tests/integration/milter_postfix.sh

# A milter that accepts everything: the benchmark's baseline (built by
# bench_milter.sh with "make tests/bench/null_milter").
noinst_PROGRAMS += tests/bench/null_milter
tests_bench_null_milter_SOURCES = tests/bench/null_milter.c
tests_bench_null_milter_LDADD = $(MILTER_LIBS)

# SPDX-License-Identifier: GPL-2.0-or-later
# tests/bench: benchmark programs and scripts (docs/benchmarks.md); built,
# never run by make check.
# Listed by name: a directory would bring the build's logs and objects too.
EXTRA_DIST += tests/bench/bench_detour.sh tests/bench/bench_feed_reload.sh \
	tests/bench/bench_kernel.sh tests/bench/bench_churn.sh tests/bench/bench_milter.sh \
	tests/bench/gen_maillog.py tests/bench/gen_registry.py tests/bench/bench_scale.sh \
	tests/bench/bench_fleet.sh
noinst_PROGRAMS += tests/bench/bench_logparse tests/bench/bench_feed tests/bench/null_milter \
	tests/bench/gen_scale
tests_bench_bench_logparse_SOURCES = tests/bench/bench_logparse.c
tests_bench_bench_logparse_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_evidence)
tests_bench_bench_logparse_LDADD = $(LIB_LIBS) $(LIB_DEPS)
tests_bench_bench_feed_SOURCES = tests/bench/bench_feed.c
tests_bench_bench_feed_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_evidence)
tests_bench_bench_feed_LDADD = $(LIB_LIBS) $(LIB_DEPS)
# A milter that accepts everything: bench_milter.sh's baseline.
tests_bench_null_milter_SOURCES = tests/bench/null_milter.c
tests_bench_null_milter_LDADD = $(MILTER_LIBS)
# bench_scale.sh's records (through the blocking store) and log.
tests_bench_gen_scale_SOURCES = tests/bench/gen_scale.c
tests_bench_gen_scale_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_state)
tests_bench_gen_scale_LDADD = $(LIB_LIBS) $(LIB_DEPS)

# SPDX-License-Identifier: GPL-2.0-or-later
# tests/milter: one miltertest Lua script per behaviour, run by run.sh
# against the harness: event loop + route view + milter, answers from a file.
EXTRA_DIST += tests/milter
check_PROGRAMS += tests/milter/milter_harness
tests_milter_milter_harness_SOURCES = tests/milter/milter_harness.c
tests_milter_milter_harness_CPPFLAGS = $(AM_CPPFLAGS) $(INC_milter)
tests_milter_milter_harness_LDADD = $(RELAY_LIBS) $(RELAY_DEPS)
TESTS += tests/milter/run.sh

# SPDX-License-Identifier: GPL-2.0-or-later
# tests/milter: one miltertest Lua script per behaviour, run by run.sh
# against the harness: event loop + route view + milter, answers from a file.
# Listed by name: a directory would bring the build's logs and objects too.
EXTRA_DIST += tests/milter/answers.txt tests/milter/detour.lua tests/milter/direct.lua \
	tests/milter/hold.lua tests/milter/lib.lua tests/milter/local_mailer.lua \
	tests/milter/local_submission.lua tests/milter/many.lua tests/milter/mxdetour.conf \
	tests/milter/noview.lua tests/milter/reject.lua tests/milter/reload.lua \
	tests/milter/run.sh tests/milter/tempfail.lua tests/milter/trace_off.lua \
	tests/milter/trace_on.lua tests/milter/unknown_answered.lua \
	tests/milter/unknown_timeout.lua
check_PROGRAMS += tests/milter/milter_harness
tests_milter_milter_harness_SOURCES = tests/milter/milter_harness.c
tests_milter_milter_harness_CPPFLAGS = $(AM_CPPFLAGS) $(INC_milter)
tests_milter_milter_harness_LDADD = $(RELAY_LIBS) $(RELAY_DEPS)
TESTS += tests/milter/run.sh

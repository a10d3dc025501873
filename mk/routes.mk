# mk/routes.mk: how routes reach Postfix (docs/routing.md).  relay/routetable
# publishes the table file (postmap, atomic renames), relay/routes is the
# route publisher module, relay/kick with relay/postqueue_json reschedules
# deferred mail, relay/privsep is the privileged helper for `postfix reload`.
# The unit tests, a small CLI that drives the modules for the integration
# test on the netns bed, and the libFuzzer target, which is built with clang
# by tests/fuzz/run-fuzz-postqueue.sh, outside automake.
libmxd_a_SOURCES += relay/routes/routetable.c relay/routes/routetable.h relay/routes/routes.c relay/routes/routes.h \
	relay/routes/kick.c relay/routes/kick.h relay/routes/postqueue_json.c relay/routes/postqueue_json.h \
	relay/core/privsep.c relay/core/privsep.h

noinst_PROGRAMS += tests/integration/routes_cli
tests_integration_routes_cli_SOURCES = tests/integration/routes_cli.c
tests_integration_routes_cli_LDADD = libmxd.a $(DEP_LIBS)

EXTRA_DIST += tests/fuzz/fuzz_postqueue_json.c tests/fuzz/run-fuzz-postqueue.sh

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_routetable tests/unit/test_postqueue_json
tests_unit_test_routetable_SOURCES = tests/unit/test_routetable.c tests/unit/check_main.h
tests_unit_test_routetable_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_routetable_LDADD = $(TEST_LIBS)
tests_unit_test_postqueue_json_SOURCES = tests/unit/test_postqueue_json.c tests/unit/check_main.h
tests_unit_test_postqueue_json_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_postqueue_json_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_routetable tests/unit/test_postqueue_json
endif

# Root and network namespaces; skips itself otherwise.
TESTS += tests/integration/routes_postfix.sh

# mk/feed.mk: see Makefile.am
# Blocklist feeds (issue 8): lib/radix (longest-prefix match), lib/feed and
# lib/feed_registry (the feed formats, the truncation guard), the command
# "mxdetourctl feed test" (relay/ctl/ctl_feed.c), their unit tests, and the
# import benchmark with its generator.  docs/feeds.md describes them.
libmxd_a_SOURCES += lib/base/radix.c lib/base/radix.h lib/evidence/feed.c lib/evidence/feed.h lib/evidence/feed_registry.c
mxdetourctl_SOURCES += relay/ctl/ctl_feed.c

noinst_PROGRAMS += tests/bench/bench_feed
tests_bench_bench_feed_SOURCES = tests/bench/bench_feed.c
tests_bench_bench_feed_LDADD = libmxd.a $(DEP_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_radix tests/unit/test_feed
tests_unit_test_radix_SOURCES = tests/unit/test_radix.c tests/unit/check_main.h
tests_unit_test_radix_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_radix_LDADD = $(TEST_LIBS)
# test_feed also drives ctl_feed_test(), which only mxdetourctl links otherwise.
tests_unit_test_feed_SOURCES = tests/unit/test_feed.c tests/unit/check_main.h relay/ctl/ctl_feed.c
tests_unit_test_feed_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_feed_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_radix tests/unit/test_feed
endif

# The daemon's side: the feeds in force (relay/feedset), what a listing does
# to an address (relay/feedpolicy), their records in Redis, the `feeds`
# configuration (lib/cfg_feeds).
libmxd_a_SOURCES += lib/config/cfg_feeds.c relay/evidence/feedset.c relay/evidence/feedset.h relay/engine/feedpolicy.c \
	relay/engine/feedpolicy.h relay/state/store_async_feed.c
TESTS += tests/e2e/feeds.sh

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_feedset
tests_unit_test_feedset_SOURCES = tests/unit/test_feedset.c tests/unit/check_main.h
tests_unit_test_feedset_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_feedset_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_feedset
endif

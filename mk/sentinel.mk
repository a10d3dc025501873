# Redis high availability: the redis group of the configuration, Sentinel
# discovery (blocking in lib/, on the event loop in relay/), and its tests.
libmxd_a_SOURCES += lib/config/cfg_redis.c lib/config/cfg_redis.h lib/state/sentinel.c lib/state/sentinel.h
libmxd_a_SOURCES += relay/state/sentinel_async.c relay/state/sentinel_async.h relay/state/store_async_ha.c \
	relay/state/store_async_dom.c relay/state/store_async_lock.c
# Real redis-server and redis-sentinel processes on free loopback ports.
TESTS += tests/integration/sentinel_ctl.sh tests/integration/sentinel_failover.sh
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_sentinel
tests_unit_test_sentinel_SOURCES = tests/unit/test_sentinel.c tests/unit/check_main.h
tests_unit_test_sentinel_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_sentinel_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_sentinel
endif

# Redis high availability: the redis group of the configuration, Sentinel
# discovery (blocking in lib/, on the event loop in relay/), and its tests.
libmxd_a_SOURCES += lib/cfg_redis.c lib/cfg_redis.h lib/sentinel.c lib/sentinel.h
libmxd_a_SOURCES += relay/sentinel_async.c relay/sentinel_async.h relay/store_async_ha.c \
	relay/store_async_dom.c relay/store_async_lock.c
# Real redis-server and redis-sentinel processes on free loopback ports.
TESTS += tests/integration/sentinel_ctl.sh tests/integration/sentinel_failover.sh
if HAVE_CHECK
check_PROGRAMS += tests/unit/test_sentinel
tests_unit_test_sentinel_SOURCES = tests/unit/test_sentinel.c tests/unit/check_main.h
tests_unit_test_sentinel_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_sentinel_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_sentinel
endif

# Redis high availability: the redis group of the configuration, Sentinel
# discovery (blocking in lib/, on the event loop in relay/), and its tests.
libmxd_a_SOURCES += lib/cfg_redis.c lib/cfg_redis.h lib/sentinel.c lib/sentinel.h
libmxd_a_SOURCES += relay/sentinel_async.c relay/sentinel_async.h relay/store_async_ha.c
# Real redis-server and redis-sentinel processes on free loopback ports.
TESTS += tests/integration/sentinel_failover.sh

# The daemon's asynchronous link to Redis (relay/store_async.c; what Redis
# tells it unasked in relay/store_async_news.c).
libmxd_a_SOURCES += relay/store_async.c relay/store_async.h relay/store_async_news.c \
	relay/store_async_int.h
libmxd_a_SOURCES += relay/engine.c relay/engine.h relay/engine_int.h relay/engine_routes.c
libmxd_a_SOURCES += relay/routeview.c relay/routeview.h
libmxd_a_SOURCES += relay/recheck.c relay/recheck.h
libmxd_a_SOURCES += relay/relayhealth.c relay/relayhealth.h

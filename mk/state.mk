# The daemon's asynchronous link to Redis (relay/state/store_async.c; what Redis
# tells it unasked in relay/state/store_async_news.c).
libmxd_a_SOURCES += relay/state/store_async.c relay/state/store_async.h relay/state/store_async_news.c \
	relay/state/store_async_int.h
libmxd_a_SOURCES += relay/engine/engine.c relay/engine/engine.h relay/engine/engine_int.h relay/engine/engine_routes.c
libmxd_a_SOURCES += relay/routes/routeview.c relay/routes/routeview.h
libmxd_a_SOURCES += relay/engine/recheck.c relay/engine/recheck.h
libmxd_a_SOURCES += relay/routes/relayhealth.c relay/routes/relayhealth.h

# SPDX-License-Identifier: GPL-2.0-or-later
# relay/state: the daemon's link to Redis on the event loop (store_async:
# evidence and address records; _news: what Redis says unasked; _dom:
# destination records; _lock: the probe lock; _feed: feed records; _ha and
# sentinel_async: Sentinel and failover).
INC_relay_state = -I$(top_srcdir)/relay/state $(INC_lib_state) $(INC_lib_config) $(INC_lib_rules) $(INC_lib_base)
noinst_LIBRARIES += relay/state/libmxd.a
relay_state_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_state)
relay_state_libmxd_a_SOURCES = relay/state/store_async.c relay/state/store_async.h \
	relay/state/store_async_int.h relay/state/store_async_news.c relay/state/store_async_dom.c \
	relay/state/store_async_lock.c relay/state/store_async_feed.c relay/state/store_async_ha.c \
	relay/state/sentinel_async.c relay/state/sentinel_async.h

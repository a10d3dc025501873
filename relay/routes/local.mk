# SPDX-License-Identifier: GPL-2.0-or-later
# relay/routes: how a decision reaches Postfix: the transport table file
# (routetable) and its publisher module (routes, with coalesced reloads),
# the kick of deferred mail (kick, postqueue_json), the milter's view of
# the routes (routeview), and which relays are up (relayhealth).
INC_relay_routes = -I$(top_srcdir)/relay/routes $(INC_relay_core) $(INC_relay_net) \
	$(INC_lib_config) $(INC_lib_metrics) $(INC_lib_base)
noinst_LIBRARIES += relay/routes/libmxd.a
relay_routes_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes)
relay_routes_libmxd_a_SOURCES = relay/routes/routetable.c relay/routes/routetable.h \
	relay/routes/routes.c relay/routes/routes.h relay/routes/routes_reload.c \
	relay/routes/routes_reload.h relay/routes/kick.c relay/routes/kick.h \
	relay/routes/kick_proc.c relay/routes/kick_proc.h \
	relay/routes/postqueue_json.c relay/routes/postqueue_json.h relay/routes/routeview.c \
	relay/routes/routeview.h relay/routes/relayhealth.c relay/routes/relayhealth.h

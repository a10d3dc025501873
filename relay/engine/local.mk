# SPDX-License-Identifier: GPL-2.0-or-later
# relay/engine: where evidence becomes decisions in the daemon: the engine
# module (engine: evidence in, rules, state out; engine_routes: routes and
# the milter's view from the decisions), when to probe (recheck), and what
# a feed listing does to an address (feedpolicy), and when to race a direct
# against a control probe and what the verdict does (control).
INC_relay_engine = -I$(top_srcdir)/relay/engine $(INC_relay_ops) $(INC_relay_kernel) \
	$(INC_relay_routes) $(INC_relay_state) $(INC_relay_evidence) $(INC_relay_net) \
	$(INC_relay_core) $(INC_lib_state) $(INC_lib_metrics) $(INC_lib_rules) \
	$(INC_lib_evidence) $(INC_lib_config) $(INC_lib_base)
noinst_LIBRARIES += relay/engine/libmxd.a
relay_engine_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_engine)
relay_engine_libmxd_a_SOURCES = relay/engine/engine.c relay/engine/engine.h \
	relay/engine/engine_int.h relay/engine/engine_logs.c relay/engine/engine_routes.c relay/engine/recheck.c \
	relay/engine/recheck.h relay/engine/feedpolicy.c relay/engine/feedpolicy.h \
	relay/engine/control.c relay/engine/control.h

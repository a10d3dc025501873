# SPDX-License-Identifier: GPL-2.0-or-later
# relay/ops: what the daemon tells its operators: the health file that
# `mxdetourctl status --check` reads (health) and GET /metrics
# (metrics_http), and the deliverability guard (deliverability: SPF,
# reverse DNS and HELO of the relays' exits, with libspf2).  They read the
# modules below; the engine tells health what it needs at start-up.
INC_relay_ops = -I$(top_srcdir)/relay/ops $(INC_relay_routes) $(INC_relay_state) \
	$(INC_relay_evidence) $(INC_relay_net) $(INC_relay_core) $(INC_lib_metrics) \
	$(INC_lib_rules) $(INC_lib_config) $(INC_lib_base)
noinst_LIBRARIES += relay/ops/libmxd.a
relay_ops_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_ops)
relay_ops_libmxd_a_SOURCES = relay/ops/health.c relay/ops/health.h relay/ops/metrics_http.c \
	relay/ops/metrics_http.h relay/ops/setupcheck.c relay/ops/setupcheck.h \
	relay/ops/deliverability.c relay/ops/deliverability.h relay/ops/deliverability_text.c \
	relay/ops/deliverability_run.c

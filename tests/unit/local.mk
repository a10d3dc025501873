# SPDX-License-Identifier: GPL-2.0-or-later
# tests/unit: Check unit tests, one file per module (TAP, one "ok" per case).
# A test of lib/ links lib/ only; a test of relay/ the relay libraries.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
LIB_TEST_LIBS = $(LIB_LIBS) $(LIB_DEPS) $(CHECK_LIBS)
RELAY_TEST_LIBS = $(RELAY_LIBS) $(RELAY_DEPS) $(CHECK_LIBS)
EXTRA_DIST += tests/unit/check_main.h tests/unit/check_loop.h tests/unit/check_files.h

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_util
TESTS += tests/unit/test_util
tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_state) -I$(top_srcdir)/tests/unit
tests_unit_test_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_util_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_breaker
TESTS += tests/unit/test_breaker
tests_unit_test_breaker_SOURCES = tests/unit/test_breaker.c
tests_unit_test_breaker_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_rules) -I$(top_srcdir)/tests/unit
tests_unit_test_breaker_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_breaker_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_outage
TESTS += tests/unit/test_outage
tests_unit_test_outage_SOURCES = tests/unit/test_outage.c
tests_unit_test_outage_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_rules) -I$(top_srcdir)/tests/unit
tests_unit_test_outage_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_outage_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_rules
TESTS += tests/unit/test_rules
tests_unit_test_rules_SOURCES = tests/unit/test_rules.c
tests_unit_test_rules_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_rules) -I$(top_srcdir)/tests/unit
tests_unit_test_rules_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_rules_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_cfg
TESTS += tests/unit/test_cfg
tests_unit_test_cfg_SOURCES = tests/unit/test_cfg.c
tests_unit_test_cfg_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_config) -I$(top_srcdir)/tests/unit
tests_unit_test_cfg_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cfg_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_logparse
TESTS += tests/unit/test_logparse
tests_unit_test_logparse_SOURCES = tests/unit/test_logparse.c
tests_unit_test_logparse_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_evidence) -I$(top_srcdir)/tests/unit
tests_unit_test_logparse_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_logparse_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_radix
TESTS += tests/unit/test_radix
tests_unit_test_radix_SOURCES = tests/unit/test_radix.c
tests_unit_test_radix_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_base) -I$(top_srcdir)/tests/unit
tests_unit_test_radix_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_radix_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_metrics
TESTS += tests/unit/test_metrics
tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_metrics) -I$(top_srcdir)/tests/unit
tests_unit_test_metrics_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_test_metrics_LDADD = $(LIB_TEST_LIBS)
tests_unit_test_metrics_LDFLAGS = -pthread

check_PROGRAMS += tests/unit/test_sentinel
TESTS += tests/unit/test_sentinel
tests_unit_test_sentinel_SOURCES = tests/unit/test_sentinel.c
tests_unit_test_sentinel_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_state) -I$(top_srcdir)/tests/unit
tests_unit_test_sentinel_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sentinel_LDADD = $(LIB_TEST_LIBS)

# test_feed also drives ctl_feed_test(), which only mxdetourctl links otherwise.
check_PROGRAMS += tests/unit/test_feed
TESTS += tests/unit/test_feed
tests_unit_test_feed_SOURCES = tests/unit/test_feed.c relay/ctl/ctl_feed.c
tests_unit_test_feed_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_ctl) -I$(top_srcdir)/tests/unit
tests_unit_test_feed_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_feed_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_feedset
TESTS += tests/unit/test_feedset
tests_unit_test_feedset_SOURCES = tests/unit/test_feedset.c
tests_unit_test_feedset_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_evidence) -I$(top_srcdir)/tests/unit
tests_unit_test_feedset_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_feedset_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_follower
TESTS += tests/unit/test_follower
tests_unit_test_follower_SOURCES = tests/unit/test_follower.c
tests_unit_test_follower_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_evidence) -I$(top_srcdir)/tests/unit
tests_unit_test_follower_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_follower_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_kernelnft
TESTS += tests/unit/test_kernelnft
tests_unit_test_kernelnft_SOURCES = tests/unit/test_kernelnft.c
tests_unit_test_kernelnft_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_core) -I$(top_srcdir)/tests/unit
tests_unit_test_kernelnft_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kernelnft_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_mxresolve
TESTS += tests/unit/test_mxresolve
tests_unit_test_mxresolve_SOURCES = tests/unit/test_mxresolve.c
tests_unit_test_mxresolve_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_net) -I$(top_srcdir)/tests/unit
tests_unit_test_mxresolve_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_mxresolve_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_postqueue_json
TESTS += tests/unit/test_postqueue_json
tests_unit_test_postqueue_json_SOURCES = tests/unit/test_postqueue_json.c
tests_unit_test_postqueue_json_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes) -I$(top_srcdir)/tests/unit
tests_unit_test_postqueue_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_postqueue_json_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_routetable
TESTS += tests/unit/test_routetable
tests_unit_test_routetable_SOURCES = tests/unit/test_routetable.c
tests_unit_test_routetable_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes) -I$(top_srcdir)/tests/unit
tests_unit_test_routetable_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_routetable_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_setupcheck
TESTS += tests/unit/test_setupcheck
tests_unit_test_setupcheck_SOURCES = tests/unit/test_setupcheck.c
tests_unit_test_setupcheck_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_ops) -I$(top_srcdir)/tests/unit
tests_unit_test_setupcheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_setupcheck_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_sdnotify
TESTS += tests/unit/test_sdnotify
tests_unit_test_sdnotify_SOURCES = tests/unit/test_sdnotify.c
tests_unit_test_sdnotify_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_core) -I$(top_srcdir)/tests/unit
tests_unit_test_sdnotify_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_sdnotify_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_spawn
TESTS += tests/unit/test_spawn
tests_unit_test_spawn_SOURCES = tests/unit/test_spawn.c
tests_unit_test_spawn_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_base) -I$(top_srcdir)/tests/unit
tests_unit_test_spawn_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spawn_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_helper
TESTS += tests/unit/test_helper
tests_unit_test_helper_SOURCES = tests/unit/test_helper.c
tests_unit_test_helper_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_helper) -I$(top_srcdir)/tests/unit
tests_unit_test_helper_CFLAGS = $(UNIT_CFLAGS)
# The helper links what mxdetour-helper links, and no more.
tests_unit_test_helper_LDADD = relay/helper/libmxd.a lib/base/libmxd.a $(LIBNFTABLES_LIBS) $(LIBMNL_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/test_routeview
TESTS += tests/unit/test_routeview
tests_unit_test_routeview_SOURCES = tests/unit/test_routeview.c
tests_unit_test_routeview_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes) -I$(top_srcdir)/tests/unit
tests_unit_test_routeview_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_test_routeview_LDADD = $(RELAY_TEST_LIBS)
tests_unit_test_routeview_LDFLAGS = -pthread

check_PROGRAMS += tests/unit/test_feedpolicy
TESTS += tests/unit/test_feedpolicy
tests_unit_test_feedpolicy_SOURCES = tests/unit/test_feedpolicy.c
tests_unit_test_feedpolicy_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_engine) -I$(top_srcdir)/tests/unit
tests_unit_test_feedpolicy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_feedpolicy_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_kick
TESTS += tests/unit/test_kick
tests_unit_test_kick_SOURCES = tests/unit/test_kick.c
tests_unit_test_kick_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes) -I$(top_srcdir)/tests/unit
tests_unit_test_kick_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kick_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_routes
TESTS += tests/unit/test_routes
tests_unit_test_routes_SOURCES = tests/unit/test_routes.c
tests_unit_test_routes_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes) -I$(top_srcdir)/tests/unit
tests_unit_test_routes_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_routes_LDADD = $(RELAY_TEST_LIBS)

# test_kernelpub stands in for the root helper: it defines privsep_available(),
# privsep_request_kernel() and privsep_cancel() itself.
check_PROGRAMS += tests/unit/test_kernelpub
TESTS += tests/unit/test_kernelpub
tests_unit_test_kernelpub_SOURCES = tests/unit/test_kernelpub.c
tests_unit_test_kernelpub_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_kernel) -I$(top_srcdir)/tests/unit
tests_unit_test_kernelpub_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_kernelpub_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_engine
TESTS += tests/unit/test_engine
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c
tests_unit_test_engine_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_engine) -I$(top_srcdir)/tests/unit
tests_unit_test_engine_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_engine_LDADD = $(RELAY_TEST_LIBS)

# mxdetourctl doctor's pure parsers: relay/ctl has no library, so the one
# file is compiled in.
check_PROGRAMS += tests/unit/test_ctl_doctor
TESTS += tests/unit/test_ctl_doctor
tests_unit_test_ctl_doctor_SOURCES = tests/unit/test_ctl_doctor.c relay/ctl/ctl_doctor_parse.c
tests_unit_test_ctl_doctor_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_ctl) -I$(top_srcdir)/tests/unit
tests_unit_test_ctl_doctor_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ctl_doctor_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_verdict
TESTS += tests/unit/test_verdict
tests_unit_test_verdict_SOURCES = tests/unit/test_verdict.c
tests_unit_test_verdict_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_rules) -I$(top_srcdir)/tests/unit
tests_unit_test_verdict_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_verdict_LDADD = $(LIB_TEST_LIBS)

check_PROGRAMS += tests/unit/test_race
TESTS += tests/unit/test_race
tests_unit_test_race_SOURCES = tests/unit/test_race.c
tests_unit_test_race_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_net) -I$(top_srcdir)/tests/unit
tests_unit_test_race_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_race_LDADD = $(RELAY_TEST_LIBS)

check_PROGRAMS += tests/unit/test_socks5
TESTS += tests/unit/test_socks5
tests_unit_test_socks5_SOURCES = tests/unit/test_socks5.c
tests_unit_test_socks5_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_net) -I$(top_srcdir)/tests/unit
tests_unit_test_socks5_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_socks5_LDADD = $(RELAY_TEST_LIBS)

endif

# SPDX-License-Identifier: GPL-2.0-or-later
# tests/integration: real redis-server, redis-sentinel and mxdetourd
# processes; the netns ones (root) use the bed of tests/e2e.  The small
# drivers (probe_cli, routes_cli) let the shell tests run one module.
# Listed by name: a directory would bring the build's logs and objects too.
EXTRA_DIST += tests/integration/bedtap.sh tests/integration/check.sh tests/integration/log_health.sh \
	tests/integration/ctl.sh tests/integration/ctl_doctor.sh tests/integration/daemon_lifecycle.sh \
	tests/integration/daemon_notify.sh tests/integration/daemon_shared.sh \
	tests/integration/daemon_syslog.sh tests/integration/metrics.sh \
	tests/integration/metrics_postfix.sh tests/integration/milter_postfix.sh \
	tests/integration/prober_netns.sh tests/integration/replay.sh \
	tests/integration/routes_postfix.sh tests/integration/sentinel_ctl.sh \
	tests/integration/sentinel_failover.sh

if HAVE_CHECK
check_PROGRAMS += tests/integration/test_store tests/integration/test_prober
TESTS += tests/integration/test_store tests/integration/test_prober
tests_integration_test_store_SOURCES = tests/integration/test_store.c \
	tests/integration/redis_helper.c tests/integration/redis_helper.h
tests_integration_test_store_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_state) -I$(top_srcdir)/tests/unit
tests_integration_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_store_LDADD = $(LIB_TEST_LIBS)
tests_integration_test_prober_SOURCES = tests/integration/test_prober.c
tests_integration_test_prober_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_net) -I$(top_srcdir)/tests/unit
tests_integration_test_prober_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_prober_LDADD = $(RELAY_TEST_LIBS)
endif

noinst_PROGRAMS += tests/integration/probe_cli tests/integration/routes_cli
tests_integration_probe_cli_SOURCES = tests/integration/probe_cli.c
tests_integration_probe_cli_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_net)
tests_integration_probe_cli_LDADD = $(RELAY_LIBS) $(RELAY_DEPS)
tests_integration_routes_cli_SOURCES = tests/integration/routes_cli.c
tests_integration_routes_cli_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_routes)
tests_integration_routes_cli_LDADD = $(RELAY_LIBS) $(RELAY_DEPS)

TESTS += tests/integration/daemon_lifecycle.sh tests/integration/daemon_notify.sh \
	tests/integration/daemon_syslog.sh tests/integration/daemon_shared.sh \
	tests/integration/ctl.sh tests/integration/ctl_doctor.sh tests/integration/replay.sh \
	tests/integration/sentinel_ctl.sh tests/integration/sentinel_failover.sh \
	tests/integration/prober_netns.sh tests/integration/routes_postfix.sh \
	tests/integration/milter_postfix.sh \
	tests/integration/metrics.sh tests/integration/check.sh tests/integration/metrics_postfix.sh \
	tests/integration/log_health.sh
# redis.tls: only a build with hiredis_ssl (hiredis 1.x, Debian 13) has it.
EXTRA_DIST += tests/integration/redis_tls.sh
if HAVE_HIREDIS_SSL
TESTS += tests/integration/redis_tls.sh
endif

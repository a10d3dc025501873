# mk/probe.mk: see Makefile.am
# Active probes on the direct path (relay/prober) and asynchronous MX
# resolution (relay/mxresolve; its c-ares glue and answer parsing in
# relay/dnsquery), both on the daemon's event loop; their tests
# and probe_cli, the small driver the netns test runs inside the test bed.
libmxd_a_SOURCES += relay/net/prober.c relay/net/prober.h relay/net/prober_int.h relay/net/prober_conn.c relay/net/mxresolve.c relay/net/mxresolve.h \
	relay/net/dnsquery.c relay/net/dnsquery.h

noinst_PROGRAMS += tests/integration/probe_cli
tests_integration_probe_cli_SOURCES = tests/integration/probe_cli.c
tests_integration_probe_cli_LDADD = libmxd.a $(DEP_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/unit/test_mxresolve tests/integration/test_prober
tests_unit_test_mxresolve_SOURCES = tests/unit/test_mxresolve.c tests/unit/check_main.h
tests_unit_test_mxresolve_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_mxresolve_LDADD = $(TEST_LIBS)
tests_integration_test_prober_SOURCES = tests/integration/test_prober.c tests/unit/check_main.h
tests_integration_test_prober_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_integration_test_prober_LDADD = $(TEST_LIBS)
TESTS += tests/unit/test_mxresolve tests/integration/test_prober
endif
TESTS += tests/integration/prober_netns.sh

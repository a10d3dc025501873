# mk/relay.mk: see Makefile.am
# relay/: mxdetourd's process life (daemon.c, pidfile.c) in libmxd.a; the
# mains themselves are listed in Makefile.am.
libmxd_a_SOURCES += relay/core/daemon.c relay/core/daemon.h relay/core/pidfile.c relay/core/pidfile.h

dist_man_MANS += man/mxdetourd.8 man/mxdetour.conf.5
TESTS += tests/integration/daemon_lifecycle.sh

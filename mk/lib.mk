# lib/: code shared by mxdetourd, mxdetourctl and the tests (docs/layout.md).
libmxd_a_SOURCES += lib/msg.c lib/msg.h lib/clock.c lib/clock.h \
	lib/duration.c lib/duration.h lib/netaddr.c lib/netaddr.h \
	lib/evidence.c lib/evidence.h \
	lib/cfg.c lib/cfg.h lib/cfg_read.c lib/cfg_read.h

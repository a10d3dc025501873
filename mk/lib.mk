# lib/: code shared by mxdetourd, mxdetourctl and the tests (docs/layout.md).
libmxd_a_SOURCES += lib/msg.c lib/msg.h lib/clock.c lib/clock.h \
	lib/duration.c lib/duration.h lib/netaddr.c lib/netaddr.h \
	lib/evidence.c lib/evidence.h \
	lib/cfg.c lib/cfg.h lib/cfg_read.c lib/cfg_read.h \
	lib/store.c lib/store.h lib/store_int.h lib/store_keys.c lib/store_keys.h lib/store_records.c \
	lib/json.c lib/json.h

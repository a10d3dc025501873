# lib/: code shared by mxdetourd, mxdetourctl and the tests (docs/layout.md).
libmxd_a_SOURCES += lib/base/msg.c lib/base/msg.h lib/base/clock.c lib/base/clock.h \
	lib/base/duration.c lib/base/duration.h lib/base/netaddr.c lib/base/netaddr.h \
	lib/evidence/evidence.c lib/evidence/evidence.h \
	lib/config/cfg.c lib/config/cfg.h lib/config/cfg_read.c lib/config/cfg_read.h \
	lib/state/store.c lib/state/store.h lib/state/store_int.h lib/state/store_keys.c lib/state/store_keys.h lib/state/store_records.c \
	lib/base/json.c lib/base/json.h

# SPDX-License-Identifier: GPL-2.0-or-later
# lib/state: mxdetour's state in Redis: key names and scripts (store_keys),
# the blocking store for mxdetourctl and tests (store, store_records), the
# reply decoders both stores share (store_codec.h), Sentinel discovery.
INC_lib_state = -I$(top_srcdir)/lib/state $(INC_lib_config) $(INC_lib_rules) $(INC_lib_base)
noinst_LIBRARIES += lib/state/libmxd.a
lib_state_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_state)
lib_state_libmxd_a_SOURCES = lib/state/store.c lib/state/store.h lib/state/store_int.h \
	lib/state/store_codec.h lib/state/store_keys.c lib/state/store_keys.h \
	lib/state/store_records.c lib/state/sentinel.c lib/state/sentinel.h \
	lib/state/store_tls.c lib/state/store_tls.h

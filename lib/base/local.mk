# SPDX-License-Identifier: GPL-2.0-or-later
# lib/base: what every program needs and that knows nothing of mail:
# diagnostics, the one clock, durations, addresses and domains, JSON output,
# a prefix tree, starting programs.  Depends on nothing (Postfix's util/).
INC_lib_base = -I$(top_srcdir)/lib/base
noinst_LIBRARIES += lib/base/libmxd.a
lib_base_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_base)
lib_base_libmxd_a_SOURCES = lib/base/msg.c lib/base/msg.h lib/base/clock.c lib/base/clock.h \
	lib/base/duration.c lib/base/duration.h lib/base/netaddr.c lib/base/netaddr.h \
	lib/base/json.c lib/base/json.h lib/base/radix.c lib/base/radix.h \
	lib/base/spawn.c lib/base/spawn.h

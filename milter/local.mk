# SPDX-License-Identifier: GPL-2.0-or-later
# milter: the libmilter face of mxdetourd (milter: the module and
# libmilter's threads; milter_cb: the callbacks).  It reads the route view
# and nothing else of relay/ but the daemon's module hooks.
INC_milter = -I$(top_srcdir)/milter $(INC_relay_routes) $(INC_relay_core) $(INC_lib_metrics) \
	$(INC_lib_config) $(INC_lib_base)
noinst_LIBRARIES += milter/libmxd.a
milter_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_milter)
milter_libmxd_a_SOURCES = milter/milter.c milter/milter.h milter/milter_cb.c milter/milter_int.h \
	milter/milter_dkim.c milter/milter_dkim.h

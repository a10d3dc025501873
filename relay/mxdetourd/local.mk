# SPDX-License-Identifier: GPL-2.0-or-later
# relay/mxdetourd: the daemon program: options, the configuration check,
# and the list of modules in start order.
INC_relay_mxdetourd = -I$(top_srcdir)/relay/mxdetourd $(INC_milter) $(INC_relay_engine) \
	$(INC_relay_ops) $(INC_relay_kernel) $(INC_relay_routes) $(INC_relay_core) \
	$(INC_lib_config) $(INC_lib_base)
sbin_PROGRAMS += mxdetourd
mxdetourd_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_mxdetourd)
mxdetourd_SOURCES = relay/mxdetourd/mxdetourd.c
mxdetourd_LDADD = $(RELAY_LIBS) $(RELAY_DEPS)

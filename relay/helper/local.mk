# SPDX-License-Identifier: GPL-2.0-or-later
# relay/helper: everything that runs as root, in one folder: the root
# helper mxdetour-helper, the messages it takes (privsep_msg.h), the checks
# and work of each request (helper_request, helper_kernel) and the
# nftables and policy-routing code of kernel-mode tunnels (kernelnft).  It
# may use lib/base only, so the process that keeps root carries no
# configuration parser, event loop, Redis or milter code.
INC_relay_helper = -I$(top_srcdir)/relay/helper $(INC_lib_base)
noinst_LIBRARIES += relay/helper/libmxd.a
relay_helper_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_helper)
relay_helper_libmxd_a_SOURCES = relay/helper/privsep_msg.h relay/helper/helper.h \
	relay/helper/helper_request.c relay/helper/helper_kernel.c \
	relay/helper/kernelnft.c relay/helper/kernelnft.h relay/helper/kernelnft_tunnel.c

# The program: its main and nothing of relay/ but this folder.
pkglibexec_PROGRAMS += mxdetour-helper
mxdetour_helper_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_helper)
mxdetour_helper_SOURCES = relay/helper/mxdetour-helper.c
mxdetour_helper_LDADD = relay/helper/libmxd.a lib/base/libmxd.a $(LIBNFTABLES_LIBS) $(LIBMNL_LIBS)

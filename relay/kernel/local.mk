# SPDX-License-Identifier: GPL-2.0-or-later
# relay/kernel: the per-address detour below Postfix, the daemon's side
# (docs/kernel.md): which blocked addresses go into which kernel-mode
# tunnel's nftables set (kernelpub), its checks for mxdetourd -t
# (kernelpub_check), the last known state on disk (kernelstate) and
# Redis's word on it read on a worker thread (kernelconfirm).  The changes
# themselves are the root helper's (relay/helper).
INC_relay_kernel = -I$(top_srcdir)/relay/kernel $(INC_relay_routes) $(INC_relay_core) \
	$(INC_relay_helper) $(INC_lib_state) $(INC_lib_rules) $(INC_lib_config) $(INC_lib_base)
noinst_LIBRARIES += relay/kernel/libmxd.a
relay_kernel_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_kernel)
relay_kernel_libmxd_a_SOURCES = relay/kernel/kernelpub.c relay/kernel/kernelpub.h \
	relay/kernel/kernelpub_check.c relay/kernel/kernelconfirm.c relay/kernel/kernelconfirm.h \
	relay/kernel/kernelstate.c relay/kernel/kernelstate.h

# SPDX-License-Identifier: GPL-2.0-or-later
# relay/core: the life of the daemon's process: modules and their hooks,
# signals and detaching (daemon), the pid file, readiness to systemd
# (sdnotify), and the daemon's side of the root helper (privsep).
INC_relay_core = -I$(top_srcdir)/relay/core $(INC_relay_helper) $(INC_lib_config) $(INC_lib_base)
noinst_LIBRARIES += relay/core/libmxd.a
relay_core_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_core)
relay_core_libmxd_a_SOURCES = relay/core/daemon.c relay/core/daemon.h relay/core/pidfile.c \
	relay/core/pidfile.h relay/core/sdnotify.c relay/core/sdnotify.h relay/core/privsep.c \
	relay/core/privsep.h relay/core/privsep_tunnels.c

# SPDX-License-Identifier: GPL-2.0-or-later
# relay/ctl: mxdetourctl, the administrator's tool: its main and one file
# per group of commands (state: status, list, block...; show; replay;
# probe; feed; kernel; check; daemon: is mxdetourd running; doctor; config).
INC_relay_ctl = -I$(top_srcdir)/relay/ctl $(INC_relay_ops) $(INC_relay_kernel) \
	$(INC_relay_net) $(INC_relay_core) $(INC_relay_helper) $(INC_lib_state) $(INC_lib_rules) \
	$(INC_lib_evidence) $(INC_lib_config) $(INC_lib_base)
sbin_PROGRAMS += mxdetourctl
mxdetourctl_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_ctl)
mxdetourctl_SOURCES = relay/ctl/mxdetourctl.c relay/ctl/ctl.h relay/ctl/ctl_state.c \
	relay/ctl/ctl_show.c relay/ctl/ctl_replay.c relay/ctl/ctl_probe.c relay/ctl/ctl_feed.c \
	relay/ctl/ctl_kernel.c relay/ctl/ctl_check.c relay/ctl/ctl_daemon.c relay/ctl/ctl_config.c \
	relay/ctl/ctl_doctor.h relay/ctl/ctl_doctor.c relay/ctl/ctl_doctor_postfix.c \
	relay/ctl/ctl_doctor_parse.c relay/ctl/ctl_check_relays.c
mxdetourctl_LDADD = $(RELAY_LIBS) $(RELAY_DEPS)

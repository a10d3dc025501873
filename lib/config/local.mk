# SPDX-License-Identifier: GPL-2.0-or-later
# lib/config: the configuration file (libconfig): its types and defaults
# (cfg), the readers that name FILE:LINE (cfg_read), and one file per
# section that grew large (redis, feeds, kernel, metrics).  It knows the
# parameters of the rules and the feed formats, so it sits above them.
INC_lib_config = -I$(top_srcdir)/lib/config $(INC_lib_rules) $(INC_lib_evidence) $(INC_lib_base)
noinst_LIBRARIES += lib/config/libmxd.a
lib_config_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_config)
lib_config_libmxd_a_SOURCES = lib/config/cfg.c lib/config/cfg.h lib/config/cfg_read.c \
	lib/config/cfg_read.h lib/config/cfg_redis.c lib/config/cfg_redis.h \
	lib/config/cfg_feeds.c lib/config/cfg_kernel.c lib/config/cfg_kernel.h \
	lib/config/cfg_metrics.c lib/config/cfg_metrics.h lib/config/cfg_control.c \
	lib/config/cfg_control.h lib/config/cfg_deliver.c lib/config/cfg_deliver.h

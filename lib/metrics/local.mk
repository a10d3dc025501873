# SPDX-License-Identifier: GPL-2.0-or-later
# lib/metrics: the metrics registry (lock-free counters, gauges and
# histograms any thread may move) and its Prometheus text form; the
# families name the configuration's policies, so it sits above lib/config.
INC_lib_metrics = -I$(top_srcdir)/lib/metrics $(INC_lib_config) $(INC_lib_base)
noinst_LIBRARIES += lib/metrics/libmxd.a
lib_metrics_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_metrics)
lib_metrics_libmxd_a_SOURCES = lib/metrics/metrics.c lib/metrics/metrics.h \
	lib/metrics/metrics_deliver.c lib/metrics/metrics_deliver.h

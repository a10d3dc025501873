# SPDX-License-Identifier: GPL-2.0-or-later
# relay/evidence: evidence sources on the event loop: the log follower (a
# file it follows across rotation, a pipe or a command) and the block-list
# feeds in force (feedset: read on a worker thread, swapped in on the loop).
INC_relay_evidence = -I$(top_srcdir)/relay/evidence $(INC_lib_config) $(INC_lib_evidence) \
	$(INC_lib_metrics) $(INC_lib_base)
noinst_LIBRARIES += relay/evidence/libmxd.a
relay_evidence_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_relay_evidence)
relay_evidence_libmxd_a_SOURCES = relay/evidence/follower.c relay/evidence/follower.h \
	relay/evidence/dirwatch.c relay/evidence/dirwatch.h relay/evidence/follower_health.c \
	relay/evidence/follower_int.h \
	relay/evidence/feedset.c relay/evidence/feedset.h

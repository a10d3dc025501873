# SPDX-License-Identifier: GPL-2.0-or-later
# lib/evidence: what counts as evidence: the vocabulary (evidence), Postfix's
# log lines (logparse, its field readers, logtime) and block-list feeds in
# their formats (feed, feed_registry).
INC_lib_evidence = -I$(top_srcdir)/lib/evidence $(INC_lib_base)
noinst_LIBRARIES += lib/evidence/libmxd.a
lib_evidence_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_evidence)
lib_evidence_libmxd_a_SOURCES = lib/evidence/evidence.c lib/evidence/evidence.h \
	lib/evidence/logparse.c lib/evidence/logparse.h lib/evidence/logparse_int.h \
	lib/evidence/logparse_fields.c lib/evidence/logtime.c lib/evidence/logtime.h \
	lib/evidence/feed.c lib/evidence/feed.h lib/evidence/feed_registry.c

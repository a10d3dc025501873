# SPDX-License-Identifier: GPL-2.0-or-later
# lib/rules: what evidence means: the per-address circuit breaker (breaker,
# its text form), the local-outage guard (outage), the rules engine (rules,
# its sentences, its read-only views) and its address table.
INC_lib_rules = -I$(top_srcdir)/lib/rules $(INC_lib_evidence) $(INC_lib_base)
noinst_LIBRARIES += lib/rules/libmxd.a
lib_rules_libmxd_a_CPPFLAGS = $(AM_CPPFLAGS) $(INC_lib_rules)
lib_rules_libmxd_a_SOURCES = lib/rules/breaker.c lib/rules/breaker.h lib/rules/breaker_int.h \
	lib/rules/breaker_text.c lib/rules/breaker_verdict.c lib/rules/outage.c lib/rules/outage.h \
	lib/rules/rules.c lib/rules/rules.h lib/rules/rules_int.h lib/rules/rules_text.c \
	lib/rules/rules_view.c lib/rules/addrtable.c lib/rules/addrtable.h

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * setupcheck - checks of the machine around the configuration that a parser
 * cannot make, shared by `mxdetourd -t` (warnings) and `mxdetourctl doctor`:
 * whether a log file can be read by the user the daemon runs as, and
 * whether a source address is one of this host's.  No side effects beyond a
 * socket bound and closed at once.  Any thread.
 */
#ifndef MXD_SETUPCHECK_H
#define MXD_SETUPCHECK_H

#include <stddef.h>
#include <stdio.h>

struct cfg;

enum setupcheck_log { SETUPCHECK_LOG_OK, SETUPCHECK_LOG_MISSING, SETUPCHECK_LOG_UNREADABLE };

/* Whether user (NULL: the caller's own ids) may read path, by its mode,
 * owner and the user's groups; why says what stops it. */
enum setupcheck_log setupcheck_log_file(const char *path, const char *user, char *why,
                                        size_t whylen);

/* 0 when addr (an IPv4 or IPv6 literal) can be bound here; -1 with why. */
int setupcheck_local_address(const char *addr, char *why, size_t whylen);

/* Writes "FILE: warning: ..." lines about cfg to out; returns how many. */
int setupcheck_warnings(const struct cfg *cfg, FILE *out);

#endif

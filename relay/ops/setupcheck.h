/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * setupcheck - checks of the machine around the configuration that a parser
 * cannot make, shared by `mxdetourd -t` (warnings) and `mxdetourctl doctor`
 * (findings): what a user may do to a path by its mode bits, owners and the
 * user's groups (every directory above it searched too), whether a log file
 * can be read by the user the daemon runs as, and whether a source address
 * is one of this host's.  Judged for the named user, not for whoever runs
 * the check; ACLs and capabilities are not looked at.  No side effects
 * beyond a socket bound and closed at once.  Any thread.
 */
#ifndef MXD_SETUPCHECK_H
#define MXD_SETUPCHECK_H

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

struct cfg;

#define SETUPCHECK_MAX_GROUPS 64

struct setupcheck_user {
    const char *name;
    int exists;
    uid_t uid;
    gid_t gid;
    gid_t groups[SETUPCHECK_MAX_GROUPS];
    size_t ngroups;
};

/* Looks the user up (exists 0 when there is none); name must outlive u. */
void setupcheck_user_lookup(struct setupcheck_user *u, const char *name);

/* Whether a user with uid, gid and supplementary groups may read (4),
 * write (2) or search/execute (1) what st describes, by its mode bits. */
int setupcheck_may(const struct stat *st, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
                   int want);

/* 0 when u may do want to the absolute path, searching every directory
 * above it; -1 with why ("DIR is mode 0750 root:adm, which U may not enter"). */
int setupcheck_user_may(const struct setupcheck_user *u, const char *path, int want, char *why,
                        size_t whylen);

enum setupcheck_log { SETUPCHECK_LOG_OK, SETUPCHECK_LOG_MISSING, SETUPCHECK_LOG_UNREADABLE };

/* Whether user (NULL: root, who reads anything) may read the log file at
 * path; why says what stops it. */
enum setupcheck_log setupcheck_log_file(const char *path, const char *user, char *why,
                                        size_t whylen);

/* 0 when addr (an IPv4 or IPv6 literal) can be bound here; -1 with why. */
int setupcheck_local_address(const char *addr, char *why, size_t whylen);

/* Writes "FILE: warning: ..." lines about cfg to out; returns how many. */
int setupcheck_warnings(const struct cfg *cfg, FILE *out);

#endif

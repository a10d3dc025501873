/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine - mxdetourd's decisions: evidence in, routes out.
 *
 *   log follower --> log parser --+
 *                                 +--> rules (local, in memory) --> on_change:
 *   Redis change channel ---------+      explanation line, destination record,
 *   (astore: other MTAs' lessons)         route for the domain
 *
 * Every piece of evidence is applied to the local rules at once (so the
 * daemon decides even while Redis is down) and queued for the shared record
 * in Redis (astore), whose authoritative version then replaces the local
 * breaker.  Manual overrides from mxdetourctl are read from Redis and win
 * over evidence until they expire.
 *
 * The engine is a daemon module (engine_module), run on the daemon's loop.
 * engine_route() answers "where does mail for this domain go now" from the
 * local state only, for the route publisher and mxdetourctl-like callers on
 * the same loop.
 */
#ifndef MXD_ENGINE_H
#define MXD_ENGINE_H

#include <stddef.h>

#include "cfg.h"
#include "daemon.h"

extern const struct daemon_module engine_module;

enum engine_route_kind {
    ENGINE_DIRECT = 0,      /* no table entry: Postfix's own MX lookup */
    ENGINE_DETOUR,          /* via a relay */
    ENGINE_POLICY,          /* blocked, and the destination's policy is not detour */
};

struct engine_route {
    enum engine_route_kind kind;
    enum policy policy;             /* ENGINE_POLICY */
    const struct cfg_relay *relay;  /* ENGINE_DETOUR */
    const char *why;                /* "manual block", "all MX addresses blocked", ... */
    int no_relay;                   /* meant to be detoured, but no relay can take it */
};

/* The route of a domain now; domain must be normalised. */
void engine_route(const char *domain, struct engine_route *out);

/* Feeds one log line, as the follower does (tests and replays use it). */
void engine_log_line(const char *line, size_t len);

#endif

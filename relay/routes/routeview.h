/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routeview - the engine's routing answers, readable from any thread.
 *
 * The milter runs on libmilter's threads; the engine on the event loop.  The
 * engine writes each domain's answer here (routeview_set), and milter
 * threads read it (routeview_get) without touching the engine.  For a
 * domain with no answer yet, a milter thread asks the loop
 * (routeview_request): the domain goes through a pipe to the loop, which
 * resolves its MX hosts, checks their addresses against what is known to be
 * blocked, publishes a route if needed and then sets the answer; the thread
 * waits for that at most wait_ms, then carries on (fail open).
 *
 * Bounds: at most ROUTEVIEW_MAX domains (when full, the direct ones are
 * forgotten: they are asked for again); a request that does not fit in the
 * pipe is dropped and counted.  Locking: one rwlock for the table, one
 * mutex + condition variable for waiters.
 */
#ifndef MXD_ROUTEVIEW_H
#define MXD_ROUTEVIEW_H

#include <stdint.h>

#include "cfg.h"
#include "netaddr.h"

struct event_base;

#define ROUTEVIEW_MAX 65536

enum routeview_kind { RV_DIRECT = 0, RV_DETOUR, RV_POLICY };

struct routeview_entry {
    enum routeview_kind kind;
    enum policy policy;             /* RV_POLICY */
    char relay[65];                 /* RV_DETOUR: relay name */
    char reason[160];               /* why, for logs and the trace header */
};

struct routeview_stats {
    unsigned long hits, misses, requests, dropped, timeouts;
};

/* Loop side: calls on_request(domain) on base for each domain asked for. */
int routeview_start(struct event_base *base, void (*on_request)(const char *domain, void *arg),
                    void *arg);
void routeview_stop(void);

/* Loop side: the answer for a domain now; wakes threads waiting for it. */
void routeview_set(const char *domain, const struct routeview_entry *e);

/* Any thread: 1 and *out when the domain has an answer, 0 when not. */
int routeview_get(const char *domain, struct routeview_entry *out);

/* Any thread but the loop's: asks for the domain and waits up to wait_ms for
 * its answer.  1 answered (*out set), 0 not in time or not deliverable. */
int routeview_request(const char *domain, uint64_t wait_ms, struct routeview_entry *out);

void routeview_get_stats(struct routeview_stats *s);

#endif

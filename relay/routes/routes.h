/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes - the route publisher: the routes the engine wants, in Postfix.
 *
 * The engine (automatic detours and an administrator's manual routes alike)
 * calls routes_set(domain, nexthop) for a detour and routes_set(domain,
 * NULL) to send a domain the direct way again.  routes keeps the wanted
 * routes in memory and:
 *
 *   1. coalesces: publishes routes.coalesce_floor (10 ms) after a change
 *      when routes were quiet, so one detour is in force within a postmap's
 *      time; each publication within routes.coalesce_ceiling (1 s) of the
 *      previous one doubles the wait, and no change waits longer than the
 *      ceiling from the first unpublished one, so churn costs about one
 *      postmap per ceiling
 *   2. publishes the whole set with routetable_publish() (fail-static: the
 *      old table stays on failure; it retries with a doubling delay from
 *      ROUTES_RETRY_MIN_MS to ROUTES_RETRY_MAX_MS and logs each failure)
 *   3. compares what was published before and now, logs each change, and
 *      decides how Postfix learns of it (routes_reload.h): with
 *      routes.reload = "auto" a `postfix reload` (through privsep, at most
 *      one per routes.reload_interval) only for a detour added or changed
 *      for which mail waits in Postfix's queue (one postqueue -j, shared
 *      with the kick, answers a batch), or one changed away from a relay
 *      that is down.  Every other change (a detour with no mail waiting, a
 *      removal) is left to Postfix's own table check (about 10 s): no
 *      reload costs Postfix a second of throughput for mail that is not
 *      there.  One log line per decision says why.
 *   4. asks kick to reschedule the deferred mail of every changed domain:
 *      ROUTES_KICK_AFTER_RELOAD_MS after its reload completed, or
 *      ROUTES_SETTLE_MS after publication when there was none (reload
 *      "never", no privileged helper, a failed reload, a removal, a detour
 *      with no mail waiting, which is also announced live only then).
 *
 * Why kick only then: Postfix's resolver client (in the queue manager)
 * remembers its last answer, and a table change does not clear it; the
 * reload restarts the queue manager and so empties it.  Without a reload,
 * a kicked message whose address is the very last one the queue manager
 * resolved takes the old route once more (docs/routing.md).
 *
 * Fail-static across restarts: the start hook loads the published table, so
 * mxdetourd starts from the routes in force until the engine says
 * otherwise; a table whose database is missing is published at once (an
 * empty one if need be), since Postfix cannot deliver with a missing
 * transport_maps table.  The stop hook publishes pending changes (no reload
 * and no kick).  The table outlives mxdetourd: stopping it detours nothing
 * back.
 *
 * Runs on d->base in the main thread; routes_set() must be called there.
 * Ownership: routes copies domains and next hops; routes_get() returns a
 * pointer into its own table, valid until the next routes_set().
 */
#ifndef MXD_ROUTES_H
#define MXD_ROUTES_H

#include <stddef.h>

#include "daemon.h"

#define ROUTES_SETTLE_MS 12000          /* trivial-rewrite checks its tables every 10 s */
#define ROUTES_KICK_AFTER_RELOAD_MS 500 /* the queue manager restarts after a reload */
#define ROUTES_RETRY_MIN_MS 1000
#define ROUTES_RETRY_MAX_MS 60000

/* The module: start loads the table (routes_init), stop publishes what is
 * pending (routes_free).  Register after privsep and kick. */
extern const struct daemon_module routes_module;

/* Hooks without a struct daemon, for tools and tests: 0, or -1 logged. */
int routes_init(struct event_base *base, const struct cfg *cfg);
void routes_free(void);

/*
 * Sets the route of domain ("example.com", or ".example.com" for the
 * domains below it; normalised here) to nexthop (transport(5) syntax, e.g.
 * "smtp:[relay.example]:25" or "smtp-wg:"), or sends it direct when nexthop
 * is NULL or "".  Returns 0 (taken, or nothing to change), or -1 with a
 * msg_warn when domain or nexthop is not valid.
 */
int routes_set(const char *domain, const char *nexthop);

/*
 * The next published detour of domain (normalised, as routes_set takes it)
 * is to be in force at once: with routes.reload = "auto" it reloads Postfix
 * whatever the queue holds, because mail that is not queued yet waits for
 * it (a message at the milter's RCPT).  why goes
 * in the log line ("reload for D: WHY").  At most ROUTES_URGENT_MAX are
 * kept; the oldest is forgotten first.
 */
#define ROUTES_URGENT_MAX 256
void routes_urgent(const char *domain, const char *why);

/* The wanted next hop of domain (normalised like routes_set), or NULL when
 * it goes direct. */
const char *routes_get(const char *domain);

/* Number of wanted routes. */
size_t routes_count(void);

/* fn(domain) is called once a newly added or changed detour is in force in
 * Postfix: published, and reloaded when it had mail waiting; ROUTES_SETTLE_MS
 * after the queue's answer when it had none; published, when no reload is
 * possible (routes.reload "never", no helper).  The engine answers the milter
 * only then, so a message accepted for a new detour is never routed the old
 * way.  One listener; NULL removes it. */
void routes_on_live(void (*fn)(const char *domain, void *arg), void *arg);

/* Publishes now instead of after the debounce; 0, or -1 (logged). */
int routes_flush(void);

#endif

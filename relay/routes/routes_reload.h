/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes_reload - how Postfix learns of a published route change: a
 * `postfix reload`, or its own table check; and when the kick and the
 * "live" announcement follow.  Internal to routes (routes.h says what
 * happens when, docs/routing.md what each case costs).
 *
 * routes.c publishes, then calls routes_reload_change() once per changed
 * domain and routes_reload_commit() once per publication.  With
 * routes.reload = "auto" the decision per domain is:
 *
 *   - a detour changed away from a relay that relayhealth says is down:
 *     that route must stop at once; reload.
 *   - a detour added or changed: kick_probe() asks the next queue listing
 *     whether mail waits for it (deferred, active or incoming).  Mail
 *     waiting, or a queue that could not be listed: reload, kick
 *     ROUTES_KICK_AFTER_RELOAD_MS after it, live when it is done.  No mail
 *     waiting: no reload; live and kicked ROUTES_SETTLE_MS later, once
 *     trivial-rewrite's own check has seen the table.
 *   - a detour removed (its relay up): no reload; kicked after the settle
 *     time.  The relay keeps working meanwhile.
 *
 * Each decision is one log line ("reload for D: ...", "no reload for D:
 * ...").  Reloads are coalesced: at most one per routes.reload_interval,
 * none when the next allowed one is further away than the settle time.
 * With routes.reload = "never": no probe and no reload; a new detour is
 * live at publication, every change is kicked after the settle time.
 *
 * Runs on the routes module's loop; state is file-static.
 */
#ifndef MXD_ROUTES_RELOAD_H
#define MXD_ROUTES_RELOAD_H

#include "cfg.h"
#include "routetable.h"

struct event_base;

/* A growable list of domains (routes' and routes_reload's own). */
struct domains {
    char (*v)[ROUTE_DOMAIN_SIZE];
    size_t n, cap;
};

/* Appends d; on out of memory logs that its mail is not kicked. */
void domains_add(struct domains *l, const char *d);

/* 0, or -1 when timers or memory are missing.  configure takes the reload
 * mode, interval and the relays' next hops (for "relay down"). */
int routes_reload_init(struct event_base *base, const struct cfg *cfg);
int routes_reload_configure(const struct cfg *cfg);
void routes_reload_free(void);

/* One change of the publication just made: old and now are next hops, or
 * NULL for direct. */
void routes_reload_change(const char *domain, const char *old, const char *now);

/* The publication's changes are all given: reload or kick as decided. */
void routes_reload_commit(void);

/* The published next hop of domain, or NULL (routes.c). */
const char *routes_published(const char *domain);

#endif

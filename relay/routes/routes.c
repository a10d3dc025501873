/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes - the route publisher; see routes.h for what happens when.
 *
 * State, all file-static: the wanted routes and the published ones (both
 * sorted by domain), the coalescing and retry timers.  What follows a
 * publication (reload or not, kick, live) is routes_reload.c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "clock.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "routes.h"
#include "routes_reload.h"
#include "routetable.h"

#define MOD "routes"

static struct {
    struct event_base *base;
    struct cfg_routes rt;       /* own copies of the strings */
    char *config_dir;
    struct route *want, *have;
    size_t nwant, capwant, nhave;
    struct event *debounce, *retry;
    uint64_t first_change_ms, retry_ms;
    uint64_t wait_ms;           /* the coalescing wait now: floor..ceiling */
    uint64_t last_publish_ms;
    bool dirty;
} r;

static void timer_in(struct event *ev, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

/* ---------------------------------------------------------------- publish */

static int by_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct route *)elem)->domain);
}

static struct route *find(struct route *v, size_t n, const char *domain)
{
    return n > 0 ? bsearch(domain, v, n, sizeof(*v), by_key) : NULL;
}

/* One change: logged, and when act given to routes_reload (after have is
 * the new table, so that routes_published() answers for it). */
struct change {
    char domain[ROUTE_DOMAIN_SIZE], old[ROUTE_NEXTHOP_SIZE], now[ROUTE_NEXTHOP_SIZE];
};

/* Logs each change from have to want; *out (malloc'ed, caller frees) gets
 * them.  Returns how many. */
static size_t diff(struct change **out)
{
    size_t i = 0, j = 0, n = 0, cap = 0;
    struct change *v = NULL;

    while (i < r.nhave || j < r.nwant) {
        int c = i == r.nhave ? 1 : j == r.nwant ? -1 : strcmp(r.have[i].domain, r.want[j].domain);
        const struct route *was = c <= 0 ? &r.have[i] : NULL, *is = c >= 0 ? &r.want[j] : NULL;
        i += c <= 0;
        j += c >= 0;
        if (was && is && strcmp(was->nexthop, is->nexthop) == 0)
            continue;
        msg_info(MOD, "route for %s: %s (was %s)", is ? is->domain : was->domain,
                 is ? is->nexthop : "direct", was ? was->nexthop : "direct");
        if (n == cap) {
            struct change *grown = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
            if (grown == NULL) {
                msg_warn(MOD, "out of memory: Postfix sees the changes by its own table check");
                break;
            }
            v = grown;
        }
        snprintf(v[n].domain, sizeof(v[n].domain), "%s", is ? is->domain : was->domain);
        snprintf(v[n].old, sizeof(v[n].old), "%s", was ? was->nexthop : "");
        snprintf(v[n].now, sizeof(v[n].now), "%s", is ? is->nexthop : "");
        n++;
    }
    *out = v;
    return n;
}

const char *routes_published(const char *domain)
{
    struct route *cur = find(r.have, r.nhave, domain);

    return cur ? cur->nexthop : NULL;
}

/* Coalescing adapts to the rate of change: a change after a quiet spell is
 * published after the floor (a burst of lines read in one go still shares
 * one postmap); each batch that began within the ceiling of the previous
 * publication doubles the wait, up to the ceiling, so churn costs about one
 * postmap per ceiling; a quiet ceiling's time brings the floor back. */
static void coalesce_after_publish(uint64_t now, uint64_t first_change)
{
    uint64_t floor = r.rt.coalesce_floor_ms, ceiling = r.rt.coalesce_ceiling_ms;

    /* Quiet: this batch began a ceiling's time after the last publication
     * (a publication forced by the ceiling is churn, not quiet). */
    if (r.last_publish_ms == 0 || first_change == 0 || first_change < r.last_publish_ms
        || first_change - r.last_publish_ms >= ceiling)
        r.wait_ms = floor;
    else
        r.wait_ms = r.wait_ms ? r.wait_ms * 2 : 1;
    if (r.wait_ms > ceiling)
        r.wait_ms = ceiling;
    r.last_publish_ms = now;
}

static int publish(bool act)
{
    struct change *changes = NULL;
    size_t nchanges;
    struct route *copy;
    char err[768];
    int flags = 0;

    evtimer_del(r.debounce);
    evtimer_del(r.retry);
    coalesce_after_publish(clock_mono_ms(), r.first_change_ms);
    r.first_change_ms = 0;
    if (routetable_publish(&r.rt, r.config_dir, r.want, r.nwant, &flags, err, sizeof(err)) < 0) {
        metrics_inc(MET_ROUTE_PUBLICATIONS, MP_FAILED);
        r.retry_ms = r.retry_ms ? r.retry_ms * 2 : ROUTES_RETRY_MIN_MS;
        if (r.retry_ms > ROUTES_RETRY_MAX_MS)
            r.retry_ms = ROUTES_RETRY_MAX_MS;
        msg_warn(MOD, "cannot publish %zu route%s: %s; the table in force stays, trying again "
                 "in %llu s", r.nwant, r.nwant == 1 ? "" : "s", err,
                 (unsigned long long)(r.retry_ms / 1000));
        if (act)
            timer_in(r.retry, r.retry_ms);
        return -1;
    }
    metrics_inc(MET_ROUTE_PUBLICATIONS, flags & ROUTETABLE_UNCHANGED ? MP_UNCHANGED : MP_WRITTEN);
    r.retry_ms = 0;
    r.dirty = false;
    if (!(flags & ROUTETABLE_UNCHANGED))
        msg_info(MOD, "published %zu route%s to %s:%s", r.nwant, r.nwant == 1 ? "" : "s",
                 r.rt.table_type, r.rt.table);
    nchanges = diff(&changes);
    if ((copy = malloc((r.nwant ? r.nwant : 1) * sizeof(*copy))) != NULL) {
        if (r.nwant > 0)
            memcpy(copy, r.want, r.nwant * sizeof(*copy));
        free(r.have);
        r.have = copy;
        r.nhave = r.nwant;
    }
    for (size_t i = 0; act && i < nchanges; i++)
        routes_reload_change(changes[i].domain, changes[i].old[0] ? changes[i].old : NULL,
                             changes[i].now[0] ? changes[i].now : NULL);
    if (act)
        routes_reload_commit();
    free(changes);
    return 0;
}

static void on_publish_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (r.dirty)
        (void)publish(true);
}

int routes_flush(void)
{
    return publish(true);
}

/* ---------------------------------------------------------------- set */

/* "Example.COM." -> "example.com", ".Example.com" -> ".example.com"; -1 if not a domain. */
static int normalize(const char *domain, char out[ROUTE_DOMAIN_SIZE])
{
    size_t dot = domain[0] == '.';

    out[0] = '.';
    return domain_normalize(domain + dot, strlen(domain + dot), out + dot, ROUTE_DOMAIN_SIZE - dot);
}

int routes_set(const char *domain, const char *nexthop)
{
    struct route nr, *cur;
    char err[300];

    memset(&nr, 0, sizeof(nr));
    if (normalize(domain, nr.domain) < 0) {
        msg_warn(MOD, "not a domain: \"%.80s\"; route not set", domain);
        return -1;
    }
    if (nexthop != NULL && *nexthop != 0) {
        if (strlen(nexthop) >= sizeof(nr.nexthop)) {
            msg_warn(MOD, "next hop for %s is too long; route not set", nr.domain);
            return -1;
        }
        strcpy(nr.nexthop, nexthop);
        if (routetable_check(&nr, err, sizeof(err)) < 0) {
            msg_warn(MOD, "%s; route not set", err);
            return -1;
        }
    }
    cur = find(r.want, r.nwant, nr.domain);
    if (nr.nexthop[0] != 0) {
        if (cur != NULL && strcmp(cur->nexthop, nr.nexthop) == 0)
            return 0;
        if (cur != NULL) {
            *cur = nr;
        } else {
            size_t at = 0;
            if (r.nwant >= ROUTETABLE_MAX_ROUTES) {
                msg_warn(MOD, "%d routes already; %s not routed", ROUTETABLE_MAX_ROUTES, nr.domain);
                return -1;
            }
            if (r.nwant == r.capwant) {
                size_t cap = r.capwant ? r.capwant * 2 : 64;
                struct route *grown = realloc(r.want, cap * sizeof(*grown));
                if (grown == NULL) {
                    msg_warn(MOD, "out of memory; %s not routed", nr.domain);
                    return -1;
                }
                r.want = grown;
                r.capwant = cap;
            }
            while (at < r.nwant && strcmp(r.want[at].domain, nr.domain) < 0)
                at++;
            memmove(r.want + at + 1, r.want + at, (r.nwant - at) * sizeof(*r.want));
            r.want[at] = nr;
            r.nwant++;
        }
    } else {
        if (cur == NULL)
            return 0;
        memmove(cur, cur + 1, (size_t)(r.want + r.nwant - cur - 1) * sizeof(*cur));
        r.nwant--;
    }
    r.dirty = true;
    if (r.debounce != NULL) {
        uint64_t now = clock_mono_ms(), ceiling = r.rt.coalesce_ceiling_ms;
        uint64_t wait = r.last_publish_ms == 0 || now - r.last_publish_ms >= ceiling
                        ? r.rt.coalesce_floor_ms : r.wait_ms;
        if (r.first_change_ms == 0)
            r.first_change_ms = now;
        if (now + wait > r.first_change_ms + ceiling)
            wait = r.first_change_ms + ceiling > now ? r.first_change_ms + ceiling - now : 0;
        timer_in(r.debounce, wait);
    }
    return 0;
}

const char *routes_get(const char *domain)
{
    char d[ROUTE_DOMAIN_SIZE];
    struct route *cur = normalize(domain, d) == 0 ? find(r.want, r.nwant, d) : NULL;

    return cur ? cur->nexthop : NULL;
}

size_t routes_count(void)
{
    return r.nwant;
}

/* ---------------------------------------------------------------- life */

static void free_cfg(void)
{
    free(r.rt.table);
    free(r.rt.table_type);
    free(r.rt.postmap);
    free(r.config_dir);
    r.rt.table = r.rt.table_type = r.rt.postmap = r.config_dir = NULL;
}

static int copy_cfg(const struct cfg *cfg)
{
    free_cfg();
    r.rt = cfg->routes;
    r.rt.socketmap = NULL;
    r.rt.table = strdup(cfg->routes.table);
    r.rt.table_type = strdup(cfg->routes.table_type);
    r.rt.postmap = strdup(cfg->routes.postmap);
    r.config_dir = strdup(cfg->postfix.config_directory);
    return r.rt.table && r.rt.table_type && r.rt.postmap && r.config_dir ? 0 : -1;
}

/* Takes the published table as both wanted and published routes; true when
 * it must be published again (no database, or lines that were dropped). */
static bool load_table(void)
{
    struct route *loaded;
    char err[512], db[4200];
    struct stat st;
    size_t n;

    snprintf(db, sizeof(db), "%s%s", r.rt.table,
             routetable_db_suffix(r.rt.table_type) ? routetable_db_suffix(r.rt.table_type) : "");
    if (routetable_load(r.rt.table, &loaded, &n, err, sizeof(err)) < 0) {
        msg_warn(MOD, "%s; starting with no routes", err);
        loaded = NULL;
        n = 0;
    }
    free(r.want);
    free(r.have);
    r.want = loaded;
    r.nwant = r.capwant = n;
    r.have = NULL;
    r.nhave = 0;
    if (n > 0 && (r.have = malloc(n * sizeof(*r.have))) != NULL) {
        memcpy(r.have, loaded, n * sizeof(*r.have));
        r.nhave = n;
    }
    msg_info(MOD, "%zu route%s in force from %s", n, n == 1 ? "" : "s", r.rt.table);
    return stat(db, &st) < 0;
}

int routes_init(struct event_base *base, const struct cfg *cfg)
{
    if (cfg->routes.mode != ROUTES_TABLE) {
        msg_warn(MOD, "routes.mode \"socketmap\" is not supported by this version; use \"table\"");
        return -1;
    }
    if (routetable_db_suffix(cfg->routes.table_type) == NULL || copy_cfg(cfg) < 0) {
        msg_warn(MOD, "cannot use table type \"%s\" (or out of memory)", cfg->routes.table_type);
        return -1;
    }
    r.base = base;
    r.debounce = evtimer_new(base, on_publish_timer, NULL);
    r.retry = evtimer_new(base, on_publish_timer, NULL);
    if (r.debounce == NULL || r.retry == NULL || routes_reload_init(base, cfg) < 0) {
        msg_warn(MOD, "cannot create timers (or out of memory)");
        return -1;
    }
    if (load_table()) {
        msg_info(MOD, "%s has no database yet: publishing it now", r.rt.table);
        r.dirty = true;
        if (publish(false) < 0)
            timer_in(r.retry, r.retry_ms);
    }
    return 0;
}

void routes_free(void)
{
    if (r.dirty && r.base != NULL) {
        msg_info(MOD, "publishing %zu pending route change%s before stopping", r.nwant,
                 r.nwant == 1 ? "" : "s");
        (void)publish(false);
    }
    routes_reload_free();
    if (r.debounce)
        event_free(r.debounce);
    if (r.retry)
        event_free(r.retry);
    free(r.want);
    free(r.have);
    free_cfg();
    memset(&r, 0, sizeof(r));
}

static int module_start(struct daemon *d)
{
    return routes_init(d->base, d->cfg);
}

static void module_reload(struct daemon *d, const struct cfg *old)
{
    const struct cfg_routes *a = &old->routes, *b = &d->cfg->routes;
    bool moved = strcmp(a->table, b->table) != 0 || strcmp(a->table_type, b->table_type) != 0;

    if (b->mode != ROUTES_TABLE || routetable_db_suffix(b->table_type) == NULL) {
        msg_warn(MOD, "routes: new settings not usable; keeping %s:%s", r.rt.table_type,
                 r.rt.table);
        return;
    }
    if (copy_cfg(d->cfg) < 0 || routes_reload_configure(d->cfg) < 0) {
        msg_warn(MOD, "out of memory while reloading");
        return;
    }
    if (moved) {                /* the wanted routes go to the new table */
        msg_info(MOD, "table is now %s:%s; the old one stays where it is until it is removed "
                 "from transport_maps", r.rt.table_type, r.rt.table);
        free(r.have);
        r.have = NULL;
        r.nhave = 0;
        r.dirty = true;
        timer_in(r.debounce, 0);
    }
}

static void module_stop(struct daemon *d)
{
    (void)d;
    routes_free();
}

const struct daemon_module routes_module = {
    .name = MOD,
    .start = module_start,
    .reload = module_reload,
    .stop = module_stop,
};

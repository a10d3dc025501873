/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes - the route publisher; see routes.h for what happens when.
 *
 * State, all file-static: the wanted routes and the published ones (both
 * sorted by domain), timers (debounce, retry, reload), two lists of domains
 * waiting for a reload: those whose reload is not sent yet ("waiting") and
 * those riding the reload in flight ("riding"; a reload can only cover a
 * table renamed before it started, hence two lists), and two queues of
 * domains to kick at a time: "soon" after a reload, "settle" after Postfix's
 * own table check.  Each queue has one fixed delay, so first in is first due.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "clock.h"
#include "kick.h"
#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "privsep.h"
#include "routes.h"
#include "routetable.h"

#define MOD "routes"

struct domains {
    char (*v)[ROUTE_DOMAIN_SIZE];
    size_t n, cap;
};

struct later {                  /* domains to kick, in due order */
    struct {
        char domain[ROUTE_DOMAIN_SIZE];
        uint64_t due_ms;
    } *v;
    size_t head, n, cap;
    uint64_t delay_ms;
    struct event *timer;
};

static struct {
    struct event_base *base;
    struct cfg_routes rt;       /* own copies of the strings */
    char *config_dir;
    struct route *want, *have;
    size_t nwant, capwant, nhave;
    struct event *debounce, *retry, *reload_timer;
    uint64_t first_change_ms, retry_ms, last_reload_ms;
    uint64_t wait_ms;           /* the coalescing wait now: floor..ceiling */
    uint64_t last_publish_ms;
    bool dirty, reload_inflight;
    struct domains waiting, riding;
    struct later soon, settle;
} r;

static void timer_in(struct event *ev, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

static void domains_add(struct domains *l, const char *d)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *grown = realloc(l->v, cap * sizeof(l->v[0]));
        if (grown == NULL) {
            msg_warn(MOD, "out of memory: deferred mail for %s is not kicked", d);
            return;
        }
        l->v = grown;
        l->cap = cap;
    }
    snprintf(l->v[l->n++], ROUTE_DOMAIN_SIZE, "%s", d);
}

static void later_arm(struct later *q)
{
    uint64_t now = clock_mono_ms(), due;

    if (q->head == q->n)
        return;
    due = q->v[q->head].due_ms;
    timer_in(q->timer, due > now ? due - now : 0);
}

/* Kicks the domains of l after q's delay, and empties l. */
static void kick_later(struct domains *l, struct later *q)
{
    uint64_t due = clock_mono_ms() + q->delay_ms;

    for (size_t i = 0; i < l->n; i++) {
        if (q->n == q->cap && q->head > 0) {
            memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
            q->n -= q->head;
            q->head = 0;
        }
        if (q->n == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 16;
            void *grown = cap <= 2 * ROUTETABLE_MAX_ROUTES ? realloc(q->v, cap * sizeof(*q->v)) : NULL;
            if (grown == NULL) {
                msg_warn(MOD, "out of memory: deferred mail for %s is not kicked", l->v[i]);
                continue;
            }
            q->v = grown;
            q->cap = cap;
        }
        memcpy(q->v[q->n].domain, l->v[i], ROUTE_DOMAIN_SIZE);
        q->v[q->n++].due_ms = due;
    }
    l->n = 0;
    if (!evtimer_pending(q->timer, NULL))
        later_arm(q);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    struct later *q = arg;
    uint64_t now = clock_mono_ms();
    const char *names[64];
    size_t n = 0;

    (void)fd;
    (void)what;
    while (q->head < q->n && q->v[q->head].due_ms <= now + 5) {
        names[n++] = q->v[q->head++].domain;
        if (n == sizeof(names) / sizeof(names[0]) || q->head == q->n
            || q->v[q->head].due_ms > now + 5) {
            (void)kick_domains(names, n);       /* copies the names */
            n = 0;
        }
    }
    if (q->head == q->n)
        q->head = q->n = 0;
    later_arm(q);
}

/* ---------------------------------------------------------------- reload */

static void schedule_reload(void);

static void (*live_fn)(const char *domain, void *arg);
static void *live_arg;

void routes_on_live(void (*fn)(const char *domain, void *arg), void *arg)
{
    live_fn = fn;
    live_arg = arg;
}

static void announce_live(const struct domains *l)
{
    for (size_t i = 0; live_fn && i < l->n; i++)
        live_fn(l->v[i], live_arg);
}

static void on_reloaded(int status, const char *text, void *arg)
{
    (void)arg;
    metrics_inc(MET_POSTFIX_RELOADS, status != 0);
    r.reload_inflight = false;
    r.last_reload_ms = clock_mono_ms();
    announce_live(&r.riding);       /* a failed reload: as live as it gets */
    if (status == 0) {
        msg_debug(MOD, "postfix reload done; kicking %zu domain(s)", r.riding.n);
        kick_later(&r.riding, &r.soon);
    } else {
        msg_warn(MOD, "postfix reload failed: %s; Postfix sees the new routes within about 10 s",
                 text);
        kick_later(&r.riding, &r.settle);
    }
    if (r.waiting.n > 0)
        schedule_reload();
}

static void send_reload(void)
{
    char err[256];

    if (privsep_request(PRIVSEP_RELOAD, on_reloaded, NULL, err, sizeof(err)) < 0) {
        static struct msg_limiter lim;
        msg_limited(&lim, 600000, MOD, "no postfix reload (%s); Postfix sees the new routes "
                    "within about 10 s", err);
        announce_live(&r.waiting);
        kick_later(&r.waiting, &r.settle);
        return;
    }
    r.reload_inflight = true;
    for (size_t i = 0; i < r.waiting.n; i++)
        domains_add(&r.riding, r.waiting.v[i]);
    r.waiting.n = 0;
}

static void on_reload_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    schedule_reload();
}

/* At most one reload per reload_interval, none in flight twice. */
static void schedule_reload(void)
{
    uint64_t now = clock_mono_ms(), wait = 0;

    if (r.reload_inflight || evtimer_pending(r.reload_timer, NULL))
        return;                 /* the waiting domains ride the next one */
    if (r.last_reload_ms != 0 && now - r.last_reload_ms < r.rt.reload_interval_ms)
        wait = r.last_reload_ms + r.rt.reload_interval_ms - now;
    if (wait > ROUTES_SETTLE_MS) {
        msg_debug(MOD, "next reload in %llu ms: Postfix's own check is sooner; no reload",
                  (unsigned long long)wait);
        announce_live(&r.waiting);
        kick_later(&r.waiting, &r.settle);
    } else if (wait > 0) {
        timer_in(r.reload_timer, wait);
    } else {
        send_reload();
    }
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

/* Logs each change from have to want and sorts the changed domains into
 * urgent (a detour added or changed) and calm (a detour removed). */
static void diff(struct domains *urgent, struct domains *calm)
{
    size_t i = 0, j = 0;

    while (i < r.nhave || j < r.nwant) {
        int c = i == r.nhave ? 1 : j == r.nwant ? -1 : strcmp(r.have[i].domain, r.want[j].domain);
        if (c < 0) {
            msg_info(MOD, "route for %s: direct (was %s)", r.have[i].domain, r.have[i].nexthop);
            domains_add(calm, r.have[i++].domain);
        } else if (c > 0) {
            msg_info(MOD, "route for %s: %s (was direct)", r.want[j].domain, r.want[j].nexthop);
            domains_add(urgent, r.want[j++].domain);
        } else {
            if (strcmp(r.have[i].nexthop, r.want[j].nexthop) != 0) {
                msg_info(MOD, "route for %s: %s (was %s)", r.want[j].domain, r.want[j].nexthop,
                         r.have[i].nexthop);
                domains_add(urgent, r.want[j].domain);
            }
            i++;
            j++;
        }
    }
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
    struct domains urgent = {0}, calm = {0};
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
    diff(&urgent, &calm);
    if ((copy = malloc((r.nwant ? r.nwant : 1) * sizeof(*copy))) != NULL) {
        if (r.nwant > 0)
            memcpy(copy, r.want, r.nwant * sizeof(*copy));
        free(r.have);
        r.have = copy;
        r.nhave = r.nwant;
    }
    if (act) {
        if (urgent.n > 0 && r.rt.reload == RELOAD_AUTO) {
            for (size_t i = 0; i < urgent.n; i++)
                domains_add(&r.waiting, urgent.v[i]);
            schedule_reload();
        } else {
            announce_live(&urgent);
            kick_later(&urgent, &r.settle);
        }
        kick_later(&calm, &r.settle);
    }
    free(urgent.v);
    free(calm.v);
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
    r.reload_timer = evtimer_new(base, on_reload_timer, NULL);
    r.soon.timer = evtimer_new(base, on_later, &r.soon);
    r.settle.timer = evtimer_new(base, on_later, &r.settle);
    r.soon.delay_ms = ROUTES_KICK_AFTER_RELOAD_MS;
    r.settle.delay_ms = ROUTES_SETTLE_MS;
    if (r.debounce == NULL || r.retry == NULL || r.reload_timer == NULL || r.soon.timer == NULL
        || r.settle.timer == NULL) {
        msg_warn(MOD, "cannot create timers");
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
    privsep_cancel(on_reloaded, NULL);
    if (r.debounce)
        event_free(r.debounce);
    if (r.retry)
        event_free(r.retry);
    if (r.reload_timer)
        event_free(r.reload_timer);
    for (int i = 0; i < 2; i++) {
        struct later *q = i ? &r.settle : &r.soon;
        if (q->timer)
            event_free(q->timer);
        free(q->v);
    }
    free(r.want);
    free(r.have);
    free(r.waiting.v);
    free(r.riding.v);
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
    if (copy_cfg(d->cfg) < 0) {
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

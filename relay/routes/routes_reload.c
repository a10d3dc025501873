/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes_reload - reload or not, then kick and announce; see routes_reload.h.
 *
 * State, all file-static: two lists of domains waiting for a reload: those
 * whose reload is not sent yet ("waiting") and those riding the reload in
 * flight ("riding"; a reload can only cover a table renamed before it
 * started, hence two lists), and two queues of domains to kick at a time:
 * "soon" after a reload, "settle" after Postfix's own table check.  Each
 * queue has one fixed delay, so first in is first due.  A "settle" entry
 * may also announce its detour live: the case of a detour with no mail
 * waiting, which Postfix sees by its own check.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "kick.h"
#include "metrics.h"
#include "msg.h"
#include "privsep.h"
#include "relayhealth.h"
#include "routes.h"
#include "routes_reload.h"

#define MOD "routes"

struct later {                  /* domains to kick, in due order */
    struct {
        char domain[ROUTE_DOMAIN_SIZE];
        uint64_t due_ms;
        bool live;              /* announce it live when due */
    } *v;
    size_t head, n, cap;
    uint64_t delay_ms;
    struct event *timer;
};

struct relay_hop {
    char *name, *nexthop;
};

static struct {
    enum routes_reload mode;
    uint64_t interval_ms, last_reload_ms;
    struct relay_hop *relays;
    size_t nrelays;
    struct event *reload_timer;
    struct event *answered;     /* after a listing's answers: one reload for all */
    bool inflight;
    struct domains waiting, riding;
    struct domains calm;        /* this publication's, kicked after the settle time */
    struct later soon, settle;
} rl;

static void (*live_fn)(const char *domain, void *arg);
static void *live_arg;

/* routes_urgent(): a ring, consumed by the domain's next change. */
static struct {
    char domain[ROUTE_DOMAIN_SIZE];
    char why[96];
} urgent[ROUTES_URGENT_MAX];
static size_t urgent_next;

void routes_urgent(const char *domain, const char *why)
{
    for (size_t i = 0; i < ROUTES_URGENT_MAX; i++)
        if (strcmp(urgent[i].domain, domain) == 0) {
            snprintf(urgent[i].why, sizeof(urgent[i].why), "%s", why);
            return;
        }
    snprintf(urgent[urgent_next].domain, sizeof(urgent[0].domain), "%s", domain);
    snprintf(urgent[urgent_next].why, sizeof(urgent[0].why), "%s", why);
    urgent_next = (urgent_next + 1) % ROUTES_URGENT_MAX;
}

/* Why domain's change is urgent (and forgets it), or NULL. */
static const char *urgent_take(const char *domain, char *buf, size_t size)
{
    for (size_t i = 0; i < ROUTES_URGENT_MAX; i++)
        if (urgent[i].domain[0] && strcmp(urgent[i].domain, domain) == 0) {
            snprintf(buf, size, "%s", urgent[i].why);
            urgent[i].domain[0] = '\0';
            return buf;
        }
    return NULL;
}

static void timer_in(struct event *ev, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(ev, &tv);
}

void domains_add(struct domains *l, const char *d)
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

void routes_on_live(void (*fn)(const char *domain, void *arg), void *arg)
{
    live_fn = fn;
    live_arg = arg;
}

/* Only a detour still published is announced: one removed meanwhile is not. */
static void announce(const char *domain)
{
    if (live_fn && routes_published(domain) != NULL)
        live_fn(domain, live_arg);
}

static void announce_live(const struct domains *l)
{
    for (size_t i = 0; i < l->n; i++)
        announce(l->v[i]);
}

/* ---------------------------------------------------------------- kicks */

static void later_arm(struct later *q)
{
    uint64_t now = clock_mono_ms(), due;

    if (q->head == q->n)
        return;
    due = q->v[q->head].due_ms;
    timer_in(q->timer, due > now ? due - now : 0);
}

static void later_add(struct later *q, const char *domain, uint64_t due, bool live)
{
    if (q->n == q->cap && q->head > 0) {
        memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof(*q->v));
        q->n -= q->head;
        q->head = 0;
    }
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        void *grown = cap <= 2 * ROUTETABLE_MAX_ROUTES ? realloc(q->v, cap * sizeof(*q->v)) : NULL;
        if (grown == NULL) {
            msg_warn(MOD, "out of memory: deferred mail for %s is not kicked", domain);
            return;
        }
        q->v = grown;
        q->cap = cap;
    }
    snprintf(q->v[q->n].domain, ROUTE_DOMAIN_SIZE, "%s", domain);
    q->v[q->n].live = live;
    q->v[q->n++].due_ms = due;
    if (!evtimer_pending(q->timer, NULL))
        later_arm(q);
}

/* Kicks the domains of l after q's delay, and empties l. */
static void kick_later(struct domains *l, struct later *q)
{
    uint64_t due = clock_mono_ms() + q->delay_ms;

    for (size_t i = 0; i < l->n; i++)
        later_add(q, l->v[i], due, false);
    l->n = 0;
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
        if (q->v[q->head].live)
            announce(q->v[q->head].domain);
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

static void on_reloaded(int status, const char *text, void *arg)
{
    (void)arg;
    metrics_inc(MET_POSTFIX_RELOADS, status != 0);
    rl.inflight = false;
    rl.last_reload_ms = clock_mono_ms();
    announce_live(&rl.riding);      /* a failed reload: as live as it gets */
    if (status == 0) {
        msg_debug(MOD, "postfix reload done; kicking %zu domain(s)", rl.riding.n);
        kick_later(&rl.riding, &rl.soon);
    } else {
        msg_warn(MOD, "postfix reload failed: %s; Postfix sees the new routes within about 10 s",
                 text);
        kick_later(&rl.riding, &rl.settle);
    }
    if (rl.waiting.n > 0)
        schedule_reload();
}

static void send_reload(void)
{
    char err[256];

    if (privsep_request(PRIVSEP_RELOAD, on_reloaded, NULL, err, sizeof(err)) < 0) {
        static struct msg_limiter lim;
        msg_limited(&lim, 600000, MOD, "no postfix reload (%s); Postfix sees the new routes "
                    "within about 10 s", err);
        announce_live(&rl.waiting);
        kick_later(&rl.waiting, &rl.settle);
        return;
    }
    rl.inflight = true;
    for (size_t i = 0; i < rl.waiting.n; i++)
        domains_add(&rl.riding, rl.waiting.v[i]);
    rl.waiting.n = 0;
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

    if (rl.inflight || evtimer_pending(rl.reload_timer, NULL))
        return;                 /* the waiting domains ride the next one */
    if (rl.last_reload_ms != 0 && now - rl.last_reload_ms < rl.interval_ms)
        wait = rl.last_reload_ms + rl.interval_ms - now;
    if (wait > ROUTES_SETTLE_MS) {
        msg_debug(MOD, "next reload in %llu ms: Postfix's own check is sooner; no reload",
                  (unsigned long long)wait);
        announce_live(&rl.waiting);
        kick_later(&rl.waiting, &rl.settle);
    } else if (wait > 0) {
        timer_in(rl.reload_timer, wait);
    } else {
        send_reload();
    }
}

/* ---------------------------------------------------------------- decide */

/* The relay whose next hop is nexthop when relayhealth says it is down. */
static const char *relay_down(const char *nexthop)
{
    for (size_t i = 0; nexthop && i < rl.nrelays; i++)
        if (strcmp(rl.relays[i].nexthop, nexthop) == 0 && !relayhealth_is_up(rl.relays[i].name))
            return rl.relays[i].name;
    return NULL;
}

/* The queue's answer for a new or changed detour (kick_probe). */
static void on_waiting(const char *domain, long n, void *arg)
{
    (void)arg;
    if (routes_published(domain) == NULL) {
        msg_debug(MOD, "%s: no detour any more; its queue answer is dropped", domain);
        return;
    }
    if (rl.mode != RELOAD_AUTO) {       /* reload "never" since it was asked */
        announce(domain);
        later_add(&rl.settle, domain, clock_mono_ms() + ROUTES_SETTLE_MS, false);
        return;
    }
    if (n == 0) {
        msg_info(MOD, "no reload for %s: no mail waiting; Postfix sees the table within 10 s",
                 domain);
        later_add(&rl.settle, domain, clock_mono_ms() + ROUTES_SETTLE_MS, true);
        return;
    }
    if (n > 0)
        msg_info(MOD, "reload for %s: %ld message%s waiting in Postfix's queue", domain, n,
                 n == 1 ? "" : "s");
    else
        msg_info(MOD, "reload for %s: the queue could not be listed in full", domain);
    domains_add(&rl.waiting, domain);
    if (!evtimer_pending(rl.answered, NULL))
        timer_in(rl.answered, 0);       /* the listing's other answers come first */
}

void routes_reload_change(const char *domain, const char *old, const char *now)
{
    const char *down = relay_down(old);
    char whybuf[96];
    const char *why = now != NULL ? urgent_take(domain, whybuf, sizeof(whybuf)) : NULL;

    if (rl.mode != RELOAD_AUTO) {
        if (now != NULL)
            announce(domain);   /* as live as it gets without a reload */
        domains_add(&rl.calm, domain);
    } else if (down != NULL && now != NULL) {
        msg_info(MOD, "reload for %s: relay %s of its old route is down", domain, down);
        domains_add(&rl.waiting, domain);
    } else if (why != NULL) {
        msg_info(MOD, "reload for %s: %s", domain, why);
        domains_add(&rl.waiting, domain);
    } else if (now == NULL) {
        msg_info(MOD, "no reload for %s: route removed; the old one works until Postfix sees "
                 "the table within 10 s", domain);
        domains_add(&rl.calm, domain);
    } else if (kick_probe(&domain, 1) < 0) {
        msg_info(MOD, "reload for %s: Postfix's queue cannot be asked", domain);
        domains_add(&rl.waiting, domain);
    }
}

void routes_reload_commit(void)
{
    kick_later(&rl.calm, &rl.settle);
    if (rl.waiting.n > 0)
        schedule_reload();
}

/* ---------------------------------------------------------------- life */

static void free_relays(void)
{
    for (size_t i = 0; i < rl.nrelays; i++) {
        free(rl.relays[i].name);
        free(rl.relays[i].nexthop);
    }
    free(rl.relays);
    rl.relays = NULL;
    rl.nrelays = 0;
}

int routes_reload_configure(const struct cfg *cfg)
{
    rl.mode = cfg->routes.reload;
    rl.interval_ms = cfg->routes.reload_interval_ms;
    free_relays();
    if (cfg->nrelays > 0 && (rl.relays = calloc(cfg->nrelays, sizeof(*rl.relays))) == NULL)
        return -1;
    for (size_t i = 0; i < cfg->nrelays; i++) {
        const struct cfg_relay *c = &cfg->relays[i];
        if (c->nexthop == NULL || c->name == NULL)
            continue;           /* kernel-mode tunnels have no Postfix route */
        rl.relays[rl.nrelays].name = strdup(c->name);
        rl.relays[rl.nrelays].nexthop = strdup(c->nexthop);
        if (rl.relays[rl.nrelays].name == NULL || rl.relays[rl.nrelays++].nexthop == NULL)
            return -1;
    }
    return 0;
}

int routes_reload_init(struct event_base *base, const struct cfg *cfg)
{
    rl.reload_timer = evtimer_new(base, on_reload_timer, NULL);
    rl.answered = evtimer_new(base, on_reload_timer, NULL);
    rl.soon.timer = evtimer_new(base, on_later, &rl.soon);
    rl.settle.timer = evtimer_new(base, on_later, &rl.settle);
    rl.soon.delay_ms = ROUTES_KICK_AFTER_RELOAD_MS;
    rl.settle.delay_ms = ROUTES_SETTLE_MS;
    if (rl.reload_timer == NULL || rl.answered == NULL || rl.soon.timer == NULL || rl.settle.timer == NULL)
        return -1;
    kick_on_waiting(on_waiting, NULL);
    return routes_reload_configure(cfg);
}

void routes_reload_free(void)
{
    privsep_cancel(on_reloaded, NULL);
    kick_on_waiting(NULL, NULL);
    if (rl.reload_timer)
        event_free(rl.reload_timer);
    if (rl.answered)
        event_free(rl.answered);
    for (int i = 0; i < 2; i++) {
        struct later *q = i ? &rl.settle : &rl.soon;
        if (q->timer)
            event_free(q->timer);
        free(q->v);
    }
    free(rl.waiting.v);
    free(rl.riding.v);
    free(rl.calm.v);
    free_relays();
    memset(&rl, 0, sizeof(rl));
}

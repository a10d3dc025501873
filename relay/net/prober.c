/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prober - see prober.h for what a probe does and what its results mean.
 *
 * A probe's life:
 *
 *   JITTER --timer--> QUEUED --slot--> CONNECTING --writable--> READING
 *   (none with jitter 0)                   |                       |
 *                                          +----> finish() <-------+
 *                                                    |
 *                                (after a reply: QUIT, close)
 *
 * Every probe not yet finished is on p->all (the list prober_probe() looks
 * in to join a probe under way); QUEUED probes are also on the FIFO
 * p->qhead..p->qtail.  p->running counts the probes between "slot" and finish().
 * finish() unlinks and frees the probe before it calls any callback, so a
 * callback may start or cancel probes without pulling the floor from under
 * the code that called it.  prober_pump() hands free slots to queued probes; a
 * guard keeps it from recursing when a probe fails at once and finishes
 * inside it.
 *
 * After a reply the probe sends "QUIT" and closes at once; it does not wait
 * for the "221" (whose arrival the kernel answers with a reset, after the
 * server has taken the QUIT).
 *
 * Diagnostics: msg_warn for local errors (socket, bind) and a full queue
 * (rate limited), msg_debug for every result.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "prober_int.h"

#define MOD PROBER_MOD
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_CONCURRENCY 4
#define DEFAULT_PORT 25

static const char *const kind_names[PROBE_KIND_COUNT] = {
    "greeting", "reply", "timeout", "refused", "unreach", "no-greeting", "error",
};

const char *probe_kind_name(enum probe_kind kind)
{
    return (unsigned)kind < PROBE_KIND_COUNT ? kind_names[kind] : "unknown";
}

enum fail_kind probe_fail_kind(enum probe_kind kind)
{
    switch (kind) {
    case PROBE_TIMEOUT:
        return FAIL_TIMEOUT;
    case PROBE_REFUSED:
        return FAIL_REFUSED;
    case PROBE_UNREACH:
        return FAIL_UNREACH;
    case PROBE_NO_GREETING:
        return FAIL_GREETING;
    default:
        return FAIL_NONE;
    }
}

int probe_is_success(enum probe_kind kind)
{
    return kind == PROBE_GREETING || kind == PROBE_REPLY;
}

/* Says QUIT and closes: the server sees an orderly end, not a reset. */
void prober_pump(struct prober *p)
{
    if (p->pumping)
        return;
    p->pumping = 1;
    while (p->qhead && p->running < p->concurrency) {
        struct probe *pr = p->qhead;
        prober_queue_remove(p, pr);
        p->waiting--;
        p->running++;
        prober_start(pr);
    }
    p->pumping = 0;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    prober_pump(arg);
}

static void enqueue(struct prober *p, struct probe *pr)
{
    pr->state = ST_QUEUED;
    pr->qprev = p->qtail;
    if (p->qtail)
        p->qtail->qnext = pr;
    else
        p->qhead = pr;
    p->qtail = pr;
}

static void on_jitter(evutil_socket_t fd, short what, void *arg)
{
    struct probe *pr = arg;

    (void)fd;
    (void)what;
    event_free(pr->timer);
    pr->timer = NULL;
    enqueue(pr->p, pr);
    prober_pump(pr->p);
}

/* The prober itself. */

void prober_configure(struct prober *p, const struct cfg_probe *cfg)
{
    p->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    p->concurrency = cfg->concurrency ? cfg->concurrency : DEFAULT_CONCURRENCY;
    p->jitter_ms = cfg->jitter_ms;
    p->port = cfg->port > 0 && cfg->port < 65536 ? cfg->port : DEFAULT_PORT;
    p->source[0] = 0;
    if (cfg->source_address && netaddr_canon(cfg->source_address, p->source, sizeof(p->source)) == NULL) {
        msg_warn(MOD, "probe source address \"%s\" is not an address: probing from any",
                 cfg->source_address);
        p->source[0] = 0;
    }
    /* More slots may be free now; start them from the loop. */
    event_active(p->kick, EV_TIMEOUT, 0);
}

struct prober *prober_new(struct event_base *base, const struct cfg_probe *cfg)
{
    struct prober *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->base = base;
    p->kick = event_new(base, -1, 0, on_kick, p);
    if (p->kick == NULL) {
        free(p);
        return NULL;
    }
    prober_configure(p, cfg);
    return p;
}

/* Direct probes join direct ones; a control probe joins one through the
 * same proxy, as the same user. */
static int same_path(const struct probe_proxy *a, const struct probe_proxy *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return a->sp.port == b->sp.port && netaddr_equal(&a->sp.addr, &b->sp.addr)
           && strcmp(a->user, b->user) == 0 && strcmp(a->password, b->password) == 0;
}

/* Joins or queues a probe; proxy (or NULL) is the new probe's or freed. */
static int add_probe(struct prober *p, const struct netaddr *addr, int port, const char *canon,
                     struct probe_proxy *proxy, probe_fn fn, void *arg)
{
    struct waiter *w;
    struct probe *pr;
    uint64_t delay = 0;
    struct timeval tv;

    if ((w = calloc(1, sizeof(*w))) == NULL) {
        free(proxy);
        return -1;
    }
    w->fn = fn;
    w->arg = arg;
    for (pr = p->all; pr; pr = pr->next) {
        if (pr->port == port && netaddr_equal(&pr->addr, addr) && strcmp(pr->source, canon) == 0
            && same_path(pr->proxy, proxy)) {
            struct waiter **tail = &pr->waiters;
            while (*tail)
                tail = &(*tail)->next;
            *tail = w;
            p->stats.requested++;
            p->stats.joined++;
            free(proxy);
            return 0;
        }
    }
    if (p->waiting >= PROBER_MAX_PENDING) {
        p->stats.overflow++;
        msg_limited(&p->full_lim, 60000, MOD, "%u probes waiting already: probe refused",
                    p->waiting);
        free(w);
        free(proxy);
        return -1;
    }
    if ((pr = calloc(1, sizeof(*pr))) == NULL) {
        free(w);
        free(proxy);
        return -1;
    }
    pr->p = p;
    pr->addr = *addr;
    pr->port = port;
    snprintf(pr->source, sizeof(pr->source), "%s", canon);
    pr->proxy = proxy;
    pr->fd = -1;
    pr->waiters = w;
    pr->timeout_ms = p->timeout_ms;
    if (p->jitter_ms)
        delay = arc4random_uniform(p->jitter_ms < UINT32_MAX ? (uint32_t)p->jitter_ms + 1 : UINT32_MAX);
    if (delay == 0) {
        /* Straight into the queue, in order; started from the loop. */
        enqueue(p, pr);
        event_active(p->kick, EV_TIMEOUT, 0);
    } else {
        tv.tv_sec = (time_t)(delay / 1000);
        tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
        pr->state = ST_JITTER;
        pr->timer = evtimer_new(p->base, on_jitter, pr);
        if (pr->timer == NULL || evtimer_add(pr->timer, &tv) < 0) {
            if (pr->timer)
                event_free(pr->timer);
            free(pr);
            free(w);
            free(proxy);
            return -1;
        }
    }
    pr->next = p->all;
    if (pr->next)
        pr->next->prev = pr;
    p->all = pr;
    p->waiting++;
    p->stats.requested++;
    return 0;
}

int prober_connected(const struct prober *p, const struct netaddr *addr, int port, const char *source)
{
    char canon[NETADDR_STRLEN] = "";

    if (port <= 0 || port > 65535)
        port = p->port;
    if (source && netaddr_canon(source, canon, sizeof(canon)) == NULL)
        return 0;
    if (source == NULL)
        snprintf(canon, sizeof(canon), "%s", p->source);
    for (const struct probe *pr = p->all; pr; pr = pr->next)
        if (pr->proxy == NULL && pr->state == ST_READING && pr->port == port
            && netaddr_equal(&pr->addr, addr) && strcmp(pr->source, canon) == 0)
            return 1;
    return 0;
}

int prober_probe(struct prober *p, const struct netaddr *addr, int port, const char *source,
                 probe_fn fn, void *arg)
{
    char canon[NETADDR_STRLEN] = "";

    if (addr->family != AF_INET && addr->family != AF_INET6)
        return -1;
    if (port <= 0 || port > 65535)
        port = p->port;
    if (source && netaddr_canon(source, canon, sizeof(canon)) == NULL) {
        msg_warn(MOD, "probe source address \"%s\" is not an address", source);
        return -1;
    }
    if (source == NULL)
        memcpy(canon, p->source, sizeof(canon));
    return add_probe(p, addr, port, canon, NULL, fn, arg);
}

int prober_probe_via(struct prober *p, const struct netaddr *addr, int port,
                     const struct socks5_proxy *proxy, probe_fn fn, void *arg)
{
    struct probe_proxy *pp;
    char abuf[NETADDR_STRLEN];
    size_t ulen = proxy->user ? strlen(proxy->user) : 0;
    size_t plen = proxy->password ? strlen(proxy->password) : 0;

    if ((addr->family != AF_INET && addr->family != AF_INET6)
        || (proxy->addr.family != AF_INET && proxy->addr.family != AF_INET6)
        || proxy->port <= 0 || proxy->port > 65535
        || (proxy->user && (ulen == 0 || ulen > 255 || plen == 0 || plen > 255)))
        return -1;
    if (port <= 0 || port > 65535)
        port = p->port;
    if ((pp = calloc(1, sizeof(*pp))) == NULL)
        return -1;
    pp->sp = *proxy;
    if (proxy->user) {
        memcpy(pp->user, proxy->user, ulen + 1);
        memcpy(pp->password, proxy->password, plen + 1);
        pp->sp.user = pp->user;
        pp->sp.password = pp->password;
    }
    snprintf(pp->name, sizeof(pp->name), proxy->addr.family == AF_INET6 ? "[%s]:%d" : "%s:%d",
             netaddr_format(&proxy->addr, abuf, sizeof(abuf)), proxy->port);
    return add_probe(p, addr, port, "", pp, fn, arg);
}

unsigned prober_cancel(struct prober *p, probe_fn fn, void *arg)
{
    unsigned dropped = 0;
    struct probe *pr = p->all;

    while (pr) {
        struct probe *next = pr->next;
        struct waiter **wp = &pr->waiters;
        while (*wp) {
            if ((*wp)->fn == fn && (*wp)->arg == arg) {
                struct waiter *w = *wp;
                *wp = w->next;
                free(w);
                dropped++;
            } else {
                wp = &(*wp)->next;
            }
        }
        if (pr->waiters == NULL)
            prober_free_waiters(prober_destroy(pr));
        pr = next;
    }
    if (dropped)
        event_active(p->kick, EV_TIMEOUT, 0);
    return dropped;
}

void prober_cancel_all(struct prober *p)
{
    while (p->all)
        prober_free_waiters(prober_destroy(p->all));
}

void prober_free(struct prober *p)
{
    if (p == NULL)
        return;
    prober_cancel_all(p);
    event_free(p->kick);
    free(p);
}

void prober_get_stats(const struct prober *p, struct prober_stats *s)
{
    *s = p->stats;
    s->waiting = p->waiting;
    s->running = p->running;
}

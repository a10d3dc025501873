/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mxresolve - see mxresolve.h for what a lookup returns and how long it is
 * kept.
 *
 * One entry per domain lives in a hash table, either pending (its lookup is
 * under way; on r->pending) or done (its result is cached; on r->age, oldest
 * first).  A pending entry holds a struct work with the answers gathered so
 * far and a count of queries outstanding, plus one while queries are being
 * issued, so that a query failing at once inside ares_query() cannot
 * complete the entry under our feet.  Completion builds the result, puts the
 * entry on r->age and turns its waiters into deliveries.
 *
 * Deliveries: every callback, cache hit or not, goes through r->ready and
 * one event, so no user code runs inside mxresolve_domain() or inside
 * c-ares.  A delivery holds a reference on its entry, which may meanwhile
 * be evicted from the table; entries are freed at the last reference.
 *
 * DNS itself (the c-ares channel on the event_base, and reading the
 * answers) is dnsquery.c's.
 *
 * Diagnostics: msg_warn for a malformed MX answer, msg_debug per lookup.
 */
#include "config.h"

#include <ares.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "dnsquery.h"
#include "msg.h"
#include "mxresolve.h"

#define MOD "mxresolve"

struct work {
    unsigned outstanding;
    enum mx_status status;          /* decided by the MX answer; else MX_OK */
    int implicit;
    uint32_t min_ttl;
    size_t nhosts;
    struct hwork h[MX_MAX_HOSTS];
};

struct entry {
    struct mxresolve *r;
    struct entry *hnext;            /* hash chain, while in the table */
    struct entry *prev, *next;      /* r->pending or r->age, likewise */
    int refs, pending;
    uint64_t expires_ms;
    struct mx_result res;
    struct mx_host *hosts;
    struct delivery *waiters;       /* while pending (their e is NULL) */
    struct work *work;
    char domain[];
};

struct delivery {
    struct entry *e;                /* a reference, once on r->ready */
    mx_fn fn;
    void *arg;
    int cached;
    uint64_t seq;
    struct delivery *next;
};

struct query {
    struct entry *e;
    int type;
    size_t host;
};

struct list {
    struct entry *head, *tail;
    size_t n;
};

struct mxresolve {
    struct event_base *base;
    struct dnsquery dns;            /* the channel; dnsquery.h */
    struct event *ready_ev;
    struct entry **table;
    size_t nbuckets, cache_max;
    struct list pending, age;
    struct delivery *ready, *ready_tail;
    uint64_t seq;
    struct mxresolve_stats stats;
};

static const char *const status_names[] = {
    "ok", "nxdomain", "noaddr", "nullmx", "tempfail", "invalid",
};

const char *mx_status_name(enum mx_status s)
{
    return (unsigned)s <= MX_INVALID ? status_names[s] : "unknown";
}

/* Lists and the table. */

static void list_add(struct list *l, struct entry *e)
{
    e->prev = l->tail;
    e->next = NULL;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
    l->n++;
}

static void list_del(struct list *l, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NULL;
    l->n--;
}

static size_t bucket(const struct mxresolve *r, const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h & (r->nbuckets - 1);
}

static struct entry *table_find(struct mxresolve *r, const char *domain)
{
    for (struct entry *e = r->table[bucket(r, domain)]; e; e = e->hnext)
        if (strcmp(e->domain, domain) == 0)
            return e;
    return NULL;
}

static void entry_unref(struct entry *e)
{
    if (--e->refs > 0)
        return;
    for (size_t i = 0; i < e->res.nhosts; i++)
        free(e->hosts[i].name);
    free(e->hosts);
    free(e->work);
    while (e->waiters) {
        struct delivery *d = e->waiters;
        e->waiters = d->next;
        free(d);
    }
    free(e);
}

/* Takes e out of the table (and its list); drops the table's reference. */
static void table_remove(struct mxresolve *r, struct entry *e)
{
    struct entry **pp = &r->table[bucket(r, e->domain)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    list_del(e->pending ? &r->pending : &r->age, e);
    entry_unref(e);
}

static struct entry *entry_new(struct mxresolve *r, const char *domain, size_t len)
{
    struct entry *e = calloc(1, sizeof(*e) + len + 1);

    if (e == NULL)
        return NULL;
    e->r = r;
    e->refs = 1;
    memcpy(e->domain, domain, len);
    e->res.domain = e->domain;
    return e;
}

/* Deliveries. */

static struct delivery *delivery_new(mx_fn fn, void *arg)
{
    struct delivery *d = calloc(1, sizeof(*d));

    if (d) {
        d->fn = fn;
        d->arg = arg;
    }
    return d;
}

/* Queues d with e's result for the loop. */
static void deliver(struct mxresolve *r, struct entry *e, struct delivery *d, int cached)
{
    d->e = e;
    e->refs++;
    d->cached = cached;
    d->seq = ++r->seq;
    d->next = NULL;
    if (r->ready_tail)
        r->ready_tail->next = d;
    else
        r->ready = d;
    r->ready_tail = d;
    event_active(r->ready_ev, EV_TIMEOUT, 0);
}

/* Frees the deliveries on *list registered with fn and arg; counts them. */
static unsigned drop_matching(struct delivery **list, mx_fn fn, void *arg)
{
    unsigned n = 0;

    while (*list) {
        struct delivery *d = *list;
        if (d->fn == fn && d->arg == arg) {
            *list = d->next;
            if (d->e)
                entry_unref(d->e);
            free(d);
            n++;
        } else {
            list = &d->next;
        }
    }
    return n;
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    struct mxresolve *r = arg;
    uint64_t last = r->seq;     /* what callbacks add waits for the next round */

    (void)fd;
    (void)what;
    while (r->ready && r->ready->seq <= last) {
        struct delivery *d = r->ready;
        struct mx_result res;
        r->ready = d->next;
        if (r->ready == NULL)
            r->ready_tail = NULL;
        res = d->e->res;
        res.cached = d->cached;
        d->fn(&res, d->arg);
        entry_unref(d->e);
        free(d);
    }
    if (r->ready)
        event_active(r->ready_ev, EV_TIMEOUT, 0);
}

/* Lookups. */

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);

static void send_query(struct mxresolve *r, struct entry *e, const char *name, int type,
                       size_t host)
{
    struct query *q = malloc(sizeof(*q));

    if (q == NULL) {
        if (type == T_MX_)
            e->work->status = MX_TEMPFAIL;
        else
            e->work->h[host].tempfail = 1;
        return;
    }
    q->e = e;
    q->type = type;
    q->host = host;
    e->work->outstanding++;
    r->stats.queries++;
    ares_query(r->dns.channel, name, C_IN_, type, on_answer, q);
}

static void query_host(struct mxresolve *r, struct entry *e, size_t i)
{
    send_query(r, e, e->work->h[i].name, T_A_, i);
    send_query(r, e, e->work->h[i].name, T_AAAA_, i);
}

static void got_mx(struct mxresolve *r, struct entry *e, int status, unsigned char *abuf, int alen)
{
    struct work *w = e->work;
    struct mxrec *rec;
    int n = 0;

    if (status != ARES_SUCCESS && status != ARES_ENODATA) {
        w->status = status == ARES_ENOTFOUND ? MX_NXDOMAIN : MX_TEMPFAIL;
        return;
    }
    if ((rec = calloc(MX_PARSE_MAX, sizeof(*rec))) == NULL) {
        w->status = MX_TEMPFAIL;
        return;
    }
    if (status == ARES_SUCCESS && (n = dnsquery_parse_mx(abuf, alen, rec, &w->min_ttl)) < 0) {
        msg_warn(MOD, "malformed MX answer for %s", e->domain);
        w->status = MX_TEMPFAIL;
    } else if (n == 0) {
        /* No MX records: the domain is its own mail exchanger. */
        w->implicit = 1;
        w->nhosts = 1;
        strcpy(w->h[0].name, e->domain);
        query_host(r, e, 0);
    } else if (n == 1 && rec[0].name[0] == 0) {
        w->status = MX_NULLMX;
    } else {
        for (int i = 0; i < n && w->nhosts < MX_MAX_HOSTS; i++) {
            if (rec[i].name[0] == 0 || (i > 0 && strcmp(rec[i].name, rec[i - 1].name) == 0))
                continue;
            w->h[w->nhosts].pref = rec[i].pref;
            strcpy(w->h[w->nhosts].name, rec[i].name);
            query_host(r, e, w->nhosts++);
        }
        if (w->nhosts == 0)
            w->status = MX_NOADDR;
    }
    free(rec);
}

static void got_addr(struct entry *e, size_t host, int type, int status, unsigned char *abuf,
                     int alen)
{
    struct hwork *h = &e->work->h[host];

    if (status == ARES_ENOTFOUND)
        h->nxdomain = 1;
    else if (status == ARES_SUCCESS)
        h->tempfail |= dnsquery_parse_addrs(abuf, alen, type, h, &e->work->min_ttl) < 0;
    else if (status != ARES_ENODATA)
        h->tempfail = 1;
}

/* All answers are in: the result, the cache, the callbacks. */
static void complete(struct mxresolve *r, struct entry *e)
{
    struct work *w = e->work;
    enum mx_status st = w->status;
    int any_ok = 0, any_temp = 0, any_nx = 0;
    uint32_t ttl;

    e->hosts = calloc(w->nhosts ? w->nhosts : 1, sizeof(*e->hosts));
    if (e->hosts == NULL)
        st = MX_TEMPFAIL;
    for (size_t i = 0; i < w->nhosts && st == MX_OK; i++) {
        struct hwork *h = &w->h[i];
        struct mx_host *o = &e->hosts[e->res.nhosts];
        size_t n4, n6, half = MX_MAX_ADDRS / 2;

        if ((o->name = strdup(h->name)) == NULL) {
            any_temp = 1;
            continue;
        }
        e->res.nhosts++;
        o->preference = h->pref;
        /* Each family keeps at least half the slots when it has them. */
        n4 = MX_MAX_ADDRS - (h->n6 < half ? h->n6 : half);
        n4 = h->n4 < n4 ? h->n4 : n4;
        n6 = h->n6 < MX_MAX_ADDRS - n4 ? h->n6 : MX_MAX_ADDRS - n4;
        memcpy(o->addrs, h->v4, n4 * sizeof(h->v4[0]));
        memcpy(o->addrs + n4, h->v6, n6 * sizeof(h->v6[0]));
        o->naddrs = n4 + n6;
        o->status = o->naddrs ? MX_OK : h->tempfail ? MX_TEMPFAIL
                  : h->nxdomain ? MX_NXDOMAIN : MX_NOADDR;
        any_ok |= o->status == MX_OK;
        any_temp |= o->status == MX_TEMPFAIL;
        any_nx |= o->status == MX_NXDOMAIN;
    }
    if (st == MX_OK && !any_ok)
        st = any_temp ? MX_TEMPFAIL : w->implicit && any_nx ? MX_NXDOMAIN : MX_NOADDR;
    e->res.status = st;
    e->res.implicit = w->implicit;
    e->res.partial = st == MX_OK && any_temp;
    e->res.hosts = e->hosts;
    ttl = w->min_ttl < MXRESOLVE_MIN_TTL ? MXRESOLVE_MIN_TTL
        : w->min_ttl > MXRESOLVE_MAX_TTL ? MXRESOLVE_MAX_TTL : w->min_ttl;
    if ((st != MX_OK && st != MX_NULLMX) || e->res.partial)
        ttl = MXRESOLVE_NEG_TTL;
    e->res.ttl = ttl;
    e->expires_ms = clock_mono_ms() + (uint64_t)ttl * 1000;
    if (st == MX_TEMPFAIL)
        r->stats.tempfail++;
    msg_debug(MOD, "%s: %s, %zu host(s)%s%s, kept %" PRIu32 "s", e->domain, mx_status_name(st),
              e->res.nhosts, w->implicit ? " (implicit MX)" : "", e->res.partial ? " (partial)" : "",
              ttl);
    free(w);
    e->work = NULL;
    list_del(&r->pending, e);
    e->pending = 0;
    list_add(&r->age, e);
    while (e->waiters) {
        struct delivery *d = e->waiters;
        e->waiters = d->next;
        deliver(r, e, d, 0);
    }
    while (r->age.n > r->cache_max) {
        r->stats.evicted++;
        table_remove(r, r->age.head);
    }
}

static void release(struct mxresolve *r, struct entry *e)
{
    if (--e->work->outstanding == 0)
        complete(r, e);
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct query *q = arg;
    struct entry *e = q->e;
    struct mxresolve *r = e->r;

    (void)timeouts;
    if (r->dns.closing || status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
        free(q);
        return;
    }
    e->work->outstanding++;             /* issuing: see the top of this file */
    if (q->type == T_MX_)
        got_mx(r, e, status, abuf, alen);
    else
        got_addr(e, q->host, q->type, status, abuf, alen);
    free(q);
    release(r, e);                      /* the query */
    release(r, e);                      /* the issuing token */
}

/* The resolver. */

struct mxresolve *mxresolve_new(struct event_base *base)
{
    return mxresolve_new_opts(base, NULL);
}

struct mxresolve *mxresolve_new2(struct event_base *base, const char *servers_csv)
{
    struct mxresolve_opts o = {servers_csv, 0, 0, 0};

    return mxresolve_new_opts(base, &o);
}

struct mxresolve *mxresolve_new_opts(struct event_base *base, const struct mxresolve_opts *o)
{
    struct mxresolve *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->base = base;
    r->cache_max = o && o->cache_max ? o->cache_max : MXRESOLVE_CACHE_MAX;
    for (r->nbuckets = 1024; r->nbuckets < r->cache_max + MXRESOLVE_MAX_INFLIGHT
         && r->nbuckets < (1u << 20); r->nbuckets <<= 1)
        ;
    r->table = calloc(r->nbuckets, sizeof(*r->table));
    r->ready_ev = event_new(base, -1, 0, on_ready, r);
    if (r->table == NULL || r->ready_ev == NULL || dnsquery_open(&r->dns, base, o) < 0) {
        mxresolve_free(r);
        return NULL;
    }
    return r;
}

void mxresolve_free(struct mxresolve *r)
{
    if (r == NULL)
        return;
    dnsquery_close(&r->dns);            /* on_answer: EDESTRUCTION, frees queries */
    while (r->ready) {
        struct delivery *d = r->ready;
        r->ready = d->next;
        entry_unref(d->e);
        free(d);
    }
    while (r->pending.head)
        table_remove(r, r->pending.head);
    while (r->age.head)
        table_remove(r, r->age.head);
    if (r->ready_ev)
        event_free(r->ready_ev);
    free(r->table);
    free(r);
}

/* A result that is not cached (invalid name, too busy), delivered once. */
static int deliver_now(struct mxresolve *r, const char *name, size_t len, enum mx_status st,
                       struct delivery *d)
{
    struct entry *e = entry_new(r, name, len);

    if (e == NULL) {
        free(d);
        return -1;
    }
    e->res.status = st;
    deliver(r, e, d, 0);
    entry_unref(e);
    return 0;
}

int mxresolve_domain(struct mxresolve *r, const char *domain, mx_fn fn, void *arg)
{
    char name[DOMAIN_MAXLEN + 1];
    size_t len = strnlen(domain, DOMAIN_MAXLEN + 2);
    struct delivery *d = delivery_new(fn, arg);
    struct entry *e;

    if (d == NULL)
        return -1;
    r->stats.requests++;
    if (domain_normalize(domain, len, name, sizeof(name)) < 0)
        return deliver_now(r, domain, len > DOMAIN_MAXLEN ? DOMAIN_MAXLEN : len, MX_INVALID, d);
    e = table_find(r, name);
    if (e && !e->pending && clock_mono_ms() < e->expires_ms) {
        r->stats.cache_hits++;
        deliver(r, e, d, 1);
        return 0;
    }
    if (e && e->pending) {
        d->next = e->waiters;
        e->waiters = d;
        r->stats.joined++;
        return 0;
    }
    if (e)
        table_remove(r, e);             /* expired */
    if (r->pending.n >= MXRESOLVE_MAX_INFLIGHT) {
        r->stats.tempfail++;
        return deliver_now(r, name, strlen(name), MX_TEMPFAIL, d);
    }
    if ((e = entry_new(r, name, strlen(name))) == NULL || (e->work = calloc(1, sizeof(*e->work))) == NULL) {
        free(e);
        free(d);
        return -1;
    }
    e->waiters = d;
    e->pending = 1;
    e->work->min_ttl = UINT32_MAX;
    e->work->outstanding = 1;           /* the issuing token */
    e->hnext = r->table[bucket(r, name)];
    r->table[bucket(r, name)] = e;
    list_add(&r->pending, e);
    r->stats.lookups++;
    send_query(r, e, e->domain, T_MX_, 0);
    release(r, e);
    dnsquery_reschedule(&r->dns);
    return 0;
}

unsigned mxresolve_cancel(struct mxresolve *r, mx_fn fn, void *arg)
{
    unsigned n = drop_matching(&r->ready, fn, arg);

    for (struct entry *e = r->pending.head; e; e = e->next)
        n += drop_matching(&e->waiters, fn, arg);
    for (r->ready_tail = r->ready; r->ready_tail && r->ready_tail->next;)
        r->ready_tail = r->ready_tail->next;
    return n;
}

void mxresolve_flush(struct mxresolve *r)
{
    while (r->age.head)
        table_remove(r, r->age.head);
}

void mxresolve_get_stats(const struct mxresolve *r, struct mxresolve_stats *s)
{
    *s = r->stats;
    s->cached = r->age.n;
    s->inflight = r->pending.n;
}

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
 * c-ares talks to libevent through ARES_OPT_SOCK_STATE_CB (one persistent
 * event per socket c-ares opens) and one timer set from ares_timeout()
 * after every call into c-ares.
 *
 * Answers are parsed by c-ares (ares_parse_mx_reply, ares_parse_a_reply and
 * ares_parse_aaaa_reply), except for the TTL of MX records, which c-ares
 * does not report: mx_ttl() walks the message for it, checking every length.
 *
 * Diagnostics: msg_warn for a channel that cannot start, msg_debug per
 * lookup.
 */
#include "config.h"

#include <ares.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "clock.h"
#include "msg.h"
#include "mxresolve.h"

#define MOD "dns"
#define T_A_ 1
#define T_CNAME_ 5
#define T_MX_ 15
#define T_AAAA_ 28
#define C_IN_ 1
#define MX_PARSE_MAX 64             /* MX records read from one answer */
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_TRIES 2

struct hwork {
    char name[DOMAIN_MAXLEN + 1];
    unsigned pref;
    size_t n4, n6;
    struct netaddr v4[MX_MAX_ADDRS], v6[MX_MAX_ADDRS];
    int tempfail, nxdomain;
};

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

struct sockev {
    ares_socket_t fd;
    struct event *ev;
    struct sockev *next;
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
    ares_channel channel;
    int channel_ok, closing;
    struct event *timer, *ready_ev;
    struct sockev *socks;
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

/* c-ares on libevent. */

static void reschedule(struct mxresolve *r)
{
    struct timeval tv, *tvp;

    if (r->closing)
        return;
    tvp = ares_timeout(r->channel, NULL, &tv);
    if (tvp)
        evtimer_add(r->timer, tvp);
    else
        evtimer_del(r->timer);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    struct mxresolve *r = arg;

    ares_process_fd(r->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    reschedule(r);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct mxresolve *r = arg;

    (void)fd;
    (void)what;
    ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    reschedule(r);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct mxresolve *r = data;
    struct sockev **pp = &r->socks, *s;
    short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    s = *pp;
    if (s && s->ev) {
        event_free(s->ev);
        s->ev = NULL;
    }
    if (what == 0 || r->closing) {
        if (s) {
            *pp = s->next;
            free(s);
        }
        return;
    }
    if (s == NULL) {
        if ((s = calloc(1, sizeof(*s))) == NULL)
            return;     /* the query times out; nothing better to do */
        s->fd = fd;
        s->next = r->socks;
        r->socks = s;
    }
    s->ev = event_new(r->base, fd, (short)(what | EV_PERSIST), on_sock, r);
    if (s->ev)
        event_add(s->ev, NULL);
}

/* Answers. */

/*
 * The smallest TTL of the MX (and CNAME) records in an answer, which
 * ares_parse_mx_reply() does not report.  Every length is checked; names go
 * through ares_expand_name(), which checks bounds and pointer loops.
 * Returns -1 when the message is malformed.
 */
static int mx_ttl(const unsigned char *abuf, int alen, uint32_t *min_ttl)
{
    int off = 12, qd, an;

    if (alen < 12)
        return -1;
    qd = abuf[4] << 8 | abuf[5];
    an = abuf[6] << 8 | abuf[7];
    for (int i = 0; i < qd + an; i++) {
        char *name;
        long enclen;
        int type;
        uint32_t ttl;

        if (ares_expand_name(abuf + off, abuf, alen, &name, &enclen) != ARES_SUCCESS)
            return -1;
        ares_free_string(name);
        off += (int)enclen + (i < qd ? 4 : 10);
        if (off > alen)
            return -1;
        if (i < qd)
            continue;
        type = abuf[off - 10] << 8 | abuf[off - 9];
        ttl = (uint32_t)abuf[off - 6] << 24 | (uint32_t)abuf[off - 5] << 16
            | (uint32_t)abuf[off - 4] << 8 | abuf[off - 3];
        if ((type == T_MX_ || type == T_CNAME_) && ttl < *min_ttl)
            *min_ttl = ttl;
        if ((off += abuf[off - 2] << 8 | abuf[off - 1]) > alen)
            return -1;
    }
    return 0;
}

struct mxrec {
    unsigned pref;
    char name[DOMAIN_MAXLEN + 1];   /* normalised; "" for the root (null MX) */
};

static int mx_cmp(const void *a, const void *b)
{
    const struct mxrec *x = a, *y = b;

    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Reads up to MX_PARSE_MAX MX records, sorted, invalid names left out.
 * Returns their number, or -1 when the answer is malformed. */
static int parse_mx(const unsigned char *abuf, int alen, struct mxrec *rec, uint32_t *min_ttl)
{
    struct ares_mx_reply *list, *m;
    int n = 0;

    if (ares_parse_mx_reply(abuf, alen, &list) != ARES_SUCCESS)
        return mx_ttl(abuf, alen, min_ttl) < 0 ? -1 : 0;
    if (mx_ttl(abuf, alen, min_ttl) < 0) {
        ares_free_data(list);
        return -1;
    }
    for (m = list; m && n < MX_PARSE_MAX; m = m->next) {
        rec[n].pref = m->priority;
        if (m->host[0] == 0)
            rec[n++].name[0] = 0;
        else if (domain_normalize(m->host, strlen(m->host), rec[n].name, sizeof(rec[n].name)) == 0)
            n++;
    }
    ares_free_data(list);
    qsort(rec, (size_t)n, sizeof(*rec), mx_cmp);
    return n;
}

/* Adds the addresses of an A or AAAA answer to h; -1 if malformed. */
static int parse_addrs(const unsigned char *abuf, int alen, int type, struct hwork *h,
                       uint32_t *min_ttl)
{
    struct ares_addrttl a4[MX_MAX_ADDRS];
    struct ares_addr6ttl a6[MX_MAX_ADDRS];
    int n = MX_MAX_ADDRS, rc;

    rc = type == T_A_ ? ares_parse_a_reply(abuf, alen, NULL, a4, &n)
                      : ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
    if (rc == ARES_ENODATA)
        return 0;
    if (rc != ARES_SUCCESS)
        return -1;
    for (int i = 0; i < n; i++) {
        struct netaddr *o = type == T_A_ ? &h->v4[h->n4++] : &h->v6[h->n6++];
        int ttl = type == T_A_ ? a4[i].ttl : a6[i].ttl;
        memset(o, 0, sizeof(*o));
        o->family = type == T_A_ ? AF_INET : AF_INET6;
        if (type == T_A_)
            memcpy(o->bytes, &a4[i].ipaddr, 4);
        else
            memcpy(o->bytes, &a6[i].ip6addr, 16);
        if (ttl >= 0 && (uint32_t)ttl < *min_ttl)
            *min_ttl = (uint32_t)ttl;
    }
    return 0;
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
    ares_query(r->channel, name, C_IN_, type, on_answer, q);
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
    if (status == ARES_SUCCESS && (n = parse_mx(abuf, alen, rec, &w->min_ttl)) < 0) {
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
        h->tempfail |= parse_addrs(abuf, alen, type, h, &e->work->min_ttl) < 0;
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
    if (r->closing || status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
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
    struct ares_options ao;
    int rc, mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES
                 | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;

    if (r == NULL)
        return NULL;
    r->base = base;
    r->cache_max = o && o->cache_max ? o->cache_max : MXRESOLVE_CACHE_MAX;
    for (r->nbuckets = 1024; r->nbuckets < r->cache_max + MXRESOLVE_MAX_INFLIGHT
         && r->nbuckets < (1u << 20); r->nbuckets <<= 1)
        ;
    r->table = calloc(r->nbuckets, sizeof(*r->table));
    r->timer = evtimer_new(base, on_timer, r);
    r->ready_ev = event_new(base, -1, 0, on_ready, r);
    if (r->table == NULL || r->timer == NULL || r->ready_ev == NULL) {
        mxresolve_free(r);
        return NULL;
    }
    memset(&ao, 0, sizeof(ao));
    ao.sock_state_cb = sock_state;
    ao.sock_state_cb_data = r;
    ao.timeout = o && o->timeout_ms ? (int)o->timeout_ms : DEFAULT_TIMEOUT_MS;
    ao.tries = o && o->tries ? (int)o->tries : DEFAULT_TRIES;
    ao.flags = ARES_FLAG_EDNS;
    ao.ednspsz = 1232;
    if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) == ARES_SUCCESS
        && (rc = ares_init_options(&r->channel, &ao, mask)) != ARES_SUCCESS)
        ares_library_cleanup();
    if (rc != ARES_SUCCESS) {
        msg_warn(MOD, "cannot start the resolver: %s", ares_strerror(rc));
        mxresolve_free(r);
        return NULL;
    }
    r->channel_ok = 1;
    if (o && o->servers && (rc = ares_set_servers_ports_csv(r->channel, o->servers)) != ARES_SUCCESS) {
        msg_warn(MOD, "bad DNS servers \"%s\": %s", o->servers, ares_strerror(rc));
        mxresolve_free(r);
        return NULL;
    }
    return r;
}

void mxresolve_free(struct mxresolve *r)
{
    if (r == NULL)
        return;
    r->closing = 1;
    if (r->channel_ok) {
        ares_destroy(r->channel);       /* on_answer: EDESTRUCTION, frees queries */
        ares_library_cleanup();
    }
    while (r->socks) {
        struct sockev *s = r->socks;
        r->socks = s->next;
        if (s->ev)
            event_free(s->ev);
        free(s);
    }
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
    if (r->timer)
        event_free(r->timer);
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
    reschedule(r);
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

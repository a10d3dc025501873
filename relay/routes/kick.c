/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kick - finds the deferred mail of domains whose route changed and asks
 * Postfix to retry it now; see kick.h.
 *
 * Three parts on one event loop: child processes read without blocking
 * (struct proc, kick_proc.c), the queue listing (postqueue -j, one at a time, cut into
 * lines by postqueue_reader), and the flushers (postqueue -i, rate-limited).
 * Children are reaped by pid, never with waitpid(-1): other modules run
 * children of their own.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "kick.h"
#include "kick_proc.h"
#include "msg.h"
#include "netaddr.h"
#include "postqueue_json.h"
#include "routetable.h"

#define MOD "kick"

typedef char qid_t[POSTQUEUE_ID_MAX + 1];

static struct {
    struct event_base *base;
    char *postqueue, *config_dir;
    unsigned rate;
    struct kick_stats stats;
    void (*idle_fn)(void *);
    void *idle_arg;
} k;

/* ------------------------------------------------------------ the state */

struct dlist {                  /* domains waiting for the next listing */
    char (*v)[ROUTE_DOMAIN_SIZE];
    size_t n, cap;
};

static struct dlist pend, ppend;        /* to kick, to probe */
static void (*waiting_fn)(const char *domain, long nwaiting, void *arg);
static void *waiting_arg;

static struct {                 /* the queue listing */
    struct proc proc;
    struct postqueue_reader rd;
    bool running, match;
    uint64_t t0;
    char (*domains)[ROUTE_DOMAIN_SIZE];     /* this run's, sorted */
    size_t ndomains;
    qid_t *found;
    size_t nfound, capfound;
    char (*probes)[ROUTE_DOMAIN_SIZE];      /* this run's probes, sorted */
    size_t nprobes;
    long *nwait;                /* per probe: messages waiting */
    uint32_t *mark, seq;        /* per probe: last line that named it */
    size_t *touched, ntouched;  /* probes named by this line */
    uint64_t last_ms;           /* the last listing's duration */
} ls;

static qid_t *queue;            /* [qhead, qlen) still to kick, sorted */
static size_t qhead, qlen;
static struct proc flushers[KICK_MAX_CHILDREN];
static struct event *now_ev, *tick;     /* now_ev: starts a listing from the loop */
static unsigned tick_ms, credit;        /* credit: thousandths of a kick */
static uint64_t batch_t0, batch_ok, batch_failed;

static void start_listing(void);
static void check_idle(void);

static int by_string(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* ------------------------------------------------------ the queue listing */

/* In this run's domains: exactly, or below one of its ".domain" entries. */
static bool wanted(const char *domain)
{
    if (ls.ndomains == 0)
        return false;           /* a listing for probes alone */
    if (bsearch(domain, ls.domains, ls.ndomains, sizeof(ls.domains[0]), by_string))
        return true;
    for (const char *dot = strchr(domain, '.'); dot; dot = strchr(dot + 1, '.'))
        if (bsearch(dot, ls.domains, ls.ndomains, sizeof(ls.domains[0]), by_string))
            return true;
    return false;
}

/* Marks the probe named d (exactly) as named by this line. */
static void probe_mark(const char *d)
{
    char (*p)[ROUTE_DOMAIN_SIZE] = bsearch(d, ls.probes, ls.nprobes, sizeof(ls.probes[0]), by_string);
    size_t i;

    if (p == NULL)
        return;
    i = (size_t)(p - ls.probes);
    if (ls.mark[i] != ls.seq) {
        ls.mark[i] = ls.seq;
        ls.touched[ls.ntouched++] = i;
    }
}

static void on_rcpt(const char *address, size_t len, void *arg)
{
    char domain[DOMAIN_MAXLEN + 1];

    (void)arg;
    if (postqueue_rcpt_domain(address, len, domain, sizeof(domain)) < 0)
        return;
    if (!ls.match)
        ls.match = wanted(domain);
    if (ls.nprobes > 0) {
        probe_mark(domain);
        for (const char *dot = strchr(domain, '.'); dot; dot = strchr(dot + 1, '.'))
            probe_mark(dot);
    }
}

/* Mail in these queues is routed now or at its next retry; "hold" is not. */
static bool waits(const char *queue_name)
{
    return strcmp(queue_name, "deferred") == 0 || strcmp(queue_name, "active") == 0
           || strcmp(queue_name, "incoming") == 0;
}

static void on_line(const struct postqueue_msg *m, int ok, void *arg)
{
    bool match = ls.match;

    (void)arg;
    ls.match = false;           /* for the next line */
    for (size_t t = 0; ok && t < ls.ntouched && waits(m->queue_name); t++)
        ls.nwait[ls.touched[t]]++;
    ls.ntouched = 0;
    if (++ls.seq == 0)
        ls.seq = 1;             /* 0 is "never named" */
    if (!ok || !match || strcmp(m->queue_name, "deferred") != 0)
        return;
    if (ls.nfound == ls.capfound) {
        size_t cap = ls.capfound ? ls.capfound * 2 : 64;
        qid_t *grown = realloc(ls.found, cap * sizeof(*grown));
        if (grown == NULL) {
            msg_warn(MOD, "out of memory: deferred message %s not kicked", m->queue_id);
            return;
        }
        ls.found = grown;
        ls.capfound = cap;
    }
    memcpy(ls.found[ls.nfound++], m->queue_id, sizeof(qid_t));
    k.stats.matched++;
}

static void list_out(const char *data, size_t n)
{
    if (postqueue_reader_feed(&ls.rd, data, n) < 0)
        proc_kill(&ls.proc);    /* a limit: what was read is used */
}

/* Adds this run's ids to the flush queue: sorted, each once. */
static void enqueue_found(void)
{
    size_t left = qlen - qhead, j = 0;
    qid_t *grown;

    if (ls.nfound == 0)
        return;
    if (left > 0 && qhead > 0)
        memmove(queue, queue + qhead, left * sizeof(*queue));
    qhead = 0;
    qlen = left;
    if ((grown = realloc(queue, (left + ls.nfound) * sizeof(*grown))) == NULL) {
        msg_warn(MOD, "out of memory: %zu deferred messages not kicked", ls.nfound);
        return;
    }
    queue = grown;
    memcpy(queue + left, ls.found, ls.nfound * sizeof(*queue));
    qlen = left + ls.nfound;
    qsort(queue, qlen, sizeof(*queue), by_string);
    for (size_t i = 0; i < qlen; i++)
        if (j == 0 || strcmp(queue[i], queue[j - 1]) != 0)
            memmove(queue[j++], queue[i], sizeof(qid_t));
    qlen = j;
    if (batch_t0 == 0)
        batch_t0 = clock_mono_ms();
    if (!evtimer_pending(tick, NULL)) {
        struct timeval tv = {0, (suseconds_t)tick_ms * 1000};
        credit = 0;
        event_add(tick, &tv);
    }
}

static void free_probes(void)
{
    free(ls.probes);
    free(ls.nwait);
    free(ls.mark);
    free(ls.touched);
    ls.probes = NULL;
    ls.nwait = NULL;
    ls.mark = NULL;
    ls.touched = NULL;
    ls.nprobes = ls.ntouched = 0;
}

/* One answer per probe of this run; complete: the whole queue was read. */
static void answer_probes(bool complete)
{
    char (*probes)[ROUTE_DOMAIN_SIZE] = ls.probes;
    long *nwait = ls.nwait;
    size_t n = ls.nprobes;

    ls.probes = NULL;           /* the listener may probe again */
    ls.nwait = NULL;
    free_probes();
    for (size_t i = 0; i < n; i++) {
        k.stats.probed++;
        if (waiting_fn)
            waiting_fn(probes[i], nwait[i] > 0 || complete ? nwait[i] : -1, waiting_arg);
    }
    free(probes);
    free(nwait);
}

/* This run's probes from the pending ones; false when out of memory. */
static bool take_probes(void)
{
    size_t n = ppend.n;

    ls.probes = ppend.v;
    ls.nprobes = n;
    ppend.v = NULL;
    ppend.n = ppend.cap = 0;
    if (n > 0)
        qsort(ls.probes, n, sizeof(ls.probes[0]), by_string);
    ls.nwait = calloc(n ? n : 1, sizeof(*ls.nwait));
    ls.mark = calloc(n ? n : 1, sizeof(*ls.mark));
    ls.touched = calloc(n ? n : 1, sizeof(*ls.touched));
    ls.seq = 1;
    ls.ntouched = 0;
    return ls.nwait && ls.mark && ls.touched;
}

static void list_exit(struct proc *p, int status)
{
    char why[300], names[200] = "";
    size_t used = 0;

    ls.running = false;
    if (status == 0)
        postqueue_reader_finish(&ls.rd);        /* a last line without its newline */
    k.stats.listed += ls.rd.messages;
    k.stats.malformed += ls.rd.malformed;
    for (size_t i = 0; i < ls.ndomains && used < sizeof(names) - 1; i++)
        used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? " " : "",
                                 ls.domains[i]);
    if (ls.rd.full)
        msg_warn(MOD, "postqueue -j: stopped after %zu messages and %llu bytes (the limit); "
                 "later deferred mail for %s waits for its retry", ls.rd.messages,
                 (unsigned long long)ls.rd.bytes, names);
    else if (status != 0)
        msg_warn(MOD, "postqueue -c %s -j: %s; deferred mail for %s waits for its retry",
                 k.config_dir, proc_why(p, status, why, sizeof(why)), names);
    if (ls.rd.malformed)
        msg_warn(MOD, "postqueue -j: %zu malformed line%s skipped (first: %s)", ls.rd.malformed,
                 ls.rd.malformed == 1 ? "" : "s", ls.rd.first_error);
    if (ls.ndomains > 0)        /* a listing for probes alone: routes logs the answers */
        msg_info(MOD, "%zu deferred message%s for %s among %zu queued (listed in %llu ms)",
                 ls.nfound, ls.nfound == 1 ? "" : "s", names, ls.rd.messages,
                 (unsigned long long)(clock_mono_ms() - ls.t0));
    enqueue_found();
    ls.last_ms = clock_mono_ms() - ls.t0;
    answer_probes(status == 0 && !ls.rd.full);
    postqueue_reader_free(&ls.rd);
    free(ls.domains);
    ls.domains = NULL;
    ls.ndomains = ls.nfound = 0;
    start_listing();            /* domains given meanwhile */
    check_idle();
}

/* Lists the queue for the pending domains, unless a listing runs. */
static void start_listing(void)
{
    const char *const argv[] = {k.postqueue, "-c", k.config_dir, "-j", NULL};

    uint64_t now = clock_mono_ms(), gap = ls.last_ms * KICK_LIST_GAP_FACTOR;

    if (ls.running || (pend.n == 0 && ppend.n == 0))
        return;
    if (gap > KICK_LIST_GAP_MAX_MS)
        gap = KICK_LIST_GAP_MAX_MS;
    if (ls.t0 != 0 && now < ls.t0 + gap) {    /* bounded: see kick.h */
        struct timeval tv = {(time_t)((ls.t0 + gap - now) / 1000),
                             (suseconds_t)((ls.t0 + gap - now) % 1000) * 1000};
        if (!evtimer_pending(now_ev, NULL))
            evtimer_add(now_ev, &tv);
        return;
    }
    free(ls.domains);
    ls.domains = pend.v;        /* the pending domains become this run's */
    ls.ndomains = pend.n;
    pend.v = NULL;
    pend.n = pend.cap = 0;
    if (ls.ndomains > 0)
        qsort(ls.domains, ls.ndomains, sizeof(ls.domains[0]), by_string);
    if (!take_probes()) {
        msg_warn(MOD, "out of memory: %zu probes unanswered by the queue", ls.nprobes);
        answer_probes(false);
    }
    postqueue_reader_init(&ls.rd, KICK_MAX_LINE, KICK_MAX_OUTPUT, KICK_MAX_MESSAGES, on_line,
                          on_rcpt, NULL);
    ls.match = false;
    ls.nfound = 0;
    ls.t0 = clock_mono_ms();
    if (proc_start(k.base, &ls.proc, argv, KICK_LIST_TIMEOUT_MS, list_out, list_exit) < 0) {
        ls.ndomains = 0;        /* their mail waits for its retry */
        answer_probes(false);
        return;
    }
    ls.running = true;
    k.stats.runs++;
}

static void on_now(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    start_listing();            /* when a listing runs, its end starts the next */
    check_idle();
}

/* ------------------------------------------------------------ flushing */

static bool flushers_busy(void)
{
    for (size_t i = 0; i < KICK_MAX_CHILDREN; i++)
        if (flushers[i].pid > 0)
            return true;
    return false;
}

/* The queue is empty and every flusher done: one line for the batch. */
static void batch_done(void)
{
    if (qhead < qlen || flushers_busy())
        return;
    if (batch_t0 != 0)
        msg_info(MOD, "scheduled %llu deferred message%s again in %llu ms (%llu failed)",
                 (unsigned long long)batch_ok, batch_ok == 1 ? "" : "s",
                 (unsigned long long)(clock_mono_ms() - batch_t0),
                 (unsigned long long)batch_failed);
    batch_t0 = batch_ok = batch_failed = 0;
    check_idle();
}

static void flush_exit(struct proc *p, int status)
{
    static struct msg_limiter lim;
    char why[300];

    if (status == 0) {
        k.stats.kicked++;
        batch_ok++;
    } else {
        k.stats.failed++;
        batch_failed++;
        msg_limited(&lim, 60000, MOD, "postqueue -c %s -i: %s", k.config_dir,
                    proc_why(p, status, why, sizeof(why)));
    }
    batch_done();
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    credit += k.rate * tick_ms;
    for (size_t i = 0; i < KICK_MAX_CHILDREN && credit >= 1000 && qhead < qlen; i++) {
        if (flushers[i].pid > 0)
            continue;
        const char *const argv[] = {k.postqueue, "-c", k.config_dir, "-i", queue[qhead++], NULL};
        credit -= 1000;
        if (proc_start(k.base, &flushers[i], argv, KICK_FLUSH_TIMEOUT_MS, NULL, flush_exit) < 0) {
            k.stats.failed++;
            batch_failed++;
        }
    }
    if (credit > 1000 * KICK_MAX_CHILDREN)
        credit = 1000 * KICK_MAX_CHILDREN;      /* no burst after a busy spell */
    if (qhead == qlen) {
        event_del(tick);
        batch_done();
    }
}

/* ------------------------------------------------------------ interface */

static void check_idle(void)
{
    if (k.idle_fn && kick_idle())
        k.idle_fn(k.idle_arg);
}

int kick_idle(void)
{
    return pend.n == 0 && ppend.n == 0 && !ls.running && qhead == qlen && !flushers_busy();
}

void kick_on_idle(void (*fn)(void *arg), void *arg)
{
    k.idle_fn = fn;
    k.idle_arg = arg;
}

const struct kick_stats *kick_stats(void)
{
    return &k.stats;
}

void kick_on_waiting(void (*fn)(const char *domain, long nwaiting, void *arg), void *arg)
{
    waiting_fn = fn;
    waiting_arg = arg;
}

/* Adds domains to l, normalised and each once; 0, or -1 after a warning. */
static int dlist_add(struct dlist *l, const char *const *domains, size_t n, const char *what)
{
    int rc = 0;

    if (k.base == NULL) {
        msg_warn(MOD, "%s before kick_init", what);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char d[ROUTE_DOMAIN_SIZE + 1] = ".";
        size_t dot = domains[i][0] == '.', j;

        if (domain_normalize(domains[i] + dot, strlen(domains[i] + dot), d + dot,
                             sizeof(d) - dot) < 0 || strlen(d) >= ROUTE_DOMAIN_SIZE) {
            msg_warn(MOD, "not a domain: \"%.80s\"; not %s", domains[i],
                     l == &pend ? "kicked" : "probed");
            rc = -1;
            continue;
        }
        for (j = 0; j < l->n && strcmp(l->v[j], d) != 0; j++)
            continue;           /* given twice before the listing: once */
        if (j < l->n)
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 16;
            void *grown = cap <= KICK_MAX_DOMAINS ? realloc(l->v, cap * sizeof(*l->v)) : NULL;
            if (grown == NULL) {
                msg_warn(MOD, "%zu domains wait for the queue listing (or out of memory); %s not %s",
                         l->n, d, l == &pend ? "kicked" : "probed");
                rc = -1;
                continue;
            }
            l->v = grown;
            l->cap = cap;
        }
        memcpy(l->v[l->n++], d, ROUTE_DOMAIN_SIZE);
    }
    if (l->n > 0 && !ls.running && !evtimer_pending(now_ev, NULL))
        event_active(now_ev, EV_TIMEOUT, 0);    /* else the listing's end or the gap starts it */
    return rc;
}

int kick_domains(const char *const *domains, size_t n)
{
    return dlist_add(&pend, domains, n, "kick_domains");
}

int kick_probe(const char *const *domains, size_t n)
{
    return dlist_add(&ppend, domains, n, "kick_probe");
}

int kick_init(struct event_base *base, const struct cfg_postfix *pf)
{
    char *pq = strdup(pf->postqueue), *dir = strdup(pf->config_directory);

    if (pq == NULL || dir == NULL) {
        free(pq);
        free(dir);
        return -1;
    }
    free(k.postqueue);
    free(k.config_dir);
    k.postqueue = pq;
    k.config_dir = dir;
    k.rate = pf->kick_rate ? pf->kick_rate : 1;
    tick_ms = k.rate >= 100 ? 10 : 1000 / k.rate;
    if (k.base == NULL) {
        k.base = base;
        now_ev = evtimer_new(base, on_now, NULL);
        tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
        if (now_ev == NULL || tick == NULL)
            return -1;
    }
    return 0;
}

void kick_free(void)
{
    if (ls.running)
        proc_abort(&ls.proc);
    for (size_t i = 0; i < KICK_MAX_CHILDREN; i++)
        proc_abort(&flushers[i]);
    if (now_ev)
        event_free(now_ev);
    if (tick)
        event_free(tick);
    postqueue_reader_free(&ls.rd);
    free(ls.domains);
    free(ls.found);
    free(queue);
    free(pend.v);
    free(ppend.v);
    free_probes();
    free(k.postqueue);
    free(k.config_dir);
    memset(&ls, 0, sizeof(ls));
    memset(&k, 0, sizeof(k));
    now_ev = tick = NULL;
    queue = NULL;
    memset(&pend, 0, sizeof(pend));
    memset(&ppend, 0, sizeof(ppend));
    waiting_fn = NULL;
    waiting_arg = NULL;
    qhead = qlen = batch_t0 = batch_ok = batch_failed = 0;
}

static int module_start(struct daemon *d)
{
    int rc = kick_init(d->base, &d->cfg->postfix);

    if (rc < 0)
        msg_warn(MOD, "out of memory");
    return rc;
}

static void module_reload(struct daemon *d, const struct cfg *old)
{
    (void)old;
    (void)module_start(d);      /* paths and rate; a failure keeps the old ones */
}

static void module_stop(struct daemon *d)
{
    (void)d;
    kick_free();
}

const struct daemon_module kick_module = {
    .name = MOD,
    .start = module_start,
    .reload = module_reload,
    .stop = module_stop,
};

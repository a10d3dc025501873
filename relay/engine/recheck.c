/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recheck - see recheck.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "metrics.h"
#include "msg.h"
#include "recheck.h"
#include "store_async.h"

#define MOD "recheck"
#define SLOTS 16384             /* last-probe times, direct-mapped by address */

struct slot {
    struct netaddr addr;
    uint64_t last_ms;
};

/* A probe on its way: waiting for the lock or in the prober.  Kept on a list
 * so that recheck_stop() frees those whose callbacks will never come. */
struct job {
    struct job *prev, *next;
    struct netaddr addr;
    char host[DOMAIN_MAXLEN + 1];
};

static struct {
    struct prober *prober;
    struct cfg_probe cfg;       /* source_address owned here */
    recheck_result_fn fn;
    void *arg;
    struct slot slots[SLOTS];
    struct job *jobs;
    int started;
} rc;

static void job_free(struct job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        rc.jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    free(j);
}

static struct slot *slot_of(const struct netaddr *a)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < (a->family == AF_INET ? 4 : 16); i++)
        h = (h ^ a->bytes[i]) * 16777619u;
    return &rc.slots[h % SLOTS];
}

static void on_probe(const struct probe_result *r, void *arg)
{
    struct job *j = arg;
    char text[NETADDR_STRLEN];

    msg_debug(MOD, "%s[%s]: %s after %llums", j->host[0] ? j->host : "-",
              netaddr_format(&j->addr, text, sizeof(text)), probe_kind_name(r->kind),
              (unsigned long long)r->elapsed_ms);
    metrics_probe_result(0, r->kind, r->elapsed_ms);
    if (r->kind != PROBE_ERROR && rc.fn)
        rc.fn(&j->addr, j->host, r, rc.arg);
    else if (r->kind == PROBE_ERROR)
        msg_warn(MOD, "cannot probe %s: %s", text, r->text ? r->text : "local error");
    job_free(j);
}

static void on_lock(int taken, void *arg)
{
    struct job *j = arg;
    if (!rc.started || !taken
        || prober_probe(rc.prober, &j->addr, rc.cfg.port, rc.cfg.source_address, on_probe, j) < 0)
        job_free(j);
}

static void start_probe(const struct netaddr *addr, const char *host, uint64_t now)
{
    char text[NETADDR_STRLEN];
    struct job *j = calloc(1, sizeof(*j));
    struct slot *s = slot_of(addr);

    if (j == NULL)
        return;
    s->addr = *addr;
    s->last_ms = now;
    j->next = rc.jobs;
    if (rc.jobs)
        rc.jobs->prev = j;
    rc.jobs = j;
    j->addr = *addr;
    snprintf(j->host, sizeof(j->host), "%s", host ? host : "");
    store_async_lock_probe(netaddr_format(addr, text, sizeof(text)),
                      rc.cfg.timeout_ms + rc.cfg.jitter_ms + 5000, on_lock, j);
}

static int due(const struct netaddr *addr, uint64_t every, uint64_t now)
{
    const struct slot *s = slot_of(addr);
    return !netaddr_equal(&s->addr, addr) || s->last_ms + every <= now;
}

static int visit(const struct rules_addr_view *v, void *arg)
{
    uint64_t now = *(const uint64_t *)arg;
    const struct breaker *b = v->breaker;

    if ((b->state == BREAKER_HALF_OPEN && due(v->addr, RECHECK_HALF_OPEN_MS, now))
        || (b->state == BREAKER_DIRECT && b->nfails > 0 && due(v->addr, RECHECK_SUSPECT_MS, now)))
        start_probe(v->addr, v->host, now);
    return 0;
}

void recheck_tick(const struct rules *r, uint64_t now_ms)
{
    if (rc.started)
        rules_addr_foreach(r, visit, &now_ms);
}

void recheck_request(const struct netaddr *addr, const char *host)
{
    if (rc.started)
        start_probe(addr, host, clock_now_ms());
}

int recheck_start(struct event_base *base, const struct cfg_probe *cfg,
                  recheck_result_fn fn, void *arg)
{
    memset(&rc, 0, sizeof(rc));
    if ((rc.prober = prober_new(base, cfg)) == NULL)
        return -1;
    rc.fn = fn;
    rc.arg = arg;
    rc.started = 1;
    recheck_configure(cfg);
    return 0;
}

void recheck_configure(const struct cfg_probe *cfg)
{
    free(rc.cfg.source_address);
    rc.cfg = *cfg;
    rc.cfg.source_address = cfg->source_address ? strdup(cfg->source_address) : NULL;
    if (rc.prober)
        prober_configure(rc.prober, &rc.cfg);
}

void recheck_stop(void)
{
    rc.started = 0;
    if (rc.prober)
        prober_free(rc.prober);     /* no callbacks after this */
    while (rc.jobs)
        job_free(rc.jobs);
    free(rc.cfg.source_address);
    memset(&rc, 0, sizeof(rc));
}

void recheck_get_stats(struct prober_stats *s)
{
    memset(s, 0, sizeof(*s));
    if (rc.prober)
        prober_get_stats(rc.prober, s);
}

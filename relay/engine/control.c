/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control - see control.h.
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "metrics.h"
#include "msg.h"
#include "relayhealth.h"
#include "store_async.h"

#define MOD "control"
#define PATH_RETRY_MS 30000         /* a down path is tried again this often */
#define PATH_PROVEN_MS 600000       /* "down everywhere" needs a greeting this recent */
#define PATH_DOWN_AFTER 2           /* control legs failed in a row */
#define RANGE_RING 1024             /* blocked-here verdicts remembered */
#define LOCK_SLACK_MS 5000

struct path {
    int relay;                      /* index into cfg->relays */
    char name[65];
    int up;
    unsigned fails;
    uint64_t last_ok_ms, last_try_ms, ewma_ms;
    char err[96];
    struct socks5_proxy sp;         /* SOCKS5: user and password point into cfg */
};

/* A race asked for: waiting for the lock, or under way. */
struct job {
    struct job *prev, *next;
    struct netaddr addr;
    char host[DOMAIN_MAXLEN + 1];
    char domains[CONTROL_MAX_WAITERS][DOMAIN_MAXLEN + 1];
    size_t ndomains;
    int path;                       /* index into ct.paths */
    struct event *wait;             /* another MTA races: wait for its verdict */
};

static struct {
    struct event_base *base;
    const struct cfg *cfg;
    struct rules *rules;
    struct racer *racer;
    struct path *paths;
    size_t npaths;
    struct job *jobs;
    unsigned njobs;
    double tokens;
    uint64_t tokens_ms;
    uint64_t blocked_ms[RANGE_RING];
    size_t blocked_next;
    uint64_t range_warned_ms, cap_warned_ms;
    control_done_fn done;
    void *arg;
    int started;
} ct;

static void build_paths(const struct cfg *cfg)
{
    free(ct.paths);
    ct.paths = calloc(cfg->nrelays ? cfg->nrelays : 1, sizeof(*ct.paths));
    ct.npaths = 0;
    for (size_t i = 0; ct.paths && i < cfg->nrelays; i++) {
        const struct cfg_relay *rl = &cfg->relays[i];
        struct path *p = &ct.paths[ct.npaths];
        if (rl->control.kind == CONTROL_NONE)
            continue;
        memset(p, 0, sizeof(*p));
        p->relay = (int)i;
        p->up = 1;                  /* until it fails */
        snprintf(p->name, sizeof(p->name), "%s", rl->name);
        if (rl->control.kind == CONTROL_SOCKS5) {
            if (netaddr_parse(rl->control.proxy, &p->sp.addr) < 0)
                continue;
            p->sp.port = rl->control.port;
            p->sp.user = rl->control.user;
            p->sp.password = rl->control.password;
        }
        ct.npaths++;
    }
    metrics_set(MET_CONTROL_PATHS, 0, (int64_t)ct.npaths);
    metrics_set(MET_CONTROL_PATHS, 1, 0);
}

static uint64_t fast_confirm(const struct path *p)
{
    const struct cfg_control *c = &ct.cfg->control;
    uint64_t ms = c->fast_confirm_ms;

    if (ms == 0) {
        /* Four times the path's greeting time: a direct path that has not
         * even connected by then is not merely slow. */
        ms = p && p->ewma_ms ? 4 * p->ewma_ms : 0;
        if (ms < c->fast_confirm_floor_ms)
            ms = c->fast_confirm_floor_ms;
    }
    return ms < ct.cfg->probe.timeout_ms ? ms : ct.cfg->probe.timeout_ms;
}

uint64_t control_fast_confirm_ms(const struct cfg_relay *relay)
{
    for (size_t i = 0; relay && i < ct.npaths; i++)
        if (strcmp(ct.paths[i].name, relay->name) == 0)
            return fast_confirm(&ct.paths[i]);
    return ct.cfg ? fast_confirm(NULL) : 0;
}

static int usable(const struct path *p, uint64_t now)
{
    const struct cfg_relay *rl = &ct.cfg->relays[p->relay];
    /* A tunnel that its health probes find down carries no probe either. */
    if (rl->type == RELAY_TUNNEL && !relayhealth_is_up(rl->name))
        return 0;
    return p->up || p->last_try_ms + PATH_RETRY_MS <= now;
}

/* The destination's own relays first, then any. */
static int pick_path(const char *domain, uint64_t now)
{
    const struct cfg_dest *d = domain ? cfg_dest_match(ct.cfg, domain) : NULL;

    for (size_t k = 0; d && k < d->nrelays; k++)
        for (size_t i = 0; i < ct.npaths; i++)
            if (ct.paths[i].relay == d->relays[k] && usable(&ct.paths[i], now))
                return (int)i;
    for (size_t i = 0; i < ct.npaths; i++)
        if (usable(&ct.paths[i], now))
            return (int)i;
    return -1;
}

static int take_token(uint64_t now)
{
    unsigned budget = ct.cfg->control.budget;
    if (now > ct.tokens_ms) {
        ct.tokens += (double)(now - ct.tokens_ms) * budget / 1000.0;
        if (ct.tokens > budget)
            ct.tokens = budget;
    }
    ct.tokens_ms = now;
    if (ct.tokens < 1.0)
        return 0;
    ct.tokens -= 1.0;
    return 1;
}

static struct job *job_find(const struct netaddr *addr)
{
    for (struct job *j = ct.jobs; j; j = j->next)
        if (netaddr_equal(&j->addr, addr))
            return j;
    return NULL;
}

static void job_add_domain(struct job *j, const char *domain)
{
    if (domain == NULL || *domain == 0)
        return;
    for (size_t i = 0; i < j->ndomains; i++)
        if (strcmp(j->domains[i], domain) == 0)
            return;
    if (j->ndomains < CONTROL_MAX_WAITERS)
        snprintf(j->domains[j->ndomains++], sizeof(j->domains[0]), "%s", domain);
}

static void job_free(struct job *j)
{
    if (j->wait)
        event_free(j->wait);
    if (j->prev)
        j->prev->next = j->next;
    else
        ct.jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    ct.njobs--;
    free(j);
}

/* Hands the job's waiting domains (those no other job waits for) to the
 * engine and frees the job. */
static void job_done(struct job *j, const struct race_outcome *o)
{
    const char *doms[CONTROL_MAX_WAITERS];
    size_t n = 0;
    char host[DOMAIN_MAXLEN + 1], domains[CONTROL_MAX_WAITERS][DOMAIN_MAXLEN + 1];

    snprintf(host, sizeof(host), "%s", j->host);
    memcpy(domains, j->domains, sizeof(domains));
    size_t nd = j->ndomains;
    job_free(j);
    for (size_t i = 0; i < nd; i++) {
        int other = 0;
        for (struct job *k = ct.jobs; k && !other; k = k->next)
            for (size_t m = 0; m < k->ndomains; m++)
                other |= strcmp(k->domains[m], domains[i]) == 0;
        if (!other)
            doms[n++] = domains[i];
    }
    if (ct.done)
        ct.done(o, host[0] ? host : NULL, doms, n, ct.arg);
}

static void path_result(struct path *p, const struct race_outcome *o, uint64_t now)
{
    char text[NETADDR_STRLEN];

    p->last_try_ms = now;
    if (!o->control.done)
        return;
    if (o->control.kind == PROBE_GREETING || o->control.kind == PROBE_REPLY) {
        if (!p->up)
            msg_info(MOD, "control path %s is up again: %s through it", p->name,
                     netaddr_format(o->addr, text, sizeof(text)));
        p->up = 1;
        p->fails = 0;
        p->last_ok_ms = now;
        p->ewma_ms = p->ewma_ms ? (3 * p->ewma_ms + o->control.ms) / 4 : o->control.ms;
    } else if (o->control.kind == PROBE_ERROR) {
        snprintf(p->err, sizeof(p->err), "%.90s", o->control_text);
        if (++p->fails >= PATH_DOWN_AFTER && p->up) {
            p->up = 0;
            msg_warn(MOD, "control path %s is down: %s; verdicts rest on the breaker alone "
                     "until it works", p->name, p->err);
        }
    }
    unsigned up = 0;
    for (size_t i = 0; i < ct.npaths; i++)
        up += ct.paths[i].up != 0;
    metrics_set(MET_CONTROL_PATHS, 0, up);
    metrics_set(MET_CONTROL_PATHS, 1, (int64_t)(ct.npaths - up));
}

/* A blocked-here verdict within the outage window: a range block when many
 * come at once; past range_cap they are left to the breaker. */
static int range_allows(uint64_t now)
{
    uint64_t window = ct.cfg->outage.window_ms;
    unsigned n = 0;

    for (size_t i = 0; i < RANGE_RING; i++)
        n += ct.blocked_ms[i] && ct.blocked_ms[i] + window > now;
    if (n >= ct.cfg->control.range_cap) {
        if (ct.cap_warned_ms + window <= now) {
            ct.cap_warned_ms = now;
            msg_warn(MOD, "range block: %u destinations blocked here within the outage window "
                     "reach control.range_cap; further ones are left to the breaker", n);
        }
        return 0;
    }
    ct.blocked_ms[ct.blocked_next++ % RANGE_RING] = now;
    if (n + 1 >= ct.cfg->outage.min_destinations && ct.range_warned_ms + window <= now) {
        ct.range_warned_ms = now;
        msg_warn(MOD, "range block: %u unrelated destinations are blocked here within the outage "
                 "window while the control path reaches them; they are detoured (cap %u), "
                 "this is no local outage", n + 1, ct.cfg->control.range_cap);
    }
    return 1;
}

static void on_race(const struct race_outcome *o, void *arg)
{
    struct job *j = arg;
    struct path *p = j->path >= 0 && (size_t)j->path < ct.npaths ? &ct.paths[j->path] : NULL;
    uint64_t now = clock_now_ms(), mono = clock_mono_ms();
    enum race_decision d = o->decision;
    char text[NETADDR_STRLEN];
    enum verdict v = VERDICT_NONE;

    netaddr_format(o->addr, text, sizeof(text));
    if (p)
        path_result(p, o, mono);
    if (d == RACE_DOWN_EVERYWHERE && (p == NULL || p->last_ok_ms == 0 || p->last_ok_ms + PATH_PROVEN_MS < mono)) {
        msg_info(MOD, "%s[%s]: %s; but %s has greeted no host lately, so it proves nothing",
                 j->host[0] ? j->host : "-", text, o->sentence, o->path);
        d = RACE_NO_CONTROL;
    }
    if (d == RACE_BLOCKED_HERE && !range_allows(now))
        d = RACE_NO_CONTROL;
    metrics_inc(MET_VERDICTS, d == RACE_OPEN ? 0 : d == RACE_BLOCKED_HERE ? 1 : d == RACE_DOWN_EVERYWHERE ? 2 : 3);
    msg_info(MOD, "%s[%s] via %s: %s (%llu ms)", j->host[0] ? j->host : "-", text, o->path, o->sentence,
             (unsigned long long)o->elapsed_ms);
    v = d == RACE_OPEN ? VERDICT_OPEN : d == RACE_BLOCKED_HERE ? VERDICT_BLOCKED_HERE
        : d == RACE_DOWN_EVERYWHERE ? VERDICT_DOWN_EVERYWHERE : VERDICT_NONE;
    if (v != VERDICT_NONE) {
        const char *domain = j->ndomains ? j->domains[0] : NULL;
        struct breaker_params bp = *cfg_detect_for(ct.cfg, domain);
        rules_verdict(ct.rules, o->addr, j->host[0] ? j->host : NULL, domain, v, o->sentence, now);
        store_async_verdict(text, j->host, &bp, v, o->sentence, now);
    }
    struct race_outcome copy = *o;
    copy.decision = d;
    job_done(j, &copy);
}

static void on_wait(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    job_done(arg, NULL);        /* the other MTA's verdict came through Redis, or not */
}

static void on_lock(int taken, void *arg)
{
    struct job *j = arg;
    const struct path *p = &ct.paths[j->path];
    const struct cfg_relay *rl = &ct.cfg->relays[p->relay];
    struct race_path rp = {.name = p->name};
    uint64_t fc = fast_confirm(p);

    if (!ct.started)
        return;
    if (!taken) {
        /* Another MTA of the site races this address: its verdict comes
         * through Redis within its fast-confirm time. */
        struct timeval tv = {(time_t)((fc + 1000) / 1000), (suseconds_t)((fc + 1000) % 1000) * 1000};
        if ((j->wait = evtimer_new(ct.base, on_wait, j)) == NULL || evtimer_add(j->wait, &tv) < 0)
            job_done(j, NULL);
        return;
    }
    if (rl->control.kind == CONTROL_SOCKS5)
        rp.proxy = &p->sp;
    else
        rp.source = rl->source_address;
    if (racer_start(ct.racer, &j->addr, &rp, fc, on_race, j) < 0)
        job_done(j, NULL);
}

int control_consider(const struct netaddr *addr, const char *host, const char *domain, uint64_t now_ms)
{
    struct rules_addr_view v;
    struct job *j;
    char text[NETADDR_STRLEN];
    uint64_t mono = clock_mono_ms();
    int path;

    if (!ct.started || ct.npaths == 0)
        return 0;
    if ((j = job_find(addr)) != NULL) {
        job_add_domain(j, domain);
        return 1;
    }
    if (rules_addr_get(ct.rules, addr, &v) == 0
        && (v.breaker->state != BREAKER_DIRECT || breaker_verdict_fresh(v.breaker, v.params, now_ms) != VERDICT_NONE))
        return 0;               /* detoured already, or known: the verdict cache */
    if (ct.njobs >= ct.cfg->control.max_races || (path = pick_path(domain, mono)) < 0 || !take_token(mono))
        return 0;
    if ((j = calloc(1, sizeof(*j))) == NULL)
        return 0;
    j->addr = *addr;
    j->path = path;
    snprintf(j->host, sizeof(j->host), "%s", host ? host : "");
    job_add_domain(j, domain);
    j->next = ct.jobs;
    if (j->next)
        j->next->prev = j;
    ct.jobs = j;
    ct.njobs++;
    ct.paths[path].last_try_ms = mono;
    uint64_t fc = fast_confirm(&ct.paths[path]);
    rules_outage_hold(ct.rules, now_ms + fc + 1000);
    store_async_lock_probe(netaddr_format(addr, text, sizeof(text)), ct.cfg->probe.timeout_ms + LOCK_SLACK_MS,
                           on_lock, j);
    return 1;
}

int control_start(struct event_base *base, const struct cfg *cfg, struct rules *rules,
                  control_done_fn done, void *arg)
{
    memset(&ct, 0, sizeof(ct));
    ct.base = base;
    ct.cfg = cfg;
    ct.rules = rules;
    ct.done = done;
    ct.arg = arg;
    if ((ct.racer = racer_new(base, &cfg->probe, cfg->control.max_races)) == NULL)
        return -1;
    build_paths(cfg);
    ct.tokens = cfg->control.budget;
    ct.tokens_ms = clock_mono_ms();
    ct.started = 1;
    for (size_t i = 0; i < ct.npaths; i++)
        msg_info(MOD, "control path %s: %s, fast confirm %llu ms", ct.paths[i].name,
                 cfg->relays[ct.paths[i].relay].control.kind == CONTROL_SOCKS5 ? "SOCKS5 proxy" : "tunnel source address",
                 (unsigned long long)fast_confirm(&ct.paths[i]));
    return 0;
}

void control_configure(const struct cfg *cfg)
{
    if (!ct.started)
        return;
    /* Races under way name paths of the old configuration: end them (their
     * waiting domains get their view now) and let evidence start anew. */
    for (struct job *j = ct.jobs, *next; j; j = next) {
        next = j->next;
        if (!j->wait && racer_busy(ct.racer, &j->addr)) {
            racer_cancel(ct.racer, on_race, j);
            job_done(j, NULL);
        }
    }
    ct.cfg = cfg;
    racer_configure(ct.racer, &cfg->probe, cfg->control.max_races);
    build_paths(cfg);
    for (struct job *j = ct.jobs; j; j = j->next)
        if ((size_t)j->path >= ct.npaths)
            j->path = ct.npaths ? 0 : -1;
}

void control_stop(void)
{
    ct.started = 0;
    racer_free(ct.racer);
    while (ct.jobs)
        job_free(ct.jobs);
    free(ct.paths);
    memset(&ct, 0, sizeof(ct));
}

void control_paths(unsigned *up, unsigned *down)
{
    *up = *down = 0;
    for (size_t i = 0; i < ct.npaths; i++)
        (ct.paths[i].up ? (*up)++ : (*down)++);
}

size_t control_paths_text(char *buf, size_t size)
{
    size_t len = 0;
    if (size)
        buf[0] = 0;
    for (size_t i = 0; i < ct.npaths && len < size; i++) {
        const struct path *p = &ct.paths[i];
        int n = snprintf(buf + len, size - len, "control %s %s %llu%s%s\n", p->name, p->up ? "up" : "down",
                         (unsigned long long)p->ewma_ms, p->up || !p->err[0] ? "" : ": ", p->up ? "" : p->err);
        if (n < 0)
            break;
        len += (size_t)n < size - len ? (size_t)n : size - len - 1;
    }
    return len;
}

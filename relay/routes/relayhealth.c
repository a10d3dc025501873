/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relayhealth - see relayhealth.h.
 */
#include "config.h"

#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics.h"
#include "msg.h"
#include "netaddr.h"
#include "prober.h"
#include "relayhealth.h"

#define MOD "relayhealth"
#define MAX_RELAYS 64

struct relay_state {
    char name[65];
    char host[DOMAIN_MAXLEN + 1];   /* "" : not checked */
    int port;
    char source[NETADDR_STRLEN];
    int up;
    int fails, oks;                 /* consecutive */
    int probing;
    int have_addr;
    struct netaddr addr;            /* the check target, resolved at (re)configure */
};

static struct {
    struct event_base *base;
    struct prober *prober;
    struct event *timer;
    struct relay_state r[MAX_RELAYS];
    size_t n;
    void (*on_change)(const char *, int, void *);
    void *arg;
} rh;

static struct relay_state *find(const char *name)
{
    for (size_t i = 0; i < rh.n; i++)
        if (strcmp(rh.r[i].name, name) == 0)
            return &rh.r[i];
    return NULL;
}

static void judge(struct relay_state *s, int ok, const char *why)
{
    if (ok) {
        s->fails = 0;
        if (!s->up && ++s->oks >= RELAYHEALTH_RISE) {
            s->up = 1;
            msg_info(MOD, "relay %s is up again (%s)", s->name, why);
            if (rh.on_change)
                rh.on_change(s->name, 1, rh.arg);
        }
    } else {
        s->oks = 0;
        if (s->up && ++s->fails >= RELAYHEALTH_FALL) {
            s->up = 0;
            msg_warn(MOD, "relay %s is down (%s); destinations move to their next relay", s->name, why);
            if (rh.on_change)
                rh.on_change(s->name, 0, rh.arg);
        }
    }
}

static void on_probe(const struct probe_result *r, void *arg)
{
    struct relay_state *s = arg;
    char why[160];
    s->probing = 0;
    metrics_probe_result(1, r->kind, r->elapsed_ms);
    if (r->kind == PROBE_ERROR)
        return;
    snprintf(why, sizeof(why), "probe of %.80s:%d: %s", s->host, s->port, probe_kind_name(r->kind));
    /* A relay must greet: a 4xx/5xx greeting is a relay we cannot use. */
    judge(s, r->kind == PROBE_GREETING, why);
}

/* Relay names are resolved when the configuration is (re)loaded, never on
 * the timer, so a slow DNS cannot stall the loop while mail flows; use an
 * address or an /etc/hosts name as the check target to avoid DNS at all. */
static void resolve_target(struct relay_state *s)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char text[NETADDR_STRLEN];

    s->have_addr = netaddr_parse(s->host, &s->addr) == 0;
    if (s->have_addr || !s->host[0])
        return;
    if (getaddrinfo(s->host, NULL, &hints, &res) == 0 && res
        && getnameinfo(res->ai_addr, res->ai_addrlen, text, sizeof(text), NULL, 0, NI_NUMERICHOST) == 0)
        s->have_addr = netaddr_parse(text, &s->addr) == 0;
    if (res)
        freeaddrinfo(res);
    if (!s->have_addr)
        msg_warn(MOD, "relay %s: cannot resolve its check target %s; it counts as down until a "
                 "reload resolves it", s->name, s->host);
}

static void check_one(struct relay_state *s)
{
    if (!s->host[0] || s->probing)
        return;
    if (!s->have_addr) {
        judge(s, 0, "its check target does not resolve");
        return;
    }
    if (prober_probe(rh.prober, &s->addr, s->port, s->source[0] ? s->source : NULL, on_probe, s) == 0)
        s->probing = 1;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    for (size_t i = 0; i < rh.n; i++)
        check_one(&rh.r[i]);
}

void relayhealth_configure(const struct cfg *cfg)
{
    struct relay_state old[MAX_RELAYS];
    size_t nold = rh.n;

    memcpy(old, rh.r, sizeof(old));
    if (rh.prober)
        prober_cancel_all(rh.prober);   /* pointers into rh.r are about to move */
    rh.n = 0;
    for (size_t i = 0; i < cfg->nrelays && rh.n < MAX_RELAYS; i++) {
        const struct cfg_relay *c = &cfg->relays[i];
        struct relay_state *s = &rh.r[rh.n++];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", c->name);
        snprintf(s->host, sizeof(s->host), "%s", c->check_host ? c->check_host : "");
        s->port = c->check_port ? c->check_port : 25;
        snprintf(s->source, sizeof(s->source), "%s", c->source_address ? c->source_address : "");
        s->up = 1;
        resolve_target(s);
        for (size_t k = 0; k < nold; k++)
            if (strcmp(old[k].name, s->name) == 0) {
                s->up = old[k].up;
                s->fails = old[k].fails;
                s->oks = old[k].oks;
            }
    }
}

int relayhealth_start(struct event_base *base, const struct cfg *cfg,
                      void (*on_change)(const char *relay, int up, void *arg), void *arg)
{
    struct cfg_probe pc = cfg->probe;
    memset(&rh, 0, sizeof(rh));
    rh.base = base;
    rh.on_change = on_change;
    rh.arg = arg;
    pc.jitter_ms = 0;
    pc.source_address = NULL;       /* each relay says its own */
    if ((rh.prober = prober_new(base, &pc)) == NULL)
        return -1;
    relayhealth_configure(cfg);
    rh.timer = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {(time_t)(cfg->probe.relay_interval_ms / 1000),
                         (suseconds_t)(cfg->probe.relay_interval_ms % 1000) * 1000};
    if (rh.timer == NULL || event_add(rh.timer, &tv) < 0)
        return -1;
    tick(-1, 0, NULL);
    return 0;
}

void relayhealth_stop(void)
{
    if (rh.timer)
        event_free(rh.timer);
    if (rh.prober)
        prober_free(rh.prober);
    memset(&rh, 0, sizeof(rh));
}

int relayhealth_is_up(const char *relay)
{
    const struct relay_state *s = find(relay);
    return s ? s->up : 0;
}

void relayhealth_evidence(const struct netaddr *addr, int ok)
{
    for (size_t i = 0; i < rh.n; i++)
        if (rh.r[i].have_addr && netaddr_equal(&rh.r[i].addr, addr))
            judge(&rh.r[i], ok, ok ? "Postfix delivered through it" : "Postfix could not connect to it");
}

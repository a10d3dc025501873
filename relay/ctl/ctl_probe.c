/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_probe - "mxdetourctl probe DOMAIN|ADDRESS": probes the address, or
 * every MX address of the domain, from the direct path now (honouring
 * probe.source_address), prints what each said, and records the results in
 * the site's shared state as probe evidence, as mxdetourd would.
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "json.h"
#include "mxresolve.h"
#include "prober.h"

#define MAX_TARGETS (MX_MAX_HOSTS * MX_MAX_ADDRS)

struct probe_run;

struct target {
    struct probe_run *run;
    struct netaddr addr;
    char host[DOMAIN_MAXLEN + 1];
    enum probe_kind kind;
    int code;
    uint64_t elapsed_ms;
};

struct probe_run {
    struct ctl *c;
    struct event_base *base;
    struct prober *prober;
    struct target t[MAX_TARGETS];
    size_t n, done;
    enum mx_status dns;
};

struct update_arg {
    const struct breaker_params *p;
    enum probe_kind kind;
};

static enum breaker_change apply_probe(struct breaker *b, void *arg)
{
    struct update_arg *u = arg;
    uint64_t now = clock_now_ms();
    breaker_tick(b, u->p, now);
    if (probe_is_success(u->kind))
        return breaker_success(b, u->p, SRC_PROBE, now);
    return breaker_failure(b, u->p, probe_fail_kind(u->kind), SRC_PROBE, now);
}

static void on_probe(const struct probe_result *r, void *arg)
{
    struct target *t = arg;
    t->kind = r->kind;
    t->code = r->code;
    t->elapsed_ms = r->elapsed_ms;
    if (++t->run->done == t->run->n)
        event_base_loopexit(t->run->base, NULL);
}

static void start_probes(struct probe_run *pr)
{
    const struct cfg_probe *cp = &pr->c->cfg->probe;
    for (size_t i = 0; i < pr->n; i++) {
        pr->t[i].run = pr;
        pr->t[i].kind = PROBE_ERROR;
        if (prober_probe(pr->prober, &pr->t[i].addr, cp->port, cp->source_address, on_probe, &pr->t[i]) < 0)
            pr->done++;
    }
    if (pr->done == pr->n)
        event_base_loopexit(pr->base, NULL);
}

static void on_mx(const struct mx_result *res, void *arg)
{
    struct probe_run *pr = arg;
    pr->dns = res->status;
    for (size_t h = 0; h < res->nhosts; h++)
        for (size_t a = 0; a < res->hosts[h].naddrs && pr->n < MAX_TARGETS; a++) {
            pr->t[pr->n].addr = res->hosts[h].addrs[a];
            snprintf(pr->t[pr->n].host, sizeof(pr->t[0].host), "%s", res->hosts[h].name);
            pr->n++;
        }
    if (pr->n == 0)
        event_base_loopexit(pr->base, NULL);
    else
        start_probes(pr);
}

static void report(struct probe_run *pr, const char *name)
{
    char a[NETADDR_STRLEN];
    struct json j;

    if (pr->c->json) {
        json_init(&j, stdout);
        json_begin_object(&j);
        json_kv_string(&j, "name", name);
        json_key(&j, "probes");
        json_begin_array(&j);
    }
    for (size_t i = 0; i < pr->n; i++) {
        const struct target *t = &pr->t[i];
        netaddr_format(&t->addr, a, sizeof(a));
        if (pr->c->json) {
            json_begin_object(&j);
            json_kv_string(&j, "address", a);
            json_kv_string(&j, "host", t->host);
            json_kv_string(&j, "result", probe_kind_name(t->kind));
            json_kv_uint(&j, "code", (uint64_t)(t->code > 0 ? t->code : 0));
            json_kv_uint(&j, "ms", t->elapsed_ms);
            json_end_object(&j);
        } else {
            printf("%s%s%s%s: %s", t->host, t->host[0] ? "[" : "", a, t->host[0] ? "]" : "",
                   probe_kind_name(t->kind));
            if (t->code > 0)
                printf(" %d", t->code);
            printf(" after %llums\n", (unsigned long long)t->elapsed_ms);
        }
    }
    if (pr->c->json) {
        json_end_array(&j);
        json_end_object(&j);
    }
}

int ctl_probe(struct ctl *c, const char *name)
{
    static struct probe_run pr;         /* large; one per process */
    char key[DOMAIN_MAXLEN + 1];
    int is_addr, rc = CTL_OK;
    struct mxresolve *dns = NULL;

    if (ctl_classify(name, key, sizeof(key), &is_addr) < 0)
        return CTL_USAGE;
    memset(&pr, 0, sizeof(pr));
    pr.c = c;
    pr.base = event_base_new();
    struct cfg_probe cp = c->cfg->probe;
    cp.jitter_ms = 0;                   /* an administrator is waiting */
    pr.prober = pr.base ? prober_new(pr.base, &cp) : NULL;
    if (pr.prober == NULL) {
        fprintf(stderr, "mxdetourctl: cannot set up the prober\n");
        rc = CTL_REDIS;
        goto done;
    }
    if (is_addr) {
        netaddr_parse(key, &pr.t[0].addr);
        pr.n = 1;
        start_probes(&pr);
    } else if ((dns = mxresolve_new(pr.base)) == NULL || mxresolve_domain(dns, key, on_mx, &pr) < 0) {
        fprintf(stderr, "mxdetourctl: cannot resolve %s\n", key);
        rc = CTL_NOT_FOUND;
        goto done;
    }
    event_base_dispatch(pr.base);
    if (!is_addr && pr.n == 0) {
        fprintf(stderr, "mxdetourctl: %s: no MX address (%s)\n", key, mx_status_name(pr.dns));
        rc = CTL_NOT_FOUND;
        goto done;
    }
    report(&pr, key);
    for (size_t i = 0; i < pr.n; i++) {
        struct update_arg u = {cfg_detect_for(c->cfg, is_addr ? NULL : key), pr.t[i].kind};
        struct store_addr out;
        char a[NETADDR_STRLEN];
        if (pr.t[i].kind == PROBE_ERROR)
            continue;                   /* a local error says nothing of the path */
        if (store_addr_update(c->store, netaddr_format(&pr.t[i].addr, a, sizeof(a)), pr.t[i].host,
                              apply_probe, &u, &out) < 0) {
            rc = ctl_redis_failed(c);
            break;
        }
    }
done:
    if (dns)
        mxresolve_free(dns);
    if (pr.prober)
        prober_free(pr.prober);
    if (pr.base)
        event_base_free(pr.base);
    return rc;
}

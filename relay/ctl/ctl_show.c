/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_show - "mxdetourctl show DOMAIN|ADDRESS": the state, since when, why,
 * the evidence counts, any manual override, and the route mail takes now.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json.h"
#include "netaddr.h"

static const char *relay_nexthop(const struct cfg *cfg, const char *relay)
{
    const struct cfg_relay *r = relay && *relay ? cfg_relay_find(cfg, relay) : NULL;
    return r ? r->nexthop : NULL;
}

/* The route Postfix gets for a domain: a manual override first, then the
 * state mxdetourd published; NULL means direct (no table entry). */
static const char *domain_route(const struct cfg *cfg, const struct cfg_dest *dest,
                                const struct store_manual *m, int have_m,
                                const struct store_domain *d, int have_d)
{
    if (have_m && m->action == MANUAL_UNBLOCK)
        return NULL;
    if (have_m && m->action == MANUAL_BLOCK) {
        if (m->via[0])
            return relay_nexthop(cfg, m->via);
        return dest && dest->nrelays ? cfg->relays[dest->relays[0]].nexthop : NULL;
    }
    if (have_d && strcmp(d->state, "detoured") == 0)
        return relay_nexthop(cfg, d->via);
    return NULL;
}

static void text_manual(const struct store_manual *m, int have)
{
    char t[32], r[48];
    if (!have) {
        printf("manual:      none\n");
        return;
    }
    printf("manual:      %s%s%s until %s%s by %s%s%s\n", m->action == MANUAL_BLOCK ? "block" : "unblock",
           m->via[0] ? " via " : "", m->via, ctl_when(m->expires_ms, t, sizeof(t)),
           ctl_relative(m->expires_ms, r, sizeof(r)), m->by, m->reason[0] ? ": " : "", m->reason);
}

static void json_manual(struct json *j, const struct store_manual *m, int have)
{
    json_key(j, "manual");
    if (!have) {
        json_string(j, NULL);
        return;
    }
    json_begin_object(j);
    json_kv_string(j, "action", m->action == MANUAL_BLOCK ? "block" : "unblock");
    json_kv_string(j, "via", m->via);
    json_kv_string(j, "reason", m->reason);
    json_kv_string(j, "by", m->by);
    json_kv_uint(j, "expires", m->expires_ms / 1000);
    json_end_object(j);
}

/* "feed:        [ADDR listed by ]registry line 2: 192.0.2.25/32 (trust
 * probe; decision D of DATE by ORG)", then what mxdetour did. */
static void text_feed(const struct store_feed *f, int with_addr)
{
    printf("feed:        %s%s%s line %lu: %s (trust %s", with_addr ? f->addr : "",
           with_addr ? " listed by " : "", f->feed, f->line, f->entry, f->trust);
    if (f->decision[0] || f->date[0] || f->org[0])
        printf("; decision %s%s%s%s%s", f->decision[0] ? f->decision : "-", f->date[0] ? " of " : "",
               f->date, f->org[0] ? " by " : "", f->org);
    printf(")\n             %s\n", f->action);
}

static void json_feed(struct json *j, const struct store_feed *f)
{
    json_begin_object(j);
    json_kv_string(j, "address", f->addr);
    json_kv_string(j, "feed", f->feed);
    json_kv_string(j, "trust", f->trust);
    json_kv_uint(j, "line", f->line);
    json_kv_string(j, "entry", f->entry);
    json_kv_string(j, "org", f->org);
    json_kv_string(j, "decision", f->decision);
    json_kv_string(j, "date", f->date);
    json_kv_string(j, "action", f->action);
    json_kv_uint(j, "updated", f->updated_ms / 1000);
    json_end_object(j);
}

static void json_breaker(struct json *j, const struct store_addr *a)
{
    json_kv_string(j, "address", a->addr);
    json_kv_string(j, "host", a->host);
    json_kv_string(j, "state", breaker_state_name(a->b.state));
    json_kv_uint(j, "since", a->b.since_ms / 1000);
    json_kv_uint(j, "until", a->b.until_ms / 1000);
    json_kv_string(j, "reason", a->b.reason);
    json_kv_string(j, "source", evidence_source_name(a->b.source));
    json_kv_uint(j, "trips", a->b.trips);
    json_kv_string(j, "verdict", verdict_name(a->b.verdict));
    json_kv_uint(j, "verdict_at", a->b.verdict_ms / 1000);
    json_key(j, "evidence");
    json_begin_object(j);
    for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
        json_kv_uint(j, fail_kind_name((enum fail_kind)k), a->b.kind_counts[k]);
    json_end_object(j);
    json_kv_uint(j, "last_failure", a->b.last_failure_ms / 1000);
    json_kv_uint(j, "last_success", a->b.last_success_ms / 1000);
}

static int show_address(struct ctl *c, const char *addr)
{
    struct store_addr a;
    struct store_manual m;
    char t[32], r[48];
    int have = store_addr_get(c->store, addr, &a);
    int have_m = have < 0 ? -1 : store_manual_get(c->store, addr, &m);
    struct store_feed f;
    int have_f = have_m < 0 ? -1 : store_feed_get(c->store, addr, &f);

    if (have < 0 || have_m < 0 || have_f < 0)
        return ctl_redis_failed(c);
    if (c->json) {
        struct json j;
        json_init(&j, stdout);
        json_begin_object(&j);
        json_kv_bool(&j, "known", have);
        json_breaker(&j, &a);
        json_manual(&j, &m, have_m);
        json_key(&j, "feed");
        if (have_f)
            json_feed(&j, &f);
        else
            json_string(&j, NULL);
        json_end_object(&j);
        return have || have_m || have_f ? CTL_OK : CTL_NOT_FOUND;
    }
    if (!have && !have_m) {
        printf("%s: nothing recorded (direct)\n", addr);
        if (have_f)
            text_feed(&f, 0);
        return have_f ? CTL_OK : CTL_NOT_FOUND;
    }
    printf("address:     %s%s%s%s\n", addr, a.host[0] ? " (" : "", a.host, a.host[0] ? ")" : "");
    printf("state:       %s since %s%s\n", breaker_state_name(a.b.state),
           ctl_when(a.b.since_ms, t, sizeof(t)), ctl_relative(a.b.since_ms, r, sizeof(r)));
    if (a.b.reason[0])
        printf("why:         %s (%s)\n", a.b.reason, evidence_source_name(a.b.source));
    if (a.b.verdict != VERDICT_NONE)
        printf("verdict:     %s at %s%s (a race of the direct against a control path)\n",
               verdict_name(a.b.verdict), ctl_when(a.b.verdict_ms, t, sizeof(t)),
               ctl_relative(a.b.verdict_ms, r, sizeof(r)));
    if (a.b.state == BREAKER_DETOURED && a.b.until_ms)
        printf("cool-down:   until %s%s, then probed\n", ctl_when(a.b.until_ms, t, sizeof(t)),
               ctl_relative(a.b.until_ms, r, sizeof(r)));
    printf("evidence:   ");
    for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
        printf(" %s %u%s", fail_kind_name((enum fail_kind)k), a.b.kind_counts[k],
               k + 1 < FAIL_KIND_COUNT ? "," : "\n");
    printf("last:        failure %s, ", ctl_when(a.b.last_failure_ms, t, sizeof(t)));
    printf("success %s\n", ctl_when(a.b.last_success_ms, t, sizeof(t)));
    text_manual(&m, have_m);
    if (have_f)
        text_feed(&f, 0);
    printf("route:       %s\n", have_m == 1 && m.action == MANUAL_UNBLOCK ? "direct (manual unblock)"
                                : (have_m == 1 || breaker_is_detoured(&a.b))
                                    ? "detoured: a domain goes via its relays once all of its MX addresses are detoured"
                                    : "direct");
    return CTL_OK;
}

/* The feed records of the addresses in "host[addr] host[addr] ...": text
 * lines, or a JSON array.  -1 when Redis failed. */
static int domain_feeds(struct ctl *c, const char *mx, struct json *j)
{
    const char *p = mx;
    if (j) {
        json_key(j, "feeds");
        json_begin_array(j);
    }
    char host[DOMAIN_MAXLEN + 1], addr[NETADDR_STRLEN];
    struct netaddr a;
    while ((p = store_domain_mx_next(p, host, sizeof(host), &a)) != NULL) {
        netaddr_format(&a, addr, sizeof(addr));
        struct store_feed f;
        int rc = store_feed_get(c->store, addr, &f);
        if (rc < 0)
            return -1;
        if (rc == 1 && j)
            json_feed(j, &f);
        else if (rc == 1)
            text_feed(&f, 1);
    }
    if (j)
        json_end_array(j);
    return 0;
}

static int show_domain(struct ctl *c, const char *domain)
{
    struct store_domain d;
    struct store_manual m;
    char t[32], r[48];
    const struct cfg_dest *dest = cfg_dest_match(c->cfg, domain);
    int have = store_domain_get(c->store, domain, &d);
    int have_m = have < 0 ? -1 : store_manual_get(c->store, domain, &m);

    if (have < 0 || have_m < 0)
        return ctl_redis_failed(c);
    const char *route = domain_route(c->cfg, dest, &m, have_m, &d, have);
    if (c->json) {
        struct json j;
        json_init(&j, stdout);
        json_begin_object(&j);
        json_kv_string(&j, "domain", domain);
        json_kv_bool(&j, "known", have);
        json_kv_string(&j, "destination", dest ? (dest->name ? dest->name : dest->domains[0]) : NULL);
        json_kv_string(&j, "policy", dest ? policy_name(dest->policy) : "pass");
        json_kv_string(&j, "state", have ? d.state : "direct");
        json_kv_string(&j, "via", have ? d.via : "");
        json_kv_uint(&j, "since", have ? d.since_ms / 1000 : 0);
        json_kv_string(&j, "reason", have ? d.reason : "");
        json_kv_string(&j, "mx", have ? d.mx : "");
        if (domain_feeds(c, have ? d.mx : "", &j) < 0)
            return ctl_redis_failed(c);
        json_manual(&j, &m, have_m);
        json_kv_string(&j, "route", route);
        json_end_object(&j);
        return have || have_m ? CTL_OK : CTL_NOT_FOUND;
    }
    printf("domain:      %s\n", domain);
    if (dest) {
        printf("destination: %s (policy %s, relays", dest->name ? dest->name : dest->domains[0],
               policy_name(dest->policy));
        for (size_t i = 0; i < dest->nrelays; i++)
            printf(" %s", c->cfg->relays[dest->relays[i]].name);
        printf("%s)\n", dest->nrelays ? "" : " none");
    } else {
        printf("destination: none configured (never detoured)\n");
    }
    if (have) {
        printf("state:       %s%s%s since %s%s\n", d.state, d.via[0] ? " via " : "", d.via,
               ctl_when(d.since_ms, t, sizeof(t)), ctl_relative(d.since_ms, r, sizeof(r)));
        if (d.reason[0])
            printf("why:         %s\n", d.reason);
        printf("mx:          %s\n", d.mx[0] ? d.mx : "(not resolved yet)");
        if (domain_feeds(c, d.mx, NULL) < 0)
            return ctl_redis_failed(c);
    } else {
        printf("state:       not seen yet (direct)\n");
    }
    text_manual(&m, have_m);
    printf("route:       %s\n", route ? route : "direct (no entry in the transport table)");
    return have || have_m ? CTL_OK : CTL_NOT_FOUND;
}

int ctl_show(struct ctl *c, const char *name)
{
    char key[DOMAIN_MAXLEN + 1];
    int is_addr;

    if (ctl_classify(name, key, sizeof(key), &is_addr) < 0)
        return CTL_USAGE;
    return is_addr ? show_address(c, key) : show_domain(c, key);
}

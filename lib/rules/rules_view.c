/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules_view - the read-only side of the rules engine (rules.h): views of
 * one address or domain, walks, explanations and statistics.
 */
#include "config.h"

#include <string.h>

#include "rules_int.h"

static const struct dom_entry *lookup_dom(const struct rules *r, const char *domain)
{
    char name[DOMAIN_MAXLEN + 1];

    return rules_norm_domain(domain, name, sizeof(name)) == NULL ? NULL : addrtable_dom(&r->t, name);
}

int rules_domain_detoured(const struct rules *r, const char *domain)
{
    const struct dom_entry *d = lookup_dom(r, domain);

    return d ? d->detoured : 0;
}

int rules_addr_get(const struct rules *r, const struct netaddr *addr, struct rules_addr_view *v)
{
    const struct addr_entry *e = addrtable_addr(&r->t, addr);

    if (e == NULL)
        return RULES_ENOENT;
    addrtable_addr_view(e, v);
    return 0;
}

void rules_addr_clean(struct rules *r, const struct netaddr *addr)
{
    struct addr_entry *e = addrtable_addr(&r->t, addr);

    if (e)
        e->dirty = 0;
}

int rules_domain_get(const struct rules *r, const char *domain, struct rules_domain_view *v)
{
    const struct dom_entry *d = lookup_dom(r, domain);

    if (d == NULL)
        return RULES_ENOENT;
    addrtable_dom_view(d, v);
    return 0;
}

int rules_addr_foreach(const struct rules *r, rules_addr_fn fn, void *arg)
{
    struct rules_addr_view v;
    int rc;

    addrtable_each_addr(e, &r->t) {
        addrtable_addr_view(e, &v);
        if ((rc = fn(&v, arg)) != 0)
            return rc;
    }
    return 0;
}

int rules_domain_foreach(const struct rules *r, rules_domain_fn fn, void *arg)
{
    struct rules_domain_view v;
    int rc;

    addrtable_each_dom(d, &r->t) {
        addrtable_dom_view(d, &v);
        if ((rc = fn(&v, arg)) != 0)
            return rc;
    }
    return 0;
}

int rules_addr_explain(const struct rules *r, const struct netaddr *addr, char *buf, size_t size)
{
    const struct addr_entry *e = addrtable_addr(&r->t, addr);

    if (e == NULL || size == 0)
        return RULES_ENOENT;
    rules_explain_addr(e, buf, size);
    return 0;
}

int rules_domain_explain(const struct rules *r, const char *domain, char *buf, size_t size)
{
    const struct dom_entry *d = lookup_dom(r, domain);

    if (d == NULL || size == 0)
        return RULES_ENOENT;
    rules_explain_dom(r, d, rules_decider(r, d, NULL), "not every MX address is detoured", buf, size);
    return 0;
}

const struct outage *rules_outage(const struct rules *r)
{
    return r->outage;
}

void rules_stats(const struct rules *r, struct rules_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->addrs = r->t.addrs.count;
    st->domains = r->t.doms.count;
    st->evicted_addrs = r->t.addrs.evicted;
    st->evicted_domains = r->t.doms.evicted;
    st->refused = r->refused;
    addrtable_each_addr(e, &r->t)
        st->detoured_addrs += breaker_is_detoured(&e->b) != 0;
    addrtable_each_dom(d, &r->t)
        st->detoured_domains += d->detoured != 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules - the rules engine; its contract is in rules.h.
 *
 * The tables are addrtable.h's: addresses with their breakers, domains with
 * their MX address lists.  DIRECT addresses and domains that are not
 * detoured are evictable.  Every state change goes through report_addr() or
 * recompute_domain(), which set evictability and report the change, so the
 * LRU lists and the events cannot drift from the state.
 *
 * A domain's state is derived, never set: recompute_domain() looks at its
 * addresses' breakers.  When an address changes between detoured and not,
 * every domain listing it is recomputed (a walk over the domain table: such
 * changes are rare, evidence that changes nothing costs no walk).
 *
 * The explanation sentences are built in rules_text.c, the read-only views
 * and walks live in rules_view.c (rules_int.h is what the three share).
 *
 * Ownership: the rules own every entry and host string; views and events
 * point into them.  One thread.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"


static void emit(struct rules *r, const struct rules_change *c)
{
    r->events++;
    if (r->cfg.on_change == NULL)
        return;
    r->busy++;
    r->cfg.on_change(c, r->cfg.change_arg);
    r->busy--;
}

/* The destination pattern's parameters; with no match the address keeps
 * what it has (the defaults, or an earlier domain's match). */
static void lookup_params(struct rules *r, struct addr_entry *e, const char *domain)
{
    struct breaker_params p;
    int rc;

    if (r->cfg.params == NULL)
        return;
    r->busy++;
    rc = r->cfg.params(&e->addr, e->host, domain, &p, r->cfg.params_arg);
    r->busy--;
    if (rc == 0 && breaker_params_check(&p, NULL) == 0)
        e->params = p;
}

/* The entry of canonical address a, created (evicting) and touched; NULL
 * when the table is full of entries that may not go. */
static struct addr_entry *get_addr(struct rules *r, const struct netaddr *a, const char *host,
                                   uint64_t now)
{
    int created;
    struct addr_entry *e = addrtable_addr_add(&r->t, a, host, &r->cfg.defaults, now, &created);

    if (e == NULL)
        r->refused++;
    else if (created)
        lookup_params(r, e, NULL);
    return e;
}

static struct dom_entry *get_dom(struct rules *r, const char *name, uint64_t now)
{
    struct dom_entry *d = addrtable_dom_add(&r->t, name, now);

    r->refused += d == NULL;
    return d;
}

static void recompute_domain(struct rules *r, struct dom_entry *d,
                             const struct addr_entry *trigger, uint64_t now)
{
    char explain[RULES_EXPLAIN_MAX];
    const struct addr_entry *why;
    int det = d->nmx > 0;

    for (unsigned i = 0; i < d->nmx && det; i++) {
        const struct addr_entry *e = addrtable_addr(&r->t, &d->mx[i]);
        det = e && breaker_is_detoured(&e->b);
    }
    if (det == d->detoured)
        return;
    d->detoured = det;
    d->since_ms = now;
    addrtable_evictable(&r->t.doms, &d->node, !det);
    why = rules_decider(r, d, trigger);
    rules_explain_dom(r, d, why, "its MX addresses changed", explain, sizeof(explain));
    struct rules_change c = {
        .kind = RULES_CHANGE_DOMAIN, .domain = d->name,
        .old_state = det ? BREAKER_DIRECT : BREAKER_DETOURED,
        .new_state = det ? BREAKER_DETOURED : BREAKER_DIRECT,
        .source = why ? why->b.source : SRC_LOG,
        .reason = why ? why->b.reason : "its MX addresses changed",
        .explain = explain, .since_ms = now,
    };
    emit(r, &c);
}

/* Every domain listing a (all domains when a is NULL). */
static void recompute_domains(struct rules *r, const struct netaddr *a,
                              const struct addr_entry *trigger, uint64_t now)
{
    addrtable_each_dom(d, &r->t)
        if (a == NULL || addrtable_dom_has(d, a))
            recompute_domain(r, d, trigger, now);
}

/* After a breaker call: evictability, the event, and the domains. */
static void report_addr_ex(struct rules *r, struct addr_entry *e, enum breaker_state old,
                           enum breaker_change ch, uint64_t now, int domains, int undone);

static void report_addr(struct rules *r, struct addr_entry *e, enum breaker_state old,
                        enum breaker_change ch, uint64_t now, int domains)
{
    report_addr_ex(r, e, old, ch, now, domains, 0);
}

static void report_addr_ex(struct rules *r, struct addr_entry *e, enum breaker_state old,
                           enum breaker_change ch, uint64_t now, int domains, int undone)
{
    char explain[RULES_EXPLAIN_MAX];

    if (ch == BREAKER_SAME)
        return;
    addrtable_evictable(&r->t.addrs, &e->node, e->b.state == BREAKER_DIRECT);
    rules_explain_addr(e, explain, sizeof(explain));
    struct rules_change c = {
        .kind = RULES_CHANGE_ADDR, .addr = &e->addr, .host = e->host,
        .old_state = old, .new_state = e->b.state, .change = ch, .breaker = &e->b,
        .source = e->b.source, .reason = e->b.reason, .explain = explain,
        .since_ms = e->b.since_ms, .outage = undone,
    };
    emit(r, &c);
    if (domains && (old != BREAKER_DIRECT) != breaker_is_detoured(&e->b))
        recompute_domains(r, &e->addr, e, now);
}

static void check_outage(struct rules *r, uint64_t now)
{
    char explain[RULES_EXPLAIN_MAX];
    struct outage_status os;
    enum outage_change oc;

    if (now < r->outage_hold_ms && !outage_active(r->outage))
        return;                 /* races under way will say whether the paths out work */
    oc = outage_update(r->outage, now);

    if (oc == OUTAGE_SAME)
        return;
    outage_status(r->outage, &os);
    if (oc == OUTAGE_BEGAN) {
        /* The failures that led up to it are the outage's, not blocks; so
         * are the trips they caused before the outage was recognised (log
         * evidence arrives one line at a time).  Those are undone, and the
         * events tell the caller to undo them in the shared state too. */
        uint64_t from = now > r->cfg.outage.window_ms ? now - r->cfg.outage.window_ms : 0;
        addrtable_each_addr(e, &r->t) {
            if (e->b.state == BREAKER_DIRECT && e->b.nfails > 0) {
                breaker_forget(&e->b, from);
                e->dirty = 1;
            } else if (e->b.state == BREAKER_DETOURED && e->b.source == SRC_LOG
                       && e->b.since_ms >= from) {
                enum breaker_state old = e->b.state;
                char why[BREAKER_REASON_MAX];
                snprintf(why, sizeof(why), "trip undone: local outage (%.100s)", os.reason);
                enum breaker_change ch = breaker_force(&e->b, BREAKER_DIRECT, SRC_LOG, why, 0, now);
                if (e->b.trips > 0)
                    e->b.trips--;           /* it was never a block */
                e->dirty = 1;
                report_addr_ex(r, e, old, ch, now, 1, 1);
            }
        }
    }
    snprintf(explain, sizeof(explain), oc == OUTAGE_BEGAN
             ? "local outage: %s; no address is detoured while it lasts"
             : "local outage over: %s", os.reason);
    struct rules_change c = {
        .kind = RULES_CHANGE_OUTAGE, .outage = os.active, .source = SRC_LOG,
        .reason = os.reason, .explain = explain, .since_ms = os.since_ms,
    };
    emit(r, &c);
}

/* a serves the domain: for the domain's list and for the outage guard.  The
 * guard needs a link only when the domain is new to the address: attempts
 * without a domain are recorded with the one the address last served. */
static void link_domain(struct rules *r, const char *name, const struct netaddr *a, uint64_t now)
{
    struct dom_entry *d = get_dom(r, name, now);
    struct addr_entry *e = addrtable_addr(&r->t, a);

    if (e == NULL || e->domain == NULL || strcmp(e->domain, name) != 0)
        outage_link(r->outage, a, name, now);
    if (e)
        addrtable_addr_domain(e, name);
    if (d) {
        addrtable_dom_link(d, a);
        recompute_domain(r, d, NULL, now);
    }
}

void rules_config_default(struct rules_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_addrs = RULES_DEFAULT_MAX_ADDRS;
    c->max_domains = RULES_DEFAULT_MAX_DOMAINS;
    breaker_params_default(&c->defaults);
    outage_params_default(&c->outage);
}

struct rules *rules_new(const struct rules_config *c)
{
    struct rules *r;

    if (c->max_addrs == 0 || c->max_domains == 0 || breaker_params_check(&c->defaults, NULL) < 0
        || outage_params_check(&c->outage, NULL) < 0 || (r = calloc(1, sizeof(*r))) == NULL)
        return NULL;
    r->cfg = *c;
    if (addrtable_init(&r->t, c->max_addrs, c->max_domains, c->hash_seed) < 0
        || (r->outage = outage_new(&c->outage)) == NULL) {
        rules_free(r);
        return NULL;
    }
    return r;
}

void rules_free(struct rules *r)
{
    if (r == NULL)
        return;
    addrtable_fini(&r->t);
    outage_free(r->outage);
    free(r);
}

/* What rules_failure, rules_success and rules_force share: the checks, the
 * outage guard's record (outage_failed < 0: none), the entry, the domain. */
static int begin(struct rules *r, const struct netaddr *addr, const char *host,
                 const char *domain, int outage_failed, enum evidence_source src,
                 uint64_t now, struct addr_entry **ep)
{
    char buf[DOMAIN_MAXLEN + 1];
    const char *d = NULL;
    struct netaddr a;

    if (r->busy)
        return RULES_EBUSY;
    if (addrtable_canon(addr, &a) < 0 || (unsigned)src >= SRC_COUNT
        || (domain && *domain && (d = rules_norm_domain(domain, buf, sizeof(buf))) == NULL))
        return RULES_EINVAL;
    r->events = 0;
    *ep = get_addr(r, &a, host, now);
    if (outage_failed >= 0 && (src == SRC_LOG || (src == SRC_PROBE && !outage_failed))) {
        /* Without a domain, the one the address was last seen serving
         * keeps a provider's networks together for the guard. */
        outage_record(r->outage, &a, d ? d : *ep ? (*ep)->domain : NULL, outage_failed, now);
        if (outage_failed || outage_active(r->outage))
            check_outage(r, now);
    }
    if (*ep == NULL)
        return RULES_EFULL;
    (*ep)->dirty = 1;
    if (d) {
        link_domain(r, d, &a, now);
        lookup_params(r, *ep, d);
    }
    return 0;
}

int rules_failure(struct rules *r, const struct netaddr *addr, const char *host,
                  const char *domain, enum fail_kind kind, enum evidence_source src,
                  uint64_t now_ms)
{
    struct addr_entry *e;
    struct breaker_params p;
    enum breaker_state old;
    enum breaker_change ch;
    int rc;

    if (kind <= FAIL_NONE || kind >= FAIL_KIND_COUNT)
        return RULES_EINVAL;
    /* For the outage guard only silence and "unreachable" may be the uplink's. */
    rc = begin(r, addr, host, domain, kind == FAIL_TIMEOUT || kind == FAIL_UNREACH, src,
               now_ms, &e);
    if (rc < 0)
        return rc;
    p = e->params;
    if (outage_active(r->outage))
        p.kinds = 0;            /* evidence only: nothing trips */
    old = e->b.state;
    ch = breaker_failure(&e->b, &p, kind, src, now_ms);
    report_addr(r, e, old, ch, now_ms, 1);
    return (int)ch;
}

int rules_success(struct rules *r, const struct netaddr *addr, const char *host,
                  const char *domain, enum evidence_source src, uint64_t now_ms)
{
    struct addr_entry *e;
    enum breaker_state old;
    enum breaker_change ch;
    int rc = begin(r, addr, host, domain, 0, src, now_ms, &e);

    if (rc < 0)
        return rc;
    old = e->b.state;
    ch = breaker_success(&e->b, &e->params, src, now_ms);
    report_addr(r, e, old, ch, now_ms, 1);
    return (int)ch;
}

int rules_force(struct rules *r, const struct netaddr *addr, enum breaker_state state,
                enum evidence_source src, const char *reason, uint64_t until_ms,
                uint64_t now_ms)
{
    struct addr_entry *e;
    enum breaker_state old;
    enum breaker_change ch;
    int rc;

    if ((unsigned)state > BREAKER_HALF_OPEN)
        return RULES_EINVAL;
    if ((rc = begin(r, addr, NULL, NULL, -1, src, now_ms, &e)) < 0)
        return rc;
    old = e->b.state;
    ch = breaker_force(&e->b, state, src, reason, until_ms, now_ms);
    report_addr(r, e, old, ch, now_ms, 1);
    return (int)ch;
}

int rules_verdict(struct rules *r, const struct netaddr *addr, const char *host, const char *domain,
                  enum verdict v, const char *reason, uint64_t now_ms)
{
    struct addr_entry *e;
    enum breaker_state old;
    enum breaker_change ch;
    int rc;

    if (v == VERDICT_NONE || (unsigned)v >= VERDICT_COUNT)
        return RULES_EINVAL;
    if ((rc = begin(r, addr, host, domain, -1, SRC_PROBE, now_ms, &e)) < 0)
        return rc;
    old = e->b.state;
    if (v == VERDICT_BLOCKED_HERE)     /* reached from outside: not the uplink's failure */
        outage_record(r->outage, &e->addr, e->domain, 0, now_ms);
    ch = breaker_verdict(&e->b, &e->params, v, reason, now_ms);
    e->dirty = 1;               /* the verdict itself is worth sharing */
    report_addr(r, e, old, ch, now_ms, 1);
    return (int)ch;
}

void rules_outage_hold(struct rules *r, uint64_t until_ms)
{
    if (until_ms > r->outage_hold_ms)
        r->outage_hold_ms = until_ms;
}

int rules_tick(struct rules *r, uint64_t now_ms)
{
    if (r->busy)
        return RULES_EBUSY;
    r->events = 0;
    check_outage(r, now_ms);
    addrtable_each_addr(e, &r->t) {
        enum breaker_state old = e->b.state;
        unsigned nfails = e->b.nfails, trips = e->b.trips;

        if (old == BREAKER_DIRECT && nfails == 0 && trips == 0)
            continue;           /* nothing can happen to it */
        enum breaker_change ch = breaker_tick(&e->b, &e->params, now_ms);
        if (ch != BREAKER_SAME || nfails != e->b.nfails || trips != e->b.trips)
            e->dirty = 1;
        report_addr(r, e, old, ch, now_ms, 1);
    }
    return r->events;
}

/* set_mx: an address new to a detoured domain's list, never seen answering,
 * is probed before the domain's mail goes direct again. */
static int probe_first(const struct addr_entry *e, int was_detoured, const struct netaddr *old,
                       unsigned nold)
{
    return was_detoured && nold > 0 && e->b.state == BREAKER_DIRECT
           && e->b.last_success_ms == 0 && !addrtable_listed(old, nold, &e->addr);
}

int rules_domain_set_mx(struct rules *r, const char *domain, const struct rules_mx *mx,
                        size_t n, uint64_t now_ms)
{
    char name[DOMAIN_MAXLEN + 1], why[BREAKER_REASON_MAX];
    struct netaddr old[RULES_MAX_MX], a;
    struct dom_entry *d;
    unsigned nold;
    enum breaker_change ch;
    int was, forced = 0;

    if (r->busy)
        return RULES_EBUSY;
    if (rules_norm_domain(domain, name, sizeof(name)) == NULL || (n > 0 && mx == NULL))
        return RULES_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (addrtable_canon(&mx[i].addr, &a) < 0)
            return RULES_EINVAL;
    r->events = 0;
    if ((d = get_dom(r, name, now_ms)) == NULL)
        return RULES_EFULL;
    nold = d->nmx;
    memcpy(old, d->mx, sizeof(old));
    was = d->detoured;
    d->nmx = 0;
    for (size_t i = 0; i < n; i++) {
        addrtable_canon(&mx[i].addr, &a);
        if (!addrtable_dom_has(d, &a) && d->nmx < RULES_MAX_MX)
            d->mx[d->nmx++] = a;
    }
    snprintf(why, sizeof(why), "new MX address of detoured %s, probed before mail goes direct",
             d->name);
    for (size_t i = 0; i < n; i++) {
        struct addr_entry *e;
        addrtable_canon(&mx[i].addr, &a);
        if (!addrtable_dom_has(d, &a) || (e = get_addr(r, &a, mx[i].host, now_ms)) == NULL)
            continue;
        addrtable_addr_domain(e, d->name);      /* groups its networks for the guard */
        lookup_params(r, e, d->name);
        if (probe_first(e, was, old, nold)) {
            e->dirty = 1;
            ch = breaker_force(&e->b, BREAKER_HALF_OPEN, SRC_LOG, why, 0, now_ms);
            report_addr(r, e, BREAKER_DIRECT, ch, now_ms, 0);
            forced = 1;
        }
    }
    if (forced)                 /* other domains may list the new addresses */
        recompute_domains(r, NULL, NULL, now_ms);
    recompute_domain(r, d, NULL, now_ms);
    return d->detoured;
}

int rules_domain_add_mx(struct rules *r, const char *domain, const char *host,
                        const struct netaddr *addr, uint64_t now_ms)
{
    char name[DOMAIN_MAXLEN + 1];
    struct addr_entry *e;
    struct dom_entry *d;
    struct netaddr a;

    if (r->busy)
        return RULES_EBUSY;
    if (rules_norm_domain(domain, name, sizeof(name)) == NULL || addrtable_canon(addr, &a) < 0)
        return RULES_EINVAL;
    r->events = 0;
    if ((e = get_addr(r, &a, host, now_ms)) != NULL)
        lookup_params(r, e, name);
    link_domain(r, name, &a, now_ms);
    d = addrtable_dom(&r->t, name);
    return d ? d->detoured : RULES_EFULL;
}

int rules_addr_put(struct rules *r, const struct netaddr *addr, const char *host,
                   const struct breaker *b, uint64_t now_ms)
{
    static const enum breaker_change entered[] = {BREAKER_RESTORED, BREAKER_TRIPPED,
                                                  BREAKER_PROBE_DUE};
    struct addr_entry *e;
    struct netaddr a;
    enum breaker_state old;

    if (r->busy)
        return RULES_EBUSY;
    if (addrtable_canon(addr, &a) < 0 || b == NULL || (unsigned)b->state > BREAKER_HALF_OPEN
        || (unsigned)b->source >= SRC_COUNT || b->nfails > BREAKER_MAX_FAILS)
        return RULES_EINVAL;
    r->events = 0;
    if ((e = get_addr(r, &a, host, now_ms)) == NULL)
        return RULES_EFULL;
    old = e->b.state;
    e->b = *b;
    e->dirty = 0;
    enum breaker_change ch = old == b->state ? BREAKER_SAME : entered[b->state];
    report_addr(r, e, old, ch, now_ms, 1);
    return (int)ch;
}

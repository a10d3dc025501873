/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules_text - the sentences the rules engine reports and explains with:
 *   detour: protonmail.com (mail.protonmail.ch[185.70.40.101], ...) blocked after 3 connect timeouts in 10m
 * built in bounded buffers that cut what does not fit.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rules_int.h"

/* Explanations: a bounded builder that cuts what does not fit. */
struct text {
    char *buf;
    size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->len + 1 >= t->size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = (size_t)n < t->size - t->len ? t->len + (size_t)n : t->size - 1;
}

static void put_addr(struct text *t, const struct netaddr *a, const char *host)
{
    char s[NETADDR_STRLEN];

    if (netaddr_format(a, s, sizeof(s)) == NULL)
        snprintf(s, sizeof(s), "?");
    if (host && *host)
        put(t, "%s[%s]", host, s);
    else
        put(t, "%s", s);
}

/* Why a breaker is where it is: "blocked after 3 connect timeouts in 10m". */
static void put_phrase(struct text *t, const struct breaker *b)
{
    static const char *const blocked[SRC_COUNT] = {"blocked after", "blocked after",
                                                   "blocked manually:", "blocked by a feed:"};
    static const char *const opened[SRC_COUNT] = {"restored after", "restored after",
                                                  "unblocked manually:", "unblocked by a feed:"};
    unsigned src = (unsigned)b->source < SRC_COUNT ? (unsigned)b->source : SRC_LOG;

    if (b->state == BREAKER_DETOURED)
        put(t, "%s %s", blocked[src], b->reason);
    else if (b->state == BREAKER_HALF_OPEN)
        put(t, "half-open: %s", b->reason);
    else if (b->reason[0])
        put(t, "%s %s", opened[src], b->reason);
    else
        put(t, "no failure recorded");
}

const char *rules_norm_domain(const char *domain, char *buf, size_t size)
{
    if (domain == NULL || domain_normalize(domain, strlen(domain), buf, size) < 0)
        return NULL;
    return buf;
}

const struct addr_entry *rules_decider(const struct rules *r, const struct dom_entry *d,
                                       const struct addr_entry *trigger)
{
    const struct addr_entry *half = NULL;

    if (trigger && addrtable_dom_has(d, &trigger->addr))
        return trigger;
    for (unsigned i = 0; i < d->nmx && d->detoured; i++) {
        const struct addr_entry *e = addrtable_addr(&r->t, &d->mx[i]);
        if (e && e->b.state == BREAKER_DETOURED)
            return e;
        if (e && half == NULL)
            half = e;
    }
    return half;
}

void rules_explain_dom(const struct rules *r, const struct dom_entry *d,
                       const struct addr_entry *why, const char *fallback, char *buf, size_t size)
{
    struct text t = {buf, size, 0};

    buf[0] = 0;
    put(&t, "%s: %s (", d->detoured ? "detour" : "direct", d->name);
    for (unsigned i = 0; i < d->nmx; i++) {
        const struct addr_entry *e = addrtable_addr(&r->t, &d->mx[i]);
        put(&t, "%s", i > 0 ? ", " : "");
        put_addr(&t, &d->mx[i], e ? e->host : NULL);
    }
    put(&t, "%s) ", d->nmx ? "" : "no MX address known");
    if (why)
        put_phrase(&t, &why->b);
    else
        put(&t, "%s", fallback);
}

void rules_explain_addr(const struct addr_entry *e, char *buf, size_t size)
{
    struct text t = {buf, size, 0};

    buf[0] = 0;
    put(&t, "%s: ", breaker_is_detoured(&e->b) ? "detour" : "direct");
    put_addr(&t, &e->addr, e->host);
    put(&t, " ");
    put_phrase(&t, &e->b);
}

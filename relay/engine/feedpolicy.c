/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feedpolicy - see feedpolicy.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "feedpolicy.h"
#include "feedset.h"
#include "metrics.h"
#include "msg.h"
#include "recheck.h"
#include "store_async.h"

#define MOD "feedpolicy"

enum fp_state {
    FP_PROBING,         /* trust probe: a probe is asked for */
    FP_ANSWERED,        /* trust probe: the greeting came; probe again at next_ms */
    FP_DETOURED,        /* detoured, by this listing (forced) or by evidence */
    FP_ALLOWED,         /* an allow list names it */
};

struct memo {
    struct netaddr addr;
    char host[RULES_HOST_MAX + 1];
    enum fp_state st;
    enum feed_trust trust;
    unsigned gen;               /* feedset generation last acted on */
    int forced;                 /* the breaker's state is this listing's doing */
    uint64_t asked_ms, next_ms, recheck_ms;
};

/*
 * The memos sit in a dense array (the tick and recheck_all walk them all)
 * with an open-addressing hash index beside it: every MX address the engine
 * meets is looked up here, once per log line or DNS answer, and a linear
 * search cost O(FEEDPOLICY_MAX) each time.  A sorted array would make every
 * insert move the tail; the set is bounded, so a fixed index of twice its
 * size (at most half full, linear probing) never rehashes.  A slot holds
 * the memo's index + 1; 0 is free.
 */
#define INDEX_SIZE (2 * FEEDPOLICY_MAX)

static struct {
    struct rules *rules;
    const struct cfg *cfg;
    struct memo *m;
    size_t n;
    uint32_t *slot;             /* INDEX_SIZE slots */
    struct msg_limiter full_lim;
} fp;

static size_t addr_home(const struct netaddr *a)
{
    uint32_t h = 2166136261u ^ (uint32_t)a->family;
    size_t w = a->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < w; i++)              /* FNV-1a */
        h = (h ^ a->bytes[i]) * 16777619u;
    return h & (INDEX_SIZE - 1);
}

/* The slot that holds a, or the free slot where it would go. */
static size_t slot_of(const struct netaddr *a)
{
    size_t j = addr_home(a);
    while (fp.slot[j] && !netaddr_equal(&fp.m[fp.slot[j] - 1].addr, a))
        j = (j + 1) & (INDEX_SIZE - 1);
    return j;
}

static struct memo *memo_find(const struct netaddr *a)
{
    if (fp.slot == NULL)
        return NULL;
    size_t j = slot_of(a);
    return fp.slot[j] ? &fp.m[fp.slot[j] - 1] : NULL;
}

/* Empties slot i and shifts back the entries of its probe run that would
 * no longer be found (no tombstones: the index never fills with them). */
static void slot_clear(size_t i)
{
    fp.slot[i] = 0;
    for (size_t j = (i + 1) & (INDEX_SIZE - 1); fp.slot[j]; j = (j + 1) & (INDEX_SIZE - 1)) {
        size_t h = addr_home(&fp.m[fp.slot[j] - 1].addr);
        /* Entry j may move to i when its home is not cyclically in (i, j]. */
        if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
            fp.slot[i] = fp.slot[j];
            fp.slot[j] = 0;
            i = j;
        }
    }
}

static void memo_remove(struct memo *m)
{
    size_t at = (size_t)(m - fp.m), last = fp.n - 1;

    slot_clear(slot_of(&m->addr));
    if (at != last) {                   /* the last memo fills the hole */
        fp.slot[slot_of(&fp.m[last].addr)] = (uint32_t)at + 1;
        *m = fp.m[last];
    }
    fp.n--;
}

/* A new entry; when full, the oldest one that holds no forced state (a
 * linear search, but only when the bound is reached). */
static struct memo *memo_add(const struct netaddr *a)
{
    if (fp.m == NULL || fp.slot == NULL)
        return NULL;
    if (fp.n == FEEDPOLICY_MAX) {
        size_t old = fp.n;
        for (size_t i = 0; i < fp.n; i++)
            if (!fp.m[i].forced && (old == fp.n || fp.m[i].asked_ms < fp.m[old].asked_ms))
                old = i;
        if (old == fp.n) {
            msg_limited(&fp.full_lim, 60000, MOD,
                        "more than %d listed MX addresses in use; a listing is not acted on",
                        FEEDPOLICY_MAX);
            return NULL;
        }
        memo_remove(&fp.m[old]);
    }
    struct memo *m = &fp.m[fp.n];
    memset(m, 0, sizeof(*m));
    m->addr = *a;
    fp.slot[slot_of(a)] = (uint32_t)++fp.n;
    return m;
}

static const struct breaker *breaker_of(const struct netaddr *a)
{
    struct rules_addr_view v;
    return rules_addr_get(fp.rules, a, &v) == 0 ? v.breaker : NULL;
}

static int is_detoured(const struct netaddr *a)
{
    const struct breaker *b = breaker_of(a);
    return b && breaker_is_detoured(b);
}

/* "listed by feed registry line 2: 192.0.2.25/32 (decision 27-31-2020/Ид2971-20 of 2020-01-29 by ...)" */
static const char *describe(const struct feedset_match *mt, char *buf, size_t size)
{
    char pfx[NETADDR_STRLEN];
    const struct feed_hit *h = &mt->hit;
    int n = snprintf(buf, size, "listed by feed %s line %lu: %s/%u", h->feed, h->line,
                     netaddr_format(&h->prefix, pfx, sizeof(pfx)), h->prefix_len);
    if (n > 0 && (size_t)n < size && (h->decision[0] || h->date[0] || h->org[0]))
        snprintf(buf + n, size - (size_t)n, " (decision %s%s%s%s%s)", h->decision[0] ? h->decision : "-",
                 h->date[0] ? " of " : "", h->date, h->org[0] ? " by " : "", h->org);
    return buf;
}

static void publish(const struct memo *m, const struct feedset_match *mt, const char *action)
{
    struct store_feed f;
    memset(&f, 0, sizeof(f));
    netaddr_format(&m->addr, f.addr, sizeof(f.addr));
    snprintf(f.feed, sizeof(f.feed), "%s", mt->hit.feed);
    snprintf(f.trust, sizeof(f.trust), "%s", feed_trust_name(mt->trust));
    f.line = mt->hit.line;
    char pfx[NETADDR_STRLEN];
    snprintf(f.entry, sizeof(f.entry), "%s/%u", netaddr_format(&mt->hit.prefix, pfx, sizeof(pfx)),
             mt->hit.prefix_len);
    snprintf(f.org, sizeof(f.org), "%s", mt->hit.org);
    snprintf(f.decision, sizeof(f.decision), "%s", mt->hit.decision);
    snprintf(f.date, sizeof(f.date), "%s", mt->hit.date);
    snprintf(f.action, sizeof(f.action), "%s", action);
    store_async_feed_put(&f);
}

/* Moves the local breaker and, like any evidence, the shared record. */
static void force(const struct memo *m, enum breaker_state st, const char *reason, uint64_t until,
                  uint64_t now)
{
    char text[NETADDR_STRLEN];
    const struct breaker_params *p = cfg_detect_for(fp.cfg, NULL);
    const char *host = m->host[0] ? m->host : NULL;
    rules_force(fp.rules, &m->addr, st, SRC_FEED, reason, until, now);
    store_async_record(netaddr_format(&m->addr, text, sizeof(text)), host, ASTORE_FORCE, FAIL_NONE,
                  SRC_FEED, p, now, st, until, reason);
}

static const char *clock_text(uint64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* The listing is gone (or its trust changed): a detour that is still this
 * listing's doing ends. */
static void release(struct memo *m, const char *why, uint64_t now)
{
    const struct breaker *b = breaker_of(&m->addr);
    if (m->forced && b && breaker_is_detoured(b) && b->source == SRC_FEED) {
        char addr[NETADDR_STRLEN];
        msg_info(MOD, "%s: %s; the detour it caused ends", netaddr_format(&m->addr, addr, sizeof(addr)), why);
        force(m, BREAKER_DIRECT, why, 0, now);
        metrics_inc(MET_FEED_ACTIONS, MF_RELEASED);
    }
    m->forced = 0;
}

static void act(struct memo *m, const struct feedset_match *mt, uint64_t now)
{
    char why[STORE_TEXT_MAX], addr[NETADDR_STRLEN];
    const struct breaker *b = breaker_of(&m->addr);

    netaddr_format(&m->addr, addr, sizeof(addr));
    describe(mt, why, sizeof(why));
    if (m->trust != mt->trust) {
        release(m, "its feed's trust changed", now);
        b = breaker_of(&m->addr);       /* release() may have moved it */
    }
    m->trust = mt->trust;
    m->recheck_ms = mt->recheck_ms;
    switch (mt->trust) {
    case FEED_TRUST_ALLOW:
        m->st = FP_ALLOWED;
        if (b && breaker_is_detoured(b) && b->source != SRC_MANUAL) {
            msg_info(MOD, "%s: %s; it goes direct and is never detoured", addr, why);
            force(m, BREAKER_DIRECT, why, 0, now);
        }
        publish(m, mt, "never detoured (allow list)");
        metrics_inc(MET_FEED_ACTIONS, MF_ALLOWED);
        break;
    case FEED_TRUST_DETOUR:
        m->st = FP_DETOURED;
        if (b && breaker_is_detoured(b) && !m->forced) {
            publish(m, mt, "already detoured by other evidence");
            break;
        }
        if (!m->forced)
            msg_info(MOD, "%s: %s; detoured without a probe (trust detour)", addr, why);
        m->forced = 1;
        force(m, BREAKER_DETOURED, why, 0, now);
        publish(m, mt, "detoured without a probe (trust detour)");
        metrics_inc(MET_FEED_ACTIONS, MF_DETOURED);
        break;
    case FEED_TRUST_PROBE:
        if ((m->st == FP_ANSWERED && m->next_ms > now) || (m->st == FP_DETOURED && m->forced))
            break;                      /* a new version of the feed, the same answer */
        if (b && breaker_is_detoured(b)) {
            m->st = FP_DETOURED;
            publish(m, mt, "already detoured by other evidence");
            break;
        }
        msg_info(MOD, "%s: %s; probing the direct path", addr, why);
        m->st = FP_PROBING;
        m->asked_ms = now;
        recheck_request(&m->addr, m->host[0] ? m->host : NULL);
        publish(m, mt, "probing the direct path");
        metrics_inc(MET_FEED_ACTIONS, MF_PROBED);
        break;
    }
}

int feedpolicy_seen(const struct netaddr *addr, const char *host, uint64_t now)
{
    struct feedset_match mt;
    struct memo *m = memo_find(addr);

    if (!feedset_lookup(addr, &mt)) {
        if (m) {
            char text[NETADDR_STRLEN];
            release(m, "no longer listed by any feed", now);
            store_async_feed_del(netaddr_format(addr, text, sizeof(text)));
            memo_remove(m);
        }
        return 0;
    }
    int allowed = mt.trust == FEED_TRUST_ALLOW;
    if (m == NULL && (m = memo_add(addr)) == NULL)
        return allowed;
    if (host && !m->host[0])
        snprintf(m->host, sizeof(m->host), "%s", host);
    if (m->gen == mt.generation)
        return allowed;                 /* acted on this version already (a new entry's is 0) */
    m->gen = mt.generation;
    act(m, &mt, now);
    return allowed;
}

int feedpolicy_allowed(const struct netaddr *addr)
{
    struct feedset_match mt;
    return feedset_lookup(addr, &mt) && mt.trust == FEED_TRUST_ALLOW;
}

int feedpolicy_probe_result(const struct netaddr *addr, const char *host, int ok,
                            enum fail_kind kind, uint64_t now)
{
    struct memo *m = memo_find(addr);
    struct feedset_match mt;
    char why[STORE_TEXT_MAX], action[STORE_TEXT_MAX], when[32];

    (void)host;
    if (m == NULL || m->trust != FEED_TRUST_PROBE || (m->st != FP_PROBING && m->st != FP_ANSWERED)
        || !feedset_lookup(addr, &mt) || mt.trust != FEED_TRUST_PROBE)
        return 0;
    clock_text(now, when, sizeof(when));
    if (ok) {
        m->st = FP_ANSWERED;
        m->next_ms = now + m->recheck_ms;
        snprintf(action, sizeof(action), "the probe saw a greeting at %s: stays direct, probed again "
                 "in %llu min", when, (unsigned long long)(m->recheck_ms / 60000));
        publish(m, &mt, action);
        metrics_inc(MET_FEED_ACTIONS, MF_ANSWERED);
        return 0;                       /* the success counts as usual */
    }
    if (is_detoured(addr)) {
        m->st = FP_DETOURED;
        return 0;
    }
    const struct breaker_params *p = cfg_detect_for(fp.cfg, NULL);
    snprintf(why, sizeof(why), "%.200s; the probe got no greeting (%s)", describe(&mt, action, sizeof(action)),
             fail_kind_name(kind) ? fail_kind_name(kind) : "failed");
    m->st = FP_DETOURED;
    m->forced = 1;
    force(m, BREAKER_DETOURED, why, now + p->cooldown_ms, now);
    snprintf(action, sizeof(action), "the probe got no greeting (%s) at %s: detoured",
             fail_kind_name(kind) ? fail_kind_name(kind) : "failed", when);
    publish(m, &mt, action);
    metrics_inc(MET_FEED_ACTIONS, MF_PROBE_FAILED);
    return 1;
}

void feedpolicy_tick(uint64_t now)
{
    for (size_t i = 0; i < fp.n; i++) {
        struct memo *m = &fp.m[i];
        if (m->trust != FEED_TRUST_PROBE)
            continue;
        if (m->st == FP_DETOURED && !is_detoured(&m->addr)) {
            /* The half-open probes brought it back: the block lifted. */
            m->st = FP_ANSWERED;
            m->forced = 0;
            m->next_ms = now + m->recheck_ms;
        } else if ((m->st == FP_PROBING && m->asked_ms + FEEDPOLICY_RETRY_MS <= now)
                   || (m->st == FP_ANSWERED && m->next_ms <= now)) {
            m->st = FP_PROBING;
            m->asked_ms = now;
            recheck_request(&m->addr, m->host[0] ? m->host : NULL);
        }
    }
}

struct seen_list {
    struct netaddr *addr;
    size_t n, cap;
};

static int collect(const struct rules_addr_view *v, void *arg)
{
    struct seen_list *l = arg;
    if (l->n < l->cap)
        l->addr[l->n++] = *v->addr;
    return 0;
}

void feedpolicy_recheck_all(uint64_t now)
{
    struct rules_stats st;
    struct seen_list l = {0};

    rules_stats(fp.rules, &st);
    l.cap = st.addrs + fp.n;
    if ((l.addr = calloc(l.cap ? l.cap : 1, sizeof(*l.addr))) == NULL)
        return;
    for (size_t i = 0; i < fp.n; i++)
        l.addr[l.n++] = fp.m[i].addr;
    rules_addr_foreach(fp.rules, collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        struct rules_addr_view v;
        const char *host = rules_addr_get(fp.rules, &l.addr[i], &v) == 0 && v.host[0] ? v.host : NULL;
        feedpolicy_seen(&l.addr[i], host, now);
    }
    free(l.addr);
}

void feedpolicy_start(struct rules *r, const struct cfg *cfg)
{
    memset(&fp, 0, sizeof(fp));
    fp.rules = r;
    fp.cfg = cfg;
    fp.m = calloc(FEEDPOLICY_MAX, sizeof(*fp.m));
    fp.slot = calloc(INDEX_SIZE, sizeof(*fp.slot));
}

void feedpolicy_configure(const struct cfg *cfg)
{
    fp.cfg = cfg;
}

void feedpolicy_stop(void)
{
    free(fp.m);
    free(fp.slot);
    memset(&fp, 0, sizeof(fp));
}

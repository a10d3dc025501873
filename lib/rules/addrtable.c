/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * addrtable - the rules engine's bounded tables; see addrtable.h.
 * The hash is MurmurHash64A (Austin Appleby, public domain) with the seed
 * mixed into its initial state.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addrtable.h"

#define ADDR_OF(n) ((struct addr_entry *)(void *)(n))   /* node is the first member */
#define DOM_OF(n) ((struct dom_entry *)(void *)(n))

static uint64_t hash(const struct at_table *tab, const void *key, size_t len)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const unsigned char *p = key;
    uint64_t h = tab->seed ^ (len * m), k;

    for (; len >= 8; len -= 8, p += 8) {
        memcpy(&k, p, 8);
        k *= m;
        k ^= k >> 47;
        k *= m;
        h ^= k;
        h *= m;
    }
    if (len > 0) {
        for (k = 0; len-- > 0;)
            k = k << 8 | p[len];
        h ^= k;
        h *= m;
    }
    h ^= h >> 47;
    h *= m;
    return h ^ (h >> 47);
}

static int table_init(struct at_table *tab, size_t max, uint64_t seed)
{
    size_t n = 16;

    while (n < max && n < ((size_t)1 << 30))
        n *= 2;
    memset(tab, 0, sizeof(*tab));
    tab->lru.next = tab->lru.prev = &tab->lru;
    tab->max = max;
    tab->seed = seed;
    tab->mask = n - 1;
    tab->buckets = calloc(n, sizeof(*tab->buckets));
    return tab->buckets ? 0 : -1;
}

static struct at_node *table_next(const struct at_table *tab, const struct at_node *prev)
{
    size_t i = 0;

    if (tab->buckets == NULL)
        return NULL;
    if (prev) {
        if (prev->hnext)
            return prev->hnext;
        i = (prev->hash & tab->mask) + 1;
    }
    for (; i <= tab->mask; i++)
        if (tab->buckets[i])
            return tab->buckets[i];
    return NULL;
}

static void lru_unlink(struct at_node *n)
{
    if (n->next == NULL)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = NULL;
}

void addrtable_evictable(struct at_table *tab, struct at_node *n, int yes)
{
    if (!yes) {
        lru_unlink(n);
    } else if (n->next == NULL) {
        n->next = tab->lru.next;
        n->prev = &tab->lru;
        tab->lru.next->prev = n;
        tab->lru.next = n;
    }
}

/* Most recently used: to the front of the LRU list, if on it. */
static void touch(struct at_table *tab, struct at_node *n)
{
    if (n->next) {
        lru_unlink(n);
        addrtable_evictable(tab, n, 1);
    }
}

static void table_remove(struct at_table *tab, struct at_node *n)
{
    for (struct at_node **pp = &tab->buckets[n->hash & tab->mask]; *pp; pp = &(*pp)->hnext)
        if (*pp == n) {
            *pp = n->hnext;
            tab->count--;
            break;
        }
    lru_unlink(n);
}

/* Room for one more: 0, or -1 when full of entries that may not go. */
static int make_room(struct at_table *tab, void (*release)(struct at_node *))
{
    struct at_node *old = tab->lru.prev;

    if (tab->count < tab->max)
        return 0;
    if (old == &tab->lru)
        return -1;
    table_remove(tab, old);
    release(old);
    tab->evicted++;
    return 0;
}

static void table_insert(struct at_table *tab, struct at_node *n, uint64_t h)
{
    struct at_node **b = &tab->buckets[h & tab->mask];

    n->hash = h;
    n->hnext = *b;
    *b = n;
    tab->count++;
    addrtable_evictable(tab, n, 1);
}

static void release_addr(struct at_node *n)
{
    free(ADDR_OF(n)->host);
    free(ADDR_OF(n)->domain);
    free(n);
}

static void release_dom(struct at_node *n)
{
    free(n);
}

static void table_fini(struct at_table *tab, void (*release)(struct at_node *))
{
    struct at_node *n, *next;

    for (n = table_next(tab, NULL); n; n = next) {
        next = table_next(tab, n);
        release(n);
    }
    free(tab->buckets);
    tab->buckets = NULL;
}

int addrtable_init(struct addrtable *t, size_t max_addrs, size_t max_domains, uint64_t seed)
{
    int a = table_init(&t->addrs, max_addrs, seed);
    int d = table_init(&t->doms, max_domains, seed ^ 0x9e3779b97f4a7c15ULL);

    return a < 0 || d < 0 ? -1 : 0;
}

void addrtable_fini(struct addrtable *t)
{
    table_fini(&t->addrs, release_addr);
    table_fini(&t->doms, release_dom);
}

int addrtable_canon(const struct netaddr *in, struct netaddr *out)
{
    if (in == NULL || (in->family != AF_INET && in->family != AF_INET6))
        return -1;
    memset(out, 0, sizeof(*out));
    out->family = in->family;
    memcpy(out->bytes, in->bytes, in->family == AF_INET ? 4 : 16);
    return 0;
}

static struct addr_entry *find_addr(const struct addrtable *t, const struct netaddr *a)
{
    uint64_t h = hash(&t->addrs, a, sizeof(*a));

    for (struct at_node *n = t->addrs.buckets[h & t->addrs.mask]; n; n = n->hnext)
        if (n->hash == h && memcmp(&ADDR_OF(n)->addr, a, sizeof(*a)) == 0)
            return ADDR_OF(n);
    return NULL;
}

struct addr_entry *addrtable_addr(const struct addrtable *t, const struct netaddr *a)
{
    struct netaddr c;

    return addrtable_canon(a, &c) < 0 ? NULL : find_addr(t, &c);
}

/* Replaces *slot with a copy of text when text is a plausible name:
 * 1..255 printable characters, no spaces. */
static void set_name(char **slot, const char *text)
{
    size_t len = text ? strnlen(text, RULES_HOST_MAX + 1) : 0;
    char *copy;

    if (len == 0 || len > RULES_HOST_MAX || (*slot && strcmp(*slot, text) == 0))
        return;
    for (size_t i = 0; i < len; i++)
        if (text[i] <= ' ' || text[i] >= 0x7f)
            return;
    if ((copy = strdup(text)) != NULL) {
        free(*slot);
        *slot = copy;
    }
}

void addrtable_addr_domain(struct addr_entry *e, const char *domain)
{
    set_name(&e->domain, domain);
}

struct addr_entry *addrtable_addr_add(struct addrtable *t, const struct netaddr *a,
                                      const char *host, const struct breaker_params *params,
                                      uint64_t now_ms, int *created)
{
    struct addr_entry *e = find_addr(t, a);

    *created = e == NULL;
    if (e == NULL) {
        if (make_room(&t->addrs, release_addr) < 0 || (e = calloc(1, sizeof(*e))) == NULL)
            return NULL;
        e->addr = *a;
        breaker_init(&e->b, now_ms);
        e->params = *params;
        table_insert(&t->addrs, &e->node, hash(&t->addrs, a, sizeof(*a)));
    }
    set_name(&e->host, host);
    touch(&t->addrs, &e->node);
    e->touched_ms = now_ms;
    return e;
}

struct dom_entry *addrtable_dom(const struct addrtable *t, const char *name)
{
    uint64_t h = hash(&t->doms, name, strlen(name));

    for (struct at_node *n = t->doms.buckets[h & t->doms.mask]; n; n = n->hnext)
        if (n->hash == h && strcmp(DOM_OF(n)->name, name) == 0)
            return DOM_OF(n);
    return NULL;
}

struct dom_entry *addrtable_dom_add(struct addrtable *t, const char *name, uint64_t now_ms)
{
    struct dom_entry *d = addrtable_dom(t, name);
    size_t len = strlen(name);

    if (d == NULL) {
        if (make_room(&t->doms, release_dom) < 0 || (d = calloc(1, sizeof(*d) + len + 1)) == NULL)
            return NULL;
        memcpy(d->name, name, len + 1);
        table_insert(&t->doms, &d->node, hash(&t->doms, name, len));
    }
    touch(&t->doms, &d->node);
    d->touched_ms = now_ms;
    return d;
}

int addrtable_listed(const struct netaddr *list, unsigned n, const struct netaddr *a)
{
    for (unsigned i = 0; i < n; i++)
        if (memcmp(&list[i], a, sizeof(*a)) == 0)
            return 1;
    return 0;
}

int addrtable_dom_has(const struct dom_entry *d, const struct netaddr *a)
{
    return addrtable_listed(d->mx, d->nmx, a);
}

void addrtable_dom_link(struct dom_entry *d, const struct netaddr *a)
{
    if (addrtable_dom_has(d, a))
        return;
    if (d->nmx == RULES_MAX_MX)
        memmove(&d->mx[0], &d->mx[1], --d->nmx * sizeof(d->mx[0]));
    d->mx[d->nmx++] = *a;
}

void addrtable_addr_view(const struct addr_entry *e, struct rules_addr_view *v)
{
    v->addr = &e->addr;
    v->host = e->host ? e->host : "";
    v->breaker = &e->b;
    v->params = &e->params;
    v->touched_ms = e->touched_ms;
    v->dirty = e->dirty;
}

void addrtable_dom_view(const struct dom_entry *d, struct rules_domain_view *v)
{
    v->domain = d->name;
    v->detoured = d->detoured;
    v->since_ms = d->since_ms;
    v->touched_ms = d->touched_ms;
    v->nmx = d->nmx;
    v->mx = d->mx;
}

struct addr_entry *addrtable_addr_next(const struct addrtable *t, const struct addr_entry *prev)
{
    return ADDR_OF(table_next(&t->addrs, prev ? &prev->node : NULL));
}

struct dom_entry *addrtable_dom_next(const struct addrtable *t, const struct dom_entry *prev)
{
    return DOM_OF(table_next(&t->doms, prev ? &prev->node : NULL));
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * addrtable - the rules engine's two bounded tables: MX addresses, each with
 * its breaker, and recipient domains, each with its MX address list.
 * Internal to lib/rules/rules.c; nothing else should include it.
 *
 * Each table is an intrusive chained hash table with a fixed bucket count
 * (sized from its bound, so chains stay short without rehashing) keyed by a
 * seeded hash (MurmurHash64A), so chains are hard to flood with chosen keys
 * when the seed is secret.  Entries the caller marks evictable sit on an LRU
 * list, most recently touched first; adding to a full table forgets the
 * least recently touched evictable entry, and fails when there is none.
 * The rules mark DIRECT addresses and domains that are not detoured.
 *
 * A domain lists its MX addresses by value, so forgetting an address never
 * leaves a dangling pointer (an address without an entry is DIRECT).
 *
 * Ownership: the tables own their entries and host strings; an entry stays
 * valid until it is evicted (only by an *_add call) or the table is freed.
 * One thread.
 */
#ifndef MXD_ADDRTABLE_H
#define MXD_ADDRTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "netaddr.h"
#include "rules.h"                   /* RULES_MAX_MX, RULES_HOST_MAX */

/* The links every entry embeds. */
struct at_node {
    struct at_node *hnext;       /* hash chain */
    struct at_node *prev, *next; /* LRU list; NULL while not evictable */
    uint64_t hash;
};

struct at_table {
    struct at_node **buckets;
    size_t mask, count, max;
    struct at_node lru;          /* list head */
    uint64_t seed;
    uint64_t evicted;
};

struct addr_entry {
    struct at_node node;
    struct netaddr addr;         /* canonical: unused bytes are zero */
    char *host;                  /* the MX host name, or NULL */
    char *domain;                /* the domain it was last linked with, or NULL */
    struct breaker b;
    struct breaker_params params;
    uint64_t touched_ms;
    int dirty;                   /* changed since written back */
};

struct dom_entry {
    struct at_node node;
    struct netaddr mx[RULES_MAX_MX];
    unsigned nmx;
    int detoured;
    uint64_t since_ms, touched_ms;
    char name[];                 /* normalised */
};

struct addrtable {
    struct at_table addrs, doms;
};

/* 0, or -1 when memory is short (then addrtable_fini() is still safe). */
int addrtable_init(struct addrtable *t, size_t max_addrs, size_t max_domains, uint64_t seed);
void addrtable_fini(struct addrtable *t);

/* A copy of in with unused bytes zeroed; -1 when the family is not IP. */
int addrtable_canon(const struct netaddr *in, struct netaddr *out);

/* The entry of a (any form), or NULL. */
struct addr_entry *addrtable_addr(const struct addrtable *t, const struct netaddr *a);
/*
 * The entry of canonical address a, created when missing (DIRECT since now,
 * with params; *created set), and touched at now: most recently used, and
 * host kept when it looks like a host name (1..255 printable, no spaces).
 * NULL when the table is full of entries that may not go, or memory is short.
 */
struct addr_entry *addrtable_addr_add(struct addrtable *t, const struct netaddr *a,
                                      const char *host, const struct breaker_params *params,
                                      uint64_t now_ms, int *created);

/* Remembers the domain the address was last linked with. */
void addrtable_addr_domain(struct addr_entry *e, const char *domain);

/* name must be normalised.  _add finds or creates, and touches, like
 * addrtable_addr_add(). */
struct dom_entry *addrtable_dom(const struct addrtable *t, const char *name);
struct dom_entry *addrtable_dom_add(struct addrtable *t, const char *name, uint64_t now_ms);
/* Whether a is among n addresses; whether the domain lists a. */
int addrtable_listed(const struct netaddr *list, unsigned n, const struct netaddr *a);
int addrtable_dom_has(const struct dom_entry *d, const struct netaddr *a);
/* Appends a to the domain's list unless listed (the order stays DNS's);
 * a full list loses its first, longest known, address. */
void addrtable_dom_link(struct dom_entry *d, const struct netaddr *a);

/* Evictable (DIRECT, not detoured) or not from now on. */
void addrtable_evictable(struct at_table *tab, struct at_node *n, int yes);

/* The public views of an entry (rules.h). */
void addrtable_addr_view(const struct addr_entry *e, struct rules_addr_view *v);
void addrtable_dom_view(const struct dom_entry *d, struct rules_domain_view *v);

/* Walks a table: NULL starts and ends; the table must not change meanwhile. */
struct addr_entry *addrtable_addr_next(const struct addrtable *t, const struct addr_entry *prev);
struct dom_entry *addrtable_dom_next(const struct addrtable *t, const struct dom_entry *prev);
#define addrtable_each_addr(e, t) \
    for (struct addr_entry *e = addrtable_addr_next(t, NULL); e; e = addrtable_addr_next(t, e))
#define addrtable_each_dom(d, t) \
    for (struct dom_entry *d = addrtable_dom_next(t, NULL); d; d = addrtable_dom_next(t, d))

#endif

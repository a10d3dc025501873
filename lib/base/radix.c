/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * radix - see radix.h for the interface.
 *
 * Each family is one path-compressed binary trie.  A key is the address as
 * 32-bit words, most significant bit first (one word for IPv4, four for
 * IPv6).  Every node holds a prefix: its key with the bits past its length
 * cleared, and its length.  A node either carries a value (a prefix that was
 * inserted) or is a branch point made when two prefixes diverged; children
 * are chosen by the key bit right after the node's length.
 *
 * Invariants: a child's prefix extends its parent's and is longer; a branch
 * node without a value always has two children; no node has a length beyond
 * the family's width.  So a trie of N prefixes has at most 2N - 1 nodes.
 *
 * Lookup walks down while the node's prefix matches the address, remembering
 * the last node with a value: that is the longest match.  There is no
 * backtracking, because every node stores its whole prefix.
 *
 * Hosts (/32, /128) do not go into the trie: they are most of a registry
 * dump, and as trie leaves each would cost a leaf and a branch node.  They
 * live in a hash set per family (open addressing, linear probing, at most
 * 7/8 full): 8 bytes a host for IPv4 instead of 32, and one or two cache
 * lines a lookup instead of a walk of ~20 nodes.  A host is the longest
 * prefix there is, so a lookup asks the set first and the trie only when
 * the set has no such host.
 *
 * Storage: the nodes of a family are one array of uint32_t, `stride` words
 * a node: child[0], child[1], value << 8 | length, key words.  Index 0 is
 * never used, so 0 means "no child".  Arrays grow by doubling (glibc moves
 * large blocks with mremap, so growth does not copy or touch new pages) up
 * to the radix's byte bound; host sets double and rehash.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "radix.h"

enum { CHILD0 = 0, CHILD1 = 1, VLEN = 2, KEY = 3 };
#define NOVALUE 0xFFFFFFu
#define INITIAL_NODES 256u
#define MAX_NODES 0x7FFFFFFFu
#define EMPTY 0xFFFFFFFFu           /* value word of a free host slot */
#define INITIAL_SLOTS 64u

struct tree {
    uint32_t *w;            /* nodes, stride words each */
    uint32_t n, cap;        /* nodes in use (index 0 unused), capacity */
    uint32_t root;
    unsigned words, bits, stride;
    size_t count;           /* prefixes with a value */
};

struct hosts {
    uint32_t *w;            /* cap slots of words + 1: key words, value */
    size_t cap, n;          /* cap is 0 or a power of two */
    unsigned words;
};

struct radix {
    struct tree t4, t6;
    struct hosts h4, h6;
    size_t limit;           /* bytes the arrays may hold together */
};

static uint32_t *node(const struct tree *t, uint32_t i)
{
    return t->w + (size_t)i * t->stride;
}

static unsigned node_len(const uint32_t *n)
{
    return n[VLEN] & 0xFF;
}

static uint32_t node_value(const uint32_t *n)
{
    return n[VLEN] >> 8;
}

/* Bit i of key, counted from the most significant bit of word 0. */
static unsigned key_bit(const uint32_t *key, unsigned i)
{
    return (key[i >> 5] >> (31 - (i & 31))) & 1;
}

/* The first `len` bits of a word: len in 0..32. */
static uint32_t word_mask(unsigned len)
{
    return len >= 32 ? 0xFFFFFFFFu : len == 0 ? 0 : 0xFFFFFFFFu << (32 - len);
}

/* Whether a and b agree on their first len bits. */
static int key_match(const uint32_t *a, const uint32_t *b, unsigned len)
{
    for (unsigned w = 0; len > 0; w++) {
        unsigned l = len > 32 ? 32 : len;
        if ((a[w] ^ b[w]) & word_mask(l))
            return 0;
        len -= l;
    }
    return 1;
}

/* How many leading bits a and b share, at most max. */
static unsigned key_common(const uint32_t *a, const uint32_t *b, unsigned max, unsigned words)
{
    for (unsigned w = 0; w < words && w * 32 < max; w++) {
        uint32_t x = a[w] ^ b[w];
        if (x) {
            unsigned c = w * 32 + (unsigned)__builtin_clz(x);
            return c < max ? c : max;
        }
    }
    return max;
}

static void key_from_addr(const struct netaddr *a, uint32_t *key, unsigned words)
{
    for (unsigned w = 0; w < words; w++)
        key[w] = (uint32_t)a->bytes[4 * w] << 24 | (uint32_t)a->bytes[4 * w + 1] << 16
                 | (uint32_t)a->bytes[4 * w + 2] << 8 | a->bytes[4 * w + 3];
}

static void addr_from_key(const uint32_t *key, unsigned words, int family, struct netaddr *a)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    for (unsigned w = 0; w < words; w++) {
        a->bytes[4 * w] = (uint8_t)(key[w] >> 24);
        a->bytes[4 * w + 1] = (uint8_t)(key[w] >> 16);
        a->bytes[4 * w + 2] = (uint8_t)(key[w] >> 8);
        a->bytes[4 * w + 3] = (uint8_t)key[w];
    }
}

static size_t tree_bytes(const struct tree *t)
{
    return (size_t)t->cap * t->stride * sizeof(uint32_t);
}

static void tree_init(struct tree *t, unsigned words)
{
    memset(t, 0, sizeof(*t));
    t->words = words;
    t->bits = words * 32;
    t->stride = KEY + words;
    t->n = 1;                       /* index 0 means "none" */
}

/* Makes room for `need` more nodes within the radix's byte bound. */
static int tree_reserve(struct radix *r, struct tree *t, uint32_t need)
{
    if (t->n + (uint64_t)need <= t->cap)
        return 0;
    size_t others = radix_bytes(r) - tree_bytes(t);
    size_t node_bytes = t->stride * sizeof(uint32_t);
    size_t room = r->limit > others ? (r->limit - others) / node_bytes : 0;
    uint64_t want = t->cap ? (uint64_t)t->cap * 2 : INITIAL_NODES;
    if (want > room)
        want = room;
    if (want > MAX_NODES)
        want = MAX_NODES;
    if (want < t->n + (uint64_t)need)
        return -1;
    uint32_t *w = realloc(t->w, (size_t)want * node_bytes);
    if (w == NULL)
        return -1;
    t->w = w;
    t->cap = (uint32_t)want;
    return 0;
}

/* A new node for key/len: the caller has reserved room. */
static uint32_t tree_new_node(struct tree *t, const uint32_t *key, unsigned len, uint32_t value)
{
    uint32_t i = t->n++;
    uint32_t *n = node(t, i);
    unsigned left = len;

    n[CHILD0] = n[CHILD1] = 0;
    n[VLEN] = value << 8 | len;
    for (unsigned w = 0; w < t->words; w++) {
        unsigned l = left > 32 ? 32 : left;
        n[KEY + w] = key[w] & word_mask(l);
        left -= l;
    }
    return i;
}

static enum radix_status tree_insert(struct radix *r, struct tree *t, const uint32_t *key,
                                     unsigned len, uint32_t value, uint32_t *old)
{
    /* At most two new nodes; reserving first keeps `link` valid below. */
    if (tree_reserve(r, t, 2) < 0)
        return RADIX_ERROR;
    uint32_t *link = &t->root;
    while (*link) {
        uint32_t i = *link;
        uint32_t *n = node(t, i);
        unsigned nlen = node_len(n);
        unsigned common = key_common(n + KEY, key, nlen < len ? nlen : len, t->words);
        if (common < nlen) {
            /* The new prefix leaves n's path inside n's prefix: either it is
             * a prefix of n (it becomes n's parent), or the two diverge at
             * bit `common` (a branch node takes both). */
            uint32_t m = tree_new_node(t, key, len, value);
            if (common == len) {
                node(t, m)[key_bit(n + KEY, len)] = i;
            } else {
                uint32_t b = tree_new_node(t, key, common, NOVALUE);
                node(t, b)[key_bit(key, common)] = m;
                node(t, b)[key_bit(n + KEY, common)] = i;
                m = b;
            }
            *link = m;
            t->count++;
            return RADIX_ADDED;
        }
        if (nlen == len) {
            if (node_value(n) != NOVALUE) {
                if (old)
                    *old = node_value(n);
                return RADIX_EXISTS;
            }
            n[VLEN] = value << 8 | len;     /* a branch point becomes a prefix */
            t->count++;
            return RADIX_ADDED;
        }
        link = &n[key_bit(key, nlen)];
    }
    *link = tree_new_node(t, key, len, value);
    t->count++;
    return RADIX_ADDED;
}

static size_t hosts_bytes(const struct hosts *h)
{
    return h->cap * (h->words + 1) * sizeof(uint32_t);
}

/* MurmurHash3's finaliser over the key words. */
static size_t hosts_hash(const uint32_t *key, unsigned words)
{
    uint32_t x = 0x9747b28cu;
    for (unsigned w = 0; w < words; w++) {
        x ^= key[w];
        x ^= x >> 16;
        x *= 0x85ebca6bu;
        x ^= x >> 13;
        x *= 0xc2b2ae35u;
        x ^= x >> 16;
    }
    return x;
}

/* The slot holding key, or the free slot where it would go. */
static uint32_t *hosts_slot(const struct hosts *h, const uint32_t *key)
{
    size_t stride = h->words + 1, mask = h->cap - 1;
    for (size_t i = hosts_hash(key, h->words) & mask;; i = (i + 1) & mask) {
        uint32_t *s = h->w + i * stride;
        if (s[h->words] == EMPTY || memcmp(s, key, h->words * sizeof(uint32_t)) == 0)
            return s;
    }
}

static int hosts_resize(struct radix *r, struct hosts *h, size_t cap)
{
    size_t stride = h->words + 1;
    size_t others = radix_bytes(r) - hosts_bytes(h);

    /* the old table lives while the new one fills */
    if (others + hosts_bytes(h) + cap * stride * sizeof(uint32_t) > r->limit)
        return -1;
    struct hosts nh = {malloc(cap * stride * sizeof(uint32_t)), cap, h->n, h->words};
    if (nh.w == NULL)
        return -1;
    memset(nh.w, 0xFF, cap * stride * sizeof(uint32_t));
    for (size_t i = 0; i < h->cap; i++) {
        const uint32_t *s = h->w + i * stride;
        if (s[h->words] != EMPTY)
            memcpy(hosts_slot(&nh, s), s, stride * sizeof(uint32_t));
    }
    free(h->w);
    *h = nh;
    return 0;
}

static int hosts_grow(struct radix *r, struct hosts *h)
{
    return hosts_resize(r, h, h->cap ? h->cap * 2 : INITIAL_SLOTS);
}

static enum radix_status hosts_insert(struct radix *r, struct hosts *h, const uint32_t *key,
                                      uint32_t value, uint32_t *old)
{
    uint32_t *s = h->cap ? hosts_slot(h, key) : NULL;

    if (s && s[h->words] != EMPTY) {
        if (old)
            *old = s[h->words];
        return RADIX_EXISTS;
    }
    if ((h->n + 1) * 8 > h->cap * 7) {
        if (hosts_grow(r, h) < 0)
            return RADIX_ERROR;
        s = hosts_slot(h, key);
    }
    memcpy(s, key, h->words * sizeof(uint32_t));
    s[h->words] = value;
    h->n++;
    return RADIX_ADDED;
}

struct radix *radix_new(size_t max_bytes)
{
    struct radix *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    tree_init(&r->t4, 1);
    tree_init(&r->t6, 4);
    r->h4.words = 1;
    r->h6.words = 4;
    r->limit = max_bytes ? max_bytes : RADIX_DEFAULT_LIMIT;
    return r;
}

static struct tree *tree_of(struct radix *r, int family)
{
    return family == AF_INET ? &r->t4 : family == AF_INET6 ? &r->t6 : NULL;
}

static const struct tree *ctree_of(const struct radix *r, int family)
{
    return family == AF_INET ? &r->t4 : family == AF_INET6 ? &r->t6 : NULL;
}

static const struct hosts *hosts_of(const struct radix *r, int family)
{
    return family == AF_INET ? &r->h4 : &r->h6;
}

enum radix_status radix_insert(struct radix *r, const struct netaddr *prefix, unsigned len,
                               uint32_t value, uint32_t *old)
{
    struct tree *t = tree_of(r, prefix->family);
    uint32_t key[4];

    if (t == NULL || len > t->bits || value > RADIX_VALUE_MAX)
        return RADIX_ERROR;
    key_from_addr(prefix, key, t->words);
    if (len == t->bits)
        return hosts_insert(r, prefix->family == AF_INET ? &r->h4 : &r->h6, key, value, old);
    return tree_insert(r, t, key, len, value, old);
}

int radix_lookup(const struct radix *r, const struct netaddr *addr, struct radix_match *m)
{
    const struct tree *t = ctree_of(r, addr->family);
    uint32_t key[4], i, best = 0;

    if (t == NULL)
        return 0;
    key_from_addr(addr, key, t->words);
    const struct hosts *h = hosts_of(r, addr->family);
    if (h->n > 0) {
        const uint32_t *s = hosts_slot(h, key);
        if (s[h->words] != EMPTY) {
            if (m) {
                m->prefix = *addr;
                m->len = t->bits;
                m->value = s[h->words];
            }
            return 1;
        }
    }
    for (i = t->root; i != 0;) {
        const uint32_t *n = node(t, i);
        unsigned nlen = node_len(n);
        if (!key_match(n + KEY, key, nlen))
            break;
        if (node_value(n) != NOVALUE)
            best = i;
        if (nlen == t->bits)
            break;
        i = n[key_bit(key, nlen)];
    }
    if (best == 0)
        return 0;
    if (m) {
        const uint32_t *n = node(t, best);
        addr_from_key(n + KEY, t->words, addr->family, &m->prefix);
        m->len = node_len(n);
        m->value = node_value(n);
    }
    return 1;
}

size_t radix_count(const struct radix *r, int family)
{
    if (family == 0)
        return r->t4.count + r->t6.count + r->h4.n + r->h6.n;
    const struct tree *t = ctree_of(r, family);
    return t ? t->count + hosts_of(r, family)->n : 0;
}

size_t radix_hosts(const struct radix *r, int family)
{
    return family == AF_INET || family == AF_INET6 ? hosts_of(r, family)->n : 0;
}

int radix_reserve_hosts(struct radix *r, int family, size_t hosts)
{
    struct hosts *h = family == AF_INET ? &r->h4 : family == AF_INET6 ? &r->h6 : NULL;
    size_t cap = INITIAL_SLOTS;

    if (h == NULL)
        return -1;
    while ((h->n + hosts) * 8 > cap * 7)
        cap *= 2;
    return cap > h->cap ? hosts_resize(r, h, cap) : 0;
}

size_t radix_bytes(const struct radix *r)
{
    return sizeof(*r) + tree_bytes(&r->t4) + tree_bytes(&r->t6) + hosts_bytes(&r->h4)
           + hosts_bytes(&r->h6);
}

static void tree_compact(struct tree *t)
{
    if (t->w == NULL || t->n == t->cap)
        return;
    uint32_t *w = realloc(t->w, (size_t)t->n * t->stride * sizeof(uint32_t));
    if (w) {
        t->w = w;
        t->cap = t->n;
    }
}

void radix_compact(struct radix *r)
{
    tree_compact(&r->t4);
    tree_compact(&r->t6);
}

void radix_free(struct radix *r)
{
    if (r == NULL)
        return;
    free(r->t4.w);
    free(r->t6.w);
    free(r->h4.w);
    free(r->h6.w);
    free(r);
}

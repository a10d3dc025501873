/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * outage - the local-outage guard; what it decides is in outage.h, why its
 * defaults are what they are in docs/detection.md.
 *
 * Attempts live in a ring of fixed capacity.  An evaluation walks the ring
 * from the newest attempt back, keeps those within the window, and groups
 * them into destinations with a union-find over "nodes": a node is a network
 * (/24, /48) or a recipient domain, and each attempt joins its network to its
 * domain.  Each group's newest attempt says whether that destination is
 * failing.  Nodes are 64-bit keys: a network prefix is packed exactly into
 * one, a domain is a 56-bit hash of its name (a collision merely merges two
 * domains into one destination, which errs towards "no outage").
 *
 * Ownership: outage_new() allocates the ring and the evaluation scratch
 * once; nothing is allocated afterwards.  One thread.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "duration.h"
#include "outage.h"

#define KEY_V4 (1ULL << 56)
#define KEY_V6 (2ULL << 56)
#define KEY_DOMAIN (3ULL << 56)
#define KEY_LOW ((1ULL << 56) - 1)

enum outcome { ANSWERED, FAILED, LINK };

struct attempt {
    uint64_t time_ms;
    uint64_t net;                /* KEY_V4/KEY_V6 | prefix */
    uint64_t domain;             /* KEY_DOMAIN | hash, or 0 */
    enum outcome outcome;        /* LINK: no attempt, only net ~ domain */
};

#define LINK_DEDUP 16            /* recent entries searched for the same link */

struct outage {
    struct outage_params p;
    struct attempt *ring;
    unsigned head;               /* where the next attempt goes */
    unsigned count;

    /* Evaluation scratch, sized from capacity. */
    unsigned nslots;             /* power of two, >= 4 * capacity */
    uint64_t *slot_key;          /* 0: empty */
    unsigned *slot_node;
    unsigned *parent;            /* union-find over 2 * capacity nodes */
    unsigned char *decided;
    unsigned *win_node;          /* attempts in the window, newest first */
    unsigned char *win_failed;

    int active;
    uint64_t since_ms;
    unsigned failing, attempted;
    char reason[OUTAGE_REASON_MAX];
};

void outage_params_default(struct outage_params *p)
{
    p->min_destinations = 5;
    p->window_ms = 5 * 60000;
    p->share = 0.5;
    p->capacity = 1024;
}

int outage_params_check(const struct outage_params *p, const char **why)
{
    const char *err = NULL;

    if (p->min_destinations < 1)
        err = "min_destinations must be at least 1";
    else if (p->window_ms == 0)
        err = "window must be longer than 0";
    else if (!(p->share >= 0.0 && p->share <= 1.0))
        err = "share must be between 0 and 1";
    else if (p->capacity < 16 || p->capacity > OUTAGE_MAX_CAPACITY)
        err = "capacity must be 16..65536";
    if (err && why)
        *why = err;
    return err ? -1 : 0;
}

struct outage *outage_new(const struct outage_params *p)
{
    struct outage *o;
    unsigned cap;

    if (outage_params_check(p, NULL) < 0 || (o = calloc(1, sizeof(*o))) == NULL)
        return NULL;
    o->p = *p;
    cap = p->capacity;
    for (o->nslots = 64; o->nslots < 4 * cap; o->nslots *= 2)
        ;
    o->ring = calloc(cap, sizeof(*o->ring));
    o->slot_key = calloc(o->nslots, sizeof(*o->slot_key));
    o->slot_node = calloc(o->nslots, sizeof(*o->slot_node));
    o->parent = calloc(2 * (size_t)cap, sizeof(*o->parent));
    o->decided = calloc(2 * (size_t)cap, 1);
    o->win_node = calloc(cap, sizeof(*o->win_node));
    o->win_failed = calloc(cap, 1);
    if (!o->ring || !o->slot_key || !o->slot_node || !o->parent || !o->decided
        || !o->win_node || !o->win_failed) {
        outage_free(o);
        return NULL;
    }
    return o;
}

void outage_free(struct outage *o)
{
    if (o == NULL)
        return;
    free(o->ring);
    free(o->slot_key);
    free(o->slot_node);
    free(o->parent);
    free(o->decided);
    free(o->win_node);
    free(o->win_failed);
    free(o);
}

static uint64_t net_key(const struct netaddr *a)
{
    const uint8_t *b = a->bytes;

    if (a->family == AF_INET)
        return KEY_V4 | (uint64_t)b[0] << 16 | (uint64_t)b[1] << 8 | b[2];
    if (a->family == AF_INET6)
        return KEY_V6 | (uint64_t)b[0] << 40 | (uint64_t)b[1] << 32 | (uint64_t)b[2] << 24
               | (uint64_t)b[3] << 16 | (uint64_t)b[4] << 8 | b[5];
    return 0;
}

/* FNV-1a over the lower-cased name. */
static uint64_t domain_key(const char *domain)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    if (domain == NULL || *domain == 0)
        return 0;
    for (const unsigned char *s = (const unsigned char *)domain; *s; s++) {
        h ^= (uint64_t)tolower(*s);
        h *= 0x100000001b3ULL;
    }
    return KEY_DOMAIN | (h & KEY_LOW);
}

/* The i-th most recent entry (0: the newest); i < count. */
static struct attempt *recent(struct outage *o, unsigned i)
{
    return &o->ring[(o->head + o->p.capacity - 1 - i) % o->p.capacity];
}

static void add(struct outage *o, uint64_t net, uint64_t domain, enum outcome outcome,
                uint64_t now)
{
    struct attempt *a = &o->ring[o->head];

    a->time_ms = now;
    a->net = net;
    a->domain = domain;
    a->outcome = outcome;
    o->head = (o->head + 1) % o->p.capacity;
    if (o->count < o->p.capacity)
        o->count++;
}

void outage_record(struct outage *o, const struct netaddr *addr, const char *domain,
                   int failed, uint64_t now_ms)
{
    uint64_t net = net_key(addr);

    if (net != 0)
        add(o, net, domain_key(domain), failed ? FAILED : ANSWERED, now_ms);
}

void outage_link(struct outage *o, const struct netaddr *addr, const char *domain,
                 uint64_t now_ms)
{
    uint64_t net = net_key(addr), dom = domain_key(domain);

    if (net == 0 || dom == 0)
        return;
    /* A recent entry joining the same two covers this one: a burst of
     * recipients of one domain costs one slot. */
    for (unsigned i = 0; i < o->count && i < LINK_DEDUP; i++) {
        const struct attempt *a = recent(o, i);
        if (a->net == net && a->domain == dom && a->time_ms + o->p.window_ms / 8 >= now_ms)
            return;
    }
    add(o, net, dom, LINK, now_ms);
}

/* The node of key, added when new; *n counts the nodes. */
static unsigned node_of(struct outage *o, uint64_t key, unsigned *n)
{
    unsigned mask = o->nslots - 1;
    unsigned i = (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;

    while (o->slot_key[i] != 0 && o->slot_key[i] != key)
        i = (i + 1) & mask;
    if (o->slot_key[i] == 0) {
        o->slot_key[i] = key;
        o->slot_node[i] = *n;
        o->parent[*n] = *n;
        (*n)++;
    }
    return o->slot_node[i];
}

static unsigned find(unsigned *parent, unsigned x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Counts failing and tried destinations among the attempts in the window. */
static void count_destinations(struct outage *o, uint64_t now)
{
    unsigned nodes = 0, m = 0;

    memset(o->slot_key, 0, o->nslots * sizeof(*o->slot_key));
    for (unsigned i = 0; i < o->count; i++) {
        const struct attempt *a = recent(o, i);
        if (now > a->time_ms && now - a->time_ms >= o->p.window_ms)
            continue;
        unsigned net = node_of(o, a->net, &nodes);
        if (a->domain) {
            unsigned x = find(o->parent, net), y = find(o->parent, node_of(o, a->domain, &nodes));
            o->parent[x] = y;
        }
        if (a->outcome != LINK) {
            o->win_node[m] = net;
            o->win_failed[m++] = a->outcome == FAILED;
        }
    }
    memset(o->decided, 0, nodes);
    o->failing = o->attempted = 0;
    for (unsigned j = 0; j < m; j++) {
        unsigned r = find(o->parent, o->win_node[j]);
        if (o->decided[r])
            continue;           /* an older attempt of a destination already seen */
        o->decided[r] = 1;
        o->attempted++;
        o->failing += o->win_failed[j];
    }
}

enum outage_change outage_update(struct outage *o, uint64_t now_ms)
{
    char d[32];
    int share_met;

    count_destinations(o, now_ms);
    share_met = o->attempted > 0 && (double)o->failing >= o->p.share * (double)o->attempted;
    duration_format(o->p.window_ms, d, sizeof(d));
    if (!o->active && o->failing >= o->p.min_destinations && share_met) {
        o->active = 1;
        o->since_ms = now_ms;
        snprintf(o->reason, sizeof(o->reason),
                 "%u of %u unrelated destinations failing within %s", o->failing, o->attempted, d);
        return OUTAGE_BEGAN;
    }
    if (o->active && (o->failing < (o->p.min_destinations + 1) / 2 || !share_met)) {
        o->active = 0;
        o->since_ms = now_ms;
        if (o->failing == 0)
            snprintf(o->reason, sizeof(o->reason), "no destination failing within %s", d);
        else
            snprintf(o->reason, sizeof(o->reason), "only %u of %u destinations failing within %s",
                     o->failing, o->attempted, d);
        return OUTAGE_ENDED;
    }
    return OUTAGE_SAME;
}

int outage_active(const struct outage *o)
{
    return o->active;
}

void outage_status(const struct outage *o, struct outage_status *st)
{
    st->active = o->active;
    st->since_ms = o->since_ms;
    st->failing = o->failing;
    st->attempted = o->attempted;
    st->reason = o->reason;
}

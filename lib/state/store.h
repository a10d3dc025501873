/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store - mxdetour's shared state in Redis (blocking client).
 *
 * Used by mxdetourctl, which must work while mxdetourd is down, by tests,
 * and by the daemon's own start-up.  The daemon's event loop talks to Redis
 * through the asynchronous twin in relay/ with the same keys and scripts
 * (store_keys.h); nothing here may be called from an event callback.
 *
 * Keys (P = "<redis.prefix>:<site>"; docs/state.md has the full layout):
 *   P:addr:<address>    hash  b=breaker text, v=version, host, updated
 *   P:addrs             zset  address -> last update (ms); the listing index
 *   P:dom:<domain>      hash  mx, state, via, reason, since, updated
 *   P:doms              zset  domain -> last update
 *   P:manual:<key>      hash  action, via, reason, by, created, expires; PEXPIRE
 *   P:manuals           zset  key -> expiry (ms)
 *   P:lock:probe:<addr> string, SET NX PX: one prober per address per site
 *   P:changes           pub/sub channel: "addr <address> <version>",
 *                       "dom <domain>", "manual <key>"
 *
 * Concurrency: per-address state changes are compare-and-set on the version
 * (a Lua script run by EVALSHA, loaded on connect and again after NOSCRIPT),
 * so when several MTAs record evidence at once each update is applied to the
 * latest state and every transition happens once.
 *
 * Errors: functions return -1 and leave the reason in store_error().
 */
#ifndef MXD_STORE_H
#define MXD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "cfg.h"
#include "netaddr.h"

#define STORE_KEY_TTL_MS (30ULL * 86400 * 1000)  /* idle addr/dom records expire */
#define STORE_TEXT_MAX 256

struct store;

struct store_addr {
    char addr[NETADDR_STRLEN];
    char host[DOMAIN_MAXLEN + 1];   /* the MX host name last seen with it */
    long long version;              /* 0: no record yet */
    uint64_t updated_ms;
    struct breaker b;
};

enum manual_action { MANUAL_BLOCK, MANUAL_UNBLOCK };

struct store_manual {
    char key[DOMAIN_MAXLEN + 1];    /* a domain or a canonical address */
    enum manual_action action;
    char via[65];                   /* relay name, or "" for the configured ones */
    char reason[STORE_TEXT_MAX];
    char by[65];                    /* who: user@host of mxdetourctl */
    uint64_t created_ms;
    uint64_t expires_ms;            /* 0: no expiry */
};

struct store_domain {
    char domain[DOMAIN_MAXLEN + 1];
    char mx[STORE_TEXT_MAX * 2];    /* "host[addr] host[addr] ..." */
    char state[16];                 /* direct, detoured, held, ... */
    char via[65];
    char reason[STORE_TEXT_MAX];
    uint64_t since_ms;
    uint64_t updated_ms;
};

/* Connects, authenticates, selects the database and loads the scripts.
 * Returns NULL and writes the reason into err on failure. */
struct store *store_open(const struct cfg_redis *rc, const char *site, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_error(const struct store *st);

/* 1 found, 0 no record (a fresh DIRECT breaker is returned), -1 error. */
int store_addr_get(struct store *st, const char *addr, struct store_addr *out);

/* Writes b if the stored version is still expected (0: no record).
 * 1 written (out->version is the new one), 0 conflict (out holds the
 * current record), -1 error.  publish: announce on the change channel. */
int store_addr_cas(struct store *st, const char *addr, const char *host, long long expected,
                   const struct breaker *b, int publish, struct store_addr *out);

/* Read-modify-write with retries: fn changes the breaker and returns what
 * changed; the change is published when it is not BREAKER_SAME.  Returns the
 * change of the attempt that won, or -1 on error or after too many races. */
typedef enum breaker_change (*store_update_fn)(struct breaker *b, void *arg);
int store_addr_update(struct store *st, const char *addr, const char *host,
                      store_update_fn fn, void *arg, struct store_addr *out);

/* Calls fn for every address record, newest first; returns records seen or -1. */
typedef void (*store_addr_cb)(const struct store_addr *a, void *arg);
int store_addr_list(struct store *st, store_addr_cb fn, void *arg);

int store_manual_set(struct store *st, const struct store_manual *m);
int store_manual_get(struct store *st, const char *key, struct store_manual *out);
int store_manual_del(struct store *st, const char *key);
typedef void (*store_manual_cb)(const struct store_manual *m, void *arg);
int store_manual_list(struct store *st, store_manual_cb fn, void *arg);

int store_domain_put(struct store *st, const struct store_domain *d);
int store_domain_get(struct store *st, const char *domain, struct store_domain *out);
/* One "host[addr]" of a destination record's mx text, from p: the address
 * into *addr and the host, normalised, into host (size DOMAIN_MAXLEN + 1;
 * "" when it is not a host name).  Returns the text after it, or NULL at
 * the end or at text that is not "host[addr]". */
const char *store_domain_mx_next(const char *p, char *host, size_t hostsize, struct netaddr *addr);
typedef void (*store_domain_cb)(const struct store_domain *d, void *arg);
int store_domain_list(struct store *st, store_domain_cb fn, void *arg);

/* The probe lock: 1 taken, 0 held by another, -1 error. */
int store_lock_probe(struct store *st, const char *addr, const char *owner, uint64_t ttl_ms);
int store_unlock_probe(struct store *st, const char *addr, const char *owner);

/* A feed's listing of an address, written by the daemon that met the
 * address (docs/feeds.md); key "feed:<addr>", expires STORE_FEED_TTL_MS
 * after its last write. */
#define STORE_FEED_TTL_MS (7ULL * 86400 * 1000)
struct store_feed {
    char addr[NETADDR_STRLEN];
    char feed[65];                  /* the feed's name */
    char trust[16];                 /* probe, detour, allow */
    unsigned long line;             /* line of the feed file */
    char entry[NETADDR_STRLEN + 5]; /* the prefix that matched, "192.0.2.0/24" */
    char org[160], decision[160], date[32];    /* registry format; "" otherwise */
    char action[STORE_TEXT_MAX];    /* what mxdetour did: probed and what it saw, detoured, ... */
    uint64_t updated_ms;
};
int store_feed_get(struct store *st, const char *addr, struct store_feed *out);

/* The key prefix "<prefix>:<site>" (for tests and diagnostics). */
const char *store_prefix(const struct store *st);

#endif

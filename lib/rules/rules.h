/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules - the in-memory rules engine: evidence in, detour decisions out.
 * Used by mxdetourd (live) and by "mxdetourctl replay" (over a log's own
 * timestamps); no I/O and no clock of its own: every call takes now_ms.
 *
 * What it keeps:
 *   - one breaker per MX address (breaker.h), with the address's MX host
 *     name and its breaker_params; a bounded table (max_addrs);
 *   - per recipient domain, the MX addresses Postfix would try: set from DNS
 *     (rules_domain_set_mx, replaces) or learned from the log (every
 *     address given with a domain to rules_failure/rules_success or
 *     rules_domain_add_mx joins that domain's list); a bounded table
 *     (max_domains); at most RULES_MAX_MX addresses per domain;
 *   - the local-outage guard (outage.h).
 *
 * What it decides:
 *   - an address is detoured when its breaker says so;
 *   - a domain is detoured when it has MX addresses and EVERY one of them is
 *     detoured, so a domain first seen on addresses that are already blocked
 *     is detoured at once, with no failure of its own;
 *   - during a local outage no breaker trips: failures are kept in the
 *     breakers' kind_counts as evidence but counted towards no threshold,
 *     and the counted failures of the outage window are forgotten when it
 *     begins;
 *   - when a detoured domain's MX set (DNS) gains an address never seen
 *     answering, that address starts HALF_OPEN: it is probed before mail
 *     for the domain goes direct again (providers move their MX addresses).
 *
 * Evidence contract (the caller's side):
 *   - Every rules_failure() call counts.  A delivery attempt must report each
 *     failed address once: the log parser attaches a process's connect
 *     failures to the FIRST status line after them only, so the further
 *     recipient lines of the same attempt add nothing.
 *   - Only direct-path evidence: a delivery through a relay or tunnel, and
 *     Postfix's "delivery temporarily suspended" repeats, are not evidence.
 *   - Probe failures count like log failures but only log attempts feed the
 *     outage guard (probes go to suspected addresses); any success does.
 *     Every domain link (a domain given with evidence, rules_domain_add_mx,
 *     rules_domain_set_mx) also tells the guard that the address and the
 *     domain are one destination: connect failures reported before their
 *     status line (domain NULL) count with the domain the address was last
 *     seen serving, and are regrouped when the status line names another.
 *
 * Events: every state change is reported through on_change, synchronously,
 * after the rules are consistent: an address changed state (with the
 * breaker, to write back to the store), a domain became detoured or direct,
 * a local outage began or ended.  Each carries one explanation sentence:
 *   detour: protonmail.com (mail.protonmail.ch[185.70.40.101],
 *   mailsec.protonmail.ch[185.70.40.102]) blocked after 3 connect timeouts in 10m
 * The callback may read the rules (rules_*_get, rules_domain_detoured, ...)
 * but not change them: a changing call from inside it returns RULES_EBUSY.
 *
 * Bounds and eviction: when the address table is full, the least recently
 * touched DIRECT address is forgotten (touched: any evidence, put, force or
 * MX listing); addresses in another state are never evicted, and when all
 * are, new evidence is refused with RULES_EFULL.  Likewise the least recently
 * touched domain that is not detoured makes room for a new domain.
 *
 * Store: the breaker is the unit of shared state.  rules_addr_put() replaces
 * an address's breaker with the store's copy; each address has a dirty flag
 * set by every change and cleared by put and rules_addr_clean(), for
 * write-back.  A DIRECT breaker with no failures and no trips holds nothing
 * worth sharing.
 *
 * Ownership: rules_new() copies the configuration; the views and events
 * point into the rules and are valid until the next changing call.  One
 * thread (mxdetourd: its event loop).
 */
#ifndef MXD_RULES_H
#define MXD_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "evidence.h"
#include "netaddr.h"
#include "outage.h"

#define RULES_MAX_MX 16              /* addresses kept per domain */
#define RULES_HOST_MAX 255           /* longer host names are not kept */
#define RULES_EXPLAIN_MAX 1024       /* explanations are cut to fit */
#define RULES_DEFAULT_MAX_ADDRS 16384
#define RULES_DEFAULT_MAX_DOMAINS 16384

/* Errors; the changing calls return these (< 0) or a count or change (>= 0). */
#define RULES_EINVAL (-1)            /* malformed address, domain or argument */
#define RULES_EFULL (-2)             /* table full of entries that may not go */
#define RULES_EBUSY (-3)             /* called from inside on_change */
#define RULES_ENOENT (-4)            /* no such address or domain */

enum rules_change_kind { RULES_CHANGE_ADDR, RULES_CHANGE_DOMAIN, RULES_CHANGE_OUTAGE };

struct rules_change {
    enum rules_change_kind kind;
    const struct netaddr *addr;      /* ADDR */
    const char *host;                /* ADDR: its MX host name, or NULL */
    const char *domain;              /* DOMAIN */
    enum breaker_state old_state;    /* ADDR: breaker states; DOMAIN: DIRECT */
    enum breaker_state new_state;    /*   or DETOURED; OUTAGE: unused */
    enum breaker_change change;      /* ADDR: what the breaker reported */
    const struct breaker *breaker;   /* ADDR: the new breaker, to write back */
    int outage;                      /* OUTAGE: 1 began, 0 ended; ADDR: 1 when a
                                        trip is undone because an outage began */
    enum evidence_source source;     /* ADDR, DOMAIN: what moved the deciding breaker */
    const char *reason;              /* the deciding breaker's or the outage's reason */
    const char *explain;             /* one sentence, for the log and mxdetourctl */
    uint64_t since_ms;
};

typedef void (*rules_change_fn)(const struct rules_change *c, void *arg);

/* Fills *out with the parameters of the destination pattern that matches
 * (domain may be NULL) and returns 0, or returns -1 for the defaults. */
typedef int (*rules_params_fn)(const struct netaddr *addr, const char *host,
                               const char *domain, struct breaker_params *out, void *arg);

struct rules_config {
    size_t max_addrs;                /* RULES_DEFAULT_MAX_ADDRS */
    size_t max_domains;              /* RULES_DEFAULT_MAX_DOMAINS */
    uint64_t hash_seed;              /* random in mxdetourd; 0 is fine in tests */
    struct breaker_params defaults;  /* breaker_params_default() */
    struct outage_params outage;     /* outage_params_default() */
    rules_params_fn params;          /* NULL: the defaults everywhere */
    void *params_arg;
    rules_change_fn on_change;       /* NULL: no events */
    void *change_arg;
};

/* An MX host and one of its addresses (host may be NULL). */
struct rules_mx {
    const char *host;
    struct netaddr addr;
};

struct rules_addr_view {
    const struct netaddr *addr;
    const char *host;                /* "" when unknown */
    const struct breaker *breaker;
    const struct breaker_params *params;
    uint64_t touched_ms;
    int dirty;                       /* changed since put or rules_addr_clean */
};

struct rules_domain_view {
    const char *domain;
    int detoured;
    uint64_t since_ms;               /* when detoured last changed (0: never) */
    uint64_t touched_ms;
    size_t nmx;
    const struct netaddr *mx;        /* nmx addresses */
};

struct rules_stats {
    size_t addrs, domains;
    size_t detoured_addrs, detoured_domains;
    uint64_t evicted_addrs, evicted_domains;
    uint64_t refused;                /* evidence refused with RULES_EFULL */
};

struct rules;

void rules_config_default(struct rules_config *c);
/* NULL when the configuration is invalid or memory is short. */
struct rules *rules_new(const struct rules_config *c);
void rules_free(struct rules *r);

/*
 * Evidence about one address.  host: the MX host name as logged, or NULL;
 * domain: the recipient domain the attempt was for, or NULL (it also links
 * addr into that domain's MX list).  Returns the breaker's change (>= 0) or
 * an RULES_E* error.
 */
int rules_failure(struct rules *r, const struct netaddr *addr, const char *host,
                  const char *domain, enum fail_kind kind, enum evidence_source src,
                  uint64_t now_ms);
int rules_success(struct rules *r, const struct netaddr *addr, const char *host,
                  const char *domain, enum evidence_source src, uint64_t now_ms);

/* breaker_force() on one address (a feed, or a manual action replayed). */
int rules_force(struct rules *r, const struct netaddr *addr, enum breaker_state state,
                enum evidence_source src, const char *reason, uint64_t until_ms,
                uint64_t now_ms);

/* breaker_verdict() on one address: a race's conclusion (docs/detection.md).
 * domain, when known, picks the destination's parameters (down_everywhere
 * policy).  Returns the breaker's change (>= 0) or an RULES_E* error. */
int rules_verdict(struct rules *r, const struct netaddr *addr, const char *host, const char *domain,
                  enum verdict v, const char *reason, uint64_t now_ms);

/* No local outage begins before until_ms: races of direct against control
 * probes are under way and tell a range block (the control path reaches
 * the hosts) from a dead uplink first.  An outage in force is unaffected. */
void rules_outage_hold(struct rules *r, uint64_t until_ms);

/* Time passes: cool-downs end, failures expire, trips decay, the outage
 * guard re-evaluates.  Call it on a timer (about every second).  Returns the
 * number of events reported, or RULES_EBUSY. */
int rules_tick(struct rules *r, uint64_t now_ms);

/* The domain's MX addresses from DNS, replacing what was known (n may be 0:
 * no MX).  Returns 1 when the domain is now detoured, 0 when not, or < 0. */
int rules_domain_set_mx(struct rules *r, const char *domain, const struct rules_mx *mx,
                        size_t n, uint64_t now_ms);
/* One address tried for the domain (from the log) joins its list unless
 * listed; a full list loses the address known longest.  Returns like set_mx. */
int rules_domain_add_mx(struct rules *r, const char *domain, const char *host,
                        const struct netaddr *addr, uint64_t now_ms);
/* 1 when every known MX address of the domain is detoured; 0 otherwise,
 * also for an unknown domain. */
int rules_domain_detoured(const struct rules *r, const char *domain);

/* Replaces (or creates) the address's breaker with one from the store (it
 * must come from breaker_decode() or the breaker functions) and clears its
 * dirty flag; reports a state change like any other.  Returns >= 0 or < 0. */
int rules_addr_put(struct rules *r, const struct netaddr *addr, const char *host,
                   const struct breaker *b, uint64_t now_ms);
/* 0 and the view, or RULES_ENOENT. */
int rules_addr_get(const struct rules *r, const struct netaddr *addr, struct rules_addr_view *v);
/* The address was written back: clears its dirty flag. */
void rules_addr_clean(struct rules *r, const struct netaddr *addr);
int rules_domain_get(const struct rules *r, const char *domain, struct rules_domain_view *v);

/* Walks all addresses / domains in no order until fn returns nonzero (that
 * value is returned; 0 after a full walk).  fn must not change the rules. */
typedef int (*rules_addr_fn)(const struct rules_addr_view *v, void *arg);
typedef int (*rules_domain_fn)(const struct rules_domain_view *v, void *arg);
int rules_addr_foreach(const struct rules *r, rules_addr_fn fn, void *arg);
int rules_domain_foreach(const struct rules *r, rules_domain_fn fn, void *arg);

/* The sentence an event would carry for the current state, e.g. "detour:
 * protonmail.com (...) blocked after ..."; 0, or RULES_ENOENT. */
int rules_addr_explain(const struct rules *r, const struct netaddr *addr, char *buf, size_t size);
int rules_domain_explain(const struct rules *r, const char *domain, char *buf, size_t size);

const struct outage *rules_outage(const struct rules *r);
void rules_stats(const struct rules *r, struct rules_stats *st);

#endif

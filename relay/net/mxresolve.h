/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mxresolve - asynchronous MX resolution: a domain's MX hosts and their
 * addresses, the way Postfix's smtp client would try them.
 *
 * mxresolve_domain() looks up the MX records of a domain, then the A and
 * AAAA records of every MX host, and reports the hosts sorted by preference
 * (at most MX_MAX_HOSTS hosts, MX_MAX_ADDRS addresses each; within a host,
 * each family keeps at least half of the addresses when it has them).
 *
 *   MX_OK        hosts with addresses.  partial is set when some host's
 *                addresses could not be looked up (temporary failure).
 *                implicit is set when the domain has no MX records and its
 *                own A/AAAA records stand in (RFC 5321, 5.1).
 *   MX_NXDOMAIN  the domain does not exist.
 *   MX_NOADDR    the domain exists, but neither its MX hosts nor (without
 *                MX records) the domain itself have an address.
 *   MX_NULLMX    "MX 0 ." (RFC 7505): the domain accepts no mail.
 *   MX_TEMPFAIL  SERVFAIL, timeouts, no answer: try again later.  Never a
 *                sign of a block.
 *   MX_INVALID   the name is not a plausible mail domain (not looked up).
 *
 * Cache.  Results are kept for the smallest TTL of the records they were
 * built from, clamped to [MXRESOLVE_MIN_TTL, MXRESOLVE_MAX_TTL] seconds;
 * NXDOMAIN, NOADDR, TEMPFAIL and partial results for MXRESOLVE_NEG_TTL
 * seconds.  At most cache_max domains are kept; the oldest entry goes
 * first.  Expiry follows clock_mono_ms(), so tests can move time on with
 * clock_fake()/clock_advance().  Requests for a domain whose lookup is under
 * way join it: one set of DNS queries for any number of callers.  At most
 * MXRESOLVE_MAX_INFLIGHT domains are looked up at once; beyond that a
 * request gets MX_TEMPFAIL.
 *
 * DNS: c-ares on the caller's event_base (one channel per resolver); the
 * servers come from /etc/resolv.conf unless opts->servers names them
 * ("127.0.0.1:5353,[::1]:53").  Every name from the wire is checked with
 * domain_normalize() before use.
 *
 * Ownership and loop.  Runs on the caller's event_base, in the caller's
 * thread, and never blocks it.  Callbacks are always called from the loop,
 * never from inside mxresolve_domain(), even on a cache hit; the result is
 * valid during the call only.  A callback may start new lookups, but must
 * not free the resolver.  mxresolve_free() drops every lookup without
 * calling its callbacks.
 *
 * Diagnostics: msg_warn("mxresolve") for a resolver that cannot start and for
 * malformed answers, msg_debug for each lookup.
 */
#ifndef MXD_MXRESOLVE_H
#define MXD_MXRESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

struct event_base;
struct mxresolve;

#define MX_MAX_HOSTS 10
#define MX_MAX_ADDRS 8
#define MXRESOLVE_MIN_TTL 60
#define MXRESOLVE_MAX_TTL 86400
#define MXRESOLVE_NEG_TTL 60
#define MXRESOLVE_CACHE_MAX 10000
#define MXRESOLVE_MAX_INFLIGHT 1024

enum mx_status { MX_OK = 0, MX_NXDOMAIN, MX_NOADDR, MX_NULLMX, MX_TEMPFAIL, MX_INVALID };

struct mx_host {
    char *name;                     /* normalised host name */
    unsigned preference;
    enum mx_status status;          /* MX_OK, MX_NXDOMAIN, MX_NOADDR, MX_TEMPFAIL */
    size_t naddrs;
    struct netaddr addrs[MX_MAX_ADDRS];   /* IPv4 first, then IPv6 */
};

struct mx_result {
    const char *domain;             /* normalised; the name asked for if MX_INVALID */
    enum mx_status status;
    int implicit;                   /* no MX records: the domain is its own MX */
    int partial;                    /* some host's addresses are missing */
    int cached;                     /* answered from the cache */
    uint32_t ttl;                   /* seconds the result is kept */
    size_t nhosts;
    const struct mx_host *hosts;    /* by preference, then by name */
};

typedef void (*mx_fn)(const struct mx_result *result, void *arg);

struct mxresolve_opts {
    const char *servers;            /* "addr[:port],...", or NULL: resolv.conf */
    unsigned timeout_ms;            /* per try; 0: 2000 */
    unsigned tries;                 /* 0: 2 */
    size_t cache_max;               /* 0: MXRESOLVE_CACHE_MAX */
};

struct mxresolve_stats {
    unsigned long requests;
    unsigned long cache_hits;
    unsigned long joined;           /* requests that joined a lookup under way */
    unsigned long lookups;          /* domains looked up */
    unsigned long queries;          /* DNS queries sent */
    unsigned long tempfail;
    unsigned long evicted;
    unsigned long cached;           /* now: domains in the cache */
    unsigned long inflight;         /* now: domains being looked up */
};

/* NULL (after msg_warn) when c-ares cannot start or the servers are bad. */
struct mxresolve *mxresolve_new(struct event_base *base);
struct mxresolve *mxresolve_new2(struct event_base *base, const char *servers_csv);
struct mxresolve *mxresolve_new_opts(struct event_base *base, const struct mxresolve_opts *o);
void mxresolve_free(struct mxresolve *r);

/* Looks domain up (cache first); fn(result, arg) is called exactly once,
 * from the loop.  Returns 0, or -1 when out of memory (fn is not called). */
int mxresolve_domain(struct mxresolve *r, const char *domain, mx_fn fn, void *arg);

/* Drops every pending callback registered with fn and arg; returns how many. */
unsigned mxresolve_cancel(struct mxresolve *r, mx_fn fn, void *arg);
/* Forgets every cached result. */
void mxresolve_flush(struct mxresolve *r);
void mxresolve_get_stats(const struct mxresolve *r, struct mxresolve_stats *s);

/* "ok", "nxdomain", "noaddr", "nullmx", "tempfail", "invalid". */
const char *mx_status_name(enum mx_status status);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async - mxdetourd's non-blocking link to the shared state in Redis.
 *
 * The same keys and scripts as the blocking store (lib/state/store.h), on the
 * daemon's event loop through hiredis's libevent adapter.  Nothing here ever
 * blocks: connecting, commands and the change-channel subscription are all
 * callbacks, and a watchdog drops a connection whose commands take longer than
 * redis.command_timeout.
 *
 * Evidence.  store_async_record() queues one piece of evidence for an address and
 * returns at once.  The queue is written with the compare-and-set script: the
 * evidence is applied, with the breaker functions, to the latest record Redis
 * holds, so what several MTAs learn at once adds up.  While Redis is down the
 * evidence stays queued (at most ASTORE_MAX_OPS per address and
 * ASTORE_MAX_ADDRS addresses; the oldest is dropped first and counted) and is
 * written once Redis answers again.  The caller keeps its own view in force
 * meanwhile (the rules engine applies the same evidence locally).
 *
 * News.  Whenever the record of an address changes in Redis, by this daemon
 * or another MTA of the site, on_addr() is called with the new record; on
 * every (re)connection all records are read again, so nothing missed during
 * an outage stays missed.  on_manual() reports manual overrides the same way
 * (m is NULL when one was removed).
 *
 * Reconnects: exponential backoff from 250 ms to 30 s, with jitter; Lua
 * scripts are loaded on each connection and re-sent as EVAL after NOSCRIPT.
 * After each (re)connection the records this daemon knows are read first:
 * one Redis lacks (a new master that missed our last writes, or a Redis
 * restarted empty) is written back from our copy, with the queued evidence.
 *
 * Sentinel (redis.sentinels; store_async_ha.c): each connection goes to the
 * master the sentinels name, confirmed with ROLE; a +switch-master
 * announcement moves both connections to the new master at once, and a
 * lost connection asks the sentinels again (same backoff).  Nothing of
 * this blocks the loop.
 *
 * One instance per process (file-static state, like Postfix's modules); runs
 * on the event_base given to store_async_start(), in the main thread only.
 */
#ifndef MXD_STORE_ASYNC_H
#define MXD_STORE_ASYNC_H

#include <stdint.h>

#include "breaker.h"
#include "cfg.h"
#include "store.h"

struct event_base;

#define ASTORE_MAX_OPS 32
#define ASTORE_MAX_ADDRS 16384

struct store_async_callbacks {
    void (*on_addr)(const struct store_addr *a, void *arg);
    void (*on_manual)(const char *name, const struct store_manual *m, void *arg);
    /* a destination record another MTA (or this one) wrote: its MX hosts */
    void (*on_domain)(const struct store_domain *d, void *arg);
    void (*on_up)(void *arg);       /* connected and scripts loaded */
    void (*on_down)(void *arg);     /* connection lost; retrying */
    void *arg;
};

/* What mxdetourctl status and the metrics report. */
struct store_async_stats {
    unsigned long writes;           /* CAS writes that landed */
    unsigned long conflicts;        /* CAS retries after another writer */
    unsigned long dropped;          /* evidence dropped: queue full or rejected */
    unsigned long reconnects;
    unsigned long errors;           /* error replies and malformed records */
    unsigned long pending;          /* evidence waiting to be written */
};

/* ASTORE_UNDO_TRIP: the local-outage guard undid a trip: the shared record
 * goes DIRECT only if it is DETOURED by log evidence since until_ms (the
 * outage window's start), so an older trip, another MTA's lesson from
 * before the outage, stays. */
enum store_async_op { ASTORE_FAILURE, ASTORE_SUCCESS, ASTORE_FORCE, ASTORE_UNDO_TRIP, ASTORE_VERDICT };

int store_async_start(struct event_base *base, const struct cfg_redis *rc, const char *site,
                 const struct store_async_callbacks *cb);
void store_async_stop(void);
int store_async_is_up(void);

/* Queues evidence about addr.  kind is used by ASTORE_FAILURE; state,
 * until_ms and reason by ASTORE_FORCE (until_ms and reason by ASTORE_UNDO_TRIP).  p are the detection parameters of
 * the destination the evidence came with. */
void store_async_record(const char *addr, const char *host, enum store_async_op op, enum fail_kind kind,
                   enum evidence_source src, const struct breaker_params *p, uint64_t now_ms,
                   enum breaker_state state, uint64_t until_ms, const char *reason);

/* Queues a race's verdict about addr (breaker_verdict() on the shared
 * record, with p the destination's parameters and reason its sentence). */
void store_async_verdict(const char *addr, const char *host, const struct breaker_params *p,
                         enum verdict v, const char *reason, uint64_t now_ms);

/* Writes a destination record, fire and forget (it is derived data). */
void store_async_domain_put(const struct store_domain *d);
/* The same, but only when Redis has no record of d->domain: after a
 * reconnection (on_up), to put back what a failover lost. */
void store_async_domain_restore(const struct store_domain *d);

/* The site's probe lock for addr (SET NX PX): fn(1) when this daemon may
 * probe, fn(0) when another holds it.  With Redis down, fn(1): probing
 * locally is the safe side.  fn is always called from the loop, later. */
typedef void (*store_async_lock_fn)(int taken, void *arg);
void store_async_lock_probe(const char *addr, uint64_t ttl_ms, store_async_lock_fn fn, void *arg);

void store_async_get_stats(struct store_async_stats *s);

/* store_async_feed.c: a feed record (store.h), written or removed, fire and
 * forget. */
void store_async_feed_put(const struct store_feed *f);
void store_async_feed_del(const char *addr);

#endif

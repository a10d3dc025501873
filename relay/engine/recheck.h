/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recheck - decides when mxdetourd probes an MX address on the direct path,
 * takes the site's probe lock, runs the probe and hands the result back.
 *
 *   HALF_OPEN   the cool-down is over: probe every RECHECK_HALF_OPEN_MS until
 *               the breaker restores (probe_successes greetings) or re-trips;
 *   suspect     DIRECT with failures counted: probe at most every
 *               RECHECK_SUSPECT_MS, so a lone message's two timeouts in ten
 *               minutes can be confirmed without waiting for a third;
 *   requested   recheck_request(): a feed listing, a new MX address of a
 *               detoured domain, an administrator.
 * DETOURED addresses in their cool-down are left alone.
 *
 * Within a site one daemon probes an address at a time: the probe runs only
 * when store_async_lock_probe() grants the lock (or Redis is down).  Results of
 * the other daemons' probes arrive through Redis like any evidence.
 *
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_RECHECK_H
#define MXD_RECHECK_H

#include <stdint.h>

#include "cfg.h"
#include "netaddr.h"
#include "prober.h"
#include "rules.h"

struct event_base;

#define RECHECK_HALF_OPEN_MS 10000
#define RECHECK_SUSPECT_MS 60000

typedef void (*recheck_result_fn)(const struct netaddr *addr, const char *host,
                                  const struct probe_result *r, void *arg);

int recheck_start(struct event_base *base, const struct cfg_probe *cfg,
                  recheck_result_fn fn, void *arg);
void recheck_configure(const struct cfg_probe *cfg);
void recheck_stop(void);

/* Walks the rules' addresses and starts the probes that are due. */
void recheck_tick(const struct rules *r, uint64_t now_ms);

/* Probe addr soon, whatever its state. */
void recheck_request(const struct netaddr *addr, const char *host);

void recheck_get_stats(struct prober_stats *s);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sentinel_async - Redis Sentinel on mxdetourd's event loop: which address
 * is the site's Redis master now, and when it changes.
 *
 * sentinel_async_ask() asks the configured sentinels in turn, starting with
 * the one that answered last (SENTINEL get-master-addr-by-name, bounded by
 * redis.connect_timeout + redis.command_timeout per sentinel), and calls fn
 * once, later, with the address, or with NULL and the reasons of every
 * sentinel.  The caller still checks the answer with ROLE (lib/state/sentinel.h).
 *
 * Meanwhile one subscription to "+switch-master" on one sentinel at a time
 * (the next one after a loss, with backoff from 250 ms to 30 s) reports a
 * failover of redis.master_name through on_switch, so the daemon moves to
 * the new master without waiting to notice the old one is gone.
 *
 * Replies are checked as lib/state/sentinel.h says.  Nothing blocks: sentinels
 * are IP address literals, so connecting needs no DNS lookup.  One instance
 * per process, on the event_base given, main thread only (like
 * store_async.h, which is its only user).
 */
#ifndef MXD_SENTINEL_ASYNC_H
#define MXD_SENTINEL_ASYNC_H

#include "cfg.h"

struct event_base;

typedef void (*sentinel_master_fn)(const struct cfg_hostport *master, const char *why_not, void *arg);
typedef void (*sentinel_switch_fn)(const struct cfg_hostport *master, void *arg);

/* rc must outlive the module (store_async keeps its own copy). */
int sentinel_async_start(struct event_base *base, const struct cfg_redis *rc,
                         sentinel_switch_fn on_switch, void *arg);
void sentinel_async_stop(void);

/* A new question replaces one still unanswered (whose fn is not called). */
void sentinel_async_ask(sentinel_master_fn fn, void *arg);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feedset - the block-list feeds mxdetourd holds in force (docs/feeds.md).
 *
 * At start every configured feed is read (a missing file is reported and
 * read once it appears).  A timer then checks each file's identity every
 * feed_check (10 s); a new version is read on a worker thread, because a
 * million-line registry dump takes about a second and the loop must not
 * stop for it, and swapped in on the loop once it loaded cleanly.  A version
 * that is refused (lib/evidence/feed.h: unreadable, empty, truncated) leaves the
 * previous one in force and is not read again until the file changes.
 * After every swap on_change is called, so the caller can look at the
 * addresses it knows again.
 *
 * Lookups come from the loop only (the feeds are swapped there); a loaded
 * feed is read-only, so the worker reading the next version never races
 * them.  Allow lists answer first: an address an allow list names is
 * FEED_TRUST_ALLOW whatever the other feeds say.  Otherwise the first feed
 * in configuration order that lists the address answers.
 *
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_FEEDSET_H
#define MXD_FEEDSET_H

#include <stdint.h>

#include "cfg.h"
#include "feed.h"
#include "netaddr.h"

struct event_base;

struct feedset_match {
    enum feed_trust trust;
    uint64_t recheck_ms;             /* the listing feed's recheck */
    unsigned generation;             /* changes whenever any feed is swapped */
    struct feed_hit hit;             /* strings valid until the next swap */
};

typedef void (*feedset_change_fn)(void *arg);

/* Reads the configured feeds now (blocking: at start only) and starts the
 * timer.  0, or -1 when out of memory. */
int feedset_start(struct event_base *base, const struct cfg *cfg, feedset_change_fn fn, void *arg);
/* A new configuration: feeds kept by name and file keep their version;
 * new ones are read on the next check, which is now. */
void feedset_configure(const struct cfg *cfg);
void feedset_stop(void);

/* 1 and *m filled when a feed lists addr; 0 when none does. */
int feedset_lookup(const struct netaddr *addr, struct feedset_match *m);

/* The number of feeds configured, and of those with a version in force. */
void feedset_counts(unsigned *configured, unsigned *loaded);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feedpolicy - what a feed's listing does to an MX address (docs/feeds.md).
 *
 * The engine tells it of every MX address it meets (DNS answers, Postfix's
 * log) and of every probe result; it looks the address up in the feeds in
 * force (feedset) and acts by the listing feed's trust:
 *
 *   detour  the address is forced DETOURED (source "feed") at once, without
 *           a probe, and stays so while a feed lists it; when the listing goes
 *           and nothing else moved the breaker since, it is forced DIRECT.
 *   probe   the address is probed from the direct path at once.  No greeting:
 *           forced DETOURED with the ordinary cool-down, so the usual
 *           half-open probes bring it back once the block lifts.  A greeting:
 *           it stays direct and is probed again after the feed's recheck.
 *   allow   the address is never detoured: evidence about it is dropped
 *           (feedpolicy_allowed), and a detour in force that no
 *           administrator ordered is forced DIRECT.
 *
 * Forced states go to Redis like any evidence, so the other MTAs of the
 * site follow; each action also writes a feed record (store_feed) that
 * `mxdetourctl show` prints.  The memory of what was done is bounded
 * (FEEDPOLICY_MAX listed addresses; the oldest answered one makes room).
 *
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_FEEDPOLICY_H
#define MXD_FEEDPOLICY_H

#include <stdint.h>

#include "cfg.h"
#include "evidence.h"
#include "netaddr.h"
#include "rules.h"

#define FEEDPOLICY_MAX 4096
#define FEEDPOLICY_RETRY_MS 60000   /* a requested probe that did not run is asked again */

void feedpolicy_start(struct rules *r, const struct cfg *cfg);
void feedpolicy_configure(const struct cfg *cfg);
void feedpolicy_stop(void);

/* 1 when an allow list names addr: evidence about it must not count. */
int feedpolicy_allowed(const struct netaddr *addr);

/* An MX address met; host may be NULL.  Returns 1 when an allow list names
 * it (as feedpolicy_allowed() would), so a caller with evidence in hand
 * needs one lookup, not two. */
int feedpolicy_seen(const struct netaddr *addr, const char *host, uint64_t now_ms);

/* A probe of addr ended (ok: a greeting came; else kind says how it
 * failed).  1 when the listing decided the address's state, and the caller
 * must not apply the result again; 0 otherwise. */
int feedpolicy_probe_result(const struct netaddr *addr, const char *host, int ok,
                            enum fail_kind kind, uint64_t now_ms);

/* Every second: asks for the probes that are due. */
void feedpolicy_tick(uint64_t now_ms);

/* The feeds changed: every known address is looked at again. */
void feedpolicy_recheck_all(uint64_t now_ms);

#endif

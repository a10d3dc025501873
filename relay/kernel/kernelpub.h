/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelpub - the route publisher of tunnel relays in mode "kernel": blocked
 * MX addresses go into the tunnel's nftables set, so every domain on them,
 * even one never seen, goes through the tunnel to its real MX host at its
 * first message, with no transport table entry and no `postfix reload`
 * (docs/kernel.md).
 *
 * What is in the sets.  The engine reports every address whose breaker
 * leaves or returns to "direct" (kernelpub_addr).  Every blocked address
 * belongs in the set of the first kernel-mode tunnel, in configuration
 * order, that relayhealth reports up; in no set when none is up (mail then
 * goes the direct way and waits in Postfix's queue rather than into a dead
 * tunnel).  An address that is no longer blocked leaves its set only once
 * it has stayed so for KERNELPUB_REMOVE_DELAY_MS: a block that flickers
 * while records arrive from Redis never lets a connection go direct, and a
 * removal is not urgent (the tunnel keeps working).  Other changes are
 * coalesced within one turn of the event loop and
 * sent to privsep's helper, which applies them in one nftables transaction
 * per tunnel; a failed one is retried with a doubling delay.
 *
 * Fail-static.  The sets outlive mxdetourd.  At start the module reads the
 * blocked addresses from Redis (the blocking store, bounded by
 * redis.connect_timeout and command_timeout), or, with Redis down, from its
 * last known state (relay/kernel/kernelstate.h, rewritten after every change),
 * and makes each set exactly what it should be in one transaction: no
 * address that stays blocked ever leaves the set meanwhile.  Addresses
 * taken from the state file are confirmed or removed when Redis answers.
 *
 * Checks (kernelpub_check, also run by `mxdetourd -t`): the interface must
 * exist and the helper must run (else the start fails, saying why); strict
 * reverse-path filtering on the interface is warned about, naming the
 * sysctl.
 *
 * One instance, on the daemon's loop; register after privsep, before the
 * engine.  Ownership: the module copies what it is given.
 */
#ifndef MXD_KERNELPUB_H
#define MXD_KERNELPUB_H

#include <stdio.h>

#include "cfg.h"
#include "daemon.h"
#include "netaddr.h"

#define KERNELPUB_MAX_ADDRS 65536
#define KERNELPUB_WHY_MAX 120
#define KERNELPUB_REMOVE_DELAY_MS 1000   /* an unblocked address leaves after this */
#define KERNELPUB_RETRY_MIN_MS 1000
#define KERNELPUB_RETRY_MAX_MS 60000

extern const struct daemon_module kernelpub_module;

/* True when a tunnel relay is in mode "kernel" (the module is active). */
int kernelpub_active(void);

/* addr is blocked (its breaker is not direct) or not any more; why is the
 * breaker's reason, for the state file and mxdetourctl kernel. */
void kernelpub_addr(const struct netaddr *addr, int blocked, const char *why);

/* True when Postfix's connections to addr go into a tunnel's set (or are
 * about to): what the log says of them is not about the direct path. */
int kernelpub_holds(const struct netaddr *addr);

/* relayhealth's news about a relay (any relay; others are ignored). */
void kernelpub_relay_change(const char *relay, int up);

/* The Redis link is up: confirm what came from the state file. */
void kernelpub_store_up(void);

/*
 * The checks of a kernel-mode configuration on this host: every problem is
 * one line on out (when not NULL) and logged.  Returns the number of errors
 * (a missing interface); warnings (strict rp_filter) are not counted.
 */
int kernelpub_check(const struct cfg *cfg, FILE *out);

/* The effective rp_filter of an interface (the larger of "all" and its
 * own), or -1 when it cannot be read. */
int kernelpub_rp_filter(const char *ifname);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * outage - the local-outage guard: tells a dead uplink from blocked
 * destinations.
 *
 * When the server's own network fails, every destination times out at once.
 * That must not detour the world, so the guard watches delivery attempts
 * (the caller records each attempt's outcome per address) and declares a
 * local outage when, within the window,
 *
 *     at least min_destinations unrelated destinations are failing, and
 *     they are at least share of all the destinations tried.
 *
 * Destinations are related when they share a network (the same /24 for
 * IPv4, /48 for IPv6) or a recipient domain: a domain links the addresses
 * tried for it, so one provider with several networks counts once.  A
 * destination is failing when its most recent attempt in the window failed.
 * While the outage lasts the caller trips no breaker (rules.c keeps the
 * failures as evidence only).  It ends when the failing share drops below
 * share (successes return), or fewer than half of min_destinations (rounded
 * up) are failing: a little hysteresis, so a slow server whose outage goes
 * on does not flap in and out of it, while a lone provider left failing
 * once the window has moved on ends it.
 *
 * Memory is bounded: the last capacity attempts are kept in a ring, so on a
 * busy server the window is the shorter of window_ms and the time those
 * attempts took; the decision then rests on a large recent sample anyway.
 * Evaluation (outage_update) costs O(capacity).
 *
 * Pure: no clock of its own (callers pass now_ms) and no I/O.  One instance
 * is used by one thread (mxdetourd: its event loop).  docs/detection.md
 * argues the defaults.
 */
#ifndef MXD_OUTAGE_H
#define MXD_OUTAGE_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define OUTAGE_REASON_MAX 128
#define OUTAGE_MAX_CAPACITY 65536

struct outage_params {
    unsigned min_destinations;   /* unrelated failing destinations (>= 1) */
    uint64_t window_ms;          /* how far back attempts count */
    double share;                /* failing share of destinations tried (0..1) */
    unsigned capacity;           /* attempts kept (16..OUTAGE_MAX_CAPACITY) */
};

enum outage_change { OUTAGE_SAME = 0, OUTAGE_BEGAN, OUTAGE_ENDED };

struct outage_status {
    int active;                  /* a local outage is in force */
    uint64_t since_ms;           /* when it began, or ended (0: never) */
    unsigned failing;            /* at the last evaluation: failing destinations */
    unsigned attempted;          /*   and all destinations tried in the window */
    const char *reason;          /* "7 of 8 unrelated destinations failing within 5m" */
};

struct outage;

/* min_destinations 5, window 5m, share 0.5, capacity 1024. */
void outage_params_default(struct outage_params *p);
/* 0, or -1 with a static sentence in *why. */
int outage_params_check(const struct outage_params *p, const char **why);

/* NULL when p is invalid or memory is short.  outage_free(NULL) is a no-op. */
struct outage *outage_new(const struct outage_params *p);
void outage_free(struct outage *o);

/*
 * Records one attempt at addr (domain: the recipient domain, normalised, or
 * NULL).  failed: the uplink may be at fault (no answer at all: timeout,
 * unreachable).  A refusal, a missing greeting or a reply is not failed: a
 * packet came back, so the uplink works.  Recording does not evaluate.
 */
void outage_record(struct outage *o, const struct netaddr *addr, const char *domain,
                   int failed, uint64_t now_ms);

/*
 * Records that addr serves domain, learned apart from the attempt (Postfix
 * logs connect failures before the status line that names the recipient):
 * joins the two into one destination within the window, and counts as no
 * attempt.  A repeat of one of the last few links is not kept twice.
 */
void outage_link(struct outage *o, const struct netaddr *addr, const char *domain,
                 uint64_t now_ms);

/* Evaluates the window at now_ms; says whether the outage began or ended. */
enum outage_change outage_update(struct outage *o, uint64_t now_ms);

int outage_active(const struct outage *o);
void outage_status(const struct outage *o, struct outage_status *st);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * race - a direct probe and a control probe of one MX address, side by
 * side, and the verdict their results give (OONI's control measurement,
 * for SMTP; docs/detection.md):
 *
 *   RACE_OPEN            the direct path greeted (or replied)
 *   RACE_BLOCKED_HERE    the control path greeted; the direct path failed,
 *                        or has not even connected within fast_confirm
 *   RACE_DOWN_EVERYWHERE both failed: the host is down, not blocked
 *   RACE_NO_CONTROL      the control path itself failed (a proxy down, a
 *                        bind that fails): no word about the destination;
 *                        the direct leg's result is given as plain evidence
 *
 * The control path is a SOCKS5 proxy outside the censored network or a
 * source address routed into a tunnel (struct race_path).  Both legs start
 * at once with no jitter (the caller holds the site's probe lock and the
 * budget), in a prober of the racer's own, each within the probe timeout.
 * Fast confirmation: once the control leg has greeted, a direct leg that
 * has not connected after fast_confirm_ms is stopped and the address is
 * blocked here at once; a direct leg that connected (the host answers TCP
 * but its banner is slow, a greet pause) is waited for.
 *
 * race_decide() is the decision alone, pure, for the unit tests; the racer
 * runs it after each leg's result and when fast_confirm_ms has passed.
 *
 * Ownership and loop: the racer runs on the caller's event_base; done() is
 * called once per accepted race, from the loop, never from racer_start();
 * the outcome lives for the call only.  racer_free() calls nothing.
 */
#ifndef MXD_RACE_H
#define MXD_RACE_H

#include <stdint.h>

#include "cfg.h"
#include "netaddr.h"
#include "prober.h"
#include "socks5.h"

struct event_base;
struct racer;

#define RACE_TEXT_MAX 160

enum race_decision { RACE_WAIT, RACE_OPEN, RACE_BLOCKED_HERE, RACE_DOWN_EVERYWHERE, RACE_NO_CONTROL };

struct race_path {
    const char *name;                   /* the relay's name, for the sentence */
    const char *source;                 /* a tunnel's source address, or NULL */
    const struct socks5_proxy *proxy;   /* a SOCKS5 proxy (copied), or NULL */
};

/* One leg as far as it got. */
struct race_leg {
    int done;
    enum probe_kind kind;               /* when done */
    uint64_t ms;                        /* when done: its time */
};

struct race_outcome {
    enum race_decision decision;
    const struct netaddr *addr;
    const char *path;                   /* the control path's name */
    struct race_leg direct, control;
    int cut_short;                      /* the direct leg was stopped at fast_confirm */
    uint64_t elapsed_ms;
    const char *direct_text;            /* the direct leg's reason or first line */
    const char *control_text;
    const char *sentence;               /* "blocked here: no answer in 3.0s on the direct path, ..." */
};

typedef void (*race_fn)(const struct race_outcome *o, void *arg);

/* What the legs so far decide; RACE_WAIT: not yet. */
enum race_decision race_decide(const struct race_leg *direct, const struct race_leg *control,
                               int direct_connected, uint64_t elapsed_ms, uint64_t fast_confirm_ms);
const char *race_decision_name(enum race_decision d);   /* "open", "blocked-here", ... */

/* A racer with cfg's timeout, port and source_address, running at most
 * max_races races at once.  NULL when out of memory. */
struct racer *racer_new(struct event_base *base, const struct cfg_probe *cfg, unsigned max_races);
void racer_configure(struct racer *r, const struct cfg_probe *cfg, unsigned max_races);
void racer_free(struct racer *r);

/* Starts a race; 0, or -1 when max_races run already, one runs for addr,
 * or an argument is bad.  fn(outcome, arg) follows exactly once after 0. */
int racer_start(struct racer *r, const struct netaddr *addr, const struct race_path *path,
                uint64_t fast_confirm_ms, race_fn fn, void *arg);
/* Drops every race whose callback is fn with arg, calling nothing. */
void racer_cancel(struct racer *r, race_fn fn, void *arg);
unsigned racer_running(const struct racer *r);
int racer_busy(const struct racer *r, const struct netaddr *addr);

#endif

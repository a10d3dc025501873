/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * control - when mxdetourd races a direct probe against a control probe
 * (relay/net/race.h), through which control path, and what the verdict
 * does (docs/detection.md, "Verdicts").
 *
 * A race is considered when a log line counts a failure against an address
 * with no fresh verdict, and when a domain's MX addresses come from DNS (the
 * milter met the domain, or the log did).  It starts only when:
 *   - a relay has a control path that is up (or due for a trial),
 *   - the address is direct, with no fresh verdict and no race under way,
 *   - the budget allows (control.budget races per second, max_races at
 *     once: attacker-chosen recipients cannot amplify probes),
 *   - the site's probe lock is taken (one race per address per site; with
 *     Redis down the race runs here).
 * The verdict goes to the rules (rules_verdict) and to Redis with the
 * address record, so every MTA of the site uses it until it is stale.
 *
 * Control path health: a race whose control leg fails (a proxy down, a
 * bind that fails) counts against the path; two in a row put it down (one
 * warning), a greeting through it puts it up.  A down path is tried again
 * at most every 30 s.  "Down everywhere" needs a path that greeted some
 * host within the last 10 minutes: a tunnel that carries nothing any more
 * looks like a dead host otherwise.
 *
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_CONTROL_H
#define MXD_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "netaddr.h"
#include "race.h"
#include "rules.h"

struct event_base;

#define CONTROL_MAX_WAITERS 4           /* domains waiting for one race */

/* A race ended: domains[] were waiting for it (their view is due). */
typedef void (*control_done_fn)(const struct race_outcome *o, const char *host,
                                const char *const *domains, size_t ndomains, void *arg);

int control_start(struct event_base *base, const struct cfg *cfg, struct rules *rules,
                  control_done_fn done, void *arg);
void control_configure(const struct cfg *cfg);
void control_stop(void);

/* 1 when a race for addr was started or is under way (domain, if given,
 * then waits for it: done() names it), 0 when none will come. */
int control_consider(const struct netaddr *addr, const char *host, const char *domain, uint64_t now_ms);

/* The fast-confirm time the next race through relay would use. */
uint64_t control_fast_confirm_ms(const struct cfg_relay *relay);

/* Control paths now: up and down (for the metrics, the health file). */
void control_paths(unsigned *up, unsigned *down);
/* One line per control path, "NAME up|down GREETING_MS[: last error]". */
size_t control_paths_text(char *buf, size_t size);

#endif

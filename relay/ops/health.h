/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * health - how this mxdetourd is doing, for `mxdetourctl status --check`
 * and the metrics gauges.
 *
 * The daemon module (health_module) writes STATE_DIR/health every
 * HEALTH_INTERVAL_MS and when it starts, and removes it when it stops: a
 * small text file, replaced atomically (docs/state.md, "Local files"):
 *
 *     mxdetourd-health 1
 *     pid 4711
 *     written 1763900000123                  (ms since the epoch)
 *     redis up|down|connecting              (connecting: only within the first
 *                                           connection's time limits, then down)
 *     outage 0 | outage 1 REASON
 *     addresses KNOWN DETOURED
 *     destinations KNOWN DETOURED
 *     relay NAME up|down                     (one per configured relay)
 *     destination UP CONFIGURED NAME         (one per destination with relays)
 *     feeds LOADED CONFIGURED                (with feeds: how many have a version in force)
 *     control NAME up|down GREETING_MS[: REASON]
 *                                            (one per control path: a relay's SOCKS5
 *                                            proxy or tunnel; GREETING_MS: its mean
 *                                            greeting time, 0 before the first)
 *     log ok|missing|unreadable|silent SECONDS SOURCE[: REASON]
 *                                            (one per configured log; SECONDS: how long
 *                                            in that state, for silent since the last
 *                                            Postfix line)
 *
 * A file older than HEALTH_STALE_MS, or whose pid is gone, is a daemon that
 * is not running.  The file is local on purpose: it says what this MTA's
 * daemon sees (its relays, its uplink) even while Redis is down, and a
 * monitoring agent runs the check on each MTA.
 *
 * health_note_rules() is the engine's tick (every second): it takes the
 * rules' counts and the outage guard's state into the metrics gauges and
 * the next health file.
 *
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_HEALTH_H
#define MXD_HEALTH_H

#include "cfg.h"
#include "daemon.h"

#define HEALTH_FILE "health"
#define HEALTH_MAGIC "mxdetourd-health 1"
#define HEALTH_INTERVAL_MS 5000
#define HEALTH_STALE_MS 30000

struct rules;

extern const struct daemon_module health_module;

void health_note_rules(const struct rules *r);

/* The engine's tick: what each configured log is doing.  Kept for the health
 * file, counted in the gauge mxdetour_logs_not_read{state}. */
enum health_log_state { HEALTH_LOG_OK, HEALTH_LOG_MISSING, HEALTH_LOG_UNREADABLE, HEALTH_LOG_SILENT };

#define HEALTH_MAX_LOGS 8

struct health_log {
    const char *source;             /* a path or a command; copied */
    enum health_log_state state;
    uint64_t since_ms;              /* wall clock */
    const char *reason;             /* may be NULL; copied */
};

void health_note_logs(const struct health_log *logs, size_t n);

/* The engine's tick: the control paths, as "control ..." lines (control.h),
 * copied for the next health file. */
void health_note_control(const char *lines);

/* How many of the destination's relays are up now (relayhealth). */
unsigned health_relays_up(const struct cfg *cfg, const struct cfg_dest *d);

/* The label a destination goes by: its name, else its first pattern. */
const char *health_dest_name(const struct cfg_dest *d);

#endif

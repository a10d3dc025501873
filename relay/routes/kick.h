/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kick - schedules deferred mail again when the route of its domain changed.
 *
 * Postfix routes a deferred message again each time it retries it, but the
 * next retry may be minutes away (minimal_backoff_time 300 s and up).  So
 * once Postfix uses a changed route, the route publisher calls
 * kick_domains(), and then, on the loop:
 *
 *   1. `postqueue -c CONFIG_DIR -j` runs as a child; its output is read on
 *      the event loop, at most KICK_MAX_OUTPUT bytes, KICK_MAX_MESSAGES
 *      messages and KICK_MAX_LINE bytes a line (beyond those it is killed
 *      and what was read so far is used; an overlong line is skipped).  Each
 *      line goes through postqueue_json_parse(); malformed lines are counted
 *      and skipped.
 *   2. The ids of messages in the "deferred" queue with a recipient in one
 *      of the domains (exact, or below a ".domain" entry) are queued, once
 *      each, in id order.
 *   3. `postqueue -c CONFIG_DIR -i QUEUE_ID` runs for each, at most
 *      postfix.kick_rate a second and KICK_MAX_CHILDREN at a time.
 *
 * Coalescing: domains given together share one postqueue -j run; domains
 * given while a run reads the queue wait for it to end and then share the
 * next one (a domain given twice meanwhile is listed once).  Mail is kicked
 * once per call; what stays deferred afterwards waits for Postfix's retry.
 *
 * When to kick is the caller's choice: Postfix's resolver client remembers
 * its last answer (postfix-notes.md), so kick after the `postfix reload`
 * that restarted the queue manager, or after Postfix's own table check
 * (about 10 s) when there is no reload.  routes.c does the timing.
 *
 * Failures (postqueue missing, Postfix down, a refused id) are logged, not
 * retried: a kick only hastens what Postfix does anyway.
 *
 * Probes: kick_probe() asks whether mail waits in Postfix's queue for a
 * domain (a message in "deferred", "active" or "incoming" with a recipient
 * there).  Probes ride the same listing as kicks: one postqueue -j answers
 * every domain given before it starts.  The route publisher reloads Postfix
 * only for a new route with mail waiting (routes.h).
 *
 * Bounded: one listing at a time, and the next starts no sooner than
 * KICK_LIST_GAP_FACTOR times the last one's duration after it (at most
 * KICK_LIST_GAP_MAX_MS), so a long queue listed under churn costs at most
 * about a tenth of a core; domains given meanwhile share the next listing.
 *
 * Runs on the event_base given to kick_init(), main thread only.
 * Ownership: kick copies the domains and the configuration it keeps.
 */
#ifndef MXD_KICK_H
#define MXD_KICK_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

#define KICK_MAX_OUTPUT (64u << 20)
#define KICK_MAX_MESSAGES 100000
#define KICK_MAX_LINE (4u << 20)
#define KICK_MAX_CHILDREN 4
#define KICK_MAX_DOMAINS 8192           /* waiting for the next listing */
#define KICK_LIST_TIMEOUT_MS 120000     /* postqueue -j is killed after this */
#define KICK_FLUSH_TIMEOUT_MS 30000     /* postqueue -i is killed after this */
#define KICK_LIST_GAP_FACTOR 10         /* listings take at most 1/10 of the time */
#define KICK_LIST_GAP_MAX_MS 5000

struct kick_stats {
    uint64_t runs;              /* postqueue -j runs */
    uint64_t listed;            /* messages read from postqueue -j */
    uint64_t malformed;         /* lines postqueue_json_parse() refused or overlong */
    uint64_t matched;           /* deferred messages found for kicked domains */
    uint64_t kicked;            /* postqueue -i that succeeded */
    uint64_t failed;            /* postqueue -i that failed */
    uint64_t probed;            /* domains answered by kick_probe */
};

/* The module: start is kick_init() on d->base, reload takes the new
 * postfix settings, stop is kick_free().  Register before routes. */
extern const struct daemon_module kick_module;

/* Copies the paths and rate from pf; 0, or -1 when out of memory. */
int kick_init(struct event_base *base, const struct cfg_postfix *pf);

/* Kills and reaps running children, drops everything pending. */
void kick_free(void);

/*
 * Kicks the deferred mail of domains[0..n): the listing starts on the loop
 * (never inside this call), or when the running one ends.  A domain is a
 * recipient domain ("example.com") or ".example.com" for every domain below
 * it.  Returns 0, or -1 after a msg_warn when a domain is not valid or too
 * many wait already (the others are taken).
 */
int kick_domains(const char *const *domains, size_t n);

/*
 * Asks, with the next listing, whether mail waits for each of domains[0..n)
 * (same forms as kick_domains).  The answer comes on the loop, one call of
 * the kick_on_waiting() listener per domain: nwaiting messages (deferred,
 * active or incoming) with a recipient there, or -1 when the queue could
 * not be listed in full (postqueue failed or a limit was hit) and none was
 * found.  Returns 0, or -1 as kick_domains (no answer for refused domains).
 */
int kick_probe(const char *const *domains, size_t n);

/* The probes' listener (one; NULL removes it).  domain is normalised. */
void kick_on_waiting(void (*fn)(const char *domain, long nwaiting, void *arg), void *arg);

/* Called when kick has nothing left to do (for tools and tests). */
void kick_on_idle(void (*fn)(void *arg), void *arg);

/* True when nothing is pending, running or queued. */
int kick_idle(void);

const struct kick_stats *kick_stats(void);

#endif

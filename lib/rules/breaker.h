/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * breaker - the circuit breaker of one destination MX address.
 *
 *                 threshold failures of counted kinds within window
 *     +--------+ -------------------------------------------------> +-----------+
 *     | DIRECT |                                                    | DETOURED  |
 *     +--------+ <------------+                                     +-----------+
 *        ^  any success on    |                                        |  cool-down over
 *        |  the direct path   |   probe_successes good probes          v  (breaker_tick)
 *        |  (clears failures) +--------------------------------- +-----------+
 *        |                       or one real delivery            | HALF_OPEN |
 *        +------------------------------------------------------ +-----------+
 *                                                                    | a failure:
 *                                          DETOURED again, cool-down |  doubled (cap)
 *
 * Mail is detoured in DETOURED and HALF_OPEN; in HALF_OPEN one probe at a time
 * tests the direct path.  The cool-down is cooldown * 2^(trips-1), capped at
 * cooldown_max; trips decays by one for every decay interval spent DIRECT
 * without a trip, so a flapping path backs off and a healed one is forgiven.
 * docs/detection.md explains the defaults (breaker_params_default).
 *
 * Evidence must come from the direct path: a delivery that went through a
 * relay or a tunnel proves nothing about the direct one, and the caller must
 * not report it here.  Failures of kinds outside params->kinds, and any
 * failure while DETOURED (a domain with another, open MX still has Postfix
 * try this one), are counted in kind_counts but change no state.
 *
 * Pure functions over a plain struct: no I/O, no clock of their own (the
 * caller passes now_ms; a time earlier than a recorded one counts as no time
 * passed), so the same code runs in mxdetourd, in "mxdetourctl replay" over a
 * log's own timestamps, and in unit tests.  The struct is what the state
 * store keeps per address (breaker_encode).
 *
 * Forced states (breaker_force) are plain state changes: later evidence
 * moves the breaker as usual.  Manual blocks and unblocks that must win over
 * evidence for a time are overrides kept beside the breaker (the store's
 * manual records, with their TTL), not breaker state.
 */
#ifndef MXD_BREAKER_H
#define MXD_BREAKER_H

#include <stddef.h>
#include <stdint.h>

#include "evidence.h"

#define BREAKER_MAX_FAILS 16     /* failure times kept; bounds threshold */
#define BREAKER_REASON_MAX 160
#define BREAKER_MAX_TRIPS 64     /* trips saturates here */
#define BREAKER_TEXT_MAX 1024    /* breaker_encode() never needs more */

enum breaker_state { BREAKER_DIRECT = 0, BREAKER_DETOURED, BREAKER_HALF_OPEN };

struct breaker_params {
    unsigned threshold;          /* failures within window that trip (1..16) */
    uint64_t window_ms;          /* how far back failures count */
    uint64_t cooldown_ms;        /* first cool-down */
    uint64_t cooldown_max_ms;    /* cap of the growing cool-down */
    uint64_t decay_ms;           /* healthy time that forgives one trip */
    unsigned kinds;              /* FAIL_BIT mask of kinds that count */
    unsigned probe_successes;    /* good probes in HALF_OPEN to go DIRECT (1..16) */
    uint64_t verdict_ttl_ms;     /* how long a race's verdict holds (0: 10m) */
    int down_detour;             /* "down everywhere": 1 detour anyway, 0 keep
                                    the mail queued on the direct route */
};

/*
 * A race's verdict (docs/detection.md): a direct probe and a control probe,
 * through a path outside the censored network, side by side.
 *   VERDICT_OPEN             the direct path greeted
 *   VERDICT_BLOCKED_HERE     the control path greeted, the direct did not
 *   VERDICT_DOWN_EVERYWHERE  both failed: the host is down, not blocked
 * It is kept with the breaker (and so in Redis) with its time; it is fresh
 * for params->verdict_ttl_ms.
 */
enum verdict { VERDICT_NONE = 0, VERDICT_OPEN, VERDICT_BLOCKED_HERE, VERDICT_DOWN_EVERYWHERE,
               VERDICT_COUNT };

struct breaker {
    enum breaker_state state;
    uint64_t since_ms;           /* when the current state began */
    uint64_t until_ms;           /* DETOURED: end of cool-down (0: none), else 0 */
    unsigned trips;              /* consecutive trips, drives the cool-down */
    unsigned nfails;             /* counted failures in fails_ms, oldest first */
    uint64_t fails_ms[BREAKER_MAX_FAILS];
    unsigned char fail_kinds[BREAKER_MAX_FAILS];  /* the kind of each of them */
    unsigned kind_counts[FAIL_KIND_COUNT];  /* every failure since the last
                                               success or restore, by kind */
    unsigned probe_ok;           /* consecutive good probes in HALF_OPEN */
    uint64_t last_success_ms;
    uint64_t last_failure_ms;
    uint64_t decay_from_ms;      /* DIRECT: trips last decayed, or state began */
    enum evidence_source source; /* what caused the last transition */
    enum verdict verdict;        /* the last race's, or VERDICT_NONE */
    uint64_t verdict_ms;         /* when it was reached (0 with NONE) */
    char reason[BREAKER_REASON_MAX];        /* why, in words, for show/log */
};

/* What a call changed. */
enum breaker_change {
    BREAKER_SAME = 0,            /* state unchanged (counts may have moved) */
    BREAKER_TRIPPED,             /* DIRECT or HALF_OPEN -> DETOURED */
    BREAKER_PROBE_DUE,           /* DETOURED -> HALF_OPEN: probe the direct path */
    BREAKER_RESTORED,            /* -> DIRECT */
};

/* The documented defaults: 3 timeouts or missing greetings within 10m trip;
 * cool-down 5m doubling to 1h; one trip forgiven per healthy hour; 2 probes. */
void breaker_params_default(struct breaker_params *p);
/* 0, or -1 with a static sentence in *why when p makes no sense. */
int breaker_params_check(const struct breaker_params *p, const char **why);
/* The cool-down after the trips-th consecutive trip. */
uint64_t breaker_cooldown(const struct breaker_params *p, unsigned trips);

void breaker_init(struct breaker *b, uint64_t now_ms);

/* A direct connection failed with kind; kinds not in params->kinds are counted
 * in kind_counts but never trip.  Applies breaker_tick() first, so a change
 * may be a re-trip after a cool-down that had ended. */
enum breaker_change breaker_failure(struct breaker *b, const struct breaker_params *p,
                                    enum fail_kind kind, enum evidence_source src,
                                    uint64_t now_ms);

/* The direct path answered: a delivery or any reply (src SRC_LOG) or a probe
 * that saw a greeting (SRC_PROBE).  In DIRECT it clears the counted failures;
 * in HALF_OPEN (and DETOURED) a delivery restores at once, probes need
 * probe_successes in a row (a first good probe while DETOURED moves it to
 * HALF_OPEN). */
enum breaker_change breaker_success(struct breaker *b, const struct breaker_params *p,
                                    enum evidence_source src, uint64_t now_ms);

/* Time passes: ends cool-downs (-> HALF_OPEN), expires old failures, decays
 * trips. Call it on a timer and before reading a state. */
enum breaker_change breaker_tick(struct breaker *b, const struct breaker_params *p,
                                 uint64_t now_ms);

/* Force a state (manual block/unblock, a feed with trust "detour").  until_ms
 * is the end of a DETOURED state's cool-down (0: none; it then stays until
 * evidence or another force moves it) and is ignored for the other states.
 * reason NULL or "" gives "forced <state> by <source>"; control characters
 * become '?'.
 * Forcing DIRECT clears the failures; trips is kept and decays as usual. */
enum breaker_change breaker_force(struct breaker *b, enum breaker_state state,
                                  enum evidence_source src, const char *reason,
                                  uint64_t until_ms, uint64_t now_ms);

/* Drops the counted failures recorded at or after from_ms (a local outage
 * explains them); kind_counts keep them as evidence. */
void breaker_forget(struct breaker *b, uint64_t from_ms);

/*
 * A race's verdict about the address (breaker_verdict.c).  BLOCKED_HERE
 * detours at once, as a trip would (its cool-down, then half-open probes on
 * the direct path tell when the block lifts); DOWN_EVERYWHERE under
 * !params->down_detour ends a detour that evidence (not an administrator or
 * a feed) made and, while fresh, keeps failures from counting: a host that
 * nobody reaches is no reason to hand its mail to a relay.  OPEN is only
 * recorded.  reason (NULL: a default) becomes the breaker's reason when the
 * state changes.
 */
enum breaker_change breaker_verdict(struct breaker *b, const struct breaker_params *p,
                                    enum verdict v, const char *reason, uint64_t now_ms);
/* The verdict while fresh (now - verdict_ms < ttl), else VERDICT_NONE. */
enum verdict breaker_verdict_fresh(const struct breaker *b, const struct breaker_params *p,
                                   uint64_t now_ms);
const char *verdict_name(enum verdict v);   /* none|open|blocked-here|down-everywhere */
int verdict_parse(const char *name, enum verdict *v);
#define VERDICT_DEFAULT_TTL_MS (10 * 60000ULL)

/* True when mail for this address should avoid the direct path. */
int breaker_is_detoured(const struct breaker *b);

const char *breaker_state_name(enum breaker_state s);   /* direct|detoured|half-open */
int breaker_state_parse(const char *name, enum breaker_state *s);

/*
 * One-line text form kept in Redis:
 *   v1 state=detoured since=MS until=MS trips=N probe_ok=N src=log ok=MS
 *   fail=MS decay=MS counts=timeout:3,refused:1 fails=MS:timeout,...
 *   [verdict=blocked-here:MS] reason=TEXT
 * (one line; "-" for empty counts and fails; the verdict only when there is
 * one).  The reason is the last field
 * and runs to the end, verbatim: a breaker's reason holds no control
 * characters.  encode returns the length written (< BREAKER_TEXT_MAX), or -1
 * when buf is too small or b breaks an invariant.  decode validates every
 * field and invariant (it is outside input), takes text without a NUL, and
 * returns -1, leaving *b untouched, on anything malformed.
 */
int breaker_encode(const struct breaker *b, char *buf, size_t size);
int breaker_decode(const char *text, size_t len, struct breaker *b);

#endif

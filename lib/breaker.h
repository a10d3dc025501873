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
 *
 * Pure functions over a plain struct: no I/O, no clock of their own (the
 * caller passes now_ms), so the same code runs in mxdetourd, in
 * "mxdetourctl replay" over a log's own timestamps, and in unit tests.
 * The struct is what the state store keeps per address (breaker_encode).
 */
#ifndef MXD_BREAKER_H
#define MXD_BREAKER_H

#include <stddef.h>
#include <stdint.h>

#include "evidence.h"

#define BREAKER_MAX_FAILS 16     /* failure times kept; bounds threshold */
#define BREAKER_REASON_MAX 160

enum breaker_state { BREAKER_DIRECT = 0, BREAKER_DETOURED, BREAKER_HALF_OPEN };

struct breaker_params {
    unsigned threshold;          /* failures within window that trip (1..16) */
    uint64_t window_ms;          /* how far back failures count */
    uint64_t cooldown_ms;        /* first cool-down */
    uint64_t cooldown_max_ms;    /* cap of the growing cool-down */
    uint64_t decay_ms;           /* healthy time that forgives one trip */
    unsigned kinds;              /* FAIL_BIT mask of kinds that count */
    unsigned probe_successes;    /* good probes in HALF_OPEN to go DIRECT */
};

struct breaker {
    enum breaker_state state;
    uint64_t since_ms;           /* when the current state began */
    uint64_t until_ms;           /* DETOURED: end of cool-down, else 0 */
    unsigned trips;              /* consecutive trips, drives the cool-down */
    unsigned nfails;             /* failures in fails_ms, oldest first */
    uint64_t fails_ms[BREAKER_MAX_FAILS];
    unsigned kind_counts[FAIL_KIND_COUNT];  /* evidence counts since DIRECT */
    unsigned probe_ok;           /* consecutive good probes in HALF_OPEN */
    uint64_t last_success_ms;
    uint64_t last_failure_ms;
    enum evidence_source source; /* what caused the last transition */
    char reason[BREAKER_REASON_MAX];        /* why, in words, for show/log */
};

/* What a call changed. */
enum breaker_change {
    BREAKER_SAME = 0,            /* state unchanged (counts may have moved) */
    BREAKER_TRIPPED,             /* DIRECT or HALF_OPEN -> DETOURED */
    BREAKER_PROBE_DUE,           /* DETOURED -> HALF_OPEN: probe the direct path */
    BREAKER_RESTORED,            /* -> DIRECT */
};

void breaker_init(struct breaker *b, uint64_t now_ms);

/* A direct connection failed with kind; kinds not in params->kinds are counted
 * in kind_counts but never trip. */
enum breaker_change breaker_failure(struct breaker *b, const struct breaker_params *p,
                                    enum fail_kind kind, enum evidence_source src,
                                    uint64_t now_ms);

/* The direct path answered: a delivery or any reply (src SRC_LOG) or a probe
 * that saw a greeting (SRC_PROBE).  In HALF_OPEN a delivery restores at once;
 * probes need probe_successes in a row. */
enum breaker_change breaker_success(struct breaker *b, const struct breaker_params *p,
                                    enum evidence_source src, uint64_t now_ms);

/* Time passes: ends cool-downs (-> HALF_OPEN), expires old failures, decays
 * trips. Call it on a timer and before reading a state. */
enum breaker_change breaker_tick(struct breaker *b, const struct breaker_params *p,
                                 uint64_t now_ms);

/* Force a state (manual block/unblock, a feed with trust "detour"). */
enum breaker_change breaker_force(struct breaker *b, enum breaker_state state,
                                  enum evidence_source src, const char *reason,
                                  uint64_t until_ms, uint64_t now_ms);

/* True when mail for this address should avoid the direct path. */
int breaker_is_detoured(const struct breaker *b);

const char *breaker_state_name(enum breaker_state s);   /* direct|detoured|half-open */
int breaker_state_parse(const char *name, enum breaker_state *s);

/* One-line text form kept in Redis; decode validates every field (it is
 * outside input) and returns -1 on anything malformed. */
int breaker_encode(const struct breaker *b, char *buf, size_t size);
int breaker_decode(const char *text, size_t len, struct breaker *b);

#endif

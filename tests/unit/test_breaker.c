/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for lib/rules/breaker: the state machine under a clock the test
 * drives (every call takes now_ms), and the text form kept in Redis,
 * including garbage that must be refused without a crash.
 */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "breaker.h"

#define MIN (60 * 1000ULL)
#define HOUR (60 * MIN)
#define T0 1700000000000ULL

static struct breaker_params P;

static void setup(void)
{
    breaker_params_default(&P);
}

/* Three counted failures, one minute apart, starting at t: trips. */
static void trip_at(struct breaker *b, uint64_t t)
{
    ck_assert_int_eq(breaker_failure(b, &P, FAIL_TIMEOUT, SRC_LOG, t), BREAKER_SAME);
    ck_assert_int_eq(breaker_failure(b, &P, FAIL_TIMEOUT, SRC_LOG, t + MIN), BREAKER_SAME);
    ck_assert_int_eq(breaker_failure(b, &P, FAIL_TIMEOUT, SRC_LOG, t + 2 * MIN), BREAKER_TRIPPED);
}

/* Two good probes: HALF_OPEN -> DIRECT. */
static void probe_ok_at(struct breaker *b, uint64_t t)
{
    ck_assert_int_eq(breaker_success(b, &P, SRC_PROBE, t), BREAKER_SAME);
    ck_assert_int_eq(breaker_success(b, &P, SRC_PROBE, t + 1000), BREAKER_RESTORED);
}

START_TEST(defaults_are_documented_ones)
{
    const char *why = NULL;
    struct breaker_params p = P;

    ck_assert_uint_eq(P.threshold, 3);
    ck_assert_uint_eq(P.window_ms, 10 * MIN);
    ck_assert_uint_eq(P.cooldown_ms, 5 * MIN);
    ck_assert_uint_eq(P.cooldown_max_ms, HOUR);
    ck_assert_uint_eq(P.decay_ms, HOUR);
    ck_assert_uint_eq(P.kinds, FAIL_BIT(FAIL_TIMEOUT) | FAIL_BIT(FAIL_GREETING));
    ck_assert_uint_eq(P.probe_successes, 2);
    ck_assert_int_eq(breaker_params_check(&P, &why), 0);
    p.threshold = 17;
    ck_assert_int_eq(breaker_params_check(&p, &why), -1);
    ck_assert_ptr_nonnull(why);
    p = P;
    p.cooldown_max_ms = MIN;
    ck_assert_int_eq(breaker_params_check(&p, &why), -1);
    p = P;
    p.kinds = FAIL_BIT(FAIL_NONE);
    ck_assert_int_eq(breaker_params_check(&p, &why), -1);
}
END_TEST

START_TEST(threshold_within_window_trips)
{
    struct breaker b;

    breaker_init(&b, T0);
    ck_assert(!breaker_is_detoured(&b));
    trip_at(&b, T0);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
    ck_assert(breaker_is_detoured(&b));
    ck_assert_uint_eq(b.since_ms, T0 + 2 * MIN);
    ck_assert_uint_eq(b.until_ms, T0 + 7 * MIN);
    ck_assert_uint_eq(b.trips, 1);
    ck_assert_uint_eq(b.nfails, 0);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 3);
    ck_assert_int_eq(b.source, SRC_LOG);
    ck_assert_str_eq(b.reason, "3 connect timeouts in 10m");
}
END_TEST

START_TEST(failures_spread_beyond_window_do_not_trip)
{
    struct breaker b;

    breaker_init(&b, T0);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + (uint64_t)i * 6 * MIN),
                         BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
    ck_assert_uint_eq(b.nfails, 2);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 10);
    /* The window is half-open: a failure exactly window_ms old has expired. */
    breaker_init(&b, T0);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 5 * MIN);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 10 * MIN), BREAKER_SAME);
    ck_assert_int_eq(breaker_tick(&b, &P, T0 + 15 * MIN), BREAKER_SAME);
    ck_assert_uint_eq(b.nfails, 1);
    ck_assert_int_eq(breaker_tick(&b, &P, T0 + 20 * MIN), BREAKER_SAME);
    ck_assert_uint_eq(b.nfails, 0);
}
END_TEST

START_TEST(only_counted_kinds_trip)
{
    struct breaker b;
    struct breaker_params p = P;

    breaker_init(&b, T0);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(breaker_failure(&b, &P, FAIL_REFUSED, SRC_LOG, T0 + (uint64_t)i), BREAKER_SAME);
        ck_assert_int_eq(breaker_failure(&b, &P, FAIL_UNREACH, SRC_LOG, T0 + (uint64_t)i), BREAKER_SAME);
    }
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
    ck_assert_uint_eq(b.nfails, 0);
    ck_assert_uint_eq(b.kind_counts[FAIL_REFUSED], 5);
    ck_assert_uint_eq(b.kind_counts[FAIL_UNREACH], 5);
    /* Mixed counted kinds, and the reason names each. */
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 1000);
    breaker_failure(&b, &P, FAIL_GREETING, SRC_LOG, T0 + 2000);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 3000), BREAKER_TRIPPED);
    ck_assert_str_eq(b.reason, "2 connect timeouts and 1 missing greeting in 10m");
    /* With refused counted, refusals trip. */
    p.kinds |= FAIL_BIT(FAIL_REFUSED);
    breaker_init(&b, T0);
    breaker_failure(&b, &p, FAIL_REFUSED, SRC_LOG, T0);
    breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, T0 + 1);
    ck_assert_int_eq(breaker_failure(&b, &p, FAIL_GREETING, SRC_LOG, T0 + 2), BREAKER_TRIPPED);
    ck_assert_str_eq(b.reason, "1 connect timeout, 1 refused connection and 1 missing greeting in 10m");
    /* Nonsense kinds and sources change nothing. */
    breaker_init(&b, T0);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_NONE, SRC_LOG, T0), BREAKER_SAME);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_KIND_COUNT, SRC_LOG, T0), BREAKER_SAME);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_COUNT, T0), BREAKER_SAME);
    ck_assert_uint_eq(b.last_failure_ms, 0);
}
END_TEST

START_TEST(success_clears_suspicion)
{
    struct breaker b;

    breaker_init(&b, T0);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + MIN);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_LOG, T0 + 2 * MIN), BREAKER_SAME);
    ck_assert_uint_eq(b.nfails, 0);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 0);
    ck_assert_uint_eq(b.last_success_ms, T0 + 2 * MIN);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 3 * MIN), BREAKER_SAME);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 4 * MIN), BREAKER_SAME);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 5 * MIN), BREAKER_TRIPPED);
}
END_TEST

START_TEST(cooldown_then_half_open)
{
    struct breaker b;

    breaker_init(&b, T0);
    trip_at(&b, T0);
    ck_assert_int_eq(breaker_tick(&b, &P, b.until_ms - 1), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
    ck_assert_int_eq(breaker_tick(&b, &P, T0 + 7 * MIN), BREAKER_PROBE_DUE);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    ck_assert(breaker_is_detoured(&b));
    ck_assert_uint_eq(b.until_ms, 0);
    ck_assert_uint_eq(b.since_ms, T0 + 7 * MIN);
    ck_assert_str_eq(b.reason, "cool-down of 5m over, probing the direct path");
    ck_assert_int_eq(breaker_tick(&b, &P, T0 + HOUR), BREAKER_SAME);
    /* A failure while DETOURED is evidence only: the cool-down stands. */
    breaker_init(&b, T0);
    trip_at(&b, T0);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 3 * MIN), BREAKER_SAME);
    ck_assert_uint_eq(b.until_ms, T0 + 7 * MIN);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 4);
    ck_assert_uint_eq(b.last_failure_ms, T0 + 3 * MIN);
}
END_TEST

START_TEST(half_open_probes_restore)
{
    struct breaker b;

    breaker_init(&b, T0);
    trip_at(&b, T0);
    breaker_tick(&b, &P, T0 + 7 * MIN);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_PROBE, T0 + 8 * MIN), BREAKER_SAME);
    ck_assert_uint_eq(b.probe_ok, 1);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_PROBE, T0 + 9 * MIN), BREAKER_RESTORED);
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
    ck_assert_str_eq(b.reason, "probe saw greeting 2 times");
    ck_assert_int_eq(b.source, SRC_PROBE);
    ck_assert_uint_eq(b.probe_ok, 0);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 0);
    ck_assert_uint_eq(b.trips, 1);
    /* One real delivery is enough. */
    trip_at(&b, T0 + HOUR);
    breaker_tick(&b, &P, T0 + 2 * HOUR);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_LOG, T0 + 2 * HOUR + 1), BREAKER_RESTORED);
    ck_assert_str_eq(b.reason, "the server answered on the direct path");
    /* Probes interrupted by a failure start again. */
    trip_at(&b, T0 + 3 * HOUR);
    breaker_tick(&b, &P, T0 + 4 * HOUR);
    breaker_success(&b, &P, SRC_PROBE, T0 + 4 * HOUR + 1);
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_REFUSED, SRC_PROBE, T0 + 4 * HOUR + 2), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);     /* refusals are not counted, */
    ck_assert_uint_eq(b.probe_ok, 0);                 /* but break the run of good probes */
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_PROBE, T0 + 4 * HOUR + 3),
                     BREAKER_TRIPPED);
    ck_assert_uint_eq(b.probe_ok, 0);
}
END_TEST

START_TEST(probe_while_detoured_goes_half_open)
{
    struct breaker b;

    breaker_init(&b, T0);
    trip_at(&b, T0);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_PROBE, T0 + 3 * MIN), BREAKER_PROBE_DUE);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    ck_assert_uint_eq(b.probe_ok, 1);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_PROBE, T0 + 4 * MIN), BREAKER_RESTORED);
}
END_TEST

START_TEST(half_open_failure_doubles_cooldown_to_cap)
{
    static const uint64_t expect[] = {5, 10, 20, 40, 60, 60, 60};
    struct breaker b;
    uint64_t t = T0;

    breaker_init(&b, T0);
    trip_at(&b, t);
    ck_assert_uint_eq(b.until_ms - b.since_ms, expect[0] * MIN);
    for (size_t i = 1; i < sizeof(expect) / sizeof(expect[0]); i++) {
        t = b.until_ms;
        ck_assert_int_eq(breaker_tick(&b, &P, t), BREAKER_PROBE_DUE);
        ck_assert_int_eq(breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_PROBE, t + 1000), BREAKER_TRIPPED);
        ck_assert_uint_eq(b.trips, i + 1);
        ck_assert_uint_eq(b.until_ms - b.since_ms, expect[i] * MIN);
    }
    ck_assert_str_eq(b.reason, "a connect timeout seen by the half-open probe (cool-down 1h)");
    /* The cool-down that ended first, then the failure, in one call. */
    t = b.until_ms + 1;
    ck_assert_int_eq(breaker_failure(&b, &P, FAIL_GREETING, SRC_LOG, t), BREAKER_TRIPPED);
    ck_assert_str_eq(b.reason, "a missing greeting on the direct path while half-open (cool-down 1h)");
    ck_assert_uint_eq(breaker_cooldown(&P, 0), 5 * MIN);
    ck_assert_uint_eq(breaker_cooldown(&P, 1000), HOUR);
    b.trips = BREAKER_MAX_TRIPS;
    breaker_force(&b, BREAKER_HALF_OPEN, SRC_LOG, NULL, 0, t);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, t);
    ck_assert_uint_eq(b.trips, BREAKER_MAX_TRIPS);
}
END_TEST

START_TEST(flapping_backs_off_then_decays)
{
    struct breaker b;
    uint64_t t;

    breaker_init(&b, T0);
    trip_at(&b, T0);                                 /* trips 1: 5m */
    breaker_tick(&b, &P, b.until_ms);
    probe_ok_at(&b, b.since_ms);
    t = b.since_ms;
    trip_at(&b, t + MIN);                            /* flaps: trips 2, 10m */
    ck_assert_uint_eq(b.trips, 2);
    ck_assert_uint_eq(b.until_ms - b.since_ms, 10 * MIN);
    breaker_tick(&b, &P, b.until_ms);
    probe_ok_at(&b, b.since_ms);
    t = b.since_ms;                                  /* DIRECT again at t */
    ck_assert_int_eq(breaker_tick(&b, &P, t + HOUR - 1), BREAKER_SAME);
    ck_assert_uint_eq(b.trips, 2);
    breaker_tick(&b, &P, t + HOUR);                  /* one healthy hour forgives one */
    ck_assert_uint_eq(b.trips, 1);
    breaker_tick(&b, &P, t + HOUR + 30 * MIN);
    ck_assert_uint_eq(b.trips, 1);
    trip_at(&b, t + HOUR + 50 * MIN);                /* back to 10m, not 20m */
    ck_assert_uint_eq(b.trips, 2);
    ck_assert_uint_eq(b.until_ms - b.since_ms, 10 * MIN);
    /* A long healthy stretch forgives everything at once. */
    breaker_tick(&b, &P, b.until_ms);
    probe_ok_at(&b, b.since_ms);
    breaker_tick(&b, &P, b.since_ms + 10 * HOUR);
    ck_assert_uint_eq(b.trips, 0);
}
END_TEST

START_TEST(force_sets_state)
{
    struct breaker b;

    breaker_init(&b, T0);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0);
    ck_assert_int_eq(breaker_force(&b, BREAKER_DETOURED, SRC_MANUAL, "ticket\n42", T0 + HOUR, T0),
                     BREAKER_TRIPPED);
    ck_assert_str_eq(b.reason, "ticket?42");
    ck_assert_int_eq(b.source, SRC_MANUAL);
    ck_assert_uint_eq(b.trips, 0);
    ck_assert_uint_eq(b.nfails, 0);
    ck_assert_int_eq(breaker_tick(&b, &P, T0 + HOUR), BREAKER_PROBE_DUE);
    ck_assert_str_eq(b.reason, "cool-down of 1h over, probing the direct path");
    /* No end: only evidence or another force moves it. */
    ck_assert_int_eq(breaker_force(&b, BREAKER_DETOURED, SRC_FEED, NULL, 0, T0 + 2 * HOUR),
                     BREAKER_TRIPPED);
    ck_assert_str_eq(b.reason, "forced detoured by feed");
    ck_assert_int_eq(breaker_tick(&b, &P, UINT64_MAX), BREAKER_SAME);
    ck_assert_int_eq(breaker_force(&b, BREAKER_DETOURED, SRC_FEED, "again", 0, T0 + 3 * HOUR),
                     BREAKER_SAME);
    ck_assert_uint_eq(b.since_ms, T0 + 2 * HOUR);
    ck_assert_int_eq(breaker_success(&b, &P, SRC_LOG, T0 + 3 * HOUR), BREAKER_RESTORED);
    /* Forcing DIRECT clears failures but keeps trips. */
    trip_at(&b, T0 + 4 * HOUR);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 4 * HOUR + 3 * MIN);
    ck_assert_int_eq(breaker_force(&b, BREAKER_DIRECT, SRC_MANUAL, "false alarm", 0, T0 + 5 * HOUR),
                     BREAKER_RESTORED);
    ck_assert_uint_eq(b.trips, 1);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 0);
    ck_assert_uint_eq(b.until_ms, 0);
    ck_assert_int_eq(breaker_force(&b, (enum breaker_state)7, SRC_MANUAL, NULL, 0, T0), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
}
END_TEST

START_TEST(out_of_order_and_forget)
{
    struct breaker b;

    breaker_init(&b, T0);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 5 * MIN);
    breaker_failure(&b, &P, FAIL_GREETING, SRC_LOG, T0 + 1 * MIN);
    ck_assert_uint_eq(b.fails_ms[0], T0 + MIN);
    ck_assert_uint_eq(b.fail_kinds[0], FAIL_GREETING);
    ck_assert_uint_eq(b.last_failure_ms, T0 + 5 * MIN);
    breaker_forget(&b, T0 + 2 * MIN);
    ck_assert_uint_eq(b.nfails, 1);
    ck_assert_uint_eq(b.fails_ms[1], 0);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 1);
    /* threshold 16 and more than 16 failures: the oldest make room. */
    struct breaker_params p = P;
    p.threshold = 16;
    breaker_init(&b, T0);
    for (int i = 0; i < 15; i++)
        breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, T0 + (uint64_t)i);
    ck_assert_int_eq(breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, T0 + 100), BREAKER_TRIPPED);
    ck_assert_str_eq(b.reason, "16 connect timeouts in 10m");
}
END_TEST

/* Equal in every field that carries meaning (encode keeps unused bytes zero). */
static void assert_same(const struct breaker *a, const struct breaker *b)
{
    ck_assert_int_eq(a->state, b->state);
    ck_assert_uint_eq(a->since_ms, b->since_ms);
    ck_assert_uint_eq(a->until_ms, b->until_ms);
    ck_assert_uint_eq(a->trips, b->trips);
    ck_assert_uint_eq(a->nfails, b->nfails);
    ck_assert_mem_eq(a->fails_ms, b->fails_ms, sizeof(a->fails_ms));
    ck_assert_mem_eq(a->fail_kinds, b->fail_kinds, sizeof(a->fail_kinds));
    ck_assert_mem_eq(a->kind_counts, b->kind_counts, sizeof(a->kind_counts));
    ck_assert_uint_eq(a->probe_ok, b->probe_ok);
    ck_assert_uint_eq(a->last_success_ms, b->last_success_ms);
    ck_assert_uint_eq(a->last_failure_ms, b->last_failure_ms);
    ck_assert_uint_eq(a->decay_from_ms, b->decay_from_ms);
    ck_assert_int_eq(a->source, b->source);
    ck_assert_mem_eq(a->reason, b->reason, sizeof(a->reason));
}

static void round_trip(const struct breaker *b)
{
    char text[BREAKER_TEXT_MAX], again[BREAKER_TEXT_MAX];
    struct breaker d;
    int n = breaker_encode(b, text, sizeof(text));

    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(strlen(text), (size_t)n);
    ck_assert_ptr_null(strchr(text, '\n'));
    ck_assert_int_eq(breaker_decode(text, (size_t)n, &d), 0);
    assert_same(b, &d);
    ck_assert_int_eq(breaker_encode(&d, again, sizeof(again)), n);
    ck_assert_str_eq(text, again);
}

START_TEST(encode_decode_round_trip)
{
    struct breaker b;
    char text[BREAKER_TEXT_MAX];

    breaker_init(&b, T0);
    round_trip(&b);
    ck_assert_int_gt(breaker_encode(&b, text, sizeof(text)), 0);
    ck_assert_str_eq(text, "v1 state=direct since=1700000000000 until=0 trips=0 probe_ok=0 src=log "
                           "ok=0 fail=0 decay=1700000000000 counts=- fails=- reason=");
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 1);
    breaker_failure(&b, &P, FAIL_REFUSED, SRC_LOG, T0 + 2);
    breaker_failure(&b, &P, FAIL_GREETING, SRC_PROBE, T0 + 3);
    round_trip(&b);
    breaker_failure(&b, &P, FAIL_TIMEOUT, SRC_LOG, T0 + 4);
    round_trip(&b);                                  /* detoured */
    breaker_tick(&b, &P, b.until_ms);
    breaker_success(&b, &P, SRC_PROBE, b.since_ms);
    round_trip(&b);                                  /* half-open, probe_ok 1 */
    breaker_force(&b, BREAKER_DETOURED, SRC_MANUAL, "Роскомнадзор: блок  %41 \\ ", 0, T0 + HOUR);
    round_trip(&b);                                  /* UTF-8, '%', '\\', spaces kept */
    ck_assert_str_eq(b.reason, "Роскомнадзор: блок  %41 \\ ");
    ck_assert_int_eq(breaker_encode(&b, text, 20), -1);
    ck_assert_str_eq(text, "");
}
END_TEST

START_TEST(encode_worst_case_fits)
{
    struct breaker b;
    char text[BREAKER_TEXT_MAX];

    breaker_init(&b, UINT64_MAX);
    b.state = BREAKER_HALF_OPEN;
    b.trips = BREAKER_MAX_TRIPS;
    b.probe_ok = BREAKER_MAX_FAILS;
    b.last_success_ms = b.last_failure_ms = UINT64_MAX;
    b.source = SRC_MANUAL;
    b.nfails = BREAKER_MAX_FAILS;
    for (int i = 0; i < BREAKER_MAX_FAILS; i++) {
        b.fails_ms[i] = UINT64_MAX - (uint64_t)(BREAKER_MAX_FAILS - i);
        b.fail_kinds[i] = FAIL_GREETING;
    }
    for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
        b.kind_counts[k] = UINT_MAX;
    memset(b.reason, 'x', sizeof(b.reason) - 1);
    ck_assert_int_lt(breaker_encode(&b, text, sizeof(text)), BREAKER_TEXT_MAX);
    round_trip(&b);
    /* Invariants broken: encode refuses. */
    b.reason[0] = '\n';
    ck_assert_int_eq(breaker_encode(&b, text, sizeof(text)), -1);
    b.reason[0] = 'x';
    b.until_ms = 5;
    ck_assert_int_eq(breaker_encode(&b, text, sizeof(text)), -1);
}
END_TEST

static int decodes(const char *text)
{
    struct breaker b;
    return breaker_decode(text, strlen(text), &b);
}

START_TEST(decode_rejects_malformed)
{
#define BASE_A "v1 state=detoured since=10 until=20 trips=1 probe_ok=0 src=log ok=0 fail=5 decay=0 "
    static const char *const bad[] = {
        "",
        "v2 state=direct since=0 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=open since=0 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=x until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=-1 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=18446744073709551616 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=007 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=0 until=9 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=0 until=0 trips=65 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=0 until=0 trips=0 probe_ok=17 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=0 until=0 trips=0 probe_ok=0 src=dns ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=0 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason",
        "v1 state=direct since=0 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=-",
        "v1  state=direct since=0 until=0 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
        "v1 state=direct since=0 until=0 trips=0 probe_ok=0 ok=0 fail=0 src=log decay=0 counts=- fails=- reason=",
        BASE_A "counts=timeout:1,timeout:2 fails=- reason=",
        BASE_A "counts=timeout:0 fails=- reason=",
        BASE_A "counts=timeout:4294967296 fails=- reason=",
        BASE_A "counts=bogus:1 fails=- reason=",
        BASE_A "counts=none:1 fails=- reason=",
        BASE_A "counts=timeout:1, fails=- reason=",
        BASE_A "counts=timeout fails=- reason=",
        BASE_A "counts=- fails=5:timeout,4:timeout reason=",
        BASE_A "counts=- fails=5:nothing reason=",
        BASE_A "counts=- fails=5 reason=",
        BASE_A "counts=- fails=1:timeout,2:timeout,3:timeout,4:timeout,5:timeout,6:timeout,7:timeout,"
               "8:timeout,9:timeout,10:timeout,11:timeout,12:timeout,13:timeout,14:timeout,15:timeout,"
               "16:timeout,17:timeout reason=",
        BASE_A "counts=- fails=- reason=tab\there",
        BASE_A "counts=- fails=- reason=line\n",
        BASE_A "counts=- fails=- reason=bad utf8 \xc3\x28",
        BASE_A "counts=- fails=- reason=overlong \xc0\xaf",
        BASE_A "counts=- fails=- reason=surrogate \xed\xa0\x80",
        BASE_A "counts=- fails=- reason=cut \xe2\x82",
        BASE_A "counts=- fails=- reason=del \x7f",
        "v1 state=half-open since=0 until=3 trips=0 probe_ok=0 src=log ok=0 fail=0 decay=0 counts=- fails=- reason=",
    };
    char long_reason[512];
    struct breaker b;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(decodes(bad[i]) == -1, "accepted #%zu: %s", i, bad[i]);
    ck_assert_int_eq(decodes(BASE_A "counts=timeout:3,greeting:1 fails=5:timeout,5:greeting reason=ok"), 0);
    snprintf(long_reason, sizeof(long_reason), BASE_A "counts=- fails=- reason=%0159d", 0);
    ck_assert_int_eq(decodes(long_reason), 0);
    snprintf(long_reason, sizeof(long_reason), BASE_A "counts=- fails=- reason=%0160d", 0);
    ck_assert_int_eq(decodes(long_reason), -1);
    /* A NUL inside the given length, and a failed decode leaves b alone. */
    static const char nul[] = BASE_A "counts=- fails=- reason=a\0b";
    breaker_init(&b, 42);
    ck_assert_int_eq(breaker_decode(nul, sizeof(nul) - 1, &b), -1);
    ck_assert_int_eq(breaker_decode(NULL, 0, &b), -1);
    ck_assert_uint_eq(b.since_ms, 42);
    /* len is honoured: the text need not end in NUL. */
    ck_assert_int_eq(breaker_decode(nul, sizeof(nul) - 3, &b), 0);
    ck_assert_str_eq(b.reason, "a");
#undef BASE_A
}
END_TEST

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Whatever decode accepts must encode and decode to the same thing. */
static void decode_any(const char *text, size_t len)
{
    struct breaker b;

    if (breaker_decode(text, len, &b) == 0)
        round_trip(&b);
}

START_TEST(decode_survives_garbage)
{
    static const char alphabet[] = "v1 state=directoupfalsinc0123456789:,-=_\t\n\x80\xc3\xa9";
    char buf[BREAKER_TEXT_MAX + 64], valid[BREAKER_TEXT_MAX];
    struct breaker b;
    int n;

    for (int i = 0; i < 20000; i++) {
        size_t len = next_random() % sizeof(buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = i % 2 ? (char)next_random() : alphabet[next_random() % (sizeof(alphabet) - 1)];
        decode_any(buf, len);
    }
    breaker_init(&b, T0);
    trip_at(&b, T0);
    breaker_failure(&b, &P, FAIL_REFUSED, SRC_LOG, T0 + 3 * MIN);
    n = breaker_encode(&b, valid, sizeof(valid));
    ck_assert_int_gt(n, 0);
    for (int cut = 0; cut <= n; cut++)
        decode_any(valid, (size_t)cut);
    for (int i = 0; i < 20000; i++) {
        memcpy(buf, valid, (size_t)n);
        for (int flips = 1 + (int)(next_random() % 3); flips > 0; flips--)
            buf[next_random() % (uint64_t)n] = (char)next_random();
        decode_any(buf, (size_t)n);
    }
}
END_TEST

START_TEST(state_names)
{
    enum breaker_state s;

    ck_assert_str_eq(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
    ck_assert_str_eq(breaker_state_name((enum breaker_state)9), "unknown");
    ck_assert_int_eq(breaker_state_parse("detoured", &s), 0);
    ck_assert_int_eq(s, BREAKER_DETOURED);
    ck_assert_int_eq(breaker_state_parse("Detoured", &s), -1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc = tcase_create("breaker");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, defaults_are_documented_ones);
    tcase_add_test(tc, threshold_within_window_trips);
    tcase_add_test(tc, failures_spread_beyond_window_do_not_trip);
    tcase_add_test(tc, only_counted_kinds_trip);
    tcase_add_test(tc, success_clears_suspicion);
    tcase_add_test(tc, cooldown_then_half_open);
    tcase_add_test(tc, half_open_probes_restore);
    tcase_add_test(tc, probe_while_detoured_goes_half_open);
    tcase_add_test(tc, half_open_failure_doubles_cooldown_to_cap);
    tcase_add_test(tc, flapping_backs_off_then_decays);
    tcase_add_test(tc, force_sets_state);
    tcase_add_test(tc, out_of_order_and_forget);
    tcase_add_test(tc, encode_decode_round_trip);
    tcase_add_test(tc, encode_worst_case_fits);
    tcase_add_test(tc, decode_rejects_malformed);
    tcase_add_test(tc, decode_survives_garbage);
    tcase_add_test(tc, state_names);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/routes/routeview: the answers milter threads read.
 * The loop side (routeview_start, routeview_set) runs on an event_base in
 * the test's thread; milter threads are real pthreads asking with
 * routeview_request.  Answers set, replaced and looked up; a request
 * delivered to the loop and answered; a request nobody answers times out;
 * malformed requests are refused; a full table forgets its direct answers
 * first.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "check_main.h"
#include "routeview.h"

static struct event_base *base;
static char asked[8][DOMAIN_MAXLEN + 1];
static int nasked;

static void setup(void)
{
    ck_assert_ptr_nonnull(base = event_base_new());
    nasked = 0;
}

static void teardown(void)
{
    routeview_stop();
    event_base_free(base);
}

static struct routeview_entry entry(enum routeview_kind kind, const char *relay, const char *reason)
{
    struct routeview_entry e;
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    snprintf(e.relay, sizeof(e.relay), "%s", relay);
    snprintf(e.reason, sizeof(e.reason), "%s", reason);
    return e;
}

/* The loop's side of a request: note the domain, answer with a detour. */
static void answer(const char *domain, void *arg)
{
    struct routeview_entry e = entry(RV_DETOUR, "relay-fi", "every MX address blocked");
    (void)arg;
    if (nasked < 8)
        snprintf(asked[nasked++], sizeof(asked[0]), "%s", domain);
    routeview_set(domain, &e);
    event_base_loopbreak(base);
}

/* Only notes the domain: nobody answers. */
static void ignore(const char *domain, void *arg)
{
    (void)arg;
    if (nasked < 8)
        snprintf(asked[nasked++], sizeof(asked[0]), "%s", domain);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct asker {
    const char *domain;
    uint64_t wait_ms;
    int rc;
    struct routeview_entry e;
    uint64_t took_ms;
};

static void *ask(void *arg)
{
    struct asker *a = arg;
    uint64_t t0 = mono_ms();
    a->rc = routeview_request(a->domain, a->wait_ms, &a->e);
    a->took_ms = mono_ms() - t0;
    return NULL;
}

static void too_late(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

/* Runs the loop until a callback breaks it or ms pass. */
static void run_loop(uint64_t ms)
{
    struct event *limit = evtimer_new(base, too_late, NULL);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(limit, &tv);
    event_base_dispatch(base);
    event_free(limit);
}

START_TEST(set_get_and_replace)
{
    struct routeview_entry e = entry(RV_DETOUR, "wg-out", "manual block"), got;
    struct routeview_stats st;

    ck_assert_int_eq(routeview_start(base, answer, NULL), 0);
    ck_assert_int_eq(routeview_get("blocked.test", &got), 0);
    routeview_set("blocked.test", &e);
    memset(&got, 0, sizeof(got));
    ck_assert_int_eq(routeview_get("blocked.test", &got), 1);
    ck_assert_int_eq(got.kind, RV_DETOUR);
    ck_assert_str_eq(got.relay, "wg-out");
    ck_assert_str_eq(got.reason, "manual block");
    /* Another domain, and one that differs only by a label, know nothing. */
    ck_assert_int_eq(routeview_get("open.test", &got), 0);
    ck_assert_int_eq(routeview_get("sub.blocked.test", &got), 0);
    /* The view swaps: a later answer replaces the earlier one. */
    e = entry(RV_POLICY, "", "every MX address blocked");
    e.policy = POLICY_TEMPFAIL;
    routeview_set("blocked.test", &e);
    ck_assert_int_eq(routeview_get("blocked.test", &got), 1);
    ck_assert_int_eq(got.kind, RV_POLICY);
    ck_assert_int_eq(got.policy, POLICY_TEMPFAIL);
    ck_assert_str_eq(got.relay, "");
    routeview_get_stats(&st);
    ck_assert_uint_eq(st.hits, 2);
    ck_assert_uint_eq(st.misses, 3);
    ck_assert_uint_eq(st.requests, 0);
}
END_TEST

START_TEST(request_reaches_the_loop_and_is_answered)
{
    struct asker a = {.domain = "new.test", .wait_ms = 5000};
    struct routeview_entry got;
    struct routeview_stats st;
    pthread_t t;

    ck_assert_int_eq(routeview_start(base, answer, NULL), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, ask, &a), 0);
    run_loop(5000);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(nasked, 1);
    ck_assert_str_eq(asked[0], "new.test");
    ck_assert_int_eq(a.rc, 1);
    ck_assert_int_eq(a.e.kind, RV_DETOUR);
    ck_assert_str_eq(a.e.relay, "relay-fi");
    ck_assert_msg(a.took_ms < 4000, "the answer took %llu ms", (unsigned long long)a.took_ms);
    ck_assert_int_eq(routeview_get("new.test", &got), 1);      /* and stays */
    routeview_get_stats(&st);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_uint_eq(st.timeouts, 0);
    ck_assert_uint_eq(st.dropped, 0);
}
END_TEST

START_TEST(request_not_answered_times_out)
{
    struct asker a = {.domain = "slow.test", .wait_ms = 150};
    struct routeview_stats st;
    pthread_t t;

    ck_assert_int_eq(routeview_start(base, ignore, NULL), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, ask, &a), 0);
    run_loop(600);                      /* the loop reads the request, nobody answers */
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(a.rc, 0);
    ck_assert_msg(a.took_ms >= 140 && a.took_ms < 2000, "waited %llu ms", (unsigned long long)a.took_ms);
    ck_assert_int_eq(nasked, 1);
    ck_assert_str_eq(asked[0], "slow.test");
    routeview_get_stats(&st);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_uint_eq(st.timeouts, 1);
}
END_TEST

START_TEST(answer_already_there_returns_at_once)
{
    struct routeview_entry e = entry(RV_DIRECT, "", "direct"), got;
    uint64_t t0;

    ck_assert_int_eq(routeview_start(base, ignore, NULL), 0);
    routeview_set("known.test", &e);
    t0 = mono_ms();
    /* Asked from this thread, the loop never runs: only the table answers. */
    ck_assert_int_eq(routeview_request("known.test", 3000, &got), 1);
    ck_assert_msg(mono_ms() - t0 < 1000, "waited for an answer it had");
    ck_assert_int_eq(got.kind, RV_DIRECT);
    ck_assert_str_eq(got.reason, "direct");
}
END_TEST

START_TEST(bad_requests_are_refused)
{
    char longname[DOMAIN_MAXLEN + 2];
    struct routeview_entry got;
    struct routeview_stats st;

    /* Before start there is no loop to ask: refused at once. */
    ck_assert_int_eq(routeview_request("a.test", 1000, &got), 0);
    ck_assert_int_eq(routeview_start(base, answer, NULL), 0);
    ck_assert_int_eq(routeview_request("", 1000, &got), 0);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    ck_assert_int_eq(routeview_request(longname, 1000, &got), 0);
    routeview_get_stats(&st);
    ck_assert_uint_eq(st.requests, 0);  /* none went through the pipe */
    run_loop(100);
    ck_assert_int_eq(nasked, 0);
}
END_TEST

START_TEST(full_table_forgets_direct_answers)
{
    struct routeview_entry direct = entry(RV_DIRECT, "", "direct");
    struct routeview_entry detour = entry(RV_DETOUR, "relay-fi", "blocked");
    struct routeview_entry got;
    char name[64];

    ck_assert_int_eq(routeview_start(base, ignore, NULL), 0);
    routeview_set("kept.test", &detour);
    for (int i = 1; i < ROUTEVIEW_MAX; i++) {
        snprintf(name, sizeof(name), "d%d.test", i);
        routeview_set(name, &direct);
    }
    ck_assert_int_eq(routeview_get("d1.test", &got), 1);
    ck_assert_int_eq(routeview_get("d65535.test", &got), 1);
    /* Full: a new domain makes the direct answers go, the detour stays. */
    routeview_set("new.test", &direct);
    ck_assert_int_eq(routeview_get("new.test", &got), 1);
    ck_assert_int_eq(routeview_get("d1.test", &got), 0);
    ck_assert_int_eq(routeview_get("d65535.test", &got), 0);
    ck_assert_int_eq(routeview_get("kept.test", &got), 1);
    ck_assert_int_eq(got.kind, RV_DETOUR);
    /* Stop forgets everything. */
    routeview_stop();
    ck_assert_int_eq(routeview_get("kept.test", &got), 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("routeview");
    TCase *tc = tcase_create("routeview");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, set_get_and_replace);
    tcase_add_test(tc, request_reaches_the_loop_and_is_answered);
    tcase_add_test(tc, request_not_answered_times_out);
    tcase_add_test(tc, answer_already_there_returns_at_once);
    tcase_add_test(tc, bad_requests_are_refused);
    tcase_add_test(tc, full_table_forgets_direct_answers);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for lib/rules/outage, the local-outage guard, under a clock the test
 * drives: many unrelated destinations failing at once is an outage; one
 * provider failing, or failures among many successes, is not.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "outage.h"

#define SEC 1000ULL
#define MIN (60 * SEC)
#define T0 1700000000000ULL

static struct outage *o;
static struct outage_params P;

static void setup(void)
{
    outage_params_default(&P);
    o = outage_new(&P);
    ck_assert_ptr_nonnull(o);
}

static void teardown(void)
{
    outage_free(o);
}

static struct netaddr addr(const char *text)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(text, &a), 0);
    return a;
}

/* One attempt at 10.<i>.0.1 for domain d<i>.test: unrelated for each i. */
static void attempt(unsigned i, int failed, uint64_t t)
{
    char a[32], d[32];
    snprintf(a, sizeof(a), "10.%u.0.1", i);
    snprintf(d, sizeof(d), "d%u.test", i);
    struct netaddr na = addr(a);
    outage_record(o, &na, d, failed, t);
}

START_TEST(defaults_and_checks)
{
    struct outage_params p = P;
    const char *why = NULL;

    ck_assert_uint_eq(P.min_destinations, 5);
    ck_assert_uint_eq(P.window_ms, 5 * MIN);
    ck_assert(P.share == 0.5);
    ck_assert_uint_eq(P.capacity, 1024);
    ck_assert_int_eq(outage_params_check(&P, &why), 0);
    p.share = 1.5;
    ck_assert_int_eq(outage_params_check(&p, &why), -1);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_null(outage_new(&p));
    p = P;
    p.capacity = 3;
    ck_assert_ptr_null(outage_new(&p));
    outage_free(NULL);
}
END_TEST

START_TEST(unrelated_failures_are_an_outage)
{
    struct outage_status st;

    for (unsigned i = 0; i < 4; i++) {
        attempt(i, 1, T0 + i * SEC);
        ck_assert_int_eq(outage_update(o, T0 + i * SEC), OUTAGE_SAME);
    }
    attempt(4, 1, T0 + 4 * SEC);
    ck_assert_int_eq(outage_update(o, T0 + 4 * SEC), OUTAGE_BEGAN);
    ck_assert(outage_active(o));
    outage_status(o, &st);
    ck_assert_int_eq(st.active, 1);
    ck_assert_uint_eq(st.since_ms, T0 + 4 * SEC);
    ck_assert_uint_eq(st.failing, 5);
    ck_assert_uint_eq(st.attempted, 5);
    ck_assert_str_eq(st.reason, "5 of 5 unrelated destinations failing within 5m");
    ck_assert_int_eq(outage_update(o, T0 + 5 * SEC), OUTAGE_SAME);
}
END_TEST

START_TEST(related_destinations_count_once)
{
    struct netaddr a;
    char text[32];

    /* Ten addresses of one /24. */
    for (unsigned i = 0; i < 10; i++) {
        snprintf(text, sizeof(text), "192.0.2.%u", i + 1);
        a = addr(text);
        outage_record(o, &a, NULL, 1, T0);
    }
    ck_assert_int_eq(outage_update(o, T0), OUTAGE_SAME);
    /* Five networks tied together by one domain (one provider). */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "198.51.%u.1", i);
        a = addr(text);
        outage_record(o, &a, "Provider.Test", 1, T0 + SEC);
    }
    ck_assert_int_eq(outage_update(o, T0 + SEC), OUTAGE_SAME);
    /* ...and that provider's custom domains on the same networks. */
    for (unsigned i = 0; i < 5; i++) {
        char dom[32];
        snprintf(text, sizeof(text), "198.51.%u.9", i);
        snprintf(dom, sizeof(dom), "custom%u.test", i);
        a = addr(text);
        outage_record(o, &a, dom, 1, T0 + 2 * SEC);
    }
    ck_assert_int_eq(outage_update(o, T0 + 2 * SEC), OUTAGE_SAME);
    /* IPv6: one /48 is one destination; different /48s are not. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "2001:db8:1:%x::25", i);
        a = addr(text);
        outage_record(o, &a, NULL, 1, T0 + 3 * SEC);
    }
    ck_assert_int_eq(outage_update(o, T0 + 3 * SEC), OUTAGE_SAME);
    for (unsigned i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "2001:db8:%x::25", 0x100 + i);
        a = addr(text);
        outage_record(o, &a, NULL, 1, T0 + 4 * SEC);
    }
    /* 192.0.2/24, the provider, 2001:db8:1::/48 and three more /48s: 6. */
    ck_assert_int_eq(outage_update(o, T0 + 4 * SEC), OUTAGE_BEGAN);
    struct outage_status st;
    outage_status(o, &st);
    ck_assert_uint_eq(st.failing, 6);
}
END_TEST

START_TEST(failures_among_successes_are_not)
{
    struct outage_status st;

    for (unsigned i = 0; i < 20; i++)
        attempt(100 + i, 0, T0 + i * SEC);
    for (unsigned i = 0; i < 8; i++)
        attempt(i, 1, T0 + 30 * SEC + i * SEC);
    ck_assert_int_eq(outage_update(o, T0 + MIN), OUTAGE_SAME);
    outage_status(o, &st);
    ck_assert_uint_eq(st.failing, 8);
    ck_assert_uint_eq(st.attempted, 28);
    ck_assert(!st.active);
    /* A destination whose latest attempt succeeded is not failing. */
    for (unsigned i = 0; i < 12; i++)
        attempt(100 + i, 1, T0 + MIN + i * SEC);
    ck_assert_int_eq(outage_update(o, T0 + 2 * MIN), OUTAGE_BEGAN);   /* 20 of 28 */
    attempt(5, 0, T0 + 2 * MIN);
    ck_assert_int_eq(outage_update(o, T0 + 2 * MIN), OUTAGE_SAME);    /* 19 of 28 */
}
END_TEST

START_TEST(ends_when_successes_return)
{
    struct outage_status st;

    for (unsigned i = 0; i < 6; i++)
        attempt(i, 1, T0);
    ck_assert_int_eq(outage_update(o, T0), OUTAGE_BEGAN);
    for (unsigned i = 0; i < 3; i++)
        attempt(i, 0, T0 + MIN);
    ck_assert_int_eq(outage_update(o, T0 + MIN), OUTAGE_SAME);        /* 3 of 6: share met */
    attempt(3, 0, T0 + MIN);
    ck_assert_int_eq(outage_update(o, T0 + MIN), OUTAGE_ENDED);       /* 2 of 6 */
    outage_status(o, &st);
    ck_assert(!st.active);
    ck_assert_uint_eq(st.since_ms, T0 + MIN);
    ck_assert_str_eq(st.reason, "only 2 of 6 destinations failing within 5m");
}
END_TEST

START_TEST(ends_after_a_quiet_window)
{
    struct outage_status st;

    for (unsigned i = 0; i < 6; i++)
        attempt(i, 1, T0);
    ck_assert_int_eq(outage_update(o, T0), OUTAGE_BEGAN);
    ck_assert_int_eq(outage_update(o, T0 + 5 * MIN - 1), OUTAGE_SAME);
    /* Fewer failing than min_destinations, but at least half, goes on... */
    for (unsigned i = 7; i < 10; i++)
        attempt(i, 1, T0 + 4 * MIN);
    ck_assert_int_eq(outage_update(o, T0 + 6 * MIN), OUTAGE_SAME);
    outage_status(o, &st);
    ck_assert_uint_eq(st.failing, 3);
    /* ...a window without any failure ends it. */
    ck_assert_int_eq(outage_update(o, T0 + 9 * MIN), OUTAGE_ENDED);
    outage_status(o, &st);
    ck_assert_str_eq(st.reason, "no destination failing within 5m");
    /* So do fewer than half of min_destinations. */
    for (unsigned i = 0; i < 6; i++)
        attempt(i, 1, T0 + 10 * MIN);
    ck_assert_int_eq(outage_update(o, T0 + 10 * MIN), OUTAGE_BEGAN);
    for (unsigned i = 0; i < 2; i++)
        attempt(20 + i, 1, T0 + 14 * MIN);
    ck_assert_int_eq(outage_update(o, T0 + 16 * MIN), OUTAGE_ENDED);
    outage_status(o, &st);
    ck_assert_str_eq(st.reason, "only 2 of 2 destinations failing within 5m");
}
END_TEST

START_TEST(links_group_destinations)
{
    struct netaddr a;
    char text[32];

    /* One provider's five networks fail before any status line names the
     * recipient domain; the links that follow make them one destination. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "198.51.%u.1", i);
        a = addr(text);
        outage_record(o, &a, NULL, 1, T0);
        outage_link(o, &a, "big.test", T0 + SEC);
        outage_link(o, &a, "big.test", T0 + SEC);       /* a repeat takes no slot */
    }
    ck_assert_int_eq(outage_update(o, T0 + SEC), OUTAGE_SAME);
    struct outage_status st;
    outage_status(o, &st);
    ck_assert_uint_eq(st.failing, 1);
    ck_assert_uint_eq(st.attempted, 1);
    /* Links alone are no attempts. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text, sizeof(text), "192.0.%u.1", i);
        a = addr(text);
        outage_link(o, &a, text, T0 + 2 * SEC);
    }
    ck_assert_int_eq(outage_update(o, T0 + 2 * SEC), OUTAGE_SAME);
    outage_status(o, &st);
    ck_assert_uint_eq(st.attempted, 1);
}
END_TEST

START_TEST(ring_is_bounded)
{
    struct outage_params p = P;
    struct outage *small;
    struct outage_status st;
    struct netaddr a = addr("203.0.113.7"), v6, bad;

    p.capacity = 16;
    small = outage_new(&p);
    ck_assert_ptr_nonnull(small);
    /* Old failures pushed out by successes. */
    for (unsigned i = 0; i < 1000; i++) {
        char text[32];
        snprintf(text, sizeof(text), "10.%u.%u.1", i / 256, i % 256);
        struct netaddr x = addr(text);
        outage_record(small, &x, NULL, i < 990, T0);
    }
    outage_record(small, &a, "x.test", 0, T0);
    outage_update(small, T0);
    outage_status(small, &st);
    ck_assert_uint_eq(st.attempted, 16);
    ck_assert_uint_eq(st.failing, 5);
    ck_assert(!st.active);
    v6 = addr("2001:db8::1");
    outage_record(small, &v6, "", 1, T0);
    memset(&bad, 0, sizeof(bad));
    outage_record(small, &bad, NULL, 1, T0);        /* not an address: ignored */
    outage_update(small, T0);
    outage_status(small, &st);
    ck_assert_uint_eq(st.attempted, 16);
    ck_assert_uint_eq(st.failing, 5);               /* one failure out, v6 in */
    outage_free(small);
}
END_TEST

START_TEST(future_and_past_times)
{
    /* Attempts stamped after "now" (clock skew between log lines) count as
     * recent; attempts older than the window never count. */
    for (unsigned i = 0; i < 5; i++)
        attempt(i, 1, T0 - 10 * MIN);
    ck_assert_int_eq(outage_update(o, T0), OUTAGE_SAME);
    for (unsigned i = 0; i < 5; i++)
        attempt(10 + i, 1, T0 + SEC);
    ck_assert_int_eq(outage_update(o, T0), OUTAGE_BEGAN);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("outage");
    TCase *tc = tcase_create("outage");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_and_checks);
    tcase_add_test(tc, unrelated_failures_are_an_outage);
    tcase_add_test(tc, related_destinations_count_once);
    tcase_add_test(tc, failures_among_successes_are_not);
    tcase_add_test(tc, ends_when_successes_return);
    tcase_add_test(tc, ends_after_a_quiet_window);
    tcase_add_test(tc, links_group_destinations);
    tcase_add_test(tc, ring_is_bounded);
    tcase_add_test(tc, future_and_past_times);
    suite_add_tcase(s, tc);
    return s;
}

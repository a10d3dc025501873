/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/engine/feedpolicy: what a feed's listing does to an
 * MX address.  Real feeds (feedset, plain files in a temporary directory),
 * real rules; Redis is never started, so what feedpolicy writes to it stays
 * queued in store_async and is counted there (pending).
 *
 * recheck_request() is replaced by a stub in this file that records its
 * calls: the real one starts a probe over the network.  Nothing else in
 * the test links relay/engine/recheck.o, so the stub is the only
 * definition.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_files.h"
#include "check_main.h"
#include "cfg.h"
#include "feedpolicy.h"
#include "feedset.h"
#include "recheck.h"
#include "rules.h"
#include "store_async.h"

#define NOW 1800000000000ULL

/* ---- the stub ---- */

static int nrequests;
static char last_host[256];
static struct netaddr last_addr;

void recheck_request(const struct netaddr *addr, const char *host)
{
    nrequests++;
    last_addr = *addr;
    snprintf(last_host, sizeof(last_host), "%s", host ? host : "");
}

/* ---- fixture ---- */

static char dir[64];
static struct event_base *base;
static struct cfg_feed feeds[3];
static struct cfg cfg;
static struct rules *rules;

static void setup(void)
{
    static char f1[128], f2[128], f3[128];
    struct rules_config rc;

    snprintf(dir, sizeof(dir), "/tmp/test_feedpolicy.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(f1, sizeof(f1), "%s/registry.txt", dir);
    snprintf(f2, sizeof(f2), "%s/suspects.txt", dir);
    snprintf(f3, sizeof(f3), "%s/partners.txt", dir);
    check_put(dir, "registry.txt", "192.0.2.0/28\n2001:db8:25::/48\n");
    check_put(dir, "suspects.txt", "198.51.100.7\n192.0.2.9\n");
    check_put(dir, "partners.txt", "192.0.2.9\n");
    memset(feeds, 0, sizeof(feeds));
    feeds[0] = (struct cfg_feed){.name = "registry", .file = f1, .format = FEED_PLAIN,
                                 .trust = FEED_TRUST_DETOUR, .min_share = -1, .recheck_ms = 3600000};
    feeds[1] = (struct cfg_feed){.name = "suspects", .file = f2, .format = FEED_PLAIN,
                                 .trust = FEED_TRUST_PROBE, .min_share = -1, .recheck_ms = 600000};
    feeds[2] = (struct cfg_feed){.name = "partners", .file = f3, .format = FEED_PLAIN,
                                 .trust = FEED_TRUST_ALLOW, .min_share = -1, .recheck_ms = 600000};
    memset(&cfg, 0, sizeof(cfg));
    breaker_params_default(&cfg.detect);
    cfg.feeds = feeds;
    cfg.nfeeds = 3;
    cfg.feed_check_ms = 10000;
    ck_assert_ptr_nonnull(base = event_base_new());
    ck_assert_int_eq(feedset_start(base, &cfg, NULL, NULL), 0);
    rules_config_default(&rc);
    ck_assert_ptr_nonnull(rules = rules_new(&rc));
    feedpolicy_start(rules, &cfg);
    nrequests = 0;
    last_host[0] = 0;
}

static void teardown(void)
{
    char cmd[128];

    feedpolicy_stop();
    feedset_stop();
    store_async_stop();
    rules_free(rules);
    event_base_free(base);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static struct netaddr A(const char *text)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(text, &a), 0);
    return a;
}

/* The address's breaker: its state, and -1 when the rules do not know it. */
static int state_of(const char *text, enum evidence_source *src)
{
    struct netaddr a = A(text);
    struct rules_addr_view v;

    if (rules_addr_get(rules, &a, &v) != 0)
        return -1;
    if (src)
        *src = v.breaker->source;
    return (int)v.breaker->state;
}

static unsigned long pending(void)
{
    struct store_async_stats st;
    store_async_get_stats(&st);
    return st.pending;
}

START_TEST(trust_detour_detours_at_once_without_a_probe)
{
    struct netaddr a = A("192.0.2.5"), b = A("2001:db8:25::1");
    enum evidence_source src;

    ck_assert_int_eq(feedpolicy_seen(&a, "mx1.blocked.test", NOW), 0);
    ck_assert_int_eq(state_of("192.0.2.5", &src), BREAKER_DETOURED);
    ck_assert_int_eq(src, SRC_FEED);
    ck_assert_int_eq(nrequests, 0);
    ck_assert_uint_eq(pending(), 1);            /* the forced state, for Redis */
    /* Seen again, same version of the feed: nothing more is done. */
    ck_assert_int_eq(feedpolicy_seen(&a, "mx1.blocked.test", NOW + 1000), 0);
    ck_assert_uint_eq(pending(), 1);
    /* IPv6, by prefix. */
    ck_assert_int_eq(feedpolicy_seen(&b, NULL, NOW), 0);
    ck_assert_int_eq(state_of("2001:db8:25::1", NULL), BREAKER_DETOURED);
    ck_assert_int_eq(feedpolicy_allowed(&a), 0);
}
END_TEST

START_TEST(unlisted_address_is_left_alone)
{
    struct netaddr a = A("192.0.2.200");

    ck_assert_int_eq(feedpolicy_seen(&a, "mx.open.test", NOW), 0);
    ck_assert_int_eq(state_of("192.0.2.200", NULL), -1);
    ck_assert_int_eq(nrequests, 0);
    ck_assert_uint_eq(pending(), 0);
    ck_assert_int_eq(feedpolicy_allowed(&a), 0);
}
END_TEST

START_TEST(listing_gone_ends_its_own_detour_only)
{
    struct netaddr a = A("192.0.2.5"), m = A("192.0.2.6");
    enum evidence_source src;

    ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW), 0);
    ck_assert_int_eq(feedpolicy_seen(&m, NULL, NOW), 0);
    ck_assert_int_eq(state_of("192.0.2.6", NULL), BREAKER_DETOURED);
    /* An administrator blocks 192.0.2.6 too: that detour is no longer the feed's. */
    ck_assert_int_ge(rules_force(rules, &m, BREAKER_DETOURED, SRC_MANUAL, "manual block", 0, NOW + 10), 0);
    /* The registry feed is dropped from the configuration: nothing lists them. */
    feeds[0] = feeds[2];
    cfg.nfeeds = 2;
    feedset_configure(&cfg);
    ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW + 20), 0);
    ck_assert_int_eq(state_of("192.0.2.5", &src), BREAKER_DIRECT);
    ck_assert_int_eq(src, SRC_FEED);
    ck_assert_int_eq(feedpolicy_seen(&m, NULL, NOW + 20), 0);
    ck_assert_int_eq(state_of("192.0.2.6", &src), BREAKER_DETOURED);
    ck_assert_int_eq(src, SRC_MANUAL);
}
END_TEST

START_TEST(allow_list_wins_and_ends_an_automatic_detour)
{
    struct netaddr a = A("192.0.2.9");
    enum evidence_source src;

    /* Listed by the registry (detour), the suspects (probe) and the
     * partners' allow list: the allow list answers. */
    ck_assert_int_eq(feedpolicy_allowed(&a), 1);
    /* Detoured by the log's evidence before the allow list was looked at. */
    ck_assert_int_ge(rules_force(rules, &a, BREAKER_DETOURED, SRC_LOG, "3 connect timeouts", 0, NOW), 0);
    ck_assert_int_eq(feedpolicy_seen(&a, "mx.partner.test", NOW + 10), 1);
    ck_assert_int_eq(state_of("192.0.2.9", &src), BREAKER_DIRECT);
    ck_assert_int_eq(src, SRC_FEED);
    ck_assert_int_eq(nrequests, 0);
    ck_assert_uint_eq(pending(), 1);
}
END_TEST

START_TEST(allow_list_leaves_a_manual_detour)
{
    struct netaddr a = A("192.0.2.9");
    enum evidence_source src;

    ck_assert_int_ge(rules_force(rules, &a, BREAKER_DETOURED, SRC_MANUAL, "manual block", 0, NOW), 0);
    ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW + 10), 1);
    ck_assert_int_eq(state_of("192.0.2.9", &src), BREAKER_DETOURED);
    ck_assert_int_eq(src, SRC_MANUAL);
    ck_assert_uint_eq(pending(), 0);
}
END_TEST

START_TEST(trust_probe_probes_then_detours_on_no_greeting)
{
    struct netaddr a = A("198.51.100.7");
    struct rules_addr_view v;
    char text[NETADDR_STRLEN];

    ck_assert_int_eq(feedpolicy_seen(&a, "mx.suspect.test", NOW), 0);
    ck_assert_int_eq(nrequests, 1);
    ck_assert_str_eq(netaddr_format(&last_addr, text, sizeof(text)), "198.51.100.7");
    ck_assert_str_eq(last_host, "mx.suspect.test");
    ck_assert_int_ne(state_of("198.51.100.7", NULL), BREAKER_DETOURED);
    /* The probe gets no greeting: detoured with the ordinary cool-down, and
     * the caller must not count the result again. */
    ck_assert_int_eq(feedpolicy_probe_result(&a, NULL, 0, FAIL_TIMEOUT, NOW + 15000), 1);
    ck_assert_int_eq(rules_addr_get(rules, &a, &v), 0);
    ck_assert_int_eq(v.breaker->state, BREAKER_DETOURED);
    ck_assert_int_eq(v.breaker->source, SRC_FEED);
    ck_assert_uint_eq(v.breaker->until_ms, NOW + 15000 + cfg.detect.cooldown_ms);
    /* A probe result for an address no probe feed lists is not feedpolicy's. */
    struct netaddr o = A("192.0.2.5");
    ck_assert_int_eq(feedpolicy_probe_result(&o, NULL, 0, FAIL_TIMEOUT, NOW), 0);
}
END_TEST

START_TEST(trust_probe_greeting_stays_direct_and_is_probed_again)
{
    struct netaddr a = A("198.51.100.7");

    ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW), 0);
    ck_assert_int_eq(nrequests, 1);
    /* A greeting: stays direct, the success counts as usual (0). */
    ck_assert_int_eq(feedpolicy_probe_result(&a, NULL, 1, FAIL_NONE, NOW + 1000), 0);
    ck_assert_int_ne(state_of("198.51.100.7", NULL), BREAKER_DETOURED);
    /* Seen again meanwhile: no new probe. */
    ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW + 2000), 0);
    feedpolicy_tick(NOW + 1000 + feeds[1].recheck_ms - 1);
    ck_assert_int_eq(nrequests, 1);
    /* The feed's recheck is due: probed again. */
    feedpolicy_tick(NOW + 1000 + feeds[1].recheck_ms);
    ck_assert_int_eq(nrequests, 2);
    /* A probe asked for that never answers is asked again after the retry. */
    feedpolicy_tick(NOW + 1000 + feeds[1].recheck_ms + FEEDPOLICY_RETRY_MS - 1);
    ck_assert_int_eq(nrequests, 2);
    feedpolicy_tick(NOW + 1000 + feeds[1].recheck_ms + FEEDPOLICY_RETRY_MS);
    ck_assert_int_eq(nrequests, 3);
}
END_TEST

static int count_detoured(const struct rules_addr_view *v, void *arg)
{
    *(int *)arg += breaker_is_detoured(v->breaker);
    return 0;
}

/* FEEDPOLICY_MAX listed addresses at once: each is found again (a second
 * sighting of the same version does nothing), and when half of them are
 * dropped in a scattered order the others are still found (the index's
 * deletes keep every probe run whole). */
START_TEST(many_listed_addresses_are_each_found_again)
{
    char text[64];
    struct netaddr a;
    enum evidence_source src;

    for (unsigned i = 0; i < FEEDPOLICY_MAX; i++) {
        snprintf(text, sizeof(text), "2001:db8:25::%x:%x", i >> 8, i & 0xff);
        a = A(text);
        ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW), 0);
    }
    unsigned long queued = pending();
    for (unsigned i = 0; i < FEEDPOLICY_MAX; i++) {
        snprintf(text, sizeof(text), "2001:db8:25::%x:%x", i >> 8, i & 0xff);
        a = A(text);
        ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW + 1), 0);
        ck_assert_int_eq(state_of(text, NULL), BREAKER_DETOURED);
    }
    ck_assert_uint_eq(pending(), queued);       /* nothing acted on twice */
    /* The registry goes: every third address is seen (its memo goes), then
     * the rest; each detour was the feed's, so each ends. */
    feeds[0] = feeds[2];
    cfg.nfeeds = 2;
    feedset_configure(&cfg);
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < FEEDPOLICY_MAX; i++) {
            if ((i % 3 == 0) != (pass == 0))
                continue;
            snprintf(text, sizeof(text), "2001:db8:25::%x:%x", i >> 8, i & 0xff);
            a = A(text);
            ck_assert_int_eq(feedpolicy_seen(&a, NULL, NOW + 2), 0);
            ck_assert_int_eq(state_of(text, &src), BREAKER_DIRECT);
            ck_assert_int_eq(src, SRC_FEED);
        }
}
END_TEST

START_TEST(recheck_all_acts_on_addresses_the_rules_know)
{
    struct netaddr a = A("192.0.2.3"), b = A("192.0.2.100");
    int detoured = 0;

    /* Known from the log only (a success each), never met by feedpolicy. */
    ck_assert_int_ge(rules_success(rules, &a, "mx1.x.test", "x.test", SRC_LOG, NOW), 0);
    ck_assert_int_ge(rules_success(rules, &b, "mx2.x.test", "x.test", SRC_LOG, NOW), 0);
    ck_assert_int_eq(state_of("192.0.2.3", NULL), BREAKER_DIRECT);
    feedpolicy_recheck_all(NOW + 1000);
    ck_assert_int_eq(state_of("192.0.2.3", NULL), BREAKER_DETOURED);
    ck_assert_int_eq(state_of("192.0.2.100", NULL), BREAKER_DIRECT);
    rules_addr_foreach(rules, count_detoured, &detoured);
    ck_assert_int_eq(detoured, 1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("feedpolicy");
    TCase *tc = tcase_create("feedpolicy");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, trust_detour_detours_at_once_without_a_probe);
    tcase_add_test(tc, unlisted_address_is_left_alone);
    tcase_add_test(tc, listing_gone_ends_its_own_detour_only);
    tcase_add_test(tc, allow_list_wins_and_ends_an_automatic_detour);
    tcase_add_test(tc, allow_list_leaves_a_manual_detour);
    tcase_add_test(tc, trust_probe_probes_then_detours_on_no_greeting);
    tcase_add_test(tc, trust_probe_greeting_stays_direct_and_is_probed_again);
    tcase_add_test(tc, recheck_all_acts_on_addresses_the_rules_know);
    tcase_add_test(tc, many_listed_addresses_are_each_found_again);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for what a race's verdict does (lib/rules/breaker_verdict.c,
 * rules_verdict, rules_outage_hold) and for its text form in the address
 * record, with the controllable clock of the callers (every call takes
 * now_ms).
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "breaker.h"
#include "check_main.h"
#include "rules.h"

#define MIN 60000ULL

static struct breaker_params params(void)
{
    struct breaker_params p;
    breaker_params_default(&p);
    p.verdict_ttl_ms = 10 * MIN;
    return p;
}

START_TEST(blocked_here_detours_at_once)
{
    struct breaker b;
    struct breaker_params p = params();
    breaker_init(&b, 1000);
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_BLOCKED_HERE, "blocked here: test", 2000), BREAKER_TRIPPED);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
    ck_assert_str_eq(b.reason, "blocked here: test");
    ck_assert_uint_eq(b.until_ms, 2000 + p.cooldown_ms);
    ck_assert_int_eq(breaker_verdict_fresh(&b, &p, 2000 + 9 * MIN), VERDICT_BLOCKED_HERE);
    ck_assert_int_eq(breaker_verdict_fresh(&b, &p, 2000 + 10 * MIN), VERDICT_NONE);
    /* A second one while detoured changes nothing but its time. */
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_BLOCKED_HERE, "again", 3000), BREAKER_SAME);
    ck_assert_str_eq(b.reason, "blocked here: test");
    ck_assert_uint_eq(b.verdict_ms, 3000);
    /* The cool-down ends; a greeting on the direct path lifts it as usual. */
    ck_assert_int_eq(breaker_tick(&b, &p, 3000 + p.cooldown_ms), BREAKER_PROBE_DUE);
    breaker_success(&b, &p, SRC_PROBE, 3000 + p.cooldown_ms + 1);
    ck_assert_int_eq(breaker_success(&b, &p, SRC_PROBE, 3000 + p.cooldown_ms + 2), BREAKER_RESTORED);
}
END_TEST

START_TEST(down_everywhere_keeps_mail_direct)
{
    struct breaker b;
    struct breaker_params p = params();
    breaker_init(&b, 0);
    for (int i = 0; i < 3; i++)
        breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, 1000 + (uint64_t)i);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
    ck_assert_uint_eq(b.trips, 1);
    /* The race says the host is down for everyone: the trip is undone. */
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_DOWN_EVERYWHERE, "down everywhere: x", 5000), BREAKER_RESTORED);
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
    ck_assert_uint_eq(b.trips, 0);
    /* While fresh, more timeouts do not trip. */
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, 6000 + (uint64_t)i), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
    ck_assert_uint_eq(b.kind_counts[FAIL_TIMEOUT], 10);    /* kept as evidence */
    /* Stale: the breaker counts again. */
    uint64_t later = 5000 + 10 * MIN;
    for (int i = 0; i < 3; i++)
        breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, later + (uint64_t)i);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
}
END_TEST

START_TEST(down_everywhere_policies)
{
    struct breaker b;
    struct breaker_params p = params();
    /* "detour": the verdict is recorded, the detour stays. */
    p.down_detour = 1;
    breaker_init(&b, 0);
    for (int i = 0; i < 3; i++)
        breaker_failure(&b, &p, FAIL_TIMEOUT, SRC_LOG, 1000 + (uint64_t)i);
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_DOWN_EVERYWHERE, NULL, 5000), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
    ck_assert_int_eq(b.verdict, VERDICT_DOWN_EVERYWHERE);
    /* An administrator's block is theirs to end, whatever the policy. */
    p.down_detour = 0;
    breaker_init(&b, 0);
    breaker_force(&b, BREAKER_DETOURED, SRC_MANUAL, "manual block", 0, 1000);
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_DOWN_EVERYWHERE, NULL, 5000), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DETOURED);
    /* Open is only recorded. */
    breaker_init(&b, 0);
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_OPEN, NULL, 5000), BREAKER_SAME);
    ck_assert_int_eq(b.state, BREAKER_DIRECT);
    ck_assert_int_eq(breaker_verdict_fresh(&b, &p, 6000), VERDICT_OPEN);
    ck_assert_int_eq(breaker_verdict(&b, &p, VERDICT_NONE, NULL, 7000), BREAKER_SAME);
    ck_assert_uint_eq(b.verdict_ms, 5000);
}
END_TEST

START_TEST(verdict_in_the_record)
{
    struct breaker b, back;
    struct breaker_params p = params();
    char text[BREAKER_TEXT_MAX];
    breaker_init(&b, 0);
    breaker_verdict(&b, &p, VERDICT_BLOCKED_HERE, "blocked here: no answer in 3.00s on the direct path", 1234);
    ck_assert_int_gt(breaker_encode(&b, text, sizeof(text)), 0);
    ck_assert_ptr_nonnull(strstr(text, " verdict=blocked-here:1234 reason=blocked here:"));
    ck_assert_int_eq(breaker_decode(text, strlen(text), &back), 0);
    ck_assert_int_eq(back.verdict, VERDICT_BLOCKED_HERE);
    ck_assert_uint_eq(back.verdict_ms, 1234);
    ck_assert_int_eq(memcmp(&b, &back, sizeof(b)), 0);
    /* A record without a verdict (an older one) still decodes. */
    breaker_init(&b, 0);
    ck_assert_int_gt(breaker_encode(&b, text, sizeof(text)), 0);
    ck_assert_ptr_null(strstr(text, "verdict="));
    ck_assert_int_eq(breaker_decode(text, strlen(text), &back), 0);
    ck_assert_int_eq(back.verdict, VERDICT_NONE);
    /* Malformed verdicts are refused. */
    const char *bad[] = {" verdict=none:5 reason=", " verdict=blocked-here:0 reason=", " verdict=maybe:5 reason=",
                         " verdict=open reason=", " verdict=open:01 reason="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char t[BREAKER_TEXT_MAX];
        char *r = strstr(text, " reason=");
        snprintf(t, sizeof(t), "%.*s%s", (int)(r - text), text, bad[i]);
        ck_assert_msg(breaker_decode(t, strlen(t), &back) == -1, "accepted: %s", t);
    }
    ck_assert_str_eq(verdict_name(VERDICT_DOWN_EVERYWHERE), "down-everywhere");
    enum verdict v;
    ck_assert_int_eq(verdict_parse("open", &v), 0);
    ck_assert_int_eq(v, VERDICT_OPEN);
    ck_assert_int_eq(verdict_parse("blocked", &v), -1);
}
END_TEST

static int domain_changes, outages;
static void on_change(const struct rules_change *c, void *arg)
{
    (void)arg;
    domain_changes += c->kind == RULES_CHANGE_DOMAIN;
    outages += c->kind == RULES_CHANGE_OUTAGE && c->outage;
}

static struct rules *new_rules(void)
{
    struct rules_config rc;
    rules_config_default(&rc);
    rc.defaults.verdict_ttl_ms = 10 * MIN;
    rc.on_change = on_change;
    domain_changes = outages = 0;
    return rules_new(&rc);
}

static struct netaddr ip(const char *t)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(t, &a), 0);
    return a;
}

START_TEST(rules_verdict_detours_the_domain)
{
    struct rules *r = new_rules();
    struct rules_mx mx[] = {{"mx1.example.com", ip("192.0.2.1")}};
    rules_domain_set_mx(r, "example.com", mx, 1, 1000);
    ck_assert_int_eq(rules_verdict(r, &mx[0].addr, "mx1.example.com", "example.com", VERDICT_BLOCKED_HERE,
                                   "blocked here: test", 2000), BREAKER_TRIPPED);
    ck_assert_int_eq(rules_domain_detoured(r, "example.com"), 1);
    ck_assert_int_eq(domain_changes, 1);
    char buf[RULES_EXPLAIN_MAX];
    ck_assert_int_eq(rules_domain_explain(r, "example.com", buf, sizeof(buf)), 0);
    ck_assert_msg(strstr(buf, "blocked here: test") != NULL, "%s", buf);
    ck_assert_int_eq(rules_verdict(r, &mx[0].addr, NULL, NULL, VERDICT_NONE, NULL, 3000), RULES_EINVAL);
    rules_free(r);
}
END_TEST

/* Ten unrelated destinations time out at once.  Without a hold the guard
 * calls it a local outage; with races under way (the hold) and their
 * blocked-here verdicts, it does not, and all ten are detoured. */
static int range(int hold)
{
    struct rules *r = new_rules();
    char a[32], d[32];
    for (int i = 0; i < 10; i++) {
        snprintf(a, sizeof(a), "198.51.%d.1", i + 1);
        snprintf(d, sizeof(d), "d%d.example", i);
        struct netaddr x = ip(a);
        if (hold)
            rules_outage_hold(r, 1000 + 5000);
        rules_failure(r, &x, NULL, d, FAIL_TIMEOUT, SRC_LOG, 1000 + (uint64_t)i);
    }
    for (int i = 0; hold && i < 10; i++) {
        snprintf(a, sizeof(a), "198.51.%d.1", i + 1);
        struct netaddr x = ip(a);
        rules_verdict(r, &x, NULL, NULL, VERDICT_BLOCKED_HERE, "blocked here", 4000);
    }
    rules_tick(r, 7000);
    int detoured = 0;
    for (int i = 0; i < 10; i++) {
        snprintf(d, sizeof(d), "d%d.example", i);
        detoured += rules_domain_detoured(r, d);
    }
    int o = outages;
    rules_free(r);
    return hold ? (o == 0 && detoured == 10) : o == 1;
}

START_TEST(range_block_is_no_outage)
{
    ck_assert_msg(range(0), "without a hold, ten timeouts at once should be a local outage");
    ck_assert_msg(range(1), "with blocked-here verdicts, no outage and all ten detoured");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("verdict");
    TCase *tc = tcase_create("verdict");
    tcase_add_test(tc, blocked_here_detours_at_once);
    tcase_add_test(tc, down_everywhere_keeps_mail_direct);
    tcase_add_test(tc, down_everywhere_policies);
    tcase_add_test(tc, verdict_in_the_record);
    tcase_add_test(tc, rules_verdict_detours_the_domain);
    tcase_add_test(tc, range_block_is_no_outage);
    suite_add_tcase(s, tc);
    return s;
}

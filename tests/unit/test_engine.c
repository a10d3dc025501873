/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/engine (engine.c, engine_routes.c): Postfix log
 * lines in, decisions out: the domain's route (engine_route), the wanted
 * transport entry (routes_get) and the milter's view (routeview_get).
 *
 * The engine module starts for real on an event_base, from a configuration
 * file written to a temporary directory, with nothing to talk to: Redis is
 * a Unix socket that does not exist (the evidence stays queued), no log is
 * followed (lines go in through engine_log_line), relays are checked at
 * loopback addresses nobody answers, and the engine's resolver
 * (eng.dns, engine_int.h) is replaced by one asking 127.0.0.1:1, so no
 * query leaves the host.  The routes module is not started: routes_set()
 * only keeps the wanted set, and the test says when a detour is live
 * (engine_on_route_live), as routes would once Postfix has it.  Manual
 * overrides come from Redis; here they are put into eng.manual directly.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_loop.h"
#include "check_files.h"
#include "check_main.h"
#include "cfg.h"
#include "engine.h"
#include "engine_int.h"
#include "msg.h"
#include "mxresolve.h"
#include "relayhealth.h"
#include "routes.h"
#include "routeview.h"

static char dir[64];
static struct event_base *base;
static struct daemon d;
static int started;

static void setup(void)
{
    char conf[4096], path[160];
    struct cfg_errors errs = {0};
    struct mxresolve_opts o = {"127.0.0.1:1", 200, 1, 0};

    snprintf(dir, sizeof(dir), "/tmp/test_engine.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    check_put(dir, "registry.txt", "198.18.0.40\n198.18.0.41\n");
    snprintf(conf, sizeof(conf),
             "site = \"test\";\n"
             "state_dir = \"%s\";\n"
             "redis = { socket = \"%s/no-redis.sock\"; connect_timeout = \"200ms\"; };\n"
             "logs = ();\n"
             "postfix = { syslog_names = [ \"postfix\" ]; };\n"
             "detection = { kinds = [ \"timeout\" ]; threshold = 3; window = \"10m\"; };\n"
             "probe = { relay_interval = \"1h\"; };\n"
             "relays = (\n"
             "  { name = \"relay-fi\"; type = \"smarthost\"; nexthop = \"smtp:[192.0.2.250]:587\";\n"
             "    check = \"127.0.0.4:9\"; },\n"
             "  { name = \"relay-de\"; type = \"smarthost\"; nexthop = \"smtp:[192.0.2.251]:587\";\n"
             "    check = \"127.0.0.5:9\"; }\n"
             ");\n"
             "destinations = (\n"
             "  { name = \"proton\"; domains = [ \"blocked.test\", \"listed.test\" ];\n"
             "    relays = [ \"relay-fi\", \"relay-de\" ]; },\n"
             "  { name = \"held\"; domains = [ \"held.test\" ]; relays = [ \"relay-fi\" ];\n"
             "    policy = \"tempfail\"; },\n"
             "  { name = \"pass\"; domains = [ \"pass.test\" ]; policy = \"pass\"; }\n"
             ");\n"
             "feeds = ( { name = \"registry\"; file = \"%s/registry.txt\"; format = \"plain\";\n"
             "            trust = \"detour\"; guard = false; } );\n"
             "routes = { table = \"%s/transport\"; };\n",
             dir, dir, dir, dir);
    check_put(dir, "mxdetour.conf", conf);
    snprintf(path, sizeof(path), "%s/mxdetour.conf", dir);
    memset(&d, 0, sizeof(d));
    d.cfg = cfg_load(path, &errs);
    ck_assert_msg(d.cfg != NULL, "%s", errs.count ? errs.text[0] : "?");
    ck_assert_ptr_nonnull(base = event_base_new());
    d.base = base;
    ck_assert_int_eq(engine_module.start(&d), 0);
    started = 1;
    /* No DNS query leaves the host. */
    mxresolve_free(eng.dns);
    ck_assert_ptr_nonnull(eng.dns = mxresolve_new_opts(base, &o));
}

static void teardown(void)
{
    char cmd[128];

    if (started)
        engine_module.stop(&d);
    routes_free();
    event_base_free(base);
    cfg_free(d.cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void line(const char *text)
{
    engine_log_line(text, strlen(text));
}

/* One delivery attempt of Postfix (timeout.log): connect timeouts on both
 * MX addresses of the domain, then the status line naming the last. */
static void timeouts(const char *domain, const char *a1, const char *a2, int n)
{
    char buf[512];

    snprintf(buf, sizeof(buf), "Nov 23 11:30:19 mta postfix/smtp[%d]: connect to mx1.%s[%s]:25: "
             "Connection timed out", 390 + n, domain, a1);
    line(buf);
    snprintf(buf, sizeof(buf), "Nov 23 11:30:22 mta postfix/smtp[%d]: connect to mx2.%s[%s]:25: "
             "Connection timed out", 390 + n, domain, a2);
    line(buf);
    snprintf(buf, sizeof(buf), "Nov 23 11:30:22 mta postfix/smtp[%d]: 1273AA720A%d: to=<u%d@%s>, "
             "relay=none, delay=6, delays=0/0/6/0, dsn=4.4.1, status=deferred (connect to mx2.%s[%s]:25: "
             "Connection timed out)", 390 + n, n, n, domain, domain, a2);
    line(buf);
}

static void blocked(const char *domain, const char *a1, const char *a2)
{
    for (int i = 0; i < 3; i++)
        timeouts(domain, a1, a2, i);
}


START_TEST(every_mx_address_blocked_detours_the_domain_via_its_first_relay)
{
    struct engine_route rt;
    struct routeview_entry v;

    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    timeouts("blocked.test", "198.18.0.2", "198.18.0.3", 0);
    timeouts("blocked.test", "198.18.0.2", "198.18.0.3", 1);
    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);          /* two of three: not yet */
    ck_assert_ptr_null(routes_get("blocked.test"));
    timeouts("blocked.test", "198.18.0.2", "198.18.0.3", 2);
    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DETOUR);
    ck_assert_str_eq(rt.relay->name, "relay-fi");
    ck_assert_str_eq(rt.why, "every MX address blocked");
    ck_assert_str_eq(routes_get("blocked.test"), "smtp:[192.0.2.250]:587");
    /* The milter is shown the detour only once Postfix has it. */
    ck_assert_int_eq(routeview_get("blocked.test", &v), 0);
    engine_on_route_live("blocked.test", NULL);
    ck_assert_int_eq(routeview_get("blocked.test", &v), 1);
    ck_assert_int_eq(v.kind, RV_DETOUR);
    ck_assert_str_eq(v.relay, "relay-fi");
}
END_TEST

START_TEST(one_mx_address_blocked_is_no_detour)
{
    struct engine_route rt;
    struct rules_addr_view av;
    struct netaddr a;
    char buf[512];

    /* mx1 times out three times; mx2 answers each time and takes the mail. */
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof(buf), "Nov 23 11:30:19 mta postfix/smtp[50%d]: connect to mx1.half.test"
                 "[198.18.0.10]:25: Connection timed out", i);
        line(buf);
        snprintf(buf, sizeof(buf), "Nov 23 11:30:22 mta postfix/smtp[50%d]: 2273AA720A%d: to=<u@half.test>, "
                 "relay=mx2.half.test[198.18.0.11]:25, delay=3, delays=0/0/3/0, dsn=2.0.0, "
                 "status=sent (250 2.0.0 Ok: queued as 4B2)", i, i);
        line(buf);
    }
    /* The evidence counted: mx1's address is detoured, mx2's is not. */
    ck_assert_int_eq(netaddr_parse("198.18.0.10", &a), 0);
    ck_assert_int_eq(rules_addr_get(eng.rules, &a, &av), 0);
    ck_assert_int_eq(av.breaker->state, BREAKER_DETOURED);
    ck_assert_int_eq(netaddr_parse("198.18.0.11", &a), 0);
    ck_assert_int_eq(rules_addr_get(eng.rules, &a, &av), 0);
    ck_assert_int_eq(av.breaker->state, BREAKER_DIRECT);
    engine_route("half.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    ck_assert_ptr_null(routes_get("half.test"));
    ck_assert_int_eq(rules_domain_detoured(eng.rules, "half.test"), 0);
}
END_TEST

START_TEST(a_policy_destination_is_answered_at_once_without_a_route)
{
    struct engine_route rt;
    struct routeview_entry v;

    blocked("held.test", "198.18.0.20", "198.18.0.21");
    engine_route("held.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_POLICY);
    ck_assert_int_eq(rt.policy, POLICY_TEMPFAIL);
    ck_assert_ptr_null(routes_get("held.test"));        /* no transport entry */
    ck_assert_int_eq(routeview_get("held.test", &v), 1);  /* nothing to wait for */
    ck_assert_int_eq(v.kind, RV_POLICY);
    ck_assert_int_eq(v.policy, POLICY_TEMPFAIL);
}
END_TEST

START_TEST(policy_pass_and_no_destination_stay_direct)
{
    struct engine_route rt;

    blocked("pass.test", "198.18.0.30", "198.18.0.31");
    ck_assert_int_eq(rules_domain_detoured(eng.rules, "pass.test"), 1);
    engine_route("pass.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    ck_assert_ptr_null(routes_get("pass.test"));
    blocked("nowhere.test", "198.18.0.32", "198.18.0.33");   /* no destination matches */
    ck_assert_int_eq(rules_domain_detoured(eng.rules, "nowhere.test"), 1);
    engine_route("nowhere.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    ck_assert_ptr_null(routes_get("nowhere.test"));
}
END_TEST

START_TEST(a_relay_down_moves_the_destination_to_the_next)
{
    struct netaddr fi, de;
    struct engine_route rt;

    ck_assert_int_eq(netaddr_parse("127.0.0.4", &fi), 0);
    ck_assert_int_eq(netaddr_parse("127.0.0.5", &de), 0);
    blocked("blocked.test", "198.18.0.2", "198.18.0.3");
    ck_assert_str_eq(routes_get("blocked.test"), "smtp:[192.0.2.250]:587");
    for (int i = 0; i < RELAYHEALTH_FALL; i++)
        relayhealth_evidence(&fi, 0);
    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DETOUR);
    ck_assert_str_eq(rt.relay->name, "relay-de");
    ck_assert_str_eq(routes_get("blocked.test"), "smtp:[192.0.2.251]:587");
    /* Every relay down: direct routing, Postfix keeps the mail. */
    for (int i = 0; i < RELAYHEALTH_FALL; i++)
        relayhealth_evidence(&de, 0);
    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    ck_assert_str_eq(rt.why, "every MX address blocked, and every relay is down");
    ck_assert_ptr_null(routes_get("blocked.test"));
    /* The first relay back: the destination goes back to it. */
    relayhealth_evidence(&fi, 1);
    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DETOUR);
    ck_assert_str_eq(rt.relay->name, "relay-fi");
    ck_assert_str_eq(routes_get("blocked.test"), "smtp:[192.0.2.250]:587");
}
END_TEST

START_TEST(manual_overrides_win_over_evidence)
{
    struct engine_route rt;
    struct manual *m;

    blocked("blocked.test", "198.18.0.2", "198.18.0.3");
    /* As on_manual() keeps them: an unblock of the blocked domain, a block
     * of an open one via a named relay. */
    m = &eng.manual[eng.nmanual++];
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "blocked.test");
    m->m.action = MANUAL_UNBLOCK;
    m = &eng.manual[eng.nmanual++];
    memset(m, 0, sizeof(*m));
    snprintf(m->name, sizeof(m->name), "open.test");
    m->m.action = MANUAL_BLOCK;
    snprintf(m->m.via, sizeof(m->m.via), "relay-de");
    engine_route("blocked.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    ck_assert_str_eq(rt.why, "manual unblock");
    engine_route("open.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DETOUR);
    ck_assert_str_eq(rt.relay->name, "relay-de");
    ck_assert_str_eq(rt.why, "manual block");
    /* A manual block via a relay that does not exist routes nowhere. */
    snprintf(m->m.via, sizeof(m->m.via), "relay-xx");
    engine_route("open.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DIRECT);
    ck_assert_str_eq(rt.why, "manual block, but no relay to use");
    /* Re-publishing (a relay change does it) applies the overrides. */
    snprintf(m->m.via, sizeof(m->m.via), "relay-de");
    engine_on_relay_change(NULL, 1, NULL);
    ck_assert_ptr_null(routes_get("blocked.test"));
    ck_assert_str_eq(routes_get("open.test"), "smtp:[192.0.2.251]:587");
}
END_TEST

START_TEST(a_listed_mx_address_detours_at_the_first_message)
{
    struct engine_route rt;
    char buf[512];

    /* Both MX addresses are in the registry feed (trust detour): the
     * first attempt's status line is enough, before any threshold. */
    snprintf(buf, sizeof(buf), "Nov 23 11:30:19 mta postfix/smtp[600]: connect to mx1.listed.test"
             "[198.18.0.40]:25: Connection timed out");
    line(buf);
    snprintf(buf, sizeof(buf), "Nov 23 11:30:22 mta postfix/smtp[600]: 3273AA720A1: to=<u@listed.test>, "
             "relay=none, delay=6, delays=0/0/6/0, dsn=4.4.1, status=deferred (connect to "
             "mx2.listed.test[198.18.0.41]:25: Connection timed out)");
    line(buf);
    engine_route("listed.test", &rt);
    ck_assert_int_eq(rt.kind, ENGINE_DETOUR);
    ck_assert_str_eq(rt.relay->name, "relay-fi");
    ck_assert_str_eq(routes_get("listed.test"), "smtp:[192.0.2.250]:587");
}
END_TEST

START_TEST(a_view_request_is_answered_from_what_is_known)
{
    struct routeview_entry v;

    blocked("blocked.test", "198.18.0.2", "198.18.0.3");
    engine_on_route_live("blocked.test", NULL);
    /* A milter thread asks for a known detoured domain: answered at once. */
    engine_on_view_request("Blocked.TEST", NULL);
    ck_assert_int_eq(routeview_get("blocked.test", &v), 1);
    ck_assert_int_eq(v.kind, RV_DETOUR);
    /* An unknown domain: resolved first; DNS does not answer here, and
     * the domain is shown direct (fail open). */
    engine_on_view_request("unknown.test", NULL);
    ck_assert_int_eq(routeview_get("unknown.test", &v), 0);
    for (int i = 0; i < 40 && routeview_get("unknown.test", &v) == 0; i++)
        check_run_loop(base, 100);
    ck_assert_int_eq(routeview_get("unknown.test", &v), 1);
    ck_assert_int_eq(v.kind, RV_DIRECT);
    /* Not a domain: no answer. */
    engine_on_view_request("not a domain", NULL);
    ck_assert_int_eq(routeview_get("not a domain", &v), 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("engine");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, every_mx_address_blocked_detours_the_domain_via_its_first_relay);
    tcase_add_test(tc, one_mx_address_blocked_is_no_detour);
    tcase_add_test(tc, a_policy_destination_is_answered_at_once_without_a_route);
    tcase_add_test(tc, policy_pass_and_no_destination_stay_direct);
    tcase_add_test(tc, a_relay_down_moves_the_destination_to_the_next);
    tcase_add_test(tc, manual_overrides_win_over_evidence);
    tcase_add_test(tc, a_listed_mx_address_detours_at_the_first_message);
    tcase_add_test(tc, a_view_request_is_answered_from_what_is_known);
    suite_add_tcase(s, tc);
    return s;
}

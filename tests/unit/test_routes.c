/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/routes/routes, the route publisher, with the real
 * postmap(1) and the system's Postfix configuration (/etc/postfix); the
 * table lives in a temporary directory.  SKIP_CASE when postmap is missing.
 * Most cases run no helper (privsep is never opened), so with reload
 * "auto" the reload cannot be asked for: routes then behaves as without a
 * reload.  The reload decision's cases run kick with a fake postqueue (as
 * tests/unit/test_kick.c: queue.json is its listing, "pqcalls" its calls)
 * and, as root, the real helper with a fake postfix ("pfcalls").
 *
 * The wanted set (normalised names, replace, remove, refused input), the
 * start (the table in force is taken; a missing database is published at
 * once), the debounce and its ceiling, when a new detour counts as live,
 * a failing postmap (the table in force stays; retried after a reload of
 * the settings), the stop publishing what is pending; and the reload
 * decision: a detour with mail waiting (deferred or active) is reloaded and
 * kicked after it, one with none waiting is not reloaded and is live and
 * kicked after the settle time, a removal is not reloaded, a queue that
 * cannot be listed is reloaded.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_loop.h"
#include "check_files.h"
#include "check_main.h"
#include "clock.h"
#include "kick.h"
#include "metrics.h"
#include "msg.h"
#include "privsep.h"
#include "routes.h"
#include "routetable.h"

#define POSTMAP "/usr/sbin/postmap"
#define CONFDIR "/etc/postfix"

static char dir[64], table[128];
static struct event_base *base;
static struct cfg cfg;
static int warnings;
static char live[32][ROUTE_DOMAIN_SIZE];
static int nlive;
static uint64_t first_live_ms;
static char infos[16384];       /* the info lines, one a line */

static void capture(int pri, const char *module, const char *text)
{
    size_t n = strlen(infos);

    (void)module;
    if (pri == LOG_WARNING)
        warnings++;
    if (pri == LOG_INFO && n + strlen(text) + 2 < sizeof(infos))
        snprintf(infos + n, sizeof(infos) - n, "%s\n", text);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_routes.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(table, sizeof(table), "%s/transport", dir);
    memset(&cfg, 0, sizeof(cfg));
    cfg.routes.mode = ROUTES_TABLE;
    cfg.routes.table = table;
    cfg.routes.table_type = (char *)"hash";
    cfg.routes.postmap = (char *)POSTMAP;
    cfg.routes.reload = RELOAD_NEVER;
    cfg.routes.reload_interval_ms = 10000;
    cfg.routes.coalesce_floor_ms = 10;
    cfg.routes.coalesce_ceiling_ms = 1000;
    cfg.postfix.config_directory = (char *)CONFDIR;
    ck_assert_ptr_nonnull(base = event_base_new());
    warnings = nlive = 0;
    first_live_ms = 0;
    infos[0] = 0;
    msg_set_capture(capture);
}

static void teardown(void)
{
    char cmd[128];

    routes_on_live(NULL, NULL);
    routes_free();
    kick_free();
    privsep_stop();
    event_base_free(base);
    msg_set_capture(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static int have_postmap(void)
{
    return access(POSTMAP, X_OK) == 0 && access(CONFDIR "/main.cf", R_OK) == 0;
}

/* The table's routes, without its header lines. */
static const char *routes_in_table(void)
{
    static char out[65536];
    const char *p = check_slurp(table);
    size_t n = 0;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (*p != '#' && n + len < sizeof(out)) {
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    out[n] = 0;
    return out;
}

static void on_live(const char *domain, void *arg)
{
    (void)arg;
    if (nlive == 0)
        first_live_ms = clock_mono_ms();
    if (nlive < 32)
        snprintf(live[nlive++], sizeof(live[0]), "%s", domain);
}


/* A table and its database, made by postmap, as an earlier run left them. */
static void table_in_force(const char *text)
{
    char cmd[256];
    FILE *fp = fopen(table, "w");

    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    snprintf(cmd, sizeof(cmd), POSTMAP " -c " CONFDIR " hash:%s", table);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(wanted_routes_are_normalised_replaced_and_removed)
{
    /* No routes_init: the wanted set is kept without a loop. */
    ck_assert_int_eq(routes_set("Blocked.TEST", "smtp:[relay.example]:587"), 0);
    ck_assert_str_eq(routes_get("blocked.test"), "smtp:[relay.example]:587");
    ck_assert_str_eq(routes_get("BLOCKED.test"), "smtp:[relay.example]:587");
    ck_assert_int_eq(routes_set(".Sub.Example", "smtp-wg:"), 0);
    ck_assert_str_eq(routes_get(".sub.example"), "smtp-wg:");
    ck_assert_ptr_null(routes_get("sub.example"));     /* the parent is not below itself */
    ck_assert_uint_eq(routes_count(), 2);
    ck_assert_int_eq(routes_set("blocked.test", "smtp:[relay.example]:587"), 0);
    ck_assert_uint_eq(routes_count(), 2);
    ck_assert_int_eq(routes_set("blocked.test", "smtp-wg:"), 0);
    ck_assert_str_eq(routes_get("blocked.test"), "smtp-wg:");
    ck_assert_uint_eq(routes_count(), 2);
    /* Refused: not a domain, a next hop Postfix would misread. */
    ck_assert_int_eq(routes_set("bad domain.test", "smtp:"), -1);
    ck_assert_int_eq(routes_set("x.test", "smtp:[r]:25 extra"), -1);
    ck_assert_int_eq(routes_set("x.test", "smtp"), -1);
    ck_assert_ptr_null(routes_get("x.test"));
    ck_assert_int_eq(warnings, 3);
    /* Direct again; a domain with no route going direct changes nothing. */
    ck_assert_int_eq(routes_set("Blocked.test", NULL), 0);
    ck_assert_ptr_null(routes_get("blocked.test"));
    ck_assert_int_eq(routes_set("never.test", ""), 0);
    ck_assert_uint_eq(routes_count(), 1);
}
END_TEST

START_TEST(start_publishes_a_missing_database_at_once)
{
    struct stat st;
    char db[160];

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    snprintf(db, sizeof(db), "%s.db", table);
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_ptr_nonnull(strstr(check_slurp(table), ", 0 routes\n"));
    ck_assert_uint_eq(routes_count(), 0);
}
END_TEST

START_TEST(start_takes_the_table_in_force)
{
    struct stat before, after;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    table_in_force("b.test\tsmtp:[relay.example]:587\na.test\tsmtp-wg:\n");
    ck_assert_int_eq(stat(table, &before), 0);
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    ck_assert_uint_eq(routes_count(), 2);
    ck_assert_str_eq(routes_get("a.test"), "smtp-wg:");
    ck_assert_str_eq(routes_get("b.test"), "smtp:[relay.example]:587");
    /* Nothing to publish: the table is left as it is, and so at stop. */
    routes_free();
    ck_assert_int_eq(stat(table, &after), 0);
    ck_assert_int_eq(before.st_ino, after.st_ino);
    ck_assert_int_eq(before.st_mtime, after.st_mtime);
}
END_TEST

START_TEST(changes_are_debounced_and_a_new_detour_is_live_once_published)
{
    uint64_t t0;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    t0 = clock_mono_ms();
    ck_assert_int_eq(routes_set("b.test", "smtp:[relay.example]:587"), 0);
    ck_assert_int_eq(routes_set("a.test", "smtp-wg:"), 0);
    ck_assert_str_eq(routes_in_table(), "");        /* not yet */
    ck_assert_int_eq(nlive, 0);
    check_run_loop(base, 1500);
    ck_assert_str_eq(routes_in_table(), "a.test\tsmtp-wg:\nb.test\tsmtp:[relay.example]:587\n");
    ck_assert_int_eq(nlive, 2);
    ck_assert_str_eq(live[0], "a.test");
    ck_assert_str_eq(live[1], "b.test");
    /* Routes were quiet: published after the floor, with postmap's time, not
     * a second later. */
    ck_assert_msg(first_live_ms - t0 >= cfg.routes.coalesce_floor_ms && first_live_ms - t0 < 500,
                  "published after %llu ms", (unsigned long long)(first_live_ms - t0));
    /* A removal is published too, but is no new detour to announce. */
    ck_assert_int_eq(routes_set("a.test", NULL), 0);
    check_run_loop(base, 1000);
    ck_assert_str_eq(routes_in_table(), "b.test\tsmtp:[relay.example]:587\n");
    ck_assert_int_eq(nlive, 2);
    ck_assert_int_eq(warnings, 0);
}
END_TEST

static int nset;

static void set_another(evutil_socket_t fd, short what, void *arg)
{
    char name[32];

    (void)fd;
    (void)what;
    (void)arg;
    if (nset == 25)
        return;                     /* the stream ends after 2.5 s */
    snprintf(name, sizeof(name), "d%d.test", ++nset);
    ck_assert_int_eq(routes_set(name, "smtp-wg:"), 0);
}

START_TEST(a_stream_of_changes_is_coalesced_up_to_the_ceiling)
{
    struct event *ev;
    struct timeval every = {0, 100000};
    uint64_t t0;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    nset = 0;
    int64_t written0 = metrics_get(MET_ROUTE_PUBLICATIONS, MP_WRITTEN);
    ev = event_new(base, -1, EV_PERSIST, set_another, NULL);
    t0 = clock_mono_ms();
    ck_assert_int_eq(routes_set("d0.test", "smtp-wg:"), 0);
    event_add(ev, &every);
    check_run_loop(base, 4500);         /* the stream, then at most a ceiling for the last batch */
    event_free(ev);
    /* A change every 100 ms for 2.5 s: the first is published after the
     * floor, then each publication doubles the wait (10, 20, 40, ... ms) until
     * the changes never leave it quiet and only the ceiling (1 s after the
     * first unpublished change) publishes: a handful of postmaps for 26
     * changes, not 26. */
    int64_t published = metrics_get(MET_ROUTE_PUBLICATIONS, MP_WRITTEN) - written0;
    ck_assert_int_gt(nlive, 0);
    ck_assert_msg(first_live_ms - t0 < 500, "first publication after %llu ms",
                  (unsigned long long)(first_live_ms - t0));
    ck_assert_msg(published >= 3 && published <= 8, "%lld publications", (long long)published);
    ck_assert_int_eq(nlive, 26);                    /* and every domain in the end */
    ck_assert_str_eq(live[0], "d0.test");
}
END_TEST

/* ------------------------------------------------ the reload decision */

static char pqcalls[160], pfcalls[160], pqscript[160], pfscript[160];

#define QLINE(queue, id, rcpt) \
    "{\"queue_name\":\"" queue "\",\"queue_id\":\"" id "\",\"recipients\":[{\"address\":\"" rcpt "\"}]}\n"

/* kick with a fake postqueue (listing queue.json, calls in pqcalls); with
 * helper and as root, the real helper with a fake postfix (pfcalls).
 * True when the helper runs. */
static int fake_postfix(int helper)
{
    struct cfg_postfix pf;
    FILE *fp;

    snprintf(pqcalls, sizeof(pqcalls), "%s/pqcalls", dir);
    snprintf(pfcalls, sizeof(pfcalls), "%s/pfcalls", dir);
    snprintf(pqscript, sizeof(pqscript), "%s/postqueue", dir);
    snprintf(pfscript, sizeof(pfscript), "%s/postfix", dir);
    ck_assert_ptr_nonnull(fp = fopen(pqscript, "w"));
    fprintf(fp, "#!/bin/sh\necho \"$3 $4\" >>%s\n"
            "[ \"$3\" = -j ] && { [ -f %s/listfail ] && exit 69; cat %s/queue.json; }\nexit 0\n",
            pqcalls, dir, dir);
    fclose(fp);
    ck_assert_ptr_nonnull(fp = fopen(pfscript, "w"));
    fprintf(fp, "#!/bin/sh\necho \"$3\" >>%s\nexit 0\n", pfcalls);
    fclose(fp);
    ck_assert_int_eq(chmod(pqscript, 0755), 0);
    ck_assert_int_eq(chmod(pfscript, 0755), 0);
    check_put(dir, "queue.json", "");
    check_put(dir, "pqcalls", "");
    check_put(dir, "pfcalls", "");
    cfg.postfix.postqueue = pqscript;
    cfg.postfix.kick_rate = 100;
    ck_assert_int_eq(kick_init(base, &cfg.postfix), 0);
    if (!helper || geteuid() != 0)
        return 0;
    memset(&pf, 0, sizeof(pf));
    pf.postfix = pfscript;
    pf.config_directory = dir;
    ck_assert_int_eq(privsep_open(&pf, NULL, 0), 0);
    ck_assert_int_eq(privsep_start(base), 0);
    ck_assert(privsep_available());
    return 1;
}

START_TEST(without_the_helper_reload_auto_still_goes_live)
{
    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    cfg.routes.reload = RELOAD_AUTO;
    fake_postfix(0);
    check_put(dir, "queue.json", QLINE("deferred", "Q1", "u@a.test"));
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    ck_assert_int_eq(routes_set("a.test", "smtp-wg:"), 0);
    /* A flush publishes at once; mail waits, but no reload can be asked
     * for, so the detour is as live as it gets without one. */
    ck_assert_int_eq(routes_flush(), 0);
    ck_assert_str_eq(routes_in_table(), "a.test\tsmtp-wg:\n");
    check_run_loop(base, 500);
    ck_assert_int_eq(nlive, 1);
    ck_assert_str_eq(live[0], "a.test");
    ck_assert_int_eq(warnings, 1);                  /* "no postfix reload (...)" */
}
END_TEST

START_TEST(a_detour_with_mail_waiting_is_reloaded_and_kicked)
{
    int helper;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    cfg.routes.reload = RELOAD_AUTO;
    helper = fake_postfix(1);
    check_put(dir, "queue.json", QLINE("deferred", "Q1", "u@a.test") QLINE("active", "Q2", "v@x.b.test")
        QLINE("deferred", "Q3", "w@other.test") QLINE("hold", "Q4", "h@c.test"));
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    ck_assert_int_eq(routes_set("a.test", "smtp:[relay.example]:25"), 0);
    ck_assert_int_eq(routes_set(".b.test", "smtp-wg:"), 0);
    ck_assert_int_eq(routes_set("c.test", "smtp-wg:"), 0);
    check_run_loop(base, 2500);
    ck_assert_msg(strstr(infos, "reload for a.test: 1 message waiting in Postfix's queue\n")
                  && strstr(infos, "reload for .b.test: 1 message waiting in Postfix's queue\n")
                  && strstr(infos, "no reload for c.test: no mail waiting; Postfix sees the table "
                                   "within 10 s\n"), "%s", infos);
    if (helper) {
        /* One reload for both, then the kick of the deferred message; one
         * listing answered all three domains. */
        ck_assert_str_eq(check_slurp(pfcalls), "reload\n");
        ck_assert_str_eq(check_slurp(pqcalls), "-j \n-j \n-i Q1\n");
        ck_assert_int_eq(warnings, 0);
    } else {
        ck_assert_int_eq(warnings, 1);              /* "no postfix reload (...)" */
    }
    ck_assert_int_eq(nlive, 2);                     /* c.test: after the settle time */
    ck_assert_str_eq(live[0], ".b.test");
    ck_assert_str_eq(live[1], "a.test");
}
END_TEST

START_TEST(a_detour_without_mail_waiting_is_not_reloaded_and_kicked_after_settle)
{
    uint64_t t0;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    cfg.routes.reload = RELOAD_AUTO;
    (void)fake_postfix(1);
    check_put(dir, "queue.json", QLINE("deferred", "Q3", "w@other.test") QLINE("active", "Q5", "u@c.test.example"));
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    t0 = clock_mono_ms();
    ck_assert_int_eq(routes_set("c.test", "smtp:[relay.example]:25"), 0);
    check_run_loop(base, 1500);
    ck_assert_msg(strstr(infos, "no reload for c.test: no mail waiting; Postfix sees the table "
                                "within 10 s\n"), "%s", infos);
    ck_assert_str_eq(check_slurp(pqcalls), "-j \n");      /* the probe */
    ck_assert_int_eq(nlive, 0);
    /* Mail that came meanwhile and went the old way is kicked, and the
     * detour is live, once Postfix's own check has seen the table. */
    check_put(dir, "queue.json", QLINE("deferred", "Q6", "u@c.test"));
    check_run_loop(base, ROUTES_SETTLE_MS + 1000 - (clock_mono_ms() - t0));
    ck_assert_int_eq(nlive, 1);
    ck_assert_str_eq(live[0], "c.test");
    ck_assert_msg(first_live_ms - t0 >= ROUTES_SETTLE_MS, "live after %llu ms",
                  (unsigned long long)(first_live_ms - t0));
    ck_assert_str_eq(check_slurp(pqcalls), "-j \n-j \n-i Q6\n");
    ck_assert_str_eq(check_slurp(pfcalls), "");
    ck_assert_int_eq(warnings, 0);
}
END_TEST

/* Nothing queued, but a message waits at the milter: routes_urgent makes
 * the detour reload at once, with no probe. */
START_TEST(an_urgent_detour_is_reloaded_with_no_mail_queued)
{
    int helper;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    cfg.routes.reload = RELOAD_AUTO;
    helper = fake_postfix(1);
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    routes_urgent("u.test", "a message waits for it at the milter");
    ck_assert_int_eq(routes_set("u.test", "smtp:[relay.example]:25"), 0);
    check_run_loop(base, 1500);
    ck_assert_msg(strstr(infos, "reload for u.test: a message waits for it at the milter\n"), "%s",
                  infos);
    ck_assert_str_eq(check_slurp(pqcalls), helper ? "-j \n" : "");   /* the kick after the reload, no probe */
    if (helper) {
        ck_assert_str_eq(check_slurp(pfcalls), "reload\n");
        ck_assert_int_eq(nlive, 1);
    }
    /* Used once: the next change of u.test is decided by the queue again. */
    ck_assert_int_eq(routes_set("u.test", "smtp:[relay2.example]:25"), 0);
    check_run_loop(base, 1500);
    ck_assert_msg(strstr(infos, "no reload for u.test: no mail waiting"), "%s", infos);
}
END_TEST

START_TEST(a_removal_is_not_reloaded)
{
    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    table_in_force("d.test\tsmtp:[old]:25\n");
    cfg.routes.reload = RELOAD_AUTO;
    (void)fake_postfix(1);
    check_put(dir, "queue.json", QLINE("deferred", "Q7", "u@d.test"));
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    ck_assert_int_eq(routes_set("d.test", NULL), 0);
    check_run_loop(base, 1000);
    ck_assert_str_eq(routes_in_table(), "");
    ck_assert_msg(strstr(infos, "no reload for d.test: route removed; the old one works until "
                                "Postfix sees the table within 10 s\n"), "%s", infos);
    ck_assert_str_eq(check_slurp(pfcalls), "");
    ck_assert_str_eq(check_slurp(pqcalls), "");           /* no probe; the kick after settle */
    ck_assert_int_eq(nlive, 0);
    ck_assert_int_eq(warnings, 0);
}
END_TEST

START_TEST(an_unlistable_queue_or_a_dead_relay_is_reloaded)
{
    struct cfg_relay relay = {.name = (char *)"r1", .nexthop = (char *)"smtp:[old]:25"};
    int helper;

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    table_in_force("f.test\tsmtp:[old]:25\n");
    cfg.routes.reload = RELOAD_AUTO;
    cfg.relays = &relay;        /* relayhealth is not running: r1 counts as down */
    cfg.nrelays = 1;
    helper = fake_postfix(1);
    check_put(dir, "listfail", "");
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    ck_assert_int_eq(routes_set("e.test", "smtp-wg:"), 0);
    ck_assert_int_eq(routes_set("f.test", "smtp:[new]:25"), 0);
    check_run_loop(base, 1500);
    ck_assert_msg(strstr(infos, "reload for e.test: the queue could not be listed in full\n")
                  && strstr(infos, "reload for f.test: relay r1 of its old route is down\n"),
                  "%s", infos);
    if (helper)
        ck_assert_str_eq(check_slurp(pfcalls), "reload\n");
    cfg.relays = NULL;
    cfg.nrelays = 0;
}
END_TEST

START_TEST(a_failing_postmap_keeps_the_table_and_is_retried)
{
    struct daemon d;
    struct cfg good;
    const char *before;
    static char saved[65536];

    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    table_in_force("a.test\tsmtp:[old]:25\n");
    snprintf(saved, sizeof(saved), "%s", check_slurp(table));
    good = cfg;
    cfg.routes.postmap = (char *)"/bin/false";
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    ck_assert_int_eq(routes_set("b.test", "smtp:[new]:25"), 0);
    ck_assert_int_eq(routes_flush(), -1);
    before = check_slurp(table);
    ck_assert_str_eq(before, saved);
    ck_assert_int_eq(nlive, 0);
    ck_assert_int_eq(warnings, 1);
    /* A reload of the settings brings a working postmap; the retry
     * (ROUTES_RETRY_MIN_MS) publishes. */
    memset(&d, 0, sizeof(d));
    d.base = base;
    d.cfg = &good;
    routes_module.reload(&d, &cfg);
    check_run_loop(base, ROUTES_RETRY_MIN_MS + 800);
    ck_assert_str_eq(routes_in_table(), "a.test\tsmtp:[old]:25\nb.test\tsmtp:[new]:25\n");
    ck_assert_int_eq(nlive, 1);
    ck_assert_str_eq(live[0], "b.test");
}
END_TEST

START_TEST(stop_publishes_what_is_pending)
{
    if (!have_postmap())
        SKIP_CASE("postmap or /etc/postfix/main.cf is missing");
    ck_assert_int_eq(routes_init(base, &cfg), 0);
    routes_on_live(on_live, NULL);
    ck_assert_int_eq(routes_set("a.test", "smtp-wg:"), 0);
    routes_free();
    ck_assert_str_eq(routes_in_table(), "a.test\tsmtp-wg:\n");
    ck_assert_int_eq(nlive, 0);                     /* no reload, no announcement at stop */
    ck_assert_uint_eq(routes_count(), 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("routes");
    TCase *tc = tcase_create("routes");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, wanted_routes_are_normalised_replaced_and_removed);
    tcase_add_test(tc, start_publishes_a_missing_database_at_once);
    tcase_add_test(tc, start_takes_the_table_in_force);
    tcase_add_test(tc, changes_are_debounced_and_a_new_detour_is_live_once_published);
    tcase_add_test(tc, a_stream_of_changes_is_coalesced_up_to_the_ceiling);
    tcase_add_test(tc, without_the_helper_reload_auto_still_goes_live);
    tcase_add_test(tc, a_detour_with_mail_waiting_is_reloaded_and_kicked);
    tcase_add_test(tc, a_detour_without_mail_waiting_is_not_reloaded_and_kicked_after_settle);
    tcase_add_test(tc, an_urgent_detour_is_reloaded_with_no_mail_queued);
    tcase_add_test(tc, a_removal_is_not_reloaded);
    tcase_add_test(tc, an_unlistable_queue_or_a_dead_relay_is_reloaded);
    tcase_add_test(tc, a_failing_postmap_keeps_the_table_and_is_retried);
    tcase_add_test(tc, stop_publishes_what_is_pending);
    suite_add_tcase(s, tc);
    return s;
}

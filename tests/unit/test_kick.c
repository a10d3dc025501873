/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/routes/kick, with a fake postqueue: a shell script
 * in a temporary directory that prints a fixed `postqueue -j` listing
 * (queue.json), sleeps first when the file "slow" exists, and records
 * every call in "calls"; `-i FAILME` fails like a refused id.
 *
 * What is kicked (deferred messages with a recipient in a given domain,
 * exactly or below a ".domain"), coalescing (domains given together, or
 * while a listing runs, share one listing), the rate limit, failures
 * (a missing postqueue, a failing listing, a refused id, bad domains), and
 * probes (how much mail waits per domain; they share the kicks' listing).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_files.h"
#include "check_main.h"
#include "clock.h"
#include "kick.h"
#include "msg.h"

static char dir[64], script[128], calls[128];
static struct event_base *base;
static struct cfg_postfix pf;
static int idle, warnings;
static char last_warning[512];

static void capture(int pri, const char *module, const char *text)
{
    (void)module;
    if (pri == LOG_WARNING) {
        warnings++;
        snprintf(last_warning, sizeof(last_warning), "%s", text);
    }
}

#define LISTING \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"B2\",\"recipients\":[{\"address\":\"u@blocked.test\"}]}\n" \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[{\"address\":\"x@open.test\"}," \
    "{\"address\":\"y@Blocked.TEST\"}]}\n" \
    "{\"queue_name\":\"active\",\"queue_id\":\"C3\",\"recipients\":[{\"address\":\"u@blocked.test\"}]}\n" \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"D4\",\"recipients\":[{\"address\":\"u@mx.sub.wild.test\"}]}\n" \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"E5\",\"recipients\":[{\"address\":\"u@wild.test\"}]}\n" \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"F6\",\"recipients\":[{\"address\":\"u@open.test\"}]}\n" \
    "this is not json\n" \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"FAILME\",\"recipients\":[{\"address\":\"v@fail.test\"}]}\n" \
    "{\"queue_name\":\"deferred\",\"queue_id\":\"G7\",\"recipients\":[{\"address\":\"u@blocked.test\"}]}"

static void setup(void)
{
    FILE *fp;

    snprintf(dir, sizeof(dir), "/tmp/test_kick.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/postqueue", dir);
    snprintf(calls, sizeof(calls), "%s/calls", dir);
    ck_assert_ptr_nonnull(fp = fopen(script, "w"));
    /* $1 -c, $2 the configuration directory (this dir), $3 -j or -i, $4 the id */
    fputs("#!/bin/sh\n"
          "echo \"$3 $4\" >>\"$2/calls\"\n"
          "case \"$3\" in\n"
          "-j) [ -f \"$2/slow\" ] && sleep 1\n"
          "    [ -f \"$2/listfail\" ] && { echo 'postqueue: fatal: Queue report unavailable' >&2; exit 69; }\n"
          "    cat \"$2/queue.json\" ;;\n"
          "-i) [ \"$4\" = FAILME ] && { echo 'postqueue: fatal: invalid queue id' >&2; exit 1; }\n"
          "    exit 0 ;;\n"
          "*) exit 64 ;;\n"
          "esac\n", fp);
    fclose(fp);
    ck_assert_int_eq(chmod(script, 0755), 0);
    check_put(dir, "queue.json", LISTING);
    memset(&pf, 0, sizeof(pf));
    pf.postqueue = script;
    pf.config_directory = dir;
    pf.kick_rate = 100;
    ck_assert_ptr_nonnull(base = event_base_new());
    idle = warnings = 0;
    last_warning[0] = 0;
    msg_set_capture(capture);
}

static void teardown(void)
{
    char cmd[128];

    kick_free();
    event_base_free(base);
    msg_set_capture(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void on_idle(void *arg)
{
    (void)arg;
    idle++;
    event_base_loopbreak(base);
}

static void too_late(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

/* Runs the loop until kick is idle or ms pass; the time it took. */
static uint64_t run_loop(uint64_t ms)
{
    struct event *limit = evtimer_new(base, too_late, NULL);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    uint64_t t0 = clock_mono_ms();

    evtimer_add(limit, &tv);
    event_base_dispatch(base);
    event_free(limit);
    return clock_mono_ms() - t0;
}

/* The calls the script saw, sorted, one per line. */
static const char *calls_sorted(void)
{
    static char out[4096];
    char cmd[256];
    FILE *fp;
    size_t n;

    snprintf(cmd, sizeof(cmd), "sort '%s' 2>/dev/null", calls);
    ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
    n = fread(out, 1, sizeof(out) - 1, fp);
    out[n] = 0;
    pclose(fp);
    return out;
}

static void start(void)
{
    ck_assert_int_eq(kick_init(base, &pf), 0);
    kick_on_idle(on_idle, NULL);
}

START_TEST(kicks_the_deferred_mail_of_the_domains)
{
    const char *d[] = {"Blocked.Test", ".wild.test"};
    const struct kick_stats *st;

    start();
    ck_assert_int_eq(kick_domains(d, 2), 0);
    ck_assert(!kick_idle());
    ck_assert_str_eq(calls_sorted(), "");       /* never inside the call */
    run_loop(10000);
    ck_assert_int_eq(idle, 1);
    ck_assert(kick_idle());
    /* A1 (one recipient of two), B2, G7 for blocked.test; D4 below
     * .wild.test; not C3 (active), E5 (wild.test itself), F6 (open.test). */
    ck_assert_str_eq(calls_sorted(), "-i A1\n-i B2\n-i D4\n-i G7\n-j \n");
    st = kick_stats();
    ck_assert_uint_eq(st->runs, 1);
    ck_assert_uint_eq(st->listed, 9);
    ck_assert_uint_eq(st->malformed, 1);
    ck_assert_uint_eq(st->matched, 4);
    ck_assert_uint_eq(st->kicked, 4);
    ck_assert_uint_eq(st->failed, 0);
    ck_assert_int_eq(warnings, 1);              /* the malformed line */
    ck_assert_ptr_nonnull(strstr(last_warning, "1 malformed line skipped"));
}
END_TEST

START_TEST(domains_given_together_share_one_listing)
{
    const char *a[] = {"blocked.test"}, *b[] = {"open.test", "blocked.test"};

    start();
    ck_assert_int_eq(kick_domains(a, 1), 0);
    ck_assert_int_eq(kick_domains(b, 2), 0);   /* blocked.test a second time: once */
    run_loop(10000);
    ck_assert_int_eq(idle, 1);
    ck_assert_uint_eq(kick_stats()->runs, 1);
    /* Each message once, though A1 matches both domains. */
    ck_assert_str_eq(calls_sorted(), "-i A1\n-i B2\n-i F6\n-i G7\n-j \n");
    ck_assert_uint_eq(kick_stats()->kicked, 4);
}
END_TEST

START_TEST(domains_given_during_a_listing_wait_for_the_next)
{
    const char *a[] = {"blocked.test"}, *b[] = {"open.test"}, *c[] = {".wild.test"};

    check_put(dir, "slow", "");
    start();
    ck_assert_int_eq(kick_domains(a, 1), 0);
    run_loop(300);                              /* the slow listing has started */
    ck_assert_int_eq(idle, 0);
    ck_assert_uint_eq(kick_stats()->runs, 1);
    ck_assert_int_eq(kick_domains(b, 1), 0);
    ck_assert_int_eq(kick_domains(c, 1), 0);
    run_loop(10000);
    ck_assert_int_eq(idle, 1);
    /* Two listings in all: the first one's, then one for both late domains. */
    ck_assert_uint_eq(kick_stats()->runs, 2);
    ck_assert_uint_eq(kick_stats()->matched, 3 + 3);
    ck_assert_ptr_nonnull(strstr(calls_sorted(), "-i D4\n-i F6\n-i G7\n-j \n-j \n"));
}
END_TEST

START_TEST(kicks_keep_to_the_rate)
{
    const char *d[] = {"blocked.test"};
    uint64_t took;

    pf.kick_rate = 2;                           /* one every 500 ms */
    start();
    ck_assert_int_eq(kick_domains(d, 1), 0);
    took = run_loop(10000);
    ck_assert_int_eq(idle, 1);
    ck_assert_uint_eq(kick_stats()->kicked, 3);
    ck_assert_msg(took >= 1400, "3 kicks at 2 a second in %llu ms", (unsigned long long)took);
}
END_TEST

START_TEST(a_refused_id_is_counted_and_the_rest_kicked)
{
    const char *d[] = {"fail.test", "open.test"};

    start();
    ck_assert_int_eq(kick_domains(d, 2), 0);
    run_loop(10000);
    ck_assert_int_eq(idle, 1);
    ck_assert_uint_eq(kick_stats()->kicked, 2);     /* A1, F6 */
    ck_assert_uint_eq(kick_stats()->failed, 1);     /* FAILME */
    ck_assert_ptr_nonnull(strstr(last_warning, "exit status 1: postqueue: fatal: invalid queue id"));
}
END_TEST

START_TEST(a_failing_listing_kicks_nothing)
{
    const char *d[] = {"blocked.test"};

    check_put(dir, "listfail", "");
    start();
    ck_assert_int_eq(kick_domains(d, 1), 0);
    run_loop(10000);
    ck_assert_int_eq(idle, 1);
    ck_assert_uint_eq(kick_stats()->runs, 1);
    ck_assert_uint_eq(kick_stats()->kicked, 0);
    ck_assert_str_eq(calls_sorted(), "-j \n");
    ck_assert_msg(strstr(last_warning, "exit status 69: postqueue: fatal: Queue report unavailable")
                  && strstr(last_warning, "blocked.test"), "warning: %s", last_warning);
}
END_TEST

START_TEST(missing_postqueue_and_bad_domains)
{
    const char *d[] = {"blocked.test"}, *bad[] = {"not a domain", "open.test", ""};

    ck_assert_int_eq(kick_domains(d, 1), -1);       /* before kick_init */
    pf.postqueue = (char *)"/nonexistent/postqueue";
    start();
    ck_assert_int_eq(kick_domains(d, 1), 0);
    run_loop(5000);
    ck_assert_int_eq(idle, 1);
    ck_assert_uint_eq(kick_stats()->kicked + kick_stats()->failed, 0);
    ck_assert_msg(strstr(last_warning, "/nonexistent/postqueue") && strstr(last_warning, "blocked.test"),
                  "warning: %s", last_warning);
    ck_assert(kick_idle());
    /* The valid domain of a list with bad ones is taken. */
    pf.postqueue = script;
    ck_assert_int_eq(kick_init(base, &pf), 0);
    ck_assert_int_eq(kick_domains(bad, 3), -1);
    run_loop(10000);
    ck_assert_int_eq(idle, 2);
    ck_assert_str_eq(calls_sorted(), "-i A1\n-i F6\n-j \n");
}
END_TEST

static char answers[1024];

static void on_waiting(const char *domain, long n, void *arg)
{
    size_t used = strlen(answers);

    (void)arg;
    snprintf(answers + used, sizeof(answers) - used, "%s=%ld ", domain, n);
}

START_TEST(probes_count_the_mail_waiting_and_share_the_listing)
{
    const char *p[] = {"Blocked.test", ".wild.test", "open.test", "none.test", "fail.test"};
    const char *k[] = {"open.test"};

    answers[0] = 0;
    start();
    kick_on_waiting(on_waiting, NULL);
    ck_assert_int_eq(kick_probe(p, 5), 0);
    ck_assert_int_eq(kick_domains(k, 1), 0);
    ck_assert_str_eq(answers, "");              /* never inside the call */
    run_loop(10000);
    ck_assert_int_eq(idle, 1);
    /* blocked.test: B2, A1, G7 deferred and C3 active; below .wild.test:
     * D4 (not E5, wild.test itself); answers in sorted order.  One listing
     * for the probes and the kick of open.test. */
    ck_assert_str_eq(answers, ".wild.test=1 blocked.test=4 fail.test=1 none.test=0 open.test=2 ");
    ck_assert_uint_eq(kick_stats()->runs, 1);
    ck_assert_uint_eq(kick_stats()->probed, 5);
    ck_assert_str_eq(calls_sorted(), "-i A1\n-i F6\n-j \n");
    /* A listing that fails: unknown (-1), never "none waiting". */
    answers[0] = 0;
    check_put(dir, "listfail", "");
    ck_assert_int_eq(kick_probe(p + 3, 1), 0);
    run_loop(10000);
    ck_assert_str_eq(answers, "none.test=-1 ");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("kick");
    TCase *tc = tcase_create("kick");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kicks_the_deferred_mail_of_the_domains);
    tcase_add_test(tc, domains_given_together_share_one_listing);
    tcase_add_test(tc, domains_given_during_a_listing_wait_for_the_next);
    tcase_add_test(tc, kicks_keep_to_the_rate);
    tcase_add_test(tc, a_refused_id_is_counted_and_the_rest_kicked);
    tcase_add_test(tc, a_failing_listing_kicks_nothing);
    tcase_add_test(tc, missing_postqueue_and_bad_domains);
    tcase_add_test(tc, probes_count_the_mail_waiting_and_share_the_listing);
    suite_add_tcase(s, tc);
    return s;
}

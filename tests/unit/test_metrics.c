/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for lib/metrics (the registry and its Prometheus text form)
 * and lib/config/cfg_metrics (the metrics section): exact sample lines, cumulative
 * histogram buckets, escaping, the detection-to-route timer under a fake
 * clock, counts from several threads at once, and the listen address with
 * its FILE:LINE errors.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_metrics.h"
#include "check_main.h"
#include "clock.h"
#include "evidence.h"
#include "metrics.h"

static char *rendered(void)
{
    static char text[65536];
    struct metrics_buf b = {0};

    metrics_render(&b);
    ck_assert(!b.failed);
    ck_assert_uint_lt(b.len, sizeof(text));
    memcpy(text, b.data, b.len);
    text[b.len] = '\0';
    metrics_buf_free(&b);
    return text;
}

/* The text holds line as a whole line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

#define ck_line(text, line) ck_assert_msg(has_line(text, line), "missing line: %s", line)

static void setup(void)
{
    metrics_reset();
    clock_fake(0);
}

START_TEST(counters_by_label)
{
    metrics_inc(MET_EVIDENCE, FAIL_TIMEOUT);
    metrics_inc(MET_EVIDENCE, FAIL_TIMEOUT);
    metrics_add(MET_EVIDENCE, FAIL_NONE, 5);
    metrics_inc(MET_EVIDENCE, 99);                  /* no such kind: ignored */
    metrics_set(MET_EVIDENCE, FAIL_TLS, 7);         /* not a gauge: ignored */
    char *t = rendered();
    ck_line(t, "# TYPE mxdetour_evidence_total counter");
    ck_line(t, "mxdetour_evidence_total{kind=\"timeout\"} 2");
    ck_line(t, "mxdetour_evidence_total{kind=\"reply\"} 5");
    ck_line(t, "mxdetour_evidence_total{kind=\"tls\"} 0");
    ck_assert_int_eq(metrics_get(MET_EVIDENCE, FAIL_TIMEOUT), 2);
    ck_assert_ptr_null(strstr(t, "kind=\"(null)\""));
}
END_TEST

START_TEST(gauges_are_set_not_added)
{
    metrics_set(MET_ADDRESSES_DETOURED, 0, 3);
    metrics_set(MET_ADDRESSES_DETOURED, 0, 2);
    metrics_inc(MET_LOCAL_OUTAGE, 0);               /* not a counter: ignored */
    char *t = rendered();
    ck_line(t, "# TYPE mxdetour_addresses_detoured gauge");
    ck_line(t, "mxdetour_addresses_detoured 2");
    ck_line(t, "mxdetour_local_outage 0");
}
END_TEST

START_TEST(histogram_buckets_are_cumulative)
{
    metrics_observe_ms(MET_PROBE_SECONDS, 3);       /* <= 0.005 */
    metrics_observe_ms(MET_PROBE_SECONDS, 250);     /* == 0.25: le is inclusive */
    metrics_observe_ms(MET_PROBE_SECONDS, 15000);   /* == 15 */
    metrics_observe_ms(MET_PROBE_SECONDS, 600000);  /* beyond the last bound: +Inf only */
    char *t = rendered();
    ck_line(t, "# TYPE mxdetour_probe_duration_seconds histogram");
    ck_line(t, "mxdetour_probe_duration_seconds_bucket{le=\"0.005\"} 1");
    ck_line(t, "mxdetour_probe_duration_seconds_bucket{le=\"0.1\"} 1");
    ck_line(t, "mxdetour_probe_duration_seconds_bucket{le=\"0.25\"} 2");
    ck_line(t, "mxdetour_probe_duration_seconds_bucket{le=\"15\"} 3");
    ck_line(t, "mxdetour_probe_duration_seconds_bucket{le=\"60\"} 3");
    ck_line(t, "mxdetour_probe_duration_seconds_bucket{le=\"+Inf\"} 4");
    ck_line(t, "mxdetour_probe_duration_seconds_sum 615.253000");
    ck_line(t, "mxdetour_probe_duration_seconds_count 4");
    ck_assert_int_eq(metrics_get(MET_PROBE_SECONDS, 0), 4);
}
END_TEST

START_TEST(probe_results_feed_counter_and_histogram)
{
    metrics_probe_result(0, 0, 40);                 /* greeting */
    metrics_probe_result(0, 6, 1);                  /* error: no duration */
    metrics_probe_result(1, 2, 15000);              /* relay timeout: no MX duration */
    char *t = rendered();
    ck_line(t, "mxdetour_probes_total{result=\"greeting\"} 1");
    ck_line(t, "mxdetour_probes_total{result=\"error\"} 1");
    ck_line(t, "mxdetour_relay_probes_total{result=\"timeout\"} 1");
    ck_line(t, "mxdetour_probe_duration_seconds_count 1");
}
END_TEST

START_TEST(milter_policies_map_to_decisions)
{
    metrics_milter_policy(POLICY_HOLD);
    metrics_milter_policy(POLICY_REJECT);
    metrics_milter_policy(POLICY_REJECT);
    metrics_milter_policy(POLICY_PASS);
    metrics_inc(MET_MILTER_DECISIONS, MD_UNANSWERED);
    char *t = rendered();
    ck_line(t, "mxdetour_milter_decisions_total{decision=\"hold\"} 1");
    ck_line(t, "mxdetour_milter_decisions_total{decision=\"reject\"} 2");
    ck_line(t, "mxdetour_milter_decisions_total{decision=\"pass\"} 1");
    ck_line(t, "mxdetour_milter_decisions_total{decision=\"tempfail\"} 0");
    ck_line(t, "mxdetour_milter_decisions_total{decision=\"unanswered\"} 1");
}
END_TEST

START_TEST(detection_to_route_timer)
{
    clock_fake(1000000);
    metrics_destination_change("blocked.test", 1);
    clock_advance(700);
    metrics_destination_change("blocked.test", 1);  /* a repeat keeps the first start */
    clock_advance(800);
    metrics_detour_live("blocked.test");            /* 1.5 s */
    metrics_detour_live("blocked.test");            /* once only */
    metrics_detour_live("never-detected.test");
    metrics_destination_change("back.test", 1);
    metrics_destination_change("back.test", 0);     /* direct again: no observation */
    metrics_detour_live("back.test");
    char *t = rendered();
    ck_line(t, "mxdetour_detection_to_route_seconds_bucket{le=\"1\"} 0");
    ck_line(t, "mxdetour_detection_to_route_seconds_bucket{le=\"2\"} 1");
    ck_line(t, "mxdetour_detection_to_route_seconds_count 1");
    ck_line(t, "mxdetour_detection_to_route_seconds_sum 1.500000");
    ck_line(t, "mxdetour_destination_state_changes_total{to=\"detoured\"} 3");
    ck_line(t, "mxdetour_destination_state_changes_total{to=\"direct\"} 1");
}
END_TEST

START_TEST(timer_table_drops_the_oldest)
{
    char d[64];
    clock_fake(1000);
    for (int i = 0; i <= METRICS_MAX_TIMERS; i++) {  /* one more than fits */
        snprintf(d, sizeof(d), "d%d.test", i);
        metrics_destination_change(d, 1);
        clock_advance(10);
    }
    metrics_detour_live("d0.test");                 /* dropped to make room */
    ck_assert_int_eq(metrics_get(MET_DETOUR_ROUTE_SECONDS, 0), 0);
    snprintf(d, sizeof(d), "d%d.test", METRICS_MAX_TIMERS);
    metrics_detour_live(d);
    metrics_detour_live("d1.test");
    ck_assert_int_eq(metrics_get(MET_DETOUR_ROUTE_SECONDS, 0), 2);
}
END_TEST

START_TEST(label_values_are_escaped)
{
    struct metrics_buf b = {0};
    metrics_family(&b, "mxdetour_relay_up", "gauge", "help");
    metrics_sample(&b, "mxdetour_relay_up", "relay", "a\"b\\c\nd", 1);
    metrics_sample(&b, "mxdetour_routes", NULL, NULL, 12345678);
    ck_assert(!b.failed);
    ck_assert_str_eq(b.data, "# HELP mxdetour_relay_up help\n# TYPE mxdetour_relay_up gauge\n"
                     "mxdetour_relay_up{relay=\"a\\\"b\\\\c\\nd\"} 1\nmxdetour_routes 12345678\n");
    metrics_buf_free(&b);
}
END_TEST

START_TEST(every_family_has_help_and_type_once)
{
    char *t = rendered();
    int help = 0, type = 0;
    for (char *p = t; (p = strstr(p, "# HELP ")) != NULL; p++)
        help++;
    for (char *p = t; (p = strstr(p, "# TYPE ")) != NULL; p++)
        type++;
    ck_assert_int_eq(help, MET_COUNT);
    ck_assert_int_eq(type, MET_COUNT);
    ck_assert_ptr_null(strstr(t, "\n\n"));
    ck_assert_int_eq(t[strlen(t) - 1], '\n');
}
END_TEST

#define THREADS 4
#define PER_THREAD 200000

static void *hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        metrics_inc(MET_MILTER_DECISIONS, MD_DIRECT);
        metrics_observe_ms(MET_PROBE_SECONDS, 1);
    }
    return NULL;
}

/* The milter counts on libmilter's threads: no increment may be lost. */
START_TEST(counts_from_threads_add_up)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(metrics_get(MET_MILTER_DECISIONS, MD_DIRECT), THREADS * PER_THREAD);
    ck_assert_int_eq(metrics_get(MET_PROBE_SECONDS, 0), THREADS * PER_THREAD);
}
END_TEST

START_TEST(listen_addresses)
{
    char host[64];
    int port = 0;
    ck_assert_int_eq(cfg_metrics_listen("127.0.0.1:9466", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 9466);
    ck_assert_int_eq(cfg_metrics_listen("[::1]:1", host, sizeof(host), &port), 0);
    ck_assert_str_eq(host, "::1");
    ck_assert_int_eq(port, 1);
    static const char *const bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                                      "127.0.0.1:94x", "localhost:9466", "::1:9466", "[::1]9466",
                                      "[]:9466", ":9466", "[127.0.0.1:9466", NULL};
    for (size_t i = 0; bad[i]; i++)
        ck_assert_msg(cfg_metrics_listen(bad[i], host, sizeof(host), &port) < 0, "%s", bad[i]);
    ck_assert_int_lt(cfg_metrics_listen("[2001:db8::1]:9466", host, 8, &port), 0);  /* too small */
}
END_TEST

/* Loads text as a configuration file; the errors, joined, into got. */
static struct cfg *load_text(const char *text, char *got, size_t size)
{
    char path[] = "/tmp/test_metrics.XXXXXX";
    int fd = mkstemp(path);
    struct cfg_errors e = {0};

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cfg *c = cfg_load(path, &e);
    got[0] = '\0';
    for (size_t i = 0; i < e.count; i++) {
        const char *colon = strchr(e.text[i], ':');     /* drop the temp file name */
        strncat(got, colon ? colon + 1 : e.text[i], size - strlen(got) - 2);
        strcat(got, "\n");
    }
    cfg_errors_clear(&e);
    unlink(path);
    return c;
}

START_TEST(config_section)
{
    char got[2048];
    struct cfg *c = load_text("site = \"lab\";\n", got, sizeof(got));
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(c->metrics.listen);          /* off by default */
    cfg_free(c);

    c = load_text("site = \"lab\";\nmetrics = { listen = \"[::1]:9466\"; };\n", got, sizeof(got));
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->metrics.listen, "[::1]:9466");
    cfg_free(c);

    c = load_text("site = \"lab\";\nmetrics = {\n  listen = \"0.0.0.0\";\n  port = 1;\n};\n", got,
                  sizeof(got));
    ck_assert_ptr_null(c);
    ck_assert_str_eq(got, "3: metrics.listen: \"0.0.0.0\" is not ADDRESS:PORT such as "
                     "\"127.0.0.1:9466\" or \"[::1]:9466\"\n4: metrics.port: unknown setting\n");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, counters_by_label);
    tcase_add_test(tc, gauges_are_set_not_added);
    tcase_add_test(tc, histogram_buckets_are_cumulative);
    tcase_add_test(tc, probe_results_feed_counter_and_histogram);
    tcase_add_test(tc, milter_policies_map_to_decisions);
    tcase_add_test(tc, detection_to_route_timer);
    tcase_add_test(tc, timer_table_drops_the_oldest);
    tcase_add_test(tc, label_values_are_escaped);
    tcase_add_test(tc, every_family_has_help_and_type_once);
    tcase_add_test(tc, counts_from_threads_add_up);
    tcase_add_test(tc, listen_addresses);
    tcase_add_test(tc, config_section);
    suite_add_tcase(s, tc);
    return s;
}

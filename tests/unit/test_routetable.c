/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/routes/routetable, with the real postmap(1) and a
 * Postfix configuration directory of the test's own (an empty main.cf: a
 * Debian install answered "No configuration" has none in /etc/postfix):
 * tables are built in a temporary directory and read back
 * with `postmap -q`; SKIP_CASE when /usr/sbin/postmap is missing.
 *
 * Then the root helper (relay/core/privsep starting mxdetour-helper, found
 * through MXDETOUR_HELPER), which routes asks for `postfix reload`, with a
 * fake postfix that records its arguments: what it runs, what it refuses,
 * its one-reload-a-second floor.  Needs root (only root starts the
 * helper); SKIP_CASE otherwise.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "msg.h"
#include "privsep.h"
#include "routetable.h"

#define POSTMAP "/usr/sbin/postmap"
#define CONFDIR confdir

static char dir[64], table[128], confdir[96];
static struct cfg_routes rt;
static int warnings;

static void capture(int pri, const char *module, const char *text)
{
    (void)module;
    (void)text;
    if (pri == LOG_WARNING)
        warnings++;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mxd-routetable-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(table, sizeof(table), "%s/transport", dir);
    snprintf(confdir, sizeof(confdir), "%s.etc", dir);     /* beside: stray_files() reads dir */
    ck_assert_int_eq(mkdir(confdir, 0755), 0);
    char mc[128];
    snprintf(mc, sizeof(mc), "%s/main.cf", confdir);
    FILE *f = fopen(mc, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    memset(&rt, 0, sizeof(rt));
    rt.mode = ROUTES_TABLE;
    rt.table = table;
    rt.table_type = (char *)"hash";
    rt.postmap = (char *)POSTMAP;
    rt.reload = RELOAD_AUTO;
    rt.reload_interval_ms = 10000;
    warnings = 0;
    msg_set_capture(capture);
}

static void teardown(void)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, confdir);
    ck_assert_int_eq(system(cmd), 0);
    msg_set_capture(NULL);
}

static int have_postmap(void)
{
    return access(POSTMAP, X_OK) == 0;
}

/* `postmap -q key hash:table`: the value, or "" when not found. */
static const char *lookup(const char *key)
{
    static char out[512];
    char cmd[512];
    FILE *fp;

    snprintf(cmd, sizeof(cmd), POSTMAP " -c %s -q '%s' hash:%s 2>/dev/null", confdir, key, table);
    out[0] = 0;
    ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
    if (fgets(out, sizeof(out), fp) == NULL)
        out[0] = 0;
    pclose(fp);
    out[strcspn(out, "\n")] = 0;
    return out;
}

static struct route R(const char *d, const char *h)
{
    struct route r;
    memset(&r, 0, sizeof(r));
    snprintf(r.domain, sizeof(r.domain), "%s", d);
    snprintf(r.nexthop, sizeof(r.nexthop), "%s", h);
    return r;
}

/* Files in dir other than transport and transport.db. */
static int stray_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "transport")
            && strcmp(e->d_name, "transport.db"))
            n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *fp = fopen(path, "r");
    size_t n;

    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static void publish_ok(const struct route *v, size_t n, int *flags)
{
    char err[512] = "";
    int rc = routetable_publish(&rt, CONFDIR, v, n, flags, err, sizeof(err));
    ck_assert_msg(rc == 0, "publish failed: %s", err);
}

START_TEST(publishes_sorted_table)
{
    struct route v[] = {R("blocked.test", "smtp:[198.19.0.2]:25"), R("a.example", "smtp-wg:"),
                        R(".sub.example", "relay:[relay.example]:587")};
    struct stat st;
    int flags = -1;
    char *text;

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    publish_ok(v, 3, &flags);
    ck_assert_int_eq(flags, 0);
    ck_assert_str_eq(lookup("blocked.test"), "smtp:[198.19.0.2]:25");
    ck_assert_str_eq(lookup("a.example"), "smtp-wg:");
    ck_assert_str_eq(lookup(".sub.example"), "relay:[relay.example]:587");
    ck_assert_str_eq(lookup("open.test"), "");
    text = slurp(table);
    ck_assert_msg(strncmp(text, ROUTETABLE_HEADER "\n# written ", strlen(ROUTETABLE_HEADER) + 11) == 0,
                  "header: %s", text);
    ck_assert_ptr_nonnull(strstr(text, ", 3 routes\n.sub.example\trelay:[relay.example]:587\n"
                                       "a.example\tsmtp-wg:\nblocked.test\tsmtp:[198.19.0.2]:25\n"));
    ck_assert_int_eq(stat(table, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    ck_assert_int_eq(stray_files(), 0);
}
END_TEST

START_TEST(unchanged_content_is_a_noop)
{
    struct route v[] = {R("b.test", "smtp:[r]:25"), R("a.test", "smtp:[r]:25")};
    struct route w[] = {R("a.test", "smtp:[r]:25"), R("b.test", "smtp:[r]:25")};
    struct stat before, after;
    int flags;

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    publish_ok(v, 2, &flags);
    ck_assert_int_eq(stat(table, &before), 0);
    publish_ok(w, 2, &flags);          /* same routes, other order */
    ck_assert_int_eq(flags, ROUTETABLE_UNCHANGED);
    ck_assert_int_eq(stat(table, &after), 0);
    ck_assert_int_eq(before.st_ino, after.st_ino);
    w[1] = R("b.test", "smtp-wg:");
    publish_ok(w, 2, &flags);
    ck_assert_int_eq(flags, 0);
    ck_assert_str_eq(lookup("b.test"), "smtp-wg:");
}
END_TEST

START_TEST(missing_or_stale_database_is_rebuilt)
{
    struct route v[] = {R("a.test", "smtp:[r]:25")};
    char db[160];
    struct timespec ts[2];
    int flags;

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    snprintf(db, sizeof(db), "%s.db", table);
    publish_ok(v, 1, &flags);
    ck_assert_int_eq(unlink(db), 0);
    publish_ok(v, 1, &flags);
    ck_assert_int_eq(flags, 0);
    ck_assert_str_eq(lookup("a.test"), "smtp:[r]:25");
    /* A source newer than its database (edited, no postmap): rebuilt. */
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec += 5;
    ts[1] = ts[0];
    ck_assert_int_eq(utimensat(AT_FDCWD, table, ts, 0), 0);
    publish_ok(v, 1, &flags);
    ck_assert_int_eq(flags, 0);
    publish_ok(v, 1, &flags);
    ck_assert_int_eq(flags, ROUTETABLE_UNCHANGED);
}
END_TEST

/* On a failing postmap the table in force stays, byte for byte. */
static void old_table_survives(const char *postmap, const char *expect)
{
    struct route v[] = {R("a.test", "smtp:[old]:25")};
    struct route w[] = {R("a.test", "smtp:[new]:25"), R("b.test", "smtp:[new]:25")};
    char before[4096], err[512] = "";
    int flags = -1;

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    publish_ok(v, 1, &flags);
    snprintf(before, sizeof(before), "%s", slurp(table));
    rt.postmap = (char *)postmap;
    ck_assert_int_eq(routetable_publish(&rt, CONFDIR, w, 2, &flags, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, expect) != NULL, "err: %s", err);
    ck_assert_int_eq(flags, 0);
    ck_assert_str_eq(slurp(table), before);
    ck_assert_str_eq(lookup("a.test"), "smtp:[old]:25");
    ck_assert_str_eq(lookup("b.test"), "");
    ck_assert_int_eq(stray_files(), 0);
}

START_TEST(postmap_failing_keeps_old_table)
{
    old_table_survives("/bin/false", "exit status 1");
}
END_TEST

START_TEST(postmap_missing_keeps_old_table)
{
    old_table_survives("/nonexistent/postmap", "cannot execute /nonexistent/postmap");
}
END_TEST

START_TEST(postmap_error_text_is_reported)
{
    /* A configuration directory without main.cf: postmap says why. */
    struct route v[] = {R("a.test", "smtp:[r]:25")};
    char err[512] = "";

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    ck_assert_int_eq(routetable_publish(&rt, dir, v, 1, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "exit status") && strstr(err, "postmap: fatal"), "err: %s", err);
    ck_assert_int_eq(stray_files(), 0);
    ck_assert_int_eq(access(table, F_OK), -1);
}
END_TEST

START_TEST(invalid_routes_are_refused)
{
    static const char *const bad_domains[] = {
        "", ".", "a b.test", "A.test", "a.test.", "a..test", "a\tb", "a\nb", "#a.test",
        "a@b.test", "\001a.test", "caf\xc3\xa9.test", "a:b.test",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test"};
    static const char *const bad_hops[] = {
        "", "smtp", "smtp:[r]:25 x", "smtp:\t", "smtp:[r]\n", "sm tp:", "smtp:\x7f",
        "s/b:x", "smtp:\xc3\xa9", "#x"};
    struct route v[] = {R("ok.test", "smtp:[old]:25")};
    char err[512];

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    publish_ok(v, 1, NULL);
    for (size_t i = 0; i < sizeof(bad_domains) / sizeof(bad_domains[0]); i++) {
        struct route w[] = {R("ok.test", "smtp:[new]:25"), R(bad_domains[i], "smtp:[r]:25")};
        err[0] = 0;
        ck_assert_msg(routetable_publish(&rt, CONFDIR, w, 2, NULL, err, sizeof(err)) == -1,
                      "took domain %zu", i);
        ck_assert_msg(strstr(err, "domain") != NULL, "err: %s", err);
        ck_assert_int_eq(routetable_check(&w[1], err, sizeof(err)), -1);
    }
    for (size_t i = 0; i < sizeof(bad_hops) / sizeof(bad_hops[0]); i++) {
        struct route w[] = {R("ok.test", "smtp:[new]:25"), R("x.test", bad_hops[i])};
        ck_assert_msg(routetable_publish(&rt, CONFDIR, w, 2, NULL, err, sizeof(err)) == -1,
                      "took next hop %zu", i);
        ck_assert_msg(strstr(err, "x.test") != NULL, "err: %s", err);
    }
    {
        struct route w[] = {R("x.test", "smtp:[a]:25"), R("ok.test", "smtp:[b]:25"),
                            R("x.test", "smtp:[c]:25")};
        ck_assert_int_eq(routetable_publish(&rt, CONFDIR, w, 3, NULL, err, sizeof(err)), -1);
        ck_assert_ptr_nonnull(strstr(err, "two routes for x.test"));
    }
    {   /* not NUL-terminated within its array */
        struct route w = R("x.test", "smtp:");
        memset(w.domain, 'a', sizeof(w.domain));
        ck_assert_int_eq(routetable_check(&w, err, sizeof(err)), -1);
        w = R("x.test", "smtp:");
        memset(w.nexthop, 'a', sizeof(w.nexthop));
        ck_assert_int_eq(routetable_check(&w, err, sizeof(err)), -1);
    }
    ck_assert_str_eq(lookup("ok.test"), "smtp:[old]:25");
    ck_assert_int_eq(stray_files(), 0);
}
END_TEST

START_TEST(valid_routes_are_taken)
{
    static const char *const hops[] = {"smtp:[198.19.0.2]:25", "smtp-wg:", ":[relay.example]",
                                       "relay:[2001:db8::1]:587", "smtp_2.x:example.net"};
    char err[256];

    for (size_t i = 0; i < sizeof(hops) / sizeof(hops[0]); i++) {
        struct route r = R("xn--bcher-kva.example", hops[i]);
        ck_assert_msg(routetable_check(&r, err, sizeof(err)) == 0, "%s: %s", hops[i], err);
    }
}
END_TEST

START_TEST(empty_table_and_bad_settings)
{
    char err[512];
    int flags;

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    publish_ok(NULL, 0, &flags);
    ck_assert_int_eq(flags, 0);
    ck_assert_ptr_nonnull(strstr(slurp(table), ", 0 routes\n"));
    ck_assert_str_eq(lookup("a.test"), "");
    publish_ok(NULL, 0, &flags);
    ck_assert_int_eq(flags, ROUTETABLE_UNCHANGED);
    rt.table_type = (char *)"regexp";
    ck_assert_int_eq(routetable_publish(&rt, CONFDIR, NULL, 0, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "regexp"));
    rt.table_type = (char *)"hash";
    rt.table = (char *)"relative/transport";
    ck_assert_int_eq(routetable_publish(&rt, CONFDIR, NULL, 0, NULL, err, sizeof(err)), -1);
    rt.table = (char *)"/nonexistent-dir/transport";
    ck_assert_int_eq(routetable_publish(&rt, CONFDIR, NULL, 0, NULL, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cannot create") != NULL, "err: %s", err);
    ck_assert_str_eq(routetable_db_suffix("lmdb"), ".lmdb");
    ck_assert_str_eq(routetable_db_suffix("cdb"), ".cdb");
    ck_assert_ptr_null(routetable_db_suffix("pcre"));
}
END_TEST

START_TEST(load_reads_back_what_was_published)
{
    struct route v[] = {R("b.test", "smtp:[r]:25"), R("a.test", "smtp-wg:")}, *got;
    char err[256];
    size_t n;

    if (!have_postmap())
        SKIP_CASE("postmap is not installed");
    publish_ok(v, 2, NULL);
    ck_assert_int_eq(routetable_load(table, &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(got[0].domain, "a.test");
    ck_assert_str_eq(got[0].nexthop, "smtp-wg:");
    ck_assert_str_eq(got[1].domain, "b.test");
    free(got);
    ck_assert_int_eq(warnings, 0);
}
END_TEST

START_TEST(load_skips_bad_lines)
{
    struct route *got;
    char err[256];
    size_t n;
    FILE *fp = fopen(table, "w");

    fputs("# a comment\n\n   \n"
          "c.test smtp:[r]:25\r\n"              /* spaces and CRLF are fine */
          "bad domain.test smtp:\n"
          "A.test\tsmtp:\n"
          "x.test\tsmtp:[r]:25 extra\n"
          "nohop.test\n"
          "a.test\t\tsmtp-wg:\n"
          "c.test\tsmtp:[other]:25\n"
          "\x01.test\tsmtp:\n"
          "z.test\tsmtp:[z]:25", fp);           /* no final newline */
    fclose(fp);
    ck_assert_int_eq(routetable_load(table, &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(got[0].domain, "a.test");
    ck_assert_str_eq(got[1].domain, "c.test");
    ck_assert_str_eq(got[2].domain, "z.test");
    ck_assert_str_eq(got[2].nexthop, "smtp:[z]:25");
    ck_assert_int_eq(warnings, 6);
    free(got);
    ck_assert_int_eq(routetable_load("/nonexistent/transport", &got, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(got);
    ck_assert_int_eq(routetable_load(dir, &got, &n, err, sizeof(err)), -1);
}
END_TEST

/* ---------------------------------------------------------------- privsep */

static struct event_base *pbase;
static char pcalls[160], pexit[160];
static int pstatus, pdone;
static char ptext[PRIVSEP_TEXT_MAX];

static void privsep_setup(void)
{
    char script[160];
    struct cfg_postfix pf;
    FILE *fp;

    setup();
    snprintf(pcalls, sizeof(pcalls), "%s/calls", dir);
    snprintf(pexit, sizeof(pexit), "%s/exit", dir);
    snprintf(script, sizeof(script), "%s/postfix", dir);
    ck_assert_ptr_nonnull(fp = fopen(script, "w"));
    fprintf(fp, "#!/bin/sh\necho \"$(date +%%s%%3N) $*\" >>%s\n"
            "[ -f %s ] && { echo \"postfix: fatal: told to fail\"; exit $(cat %s); }\nexit 0\n",
            pcalls, pexit, pexit);
    fclose(fp);
    chmod(script, 0755);
    memset(&pf, 0, sizeof(pf));
    pf.postfix = script;
    pf.config_directory = dir;
    ck_assert_ptr_nonnull(pbase = event_base_new());
    if (geteuid() == 0) {
        ck_assert_int_eq(privsep_open(&pf, NULL, 0), 0);
        ck_assert_int_eq(privsep_start(pbase), 0);
        ck_assert(privsep_available());
    }
}

static void privsep_teardown(void)
{
    privsep_stop();
    event_base_free(pbase);
    teardown();
}

static void answered(int status, const char *text, void *arg)
{
    (void)arg;
    pstatus = status;
    snprintf(ptext, sizeof(ptext), "%s", text);
    pdone++;
    event_base_loopbreak(pbase);
}

static void too_late(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    event_base_loopbreak(pbase);
}

/* Waits (10 s at most) for one answer. */
static void await_answer(void)
{
    struct event *limit = evtimer_new(pbase, too_late, NULL);
    struct timeval tv = {10, 0};

    pdone = 0;
    evtimer_add(limit, &tv);
    event_base_dispatch(pbase);
    event_free(limit);
    ck_assert_int_eq(pdone, 1);
}

static void reload_ok(void)
{
    char err[256];

    ck_assert_int_eq(privsep_request(PRIVSEP_RELOAD, answered, NULL, err, sizeof(err)), 0);
    await_answer();
    ck_assert_msg(pstatus == 0, "reload failed: %s", ptext);
}

static void refused(const void *msg, size_t len, const char *why)
{
    char err[256];

    ck_assert_int_eq(privsep_request_raw(msg, len, answered, NULL, err, sizeof(err)), 0);
    await_answer();
    ck_assert_int_eq(pstatus, -1);
    ck_assert_msg(strstr(ptext, why) != NULL, "answer \"%s\", wanted \"%s\"", ptext, why);
}

START_TEST(helper_runs_postfix_reload)
{
    char want[256];

    if (geteuid() != 0)
        SKIP_CASE("needs root: only root starts the helper");
    reload_ok();
    snprintf(want, sizeof(want), " -c %s reload\n", dir);
    ck_assert_msg(strstr(slurp(pcalls), want) != NULL, "calls: %s", slurp(pcalls));
}
END_TEST

START_TEST(helper_refuses_malformed_requests)
{
    struct privsep_msg m;
    char big[sizeof(struct privsep_msg) + 16];

    if (geteuid() != 0)
        SKIP_CASE("needs root: only root starts the helper");
    memset(&m, 0, sizeof(m));
    m.magic = PRIVSEP_MAGIC;
    m.type = PRIVSEP_RELOAD;
    m.id = 4242;
    refused(&m, 8, "refused: a message of 8 bytes");
    memset(big, 0, sizeof(big));
    memcpy(big, &m, sizeof(m));
    refused(big, sizeof(big), "refused: a message of 272 bytes");
    m.magic = 0x12345678;
    refused(&m, sizeof(m), "refused: bad magic");
    m.magic = PRIVSEP_MAGIC;
    m.type = 99;
    refused(&m, sizeof(m), "refused: unknown request type 99");
    m.type = PRIVSEP_RELOAD | PRIVSEP_REPLY;
    refused(&m, sizeof(m), "refused: unknown request type");
    m.type = PRIVSEP_RELOAD;
    strcpy(m.text, "; rm -rf /");
    refused(&m, sizeof(m), "refused: a reload request carries no data");
    memset(m.text, 0, sizeof(m.text));
    m.status = 7;
    refused(&m, sizeof(m), "refused: a reload request carries no data");
    ck_assert_int_eq(access(pcalls, F_OK), -1);     /* postfix never ran */
    reload_ok();                                    /* and the helper still works */
}
END_TEST

START_TEST(helper_reports_a_failing_reload_and_keeps_a_floor)
{
    char err[256];
    long long t1, t2;
    FILE *fp;

    if (geteuid() != 0)
        SKIP_CASE("needs root: only root starts the helper");
    ck_assert_ptr_nonnull(fp = fopen(pexit, "w"));
    fputs("3\n", fp);
    fclose(fp);
    ck_assert_int_eq(privsep_request(PRIVSEP_RELOAD, answered, NULL, err, sizeof(err)), 0);
    await_answer();
    ck_assert_int_eq(pstatus, -1);
    ck_assert_msg(strstr(ptext, "exit status 3: postfix: fatal: told to fail") != NULL, "%s", ptext);
    unlink(pexit);
    reload_ok();                /* at once after the first: waits for the floor */
    ck_assert_int_eq(sscanf(slurp(pcalls), "%lld %*s %*s %*s %lld", &t1, &t2), 2);
    ck_assert_msg(t2 - t1 >= PRIVSEP_RELOAD_FLOOR_MS - 50, "reloads %lld ms apart", t2 - t1);
}
END_TEST

START_TEST(no_requests_after_stop)
{
    char err[256];

    if (geteuid() != 0)
        SKIP_CASE("needs root: only root starts the helper");
    privsep_stop();
    ck_assert(!privsep_available());
    ck_assert_int_eq(privsep_request(PRIVSEP_RELOAD, answered, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "stopped"));
    ck_assert_int_eq(privsep_request((enum privsep_type)42, answered, NULL, err, sizeof(err)), -1);
    ck_assert_int_eq(warnings, 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("routetable");
    TCase *tc = tcase_create("routetable"), *tp;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, publishes_sorted_table);
    tcase_add_test(tc, unchanged_content_is_a_noop);
    tcase_add_test(tc, missing_or_stale_database_is_rebuilt);
    tcase_add_test(tc, postmap_failing_keeps_old_table);
    tcase_add_test(tc, postmap_missing_keeps_old_table);
    tcase_add_test(tc, postmap_error_text_is_reported);
    tcase_add_test(tc, invalid_routes_are_refused);
    tcase_add_test(tc, valid_routes_are_taken);
    tcase_add_test(tc, empty_table_and_bad_settings);
    tcase_add_test(tc, load_reads_back_what_was_published);
    tcase_add_test(tc, load_skips_bad_lines);
    suite_add_tcase(s, tc);
    tp = tcase_create("privsep");
    tcase_add_checked_fixture(tp, privsep_setup, privsep_teardown);
    tcase_set_timeout(tp, 30);
    tcase_add_test(tp, helper_runs_postfix_reload);
    tcase_add_test(tp, helper_refuses_malformed_requests);
    tcase_add_test(tp, helper_reports_a_failing_reload_and_keeps_a_floor);
    tcase_add_test(tp, no_requests_after_stop);
    suite_add_tcase(s, tp);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration loading: the shipped example loads with the documented
 * values; bad files produce exactly the expected "FILE:LINE: ..." lines
 * (tests/data/cfg/NAME.expected), and never a configuration.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "cfg.h"

static void enter_data_dir(void)
{
    const char *top = getenv("top_srcdir");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tests/data/cfg", top ? top : ".");
    ck_assert_int_eq(chdir(dir), 0);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    ck_assert_ptr_nonnull(fp);
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = 0;
    fclose(fp);
    return buf;
}

static void expect_errors(const char *name)
{
    char conf[256], expected[256], got[16384] = "";
    struct cfg_errors e = {0};

    enter_data_dir();
    snprintf(conf, sizeof(conf), "%s.conf", name);
    snprintf(expected, sizeof(expected), "%s.expected", name);
    ck_assert_ptr_null(cfg_load(conf, &e));
    for (size_t i = 0; i < e.count; i++) {
        strcat(got, e.text[i]);
        strcat(got, "\n");
    }
    cfg_errors_clear(&e);
    ck_assert_str_eq(got, slurp(expected));
}

START_TEST(example_loads_with_documented_values)
{
    struct cfg_errors e = {0};
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof(path), "%s/conf/mxdetour.conf", top ? top : ".");
    struct cfg *c = cfg_load(path, &e);
    for (size_t i = 0; i < e.count; i++)
        fprintf(stderr, "%s\n", e.text[i]);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->site, "msk-dc1");
    ck_assert_ptr_null(c->redis.socket);    /* Debian's redis-server: TCP only */
    ck_assert_str_eq(c->redis.host, "127.0.0.1");
    ck_assert_int_eq(c->redis.port, 6379);
    ck_assert_uint_eq(c->detect.threshold, 3);
    ck_assert_uint_eq(c->detect.window_ms, 600000);
    ck_assert_uint_eq(c->detect.kinds, FAIL_BIT(FAIL_TIMEOUT) | FAIL_BIT(FAIL_GREETING));
    ck_assert_uint_eq(c->nrelays, 2);
    ck_assert_str_eq(c->relays[0].nexthop, "smtp:[relay.example.net]:587");
    ck_assert_str_eq(c->relays[0].check_host, "relay.example.net");
    ck_assert_int_eq(c->relays[0].check_port, 587);
    ck_assert_str_eq(c->relays[1].nexthop, "smtp-wg:");
    ck_assert_int_eq(c->relays[1].type, RELAY_TUNNEL);
    ck_assert_uint_eq(c->ndests, 2);
    ck_assert_uint_eq(c->dests[0].nrelays, 2);
    ck_assert_int_eq(c->dests[0].relays[0], 1);
    ck_assert_str_eq(c->milter.socket, "unix:/var/spool/postfix/mxdetour/milter.sock");
    ck_assert_uint_eq(c->routes.reload_interval_ms, 10000);
    cfg_free(c);
}
END_TEST

START_TEST(minimal_file_gets_defaults)
{
    struct cfg_errors e = {0};
    enter_data_dir();
    struct cfg *c = cfg_load("minimal.conf", &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(c->redis.socket);
    ck_assert_str_eq(c->redis.host, "127.0.0.1");
    ck_assert_int_eq(c->redis.port, 6379);
    ck_assert_str_eq(c->redis.prefix, "mxd");
    ck_assert_uint_eq(c->detect.cooldown_ms, 300000);
    ck_assert_uint_eq(c->detect.cooldown_max_ms, 3600000);
    ck_assert_uint_eq(c->detect.probe_successes, 2);
    ck_assert_uint_eq(c->outage.min_destinations, 5);
    ck_assert_uint_eq(c->postfix.nsyslog_names, 1);
    ck_assert_str_eq(c->postfix.syslog_names[0], "postfix");
    char names[64];
    ck_assert_str_eq(cfg_syslog_names(c, names, sizeof(names)), "postfix");
    ck_assert_ptr_null(c->milter.socket);
    ck_assert_int_eq(c->routes.mode, ROUTES_TABLE);
    cfg_free(c);
}
END_TEST

START_TEST(three_errors_named_by_line) { expect_errors("three-errors"); }
END_TEST
START_TEST(every_error_reported_in_file_order) { expect_errors("many-errors"); }
END_TEST
START_TEST(syntax_error_has_line) { expect_errors("syntax"); }
END_TEST
START_TEST(feed_errors_named_by_line) { expect_errors("feed-errors"); }
END_TEST
START_TEST(kernel_tunnels_may_not_share_table_mark_or_name) { expect_errors("kernel-clash"); }
END_TEST
START_TEST(control_path_errors_named_by_line) { expect_errors("control-errors"); }
END_TEST

START_TEST(missing_file_is_an_error)
{
    struct cfg_errors e = {0};
    ck_assert_ptr_null(cfg_load("/nonexistent/mxdetour.conf", &e));
    ck_assert_uint_eq(e.count, 1);
    ck_assert_str_eq(e.text[0], "/nonexistent/mxdetour.conf:0: cannot read: No such file or directory");
    cfg_errors_clear(&e);
}
END_TEST

static struct cfg *load_text(const char *text, struct cfg_errors *e)
{
    char path[] = "/tmp/mxd-cfg-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cfg *c = cfg_load(path, e);
    unlink(path);
    return c;
}

START_TEST(destination_matching_prefers_specific)
{
    struct cfg_errors e = {0};
    struct cfg *c = load_text(
        "site = \"s\";\n"
        "relays = ( { name = \"r\"; nexthop = \"smtp:[r.test]\"; } );\n"
        "destinations = (\n"
        " { name = \"exact\"; domains = [ \"pm.test\" ]; relays = [ \"r\" ]; },\n"
        " { name = \"subs\"; domains = [ \".pm.test\", \".deep.pm.test\" ]; policy = \"hold\"; },\n"
        " { name = \"deeper\"; domains = [ \".x.deep.pm.test\" ]; policy = \"pass\"; },\n"
        " { name = \"any\"; domains = [ \"*\" ]; policy = \"tempfail\"; reply = \"try later\"; }\n"
        ");\n", &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(cfg_dest_match(c, "pm.test")->name, "exact");
    ck_assert_str_eq(cfg_dest_match(c, "a.pm.test")->name, "subs");
    ck_assert_str_eq(cfg_dest_match(c, "y.x.deep.pm.test")->name, "deeper");
    ck_assert_str_eq(cfg_dest_match(c, "xpm.test")->name, "any");
    ck_assert_str_eq(cfg_dest_match(c, "other.test")->reply, "try later");
    cfg_free(c);
}
END_TEST

START_TEST(no_catch_all_means_no_match)
{
    struct cfg_errors e = {0};
    struct cfg *c = load_text("site = \"s\"; destinations = ( { domains = [ \"a.test\" ]; policy = \"reject\"; } );", &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(cfg_dest_match(c, "b.test"));
    ck_assert_ptr_nonnull(cfg_dest_match(c, "a.test"));
    cfg_free(c);
}
END_TEST

/* Trust probe and the guard by default; an allow list is unguarded (it may
 * become empty on purpose); guard = false turns the share check off. */
START_TEST(feeds_read_with_defaults)
{
    struct cfg_errors e = {0};
    enter_data_dir();
    struct cfg *c = cfg_load("feeds.conf", &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->nfeeds, 3);
    ck_assert_uint_eq(c->feed_check_ms, 10000);
    ck_assert_str_eq(c->feeds[0].name, "registry");
    ck_assert_int_eq(c->feeds[0].trust, FEED_TRUST_PROBE);
    ck_assert_int_eq(c->feeds[0].format, 0);                /* auto */
    ck_assert(c->feeds[0].min_share == 0.5);
    ck_assert_uint_eq(c->feeds[0].recheck_ms, 6 * 3600 * 1000ULL);
    ck_assert_int_eq(c->feeds[1].trust, FEED_TRUST_DETOUR);
    ck_assert_int_eq(c->feeds[1].format, 2);                /* plain */
    ck_assert(c->feeds[1].min_share < 0);
    ck_assert_int_eq(c->feeds[2].trust, FEED_TRUST_ALLOW);
    ck_assert(c->feeds[2].min_share < 0);
    ck_assert_uint_eq(c->feeds[2].recheck_ms, 2 * 3600 * 1000ULL);
    ck_assert_int_eq(c->feeds[2].line, 5);
    cfg_free(c);
}
END_TEST

START_TEST(password_file_is_read_and_bounded)
{
    struct cfg_errors e = {0};
    char pw[] = "/tmp/mxd-pw-XXXXXX", text[512];
    int fd = mkstemp(pw);
    ck_assert_int_eq(write(fd, "s3cret\n", 7), 7);
    close(fd);
    snprintf(text, sizeof(text), "site = \"s\"; redis = { user = \"mxd\"; password_file = \"%s\"; };", pw);
    struct cfg *c = load_text(text, &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->redis.password, "s3cret");
    ck_assert_str_eq(c->redis.user, "mxd");
    cfg_free(c);
    unlink(pw);
    c = load_text(text, &e);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(e.count, 1);
    ck_assert_ptr_nonnull(strstr(e.text[0], "redis.password_file: cannot open"));
    cfg_errors_clear(&e);
}
END_TEST

START_TEST(destination_detection_overrides_inherit_globals)
{
    struct cfg_errors e = {0};
    struct cfg *c = load_text(
        "site = \"s\"; detection = { threshold = 5; window = \"20m\"; };\n"
        "destinations = ( { domains = [ \"a.test\" ]; policy = \"pass\";\n"
        "  detection = { threshold = 2; kinds = [ \"refused\" ]; }; } );", &e);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(c->dests[0].detect.threshold, 2);
    ck_assert_uint_eq(c->dests[0].detect.window_ms, 1200000);
    ck_assert_uint_eq(c->dests[0].detect.kinds, FAIL_BIT(FAIL_REFUSED));
    ck_assert_uint_eq(c->detect.threshold, 5);
    ck_assert_uint_eq(cfg_detect_for(c, "a.test")->threshold, 2);
    ck_assert_uint_eq(cfg_detect_for(c, "b.test")->threshold, 5);   /* no destination */
    ck_assert_uint_eq(cfg_detect_for(c, NULL)->threshold, 5);
    cfg_free(c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("cfg");
    tcase_add_test(tc, example_loads_with_documented_values);
    tcase_add_test(tc, minimal_file_gets_defaults);
    tcase_add_test(tc, three_errors_named_by_line);
    tcase_add_test(tc, every_error_reported_in_file_order);
    tcase_add_test(tc, syntax_error_has_line);
    tcase_add_test(tc, feed_errors_named_by_line);
    tcase_add_test(tc, kernel_tunnels_may_not_share_table_mark_or_name);
    tcase_add_test(tc, control_path_errors_named_by_line);
    tcase_add_test(tc, feeds_read_with_defaults);
    tcase_add_test(tc, missing_file_is_an_error);
    tcase_add_test(tc, destination_matching_prefers_specific);
    tcase_add_test(tc, no_catch_all_means_no_match);
    tcase_add_test(tc, password_file_is_read_and_bounded);
    tcase_add_test(tc, destination_detection_overrides_inherit_globals);
    suite_add_tcase(s, tc);
    return s;
}

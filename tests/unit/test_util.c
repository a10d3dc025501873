/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/base/duration, lib/base/netaddr, lib/evidence, lib/base/msg. */
#include "config.h"

#include <check.h>
#include <netinet/in.h>
#include <stdio.h>

#include "check_main.h"
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "duration.h"
#include "evidence.h"
#include "msg.h"
#include "netaddr.h"
#include "store.h"

START_TEST(duration_parses_units)
{
    uint64_t ms;
    ck_assert_int_eq(duration_parse("90", &ms), 0);
    ck_assert_uint_eq(ms, 90000);
    ck_assert_int_eq(duration_parse("10m", &ms), 0);
    ck_assert_uint_eq(ms, 600000);
    ck_assert_int_eq(duration_parse("1h30m", &ms), 0);
    ck_assert_uint_eq(ms, 5400000);
    ck_assert_int_eq(duration_parse("250ms", &ms), 0);
    ck_assert_uint_eq(ms, 250);
    ck_assert_int_eq(duration_parse("2d", &ms), 0);
    ck_assert_uint_eq(ms, 172800000);
}
END_TEST

START_TEST(duration_rejects_junk)
{
    uint64_t ms = 7;
    const char *bad[] = {"", "m", "10x", "-5s", "1h30", "10 m", "99999999999999999999999s", "1.5h"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(duration_parse(bad[i], &ms) == -1, "accepted '%s'", bad[i]);
    ck_assert_uint_eq(ms, 7);
}
END_TEST

START_TEST(duration_formats_shortest)
{
    char buf[32];
    ck_assert_str_eq(duration_format(600000, buf, sizeof(buf)), "10m");
    ck_assert_str_eq(duration_format(5400000, buf, sizeof(buf)), "1h30m");
    ck_assert_str_eq(duration_format(250, buf, sizeof(buf)), "250ms");
    ck_assert_str_eq(duration_format(0, buf, sizeof(buf)), "0s");
    ck_assert_str_eq(duration_format(90061000, buf, sizeof(buf)), "1d1h1m1s");
}
END_TEST

START_TEST(netaddr_socket_addresses)
{
    struct netaddr a;
    struct sockaddr_storage ss;
    socklen_t len = 0;

    ck_assert_int_eq(netaddr_parse("192.0.2.7", &a), 0);
    ck_assert_int_eq(netaddr_sockaddr(&a, 25, &ss, &len), 0);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
    ck_assert_int_eq(sin->sin_family, AF_INET);
    ck_assert_uint_eq(ntohs(sin->sin_port), 25);
    ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xC0000207u);
    ck_assert_int_eq(netaddr_parse("2001:db8::1", &a), 0);
    ck_assert_int_eq(netaddr_sockaddr(&a, 587, &ss, &len), 0);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
    ck_assert_int_eq(sin6->sin6_family, AF_INET6);
    ck_assert_uint_eq(ntohs(sin6->sin6_port), 587);
    ck_assert_int_eq(memcmp(&sin6->sin6_addr, a.bytes, 16), 0);
    a.family = AF_UNIX;
    ck_assert_int_eq(netaddr_sockaddr(&a, 25, &ss, &len), -1);
}
END_TEST

START_TEST(netaddr_canonical_forms)
{
    char buf[NETADDR_STRLEN];
    ck_assert_str_eq(netaddr_canon("185.70.40.101", buf, sizeof(buf)), "185.70.40.101");
    ck_assert_str_eq(netaddr_canon("2001:DB8:0::0:1", buf, sizeof(buf)), "2001:db8::1");
    ck_assert_str_eq(netaddr_canon("IPv6:2001:db8::1", buf, sizeof(buf)), "2001:db8::1");
    ck_assert_ptr_null(netaddr_canon("185.70.40", buf, sizeof(buf)));
    ck_assert_ptr_null(netaddr_canon("mail.example", buf, sizeof(buf)));
    ck_assert_ptr_null(netaddr_canon("1.2.3.4 ", buf, sizeof(buf)));
    struct netaddr a, b;
    ck_assert_int_eq(netaddr_parse("::ffff:1.2.3.4", &a), 0);
    ck_assert_int_eq(a.family, AF_INET6);
    ck_assert_int_eq(netaddr_parse("1.2.3.4", &b), 0);
    ck_assert(!netaddr_equal(&a, &b));
}
END_TEST

START_TEST(domain_normalisation)
{
    char buf[DOMAIN_MAXLEN + 1];
    ck_assert_int_eq(domain_normalize("ProtonMail.COM.", 15, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "protonmail.com");
    ck_assert_int_eq(domain_normalize("a..b", 4, buf, sizeof(buf)), -1);
    ck_assert_int_eq(domain_normalize("a b", 3, buf, sizeof(buf)), -1);
    ck_assert_int_eq(domain_normalize("", 0, buf, sizeof(buf)), -1);
    char label[70];
    memset(label, 'a', 64);
    label[64] = 0;
    ck_assert_int_eq(domain_normalize(label, 64, buf, sizeof(buf)), -1);
    ck_assert_int_eq(domain_of_address("<u2@Blocked.Test>", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "blocked.test");
    ck_assert_int_eq(domain_of_address("postmaster", buf, sizeof(buf)), -1);
    ck_assert_int_eq(domain_of_address("a@b@c.test", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "c.test");
}
END_TEST

START_TEST(fail_kinds_round_trip)
{
    for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
        ck_assert_int_eq(fail_kind_parse(fail_kind_name((enum fail_kind)k)), k);
    ck_assert_int_eq(fail_kind_parse("bogus"), FAIL_NONE);
    ck_assert_ptr_null(fail_kind_name(FAIL_KIND_COUNT));
}
END_TEST

static int captured;
static char last_line[256];
static void capture(int pri, const char *module, const char *text)
{
    (void)pri;
    (void)module;
    captured++;
    snprintf(last_line, sizeof(last_line), "%s", text);
}

START_TEST(msg_limited_suppresses_and_counts)
{
    struct msg_limiter lim = {0};
    msg_set_capture(capture);
    clock_fake(1000000);
    captured = 0;
    for (int i = 0; i < 5; i++)
        msg_limited(&lim, 60000, "test", "redis down");
    ck_assert_int_eq(captured, 1);
    clock_advance(60000);
    msg_limited(&lim, 60000, "test", "redis down");
    ck_assert_int_eq(captured, 2);
    ck_assert_str_eq(last_line, "redis down (4 similar messages suppressed)");
    msg_info("test", "bad\nline\x01");
    ck_assert_str_eq(last_line, "bad?line?");
    clock_fake(0);
    msg_set_capture(NULL);
}
END_TEST

/* The mx text of a destination record, as another MTA (or anyone who can
 * write to Redis) left it: good entries in order, a host that is no host
 * name kept as "", and the reading stops at the first malformed entry. */
START_TEST(destination_record_mx_text)
{
    char host[DOMAIN_MAXLEN + 1], text[NETADDR_STRLEN];
    struct netaddr a;
    const char *p = "MX1.Example.[192.0.2.1] mx2.example[2001:db8::25] bad host![198.51.100.1] "
                    "x[1.2.3] y[198.51.100.9]";

    ck_assert_ptr_nonnull(p = store_domain_mx_next(p, host, sizeof(host), &a));
    ck_assert_str_eq(host, "mx1.example");
    ck_assert_str_eq(netaddr_format(&a, text, sizeof(text)), "192.0.2.1");
    ck_assert_ptr_nonnull(p = store_domain_mx_next(p, host, sizeof(host), &a));
    ck_assert_str_eq(host, "mx2.example");
    ck_assert_str_eq(netaddr_format(&a, text, sizeof(text)), "2001:db8::25");
    ck_assert_ptr_nonnull(p = store_domain_mx_next(p, host, sizeof(host), &a));
    ck_assert_str_eq(host, "");
    ck_assert_str_eq(netaddr_format(&a, text, sizeof(text)), "198.51.100.1");
    ck_assert_ptr_null(store_domain_mx_next(p, host, sizeof(host), &a));    /* 1.2.3 */
    ck_assert_ptr_null(store_domain_mx_next("", host, sizeof(host), &a));
    ck_assert_ptr_null(store_domain_mx_next("h[192.0.2.1", host, sizeof(host), &a));
    ck_assert_ptr_null(store_domain_mx_next("h[0000000000000000000000000000000000000000000000000000]",
                                            host, sizeof(host), &a));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, duration_parses_units);
    tcase_add_test(tc, duration_rejects_junk);
    tcase_add_test(tc, duration_formats_shortest);
    tcase_add_test(tc, netaddr_canonical_forms);
    tcase_add_test(tc, netaddr_socket_addresses);
    tcase_add_test(tc, domain_normalisation);
    tcase_add_test(tc, fail_kinds_round_trip);
    tcase_add_test(tc, msg_limited_suppresses_and_counts);
    tcase_add_test(tc, destination_record_mx_text);
    suite_add_tcase(s, tc);
    return s;
}



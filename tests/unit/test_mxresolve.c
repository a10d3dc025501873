/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/net/mxresolve.  A tiny authoritative DNS responder runs
 * on 127.0.0.1 (random port) on the same event_base as the resolver, so
 * every query is answered (or not) deterministically and counted.  Cache
 * expiry is checked with the fake clock (clock_fake/clock_advance).
 *
 * Zone (TTLs in seconds):
 *   example.test   MX 20 mx2, MX 10 mx1 (300)   mx1: A 192.0.2.1 (600),
 *                  AAAA 2001:db8::1 (600)        mx2: A 192.0.2.2 (120)
 *   implicit.test  no MX; A 192.0.2.10 (300)
 *   nx.test        NXDOMAIN              fail.test  SERVFAIL
 *   *slow.test     never answered        nullmx.test  MX 0 .
 *   many.test      12 MX m1..m12 (preference 100 - i), each 10 A + 10 AAAA
 *   partial.test   MX 10 ok.partial.test (A 192.0.2.20), MX 20
 *                  bad.partial.test (SERVFAIL)
 *   noaddr.test    MX 10 gone.noaddr.test (NXDOMAIN)
 *   lowttl.test    MX 10 mx1.example.test (TTL 5)
 *   badname.test   MX 10 "bad name.test", MX 20 mx1.example.test
 */
#include "config.h"

#include <check.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "clock.h"
#include "mxresolve.h"

static struct event_base *base;
static struct mxresolve *res;
static int dns_fd, dns_port, nqueries;
static struct event *dns_ev;

/* The responder. */

static size_t put_name(unsigned char *p, const char *name)
{
    size_t o = 0;

    while (*name) {
        const char *dot = strchr(name, '.');
        size_t n = dot ? (size_t)(dot - name) : strlen(name);
        p[o++] = (unsigned char)n;
        memcpy(p + o, name, n);
        o += n;
        name += n + (dot ? 1 : 0);
    }
    p[o++] = 0;
    return o;
}

struct answer {
    unsigned char *buf;
    size_t len;
    int count;
};

static void rr(struct answer *a, int type, uint32_t ttl, const void *rdata, size_t rdlen)
{
    unsigned char *p = a->buf + a->len;

    p[0] = 0xc0, p[1] = 12;         /* the question's name */
    p[2] = 0, p[3] = (unsigned char)type, p[4] = 0, p[5] = 1;
    p[6] = (unsigned char)(ttl >> 24), p[7] = (unsigned char)(ttl >> 16);
    p[8] = (unsigned char)(ttl >> 8), p[9] = (unsigned char)ttl;
    p[10] = (unsigned char)(rdlen >> 8), p[11] = (unsigned char)rdlen;
    memcpy(p + 12, rdata, rdlen);
    a->len += 12 + rdlen;
    a->count++;
}

static void mx(struct answer *a, unsigned pref, const char *host, uint32_t ttl)
{
    unsigned char rd[300];

    rd[0] = (unsigned char)(pref >> 8), rd[1] = (unsigned char)pref;
    rr(a, 15, ttl, rd, 2 + put_name(rd + 2, host));
}

static void addr(struct answer *a, int type, const char *text, uint32_t ttl)
{
    unsigned char b[16];

    inet_pton(type == 1 ? AF_INET : AF_INET6, text, b);
    rr(a, type, ttl, b, type == 1 ? 4 : 16);
}

/* Fills a with the answer records; returns the rcode, or -1 to stay silent. */
static int zone(const char *q, int type, struct answer *a)
{
    char buf[64];

    size_t ql = strlen(q);

    if (ql >= 9 && strcmp(q + ql - 9, "slow.test") == 0)
        return -1;
    if (strcmp(q, "fail.test") == 0 || strcmp(q, "bad.partial.test") == 0)
        return 2;
    if (strcmp(q, "nx.test") == 0 || strcmp(q, "gone.noaddr.test") == 0)
        return 3;
    if (type == 15) {
        if (strcmp(q, "example.test") == 0) {
            mx(a, 20, "mx2.example.test", 300);
            mx(a, 10, "mx1.example.test", 300);
        } else if (strcmp(q, "nullmx.test") == 0) {
            mx(a, 0, "", 300);
        } else if (strcmp(q, "many.test") == 0) {
            for (int i = 1; i <= 12; i++) {
                snprintf(buf, sizeof(buf), "m%d.many.test", i);
                mx(a, 100 - (unsigned)i, buf, 300);
            }
        } else if (strcmp(q, "partial.test") == 0) {
            mx(a, 10, "ok.partial.test", 300);
            mx(a, 20, "bad.partial.test", 300);
        } else if (strcmp(q, "noaddr.test") == 0) {
            mx(a, 10, "gone.noaddr.test", 300);
        } else if (strcmp(q, "lowttl.test") == 0) {
            mx(a, 10, "mx1.example.test", 5);
        } else if (strcmp(q, "badname.test") == 0) {
            mx(a, 10, "bad name.test", 300);
            mx(a, 20, "mx1.example.test", 300);
        }
        return 0;
    }
    if (strcmp(q, "mx1.example.test") == 0)
        addr(a, type, type == 1 ? "192.0.2.1" : "2001:db8::1", 600);
    else if (strcmp(q, "mx2.example.test") == 0 && type == 1)
        addr(a, type, "192.0.2.2", 120);
    else if (strcmp(q, "implicit.test") == 0 && type == 1)
        addr(a, type, "192.0.2.10", 300);
    else if (strcmp(q, "ok.partial.test") == 0 && type == 1)
        addr(a, type, "192.0.2.20", 300);
    else if (strncmp(q, "m", 1) == 0 && strstr(q, ".many.test"))
        for (int i = 1; i <= 10; i++) {
            snprintf(buf, sizeof(buf), type == 1 ? "198.51.100.%d" : "2001:db8::%d", i);
            addr(a, type, buf, 300);
        }
    return 0;
}

static void on_query(evutil_socket_t fd, short what, void *arg)
{
    unsigned char q[1500], out[4096];
    char name[256];
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
    size_t off = 12, o = 0, qend;
    struct answer a = {out, 0, 0};
    int type, rcode;

    (void)what;
    (void)arg;
    if (n < 17)
        return;
    while (off < (size_t)n && q[off] != 0) {    /* the question's name */
        size_t l = q[off];
        if (o)
            name[o++] = '.';
        for (size_t i = 0; i < l && o < sizeof(name) - 2; i++)
            name[o++] = (char)tolower(q[off + 1 + i]);
        off += l + 1;
    }
    name[o] = 0;
    qend = off + 5;
    type = q[off + 1] << 8 | q[off + 2];
    nqueries++;
    memcpy(out, q, qend);
    a.len = qend;
    rcode = zone(name, type, &a);
    if (rcode < 0)
        return;
    out[2] = 0x84 | (q[2] & 1);         /* QR, AA, RD as asked */
    out[3] = 0x80 | (unsigned char)rcode;
    out[6] = 0, out[7] = (unsigned char)a.count;
    out[8] = out[9] = out[10] = out[11] = 0;
    sendto(fd, out, a.len, 0, (struct sockaddr *)&from, fromlen);
}

/* Results. */

struct snap {
    int calls, status, implicit, partial, cached;
    unsigned ttl;
    size_t nhosts;
    char hosts[MX_MAX_HOSTS][300];      /* "PREF NAME STATUS ADDR..." */
};

static struct snap last;
static int want;

static void on_mx(const struct mx_result *r, void *arg)
{
    struct snap *s = arg ? arg : &last;
    char b[NETADDR_STRLEN];

    s->calls++;
    s->status = r->status;
    s->implicit = r->implicit;
    s->partial = r->partial;
    s->cached = r->cached;
    s->ttl = r->ttl;
    s->nhosts = r->nhosts;
    for (size_t i = 0; i < r->nhosts; i++) {
        const struct mx_host *h = &r->hosts[i];
        int o = snprintf(s->hosts[i], sizeof(s->hosts[i]), "%u %s %s", h->preference, h->name,
                         mx_status_name(h->status));
        for (size_t j = 0; j < h->naddrs; j++)
            o += snprintf(s->hosts[i] + o, sizeof(s->hosts[i]) - (size_t)o, " %s",
                          netaddr_format(&h->addrs[j], b, sizeof(b)));
    }
    if (--want == 0)
        event_base_loopbreak(base);
}

static void start(size_t cache_max)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    char servers[64];
    struct mxresolve_opts o = {servers, 300, 1, cache_max};

    base = event_base_new();
    dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ck_assert_int_eq(bind(dns_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    getsockname(dns_fd, (struct sockaddr *)&sin, &len);
    dns_port = ntohs(sin.sin_port);
    dns_ev = event_new(base, dns_fd, EV_READ | EV_PERSIST, on_query, NULL);
    event_add(dns_ev, NULL);
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", dns_port);
    res = mxresolve_new_opts(base, &o);
    ck_assert_ptr_nonnull(res);
    nqueries = 0;
    memset(&last, 0, sizeof(last));
    clock_fake(1000000000);
}

static void setup(void)
{
    start(0);
}

static void teardown(void)
{
    mxresolve_free(res);
    event_free(dns_ev);
    close(dns_fd);
    event_base_free(base);
    clock_fake(0);
}

static const struct snap *resolve(const char *domain)
{
    memset(&last, 0, sizeof(last));
    want = 1;
    ck_assert_int_eq(mxresolve_domain(res, domain, on_mx, NULL), 0);
    ck_assert_int_eq(last.calls, 0);    /* never from inside the call */
    event_base_dispatch(base);
    ck_assert_int_eq(last.calls, 1);
    return &last;
}

START_TEST(fresh_then_cached_then_expired)
{
    const struct snap *s = resolve("Example.TEST.");

    ck_assert_int_eq(s->status, MX_OK);
    ck_assert_int_eq(s->implicit, 0);
    ck_assert_int_eq(s->cached, 0);
    ck_assert_uint_eq(s->nhosts, 2);
    ck_assert_str_eq(s->hosts[0], "10 mx1.example.test ok 192.0.2.1 2001:db8::1");
    ck_assert_str_eq(s->hosts[1], "20 mx2.example.test ok 192.0.2.2");
    ck_assert_uint_eq(s->ttl, 120);     /* the smallest TTL used */
    ck_assert_int_eq(nqueries, 5);      /* MX, then A and AAAA of two hosts */
    s = resolve("example.test");
    ck_assert_int_eq(s->cached, 1);
    ck_assert_uint_eq(s->nhosts, 2);
    ck_assert_int_eq(nqueries, 5);
    clock_advance(119000);
    ck_assert_int_eq(resolve("example.test")->cached, 1);
    clock_advance(2000);
    s = resolve("example.test");
    ck_assert_int_eq(s->cached, 0);
    ck_assert_int_eq(s->status, MX_OK);
    ck_assert_int_eq(nqueries, 10);
}
END_TEST

START_TEST(implicit_mx)
{
    const struct snap *s = resolve("implicit.test");

    ck_assert_int_eq(s->status, MX_OK);
    ck_assert_int_eq(s->implicit, 1);
    ck_assert_uint_eq(s->nhosts, 1);
    ck_assert_str_eq(s->hosts[0], "0 implicit.test ok 192.0.2.10");
    ck_assert_uint_eq(s->ttl, 300);
}
END_TEST

START_TEST(negative_answers)
{
    struct mxresolve_stats st;
    const struct snap *s = resolve("nx.test");

    ck_assert_int_eq(s->status, MX_NXDOMAIN);
    ck_assert_uint_eq(s->ttl, MXRESOLVE_NEG_TTL);
    ck_assert_int_eq(resolve("fail.test")->status, MX_TEMPFAIL);
    ck_assert_int_eq(resolve("slow.test")->status, MX_TEMPFAIL);
    ck_assert_int_eq(resolve("nullmx.test")->status, MX_NULLMX);
    ck_assert_uint_eq(last.ttl, 300);
    s = resolve("noaddr.test");
    ck_assert_int_eq(s->status, MX_NOADDR);
    ck_assert_str_eq(s->hosts[0], "10 gone.noaddr.test nxdomain");
    /* Negative results are cached for a minute. */
    nqueries = 0;
    ck_assert_int_eq(resolve("nx.test")->cached, 1);
    ck_assert_int_eq(resolve("fail.test")->cached, 1);
    ck_assert_int_eq(nqueries, 0);
    clock_advance(MXRESOLVE_NEG_TTL * 1000);
    ck_assert_int_eq(resolve("nx.test")->cached, 0);
    ck_assert_int_eq(nqueries, 1);
    mxresolve_get_stats(res, &st);
    ck_assert_uint_ge(st.tempfail, 2);
}
END_TEST

START_TEST(bounds_order_and_bad_names)
{
    const struct snap *s = resolve("many.test");

    ck_assert_int_eq(s->status, MX_OK);
    ck_assert_uint_eq(s->nhosts, MX_MAX_HOSTS);
    ck_assert(strncmp(s->hosts[0], "88 m12.many.test ok 198.51.100.1 ", 33) == 0);
    ck_assert(strncmp(s->hosts[9], "97 m3.many.test ok ", 19) == 0);
    /* 8 addresses: four of each family. */
    ck_assert_str_eq(s->hosts[0] + 17, "ok 198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 "
                                       "2001:db8::1 2001:db8::2 2001:db8::3 2001:db8::4");
    ck_assert_int_eq(nqueries, 1 + 2 * MX_MAX_HOSTS);
    s = resolve("badname.test");
    ck_assert_int_eq(s->status, MX_OK);
    ck_assert_uint_eq(s->nhosts, 1);
    ck_assert_str_eq(s->hosts[0], "20 mx1.example.test ok 192.0.2.1 2001:db8::1");
    s = resolve("lowttl.test");
    ck_assert_uint_eq(s->ttl, MXRESOLVE_MIN_TTL);
}
END_TEST

START_TEST(partial_result)
{
    const struct snap *s = resolve("partial.test");

    ck_assert_int_eq(s->status, MX_OK);
    ck_assert_int_eq(s->partial, 1);
    ck_assert_uint_eq(s->nhosts, 2);
    ck_assert_str_eq(s->hosts[0], "10 ok.partial.test ok 192.0.2.20");
    ck_assert_str_eq(s->hosts[1], "20 bad.partial.test tempfail");
    ck_assert_uint_eq(s->ttl, MXRESOLVE_NEG_TTL);
}
END_TEST

START_TEST(invalid_names)
{
    const struct snap *s = resolve("not a domain");

    ck_assert_int_eq(s->status, MX_INVALID);
    ck_assert_int_eq(resolve("a..b")->status, MX_INVALID);
    ck_assert_int_eq(resolve("")->status, MX_INVALID);
    char longname[400];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    ck_assert_int_eq(resolve(longname)->status, MX_INVALID);
    ck_assert_int_eq(nqueries, 0);
    ck_assert_str_eq(mx_status_name(MX_NULLMX), "nullmx");
}
END_TEST

START_TEST(concurrent_requests_share_a_lookup)
{
    struct snap a = {0}, b = {0};
    struct mxresolve_stats st;

    want = 2;
    ck_assert_int_eq(mxresolve_domain(res, "example.test", on_mx, &a), 0);
    ck_assert_int_eq(mxresolve_domain(res, "EXAMPLE.test", on_mx, &b), 0);
    event_base_dispatch(base);
    ck_assert_int_eq(a.calls, 1);
    ck_assert_int_eq(b.calls, 1);
    ck_assert_str_eq(a.hosts[1], b.hosts[1]);
    ck_assert_int_eq(nqueries, 5);
    mxresolve_get_stats(res, &st);
    ck_assert_uint_eq(st.joined, 1);
    ck_assert_uint_eq(st.lookups, 1);
    ck_assert_uint_eq(st.cached, 1);
}
END_TEST

START_TEST(cache_is_bounded)
{
    struct mxresolve_stats st;

    teardown();
    start(2);
    resolve("example.test");
    resolve("implicit.test");
    resolve("nullmx.test");             /* evicts example.test, the oldest */
    mxresolve_get_stats(res, &st);
    ck_assert_uint_eq(st.evicted, 1);
    ck_assert_uint_eq(st.cached, 2);
    ck_assert_int_eq(resolve("nullmx.test")->cached, 1);
    ck_assert_int_eq(resolve("example.test")->cached, 0);
    mxresolve_flush(res);
    ck_assert_int_eq(resolve("implicit.test")->cached, 0);
}
END_TEST

static void must_not_run(const struct mx_result *r, void *arg)
{
    (void)r;
    (void)arg;
    ck_abort_msg("a cancelled callback ran: %s %s", r->domain, mx_status_name(r->status));
}

START_TEST(cancel_and_free_under_way)
{
    int tag;

    resolve("example.test");
    /* Cancelled before delivery: a cache hit and a lookup. */
    ck_assert_int_eq(mxresolve_domain(res, "example.test", must_not_run, &tag), 0);
    ck_assert_int_eq(mxresolve_domain(res, "implicit.test", must_not_run, &tag), 0);
    ck_assert_uint_eq(mxresolve_cancel(res, must_not_run, &tag), 2);
    resolve("implicit.test");
    /* Freed with lookups and deliveries pending: no callback, no leak. */
    ck_assert_int_eq(mxresolve_domain(res, "slow.test", must_not_run, NULL), 0);
    ck_assert_int_eq(mxresolve_domain(res, "many.test", must_not_run, NULL), 0);
    ck_assert_int_eq(mxresolve_domain(res, "example.test", must_not_run, NULL), 0);
}
END_TEST

START_TEST(inflight_is_bounded)
{
    char name[64];
    struct mxresolve_stats st;

    for (int i = 0; i < MXRESOLVE_MAX_INFLIGHT; i++) {
        snprintf(name, sizeof(name), "d%d.slow.test", i);
        ck_assert_int_eq(mxresolve_domain(res, name, must_not_run, NULL), 0);
    }
    mxresolve_get_stats(res, &st);
    ck_assert_uint_eq(st.inflight, MXRESOLVE_MAX_INFLIGHT);
    /* One more is answered at once, and not cached. */
    ck_assert_int_eq(resolve("example.test")->status, MX_TEMPFAIL);
    ck_assert_uint_eq(last.ttl, 0);
    mxresolve_cancel(res, must_not_run, NULL);
}
END_TEST

START_TEST(bad_servers)
{
    ck_assert_ptr_null(mxresolve_new2(base, "not an address"));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mxresolve");
    TCase *tc = tcase_create("responder");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, fresh_then_cached_then_expired);
    tcase_add_test(tc, implicit_mx);
    tcase_add_test(tc, negative_answers);
    tcase_add_test(tc, bounds_order_and_bad_names);
    tcase_add_test(tc, partial_result);
    tcase_add_test(tc, invalid_names);
    tcase_add_test(tc, concurrent_requests_share_a_lookup);
    tcase_add_test(tc, cache_is_bounded);
    tcase_add_test(tc, cancel_and_free_under_way);
    tcase_add_test(tc, inflight_is_bounded);
    tcase_add_test(tc, bad_servers);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for lib/rules: per-address breakers and per-domain decisions,
 * the events and their sentences, the local-outage guard, the store
 * interface and the table bounds, under a clock the test drives.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "check_main.h"
#include "rules.h"

#define SEC 1000ULL
#define MIN (60 * SEC)
#define T0 1700000000000ULL

#define MX1 "185.70.40.101"
#define MX2 "185.70.40.102"
#define PROTON_DETOUR "detour: protonmail.com (mail.protonmail.ch[185.70.40.101], " \
                      "mailsec.protonmail.ch[185.70.40.102]) blocked after 3 connect timeouts in 10m"

struct event {
    enum rules_change_kind kind;
    char who[300];               /* address or domain */
    enum breaker_state old_state, new_state;
    enum breaker_change change;
    int outage;
    char explain[RULES_EXPLAIN_MAX];
};

static struct rules *R;
static struct event ev[512];
static int nev;
static int reenter, reenter_rc;

static void on_change(const struct rules_change *c, void *arg)
{
    struct event *e = &ev[nev < 511 ? nev++ : nev];

    (void)arg;
    memset(e, 0, sizeof(*e));
    e->kind = c->kind;
    if (c->kind == RULES_CHANGE_ADDR) {
        netaddr_format(c->addr, e->who, sizeof(e->who));
        ck_assert_ptr_nonnull(c->breaker);
        ck_assert_int_eq(c->breaker->state, c->new_state);
    } else if (c->kind == RULES_CHANGE_DOMAIN) {
        snprintf(e->who, sizeof(e->who), "%s", c->domain);
    }
    e->old_state = c->old_state;
    e->new_state = c->new_state;
    e->change = c->change;
    e->outage = c->outage;
    snprintf(e->explain, sizeof(e->explain), "%s", c->explain);
    if (reenter) {
        struct netaddr a;
        netaddr_parse("192.0.2.1", &a);
        reenter_rc = rules_failure(R, &a, NULL, NULL, FAIL_TIMEOUT, SRC_LOG, T0);
        ck_assert_int_eq(rules_tick(R, T0), RULES_EBUSY);
    }
}

/* The last event of a kind about who (NULL: any), or NULL. */
static const struct event *last(enum rules_change_kind kind, const char *who)
{
    for (int i = nev - 1; i >= 0; i--)
        if (ev[i].kind == kind && (who == NULL || strcmp(ev[i].who, who) == 0))
            return &ev[i];
    return NULL;
}

static int count(enum rules_change_kind kind)
{
    int n = 0;
    for (int i = 0; i < nev; i++)
        n += ev[i].kind == kind;
    return n;
}

static struct netaddr A(const char *text)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(text, &a), 0);
    return a;
}

static int timeout_at(const char *addr, const char *host, const char *domain, uint64_t t)
{
    struct netaddr a = A(addr);
    return rules_failure(R, &a, host, domain, FAIL_TIMEOUT, SRC_LOG, t);
}

static int answer_at(const char *addr, const char *domain, enum evidence_source src, uint64_t t)
{
    struct netaddr a = A(addr);
    return rules_success(R, &a, NULL, domain, src, t);
}

static const struct breaker *breaker_of(const char *addr)
{
    struct rules_addr_view v;
    struct netaddr a = A(addr);
    ck_assert_int_eq(rules_addr_get(R, &a, &v), 0);
    return v.breaker;
}

static void start(size_t max_addrs, size_t max_domains, rules_params_fn params)
{
    struct rules_config c;

    rules_config_default(&c);
    c.on_change = on_change;
    c.params = params;
    if (max_addrs)
        c.max_addrs = max_addrs;
    if (max_domains)
        c.max_domains = max_domains;
    R = rules_new(&c);
    ck_assert_ptr_nonnull(R);
    nev = 0;
    reenter = 0;
}

static void setup(void)
{
    start(0, 0, NULL);
}

static void teardown(void)
{
    rules_free(R);
    R = NULL;
}

/* protonmail.com's two MX addresses from DNS, both failing 3 times. */
static void block_proton(uint64_t t)
{
    struct rules_mx mx[2] = {{"mail.protonmail.ch", A(MX1)}, {"mailsec.protonmail.ch", A(MX2)}};

    ck_assert_int_eq(rules_domain_set_mx(R, "ProtonMail.com.", mx, 2, t), 0);
    for (int i = 0; i < 3; i++)
        timeout_at(MX1, "mail.protonmail.ch", "protonmail.com", t + (uint64_t)i * MIN);
    ck_assert_int_eq(rules_domain_detoured(R, "protonmail.com"), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(timeout_at(MX2, "mailsec.protonmail.ch", "protonmail.com", t + (uint64_t)(3 + i) * MIN),
                         BREAKER_SAME);
    ck_assert_int_eq(timeout_at(MX2, "mailsec.protonmail.ch", "protonmail.com", t + 5 * MIN), BREAKER_TRIPPED);
}

START_TEST(domain_detoured_when_every_mx_is)
{
    const struct event *e;
    char buf[RULES_EXPLAIN_MAX];

    block_proton(T0);
    ck_assert_int_eq(rules_domain_detoured(R, "protonmail.com"), 1);
    ck_assert_int_eq(rules_domain_detoured(R, "PROTONMAIL.COM"), 1);
    e = last(RULES_CHANGE_ADDR, MX1);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->old_state, BREAKER_DIRECT);
    ck_assert_int_eq(e->new_state, BREAKER_DETOURED);
    ck_assert_int_eq(e->change, BREAKER_TRIPPED);
    ck_assert_str_eq(e->explain, "detour: mail.protonmail.ch[185.70.40.101] blocked after 3 connect "
                                 "timeouts in 10m");
    e = last(RULES_CHANGE_DOMAIN, "protonmail.com");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->new_state, BREAKER_DETOURED);
    ck_assert_str_eq(e->explain, PROTON_DETOUR);
    ck_assert_int_eq(count(RULES_CHANGE_DOMAIN), 1);
    ck_assert_int_eq(count(RULES_CHANGE_OUTAGE), 0);
    ck_assert_int_eq(rules_domain_explain(R, "protonmail.com", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, PROTON_DETOUR);
}
END_TEST

START_TEST(one_blocked_mx_is_not_enough)
{
    struct rules_mx mx[2] = {{"mx1.mixed.test", A("198.51.100.1")}, {"mx2.mixed.test", A("203.0.113.1")}};
    char buf[RULES_EXPLAIN_MAX];
    struct rules_domain_view v;

    ck_assert_int_eq(rules_domain_set_mx(R, "mixed.test", mx, 2, T0), 0);
    for (int i = 0; i < 3; i++)
        timeout_at("198.51.100.1", NULL, "mixed.test", T0 + (uint64_t)i * MIN);
    ck_assert(breaker_is_detoured(breaker_of("198.51.100.1")));
    ck_assert_int_eq(rules_domain_detoured(R, "mixed.test"), 0);
    ck_assert_int_eq(count(RULES_CHANGE_DOMAIN), 0);
    ck_assert_int_eq(rules_domain_explain(R, "mixed.test", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "direct: mixed.test (mx1.mixed.test[198.51.100.1], mx2.mixed.test[203.0.113.1]) "
                          "not every MX address is detoured");
    ck_assert_int_eq(rules_domain_get(R, "mixed.test", &v), 0);
    ck_assert_uint_eq(v.nmx, 2);
    ck_assert_int_eq(v.detoured, 0);
    /* Learned from the log alone: the address that answered keeps it direct. */
    timeout_at("198.51.100.1", NULL, "other.test", T0 + 4 * MIN);
    ck_assert_int_eq(rules_domain_detoured(R, "other.test"), 1);
    ck_assert_int_eq(answer_at("203.0.113.1", "other.test", SRC_LOG, T0 + 4 * MIN + 1), BREAKER_SAME);
    ck_assert_int_eq(rules_domain_detoured(R, "other.test"), 0);
    ck_assert_str_eq(last(RULES_CHANGE_DOMAIN, "other.test")->explain,
                     "direct: other.test (mx1.mixed.test[198.51.100.1], mx2.mixed.test[203.0.113.1]) "
                     "its MX addresses changed");
}
END_TEST

START_TEST(new_domain_on_blocked_addresses_detoured_at_once)
{
    struct rules_mx mx[2] = {{NULL, A(MX2)}, {NULL, A(MX1)}};
    struct netaddr a = A(MX1);

    block_proton(T0);
    nev = 0;
    ck_assert_int_eq(rules_domain_set_mx(R, "custom.example", mx, 2, T0 + 30 * MIN), 1);
    ck_assert_int_eq(nev, 1);
    ck_assert_str_eq(ev[0].explain, "detour: custom.example (mailsec.protonmail.ch[185.70.40.102], "
                                    "mail.protonmail.ch[185.70.40.101]) blocked after 3 connect "
                                    "timeouts in 10m");
    ck_assert_int_eq(rules_domain_add_mx(R, "seen-in-log.example", NULL, &a, T0 + 30 * MIN), 1);
    ck_assert_int_eq(rules_domain_detoured(R, "seen-in-log.example"), 1);
    /* No MX at all is never detoured. */
    ck_assert_int_eq(rules_domain_set_mx(R, "custom.example", NULL, 0, T0 + 30 * MIN), 0);
    ck_assert_str_eq(last(RULES_CHANGE_DOMAIN, "custom.example")->explain,
                     "direct: custom.example (no MX address known) its MX addresses changed");
}
END_TEST

START_TEST(local_outage_detours_nothing)
{
    char addr[32], dom[32];
    struct rules_stats st;
    struct outage_status os;
    const struct event *e;

    for (int round = 0; round < 3; round++)
        for (unsigned i = 0; i < 8; i++) {
            snprintf(addr, sizeof(addr), "10.%u.0.1", i);
            snprintf(dom, sizeof(dom), "d%u.test", i);
            ck_assert_int_eq(timeout_at(addr, NULL, dom, T0 + (uint64_t)round * MIN + i * SEC), BREAKER_SAME);
        }
    rules_stats(R, &st);
    ck_assert_uint_eq(st.addrs, 8);
    ck_assert_uint_eq(st.detoured_addrs, 0);
    ck_assert_uint_eq(st.detoured_domains, 0);
    ck_assert_int_eq(count(RULES_CHANGE_ADDR), 0);
    e = last(RULES_CHANGE_OUTAGE, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->outage, 1);
    ck_assert_str_eq(e->explain, "local outage: 5 of 5 unrelated destinations failing within 5m; "
                                 "no address is detoured while it lasts");
    outage_status(rules_outage(R), &os);
    ck_assert_int_eq(os.active, 1);
    ck_assert_uint_eq(os.since_ms, T0 + 4 * SEC);
    /* Evidence is kept, but counts towards no threshold. */
    ck_assert_uint_eq(breaker_of("10.0.0.1")->kind_counts[FAIL_TIMEOUT], 3);
    ck_assert_uint_eq(breaker_of("10.0.0.1")->nfails, 0);
    /* The uplink comes back. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(addr, sizeof(addr), "10.%u.0.1", i);
        answer_at(addr, NULL, SRC_LOG, T0 + 4 * MIN + i * SEC);
    }
    e = last(RULES_CHANGE_OUTAGE, NULL);
    ck_assert_int_eq(e->outage, 0);
    ck_assert_str_eq(e->explain, "local outage over: only 3 of 8 destinations failing within 5m");
    /* Afterwards a failure starts from nothing. */
    ck_assert_int_eq(timeout_at("10.7.0.1", NULL, "d7.test", T0 + 5 * MIN), BREAKER_SAME);
    ck_assert_uint_eq(breaker_of("10.7.0.1")->nfails, 1);
}
END_TEST

START_TEST(provider_networks_are_one_destination)
{
    struct rules_mx mx[5];
    char text[5][32];

    /* Five MX addresses in five networks, known from DNS; the failures come
     * without a domain (connect lines precede the status line). */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text[i], sizeof(text[i]), "64.233.%u.27", 160 + i);
        mx[i].host = NULL;
        mx[i].addr = A(text[i]);
    }
    ck_assert_int_eq(rules_domain_set_mx(R, "bigmail.test", mx, 5, T0), 0);
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < 5; i++)
            timeout_at(text[i], NULL, NULL, T0 + round * MIN + i * SEC);
    ck_assert_int_eq(count(RULES_CHANGE_OUTAGE), 0);
    ck_assert_int_eq(rules_domain_detoured(R, "bigmail.test"), 1);
}
END_TEST

START_TEST(status_lines_regroup_early_failures)
{
    char text[5][32];
    struct netaddr a;

    /* Five networks of one provider, never seen before, fail before the
     * status line names the domain: five unrelated destinations, an outage. */
    for (unsigned i = 0; i < 5; i++) {
        snprintf(text[i], sizeof(text[i]), "64.233.%u.27", 160 + i);
        timeout_at(text[i], NULL, NULL, T0 + i * SEC);
    }
    ck_assert_int_eq(count(RULES_CHANGE_OUTAGE), 1);
    /* The status line links them: one destination, the outage is over. */
    for (unsigned i = 0; i < 5; i++) {
        a = A(text[i]);
        ck_assert_int_eq(rules_domain_add_mx(R, "bigmail.test", NULL, &a, T0 + 5 * SEC), 0);
    }
    ck_assert_int_eq(rules_tick(R, T0 + 6 * SEC), 1);
    ck_assert_int_eq(last(RULES_CHANGE_OUTAGE, NULL)->outage, 0);
    /* Later failures without a domain count with bigmail.test. */
    for (unsigned round = 1; round <= 3; round++)
        for (unsigned i = 0; i < 5; i++)
            timeout_at(text[i], NULL, NULL, T0 + round * MIN + i * SEC);
    ck_assert_int_eq(count(RULES_CHANGE_OUTAGE), 2);
    ck_assert_int_eq(rules_domain_detoured(R, "bigmail.test"), 1);
}
END_TEST

START_TEST(real_block_among_successes_detours)
{
    char addr[32];

    for (unsigned i = 0; i < 10; i++) {
        snprintf(addr, sizeof(addr), "10.%u.0.1", i);
        answer_at(addr, NULL, SRC_LOG, T0 + i * SEC);
    }
    block_proton(T0 + MIN);
    ck_assert_int_eq(rules_domain_detoured(R, "protonmail.com"), 1);
    ck_assert_int_eq(count(RULES_CHANGE_OUTAGE), 0);
    ck_assert_str_eq(last(RULES_CHANGE_DOMAIN, "protonmail.com")->explain, PROTON_DETOUR);
}
END_TEST

START_TEST(cool_down_probe_and_restore)
{
    const struct event *e;

    block_proton(T0);                  /* MX1 until T0+7m, MX2 until T0+10m */
    nev = 0;
    ck_assert_int_eq(rules_tick(R, T0 + 6 * MIN), 0);
    ck_assert_int_eq(rules_tick(R, T0 + 7 * MIN), 1);
    e = last(RULES_CHANGE_ADDR, MX1);
    ck_assert_int_eq(e->change, BREAKER_PROBE_DUE);
    ck_assert_int_eq(e->new_state, BREAKER_HALF_OPEN);
    ck_assert_str_eq(e->explain, "detour: mail.protonmail.ch[185.70.40.101] half-open: cool-down of 5m "
                                 "over, probing the direct path");
    ck_assert_int_eq(rules_domain_detoured(R, "protonmail.com"), 1);
    ck_assert_int_eq(answer_at(MX1, NULL, SRC_PROBE, T0 + 8 * MIN), BREAKER_SAME);
    ck_assert_int_eq(answer_at(MX1, NULL, SRC_PROBE, T0 + 8 * MIN + SEC), BREAKER_RESTORED);
    ck_assert_int_eq(rules_domain_detoured(R, "protonmail.com"), 0);
    e = last(RULES_CHANGE_DOMAIN, "protonmail.com");
    ck_assert_int_eq(e->new_state, BREAKER_DIRECT);
    ck_assert_str_eq(e->explain, "direct: protonmail.com (mail.protonmail.ch[185.70.40.101], "
                                 "mailsec.protonmail.ch[185.70.40.102]) restored after probe saw "
                                 "greeting 2 times");
    /* A half-open probe failure keeps the domain detoured: no domain event. */
    ck_assert_int_eq(rules_tick(R, T0 + 10 * MIN), 1);
    ck_assert_int_eq(timeout_at(MX2, NULL, NULL, T0 + 11 * MIN), BREAKER_TRIPPED);
    ck_assert_uint_eq(breaker_of(MX2)->until_ms - breaker_of(MX2)->since_ms, 10 * MIN);
    ck_assert_int_eq(count(RULES_CHANGE_DOMAIN), 1);
}
END_TEST

START_TEST(new_mx_of_detoured_domain_is_probed_first)
{
    struct rules_mx mx[2] = {{"mail.protonmail.ch", A(MX1)}, {"mx3.protonmail.ch", A("185.70.41.3")}};
    const struct event *e;

    block_proton(T0);
    nev = 0;
    ck_assert_int_eq(rules_domain_set_mx(R, "protonmail.com", mx, 2, T0 + 6 * MIN), 1);
    e = last(RULES_CHANGE_ADDR, "185.70.41.3");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->new_state, BREAKER_HALF_OPEN);
    ck_assert_str_eq(e->explain, "detour: mx3.protonmail.ch[185.70.41.3] half-open: new MX address of "
                                 "detoured protonmail.com, probed before mail goes direct");
    ck_assert_int_eq(count(RULES_CHANGE_DOMAIN), 0);
    answer_at("185.70.41.3", NULL, SRC_PROBE, T0 + 7 * MIN);
    answer_at("185.70.41.3", NULL, SRC_PROBE, T0 + 7 * MIN + SEC);
    ck_assert_int_eq(rules_domain_detoured(R, "protonmail.com"), 0);
    ck_assert_int_eq(count(RULES_CHANGE_DOMAIN), 1);
}
END_TEST

START_TEST(store_put_get_and_dirty)
{
    static const char text[] = "v1 state=detoured since=1700000000000 until=1700000300000 trips=1 "
                               "probe_ok=0 src=log ok=0 fail=1700000000000 decay=0 "
                               "counts=timeout:3 fails=- reason=3 connect timeouts in 10m";
    struct rules_mx mx[1] = {{"mx.remote.test", A("192.0.2.25")}};
    struct breaker b;
    struct rules_addr_view v;
    struct netaddr a = A("192.0.2.25");

    ck_assert_int_eq(rules_domain_set_mx(R, "remote.test", mx, 1, T0), 0);
    ck_assert_int_eq(breaker_decode(text, sizeof(text) - 1, &b), 0);
    ck_assert_int_eq(rules_addr_put(R, &a, "mx.remote.test", &b, T0 + 1), BREAKER_TRIPPED);
    ck_assert_int_eq(rules_domain_detoured(R, "remote.test"), 1);
    ck_assert_str_eq(last(RULES_CHANGE_DOMAIN, "remote.test")->explain,
                     "detour: remote.test (mx.remote.test[192.0.2.25]) blocked after 3 connect "
                     "timeouts in 10m");
    ck_assert_int_eq(rules_addr_get(R, &a, &v), 0);
    ck_assert_int_eq(v.dirty, 0);
    ck_assert_str_eq(v.host, "mx.remote.test");
    ck_assert_uint_eq(v.breaker->trips, 1);
    ck_assert_int_eq(rules_addr_put(R, &a, NULL, &b, T0 + 2), BREAKER_SAME);
    rules_failure(R, &a, NULL, NULL, FAIL_REFUSED, SRC_LOG, T0 + 3);
    rules_addr_get(R, &a, &v);
    ck_assert_int_eq(v.dirty, 1);
    ck_assert_uint_eq(v.breaker->kind_counts[FAIL_REFUSED], 1);
    rules_addr_clean(R, &a);
    rules_addr_get(R, &a, &v);
    ck_assert_int_eq(v.dirty, 0);
    b.state = (enum breaker_state)5;
    ck_assert_int_eq(rules_addr_put(R, &a, NULL, &b, T0), RULES_EINVAL);
    /* A manual action replayed through rules_force. */
    ck_assert_int_eq(rules_force(R, &a, BREAKER_DIRECT, SRC_MANUAL, "ticket 7", 0, T0 + 4),
                     BREAKER_RESTORED);
    ck_assert_str_eq(last(RULES_CHANGE_DOMAIN, "remote.test")->explain,
                     "direct: remote.test (mx.remote.test[192.0.2.25]) unblocked manually: ticket 7");
}
END_TEST

static int fragile(const struct netaddr *addr, const char *host, const char *domain,
                   struct breaker_params *out, void *arg)
{
    (void)addr;
    (void)host;
    (void)arg;
    if (domain == NULL || strcmp(domain, "fragile.test") != 0)
        return -1;
    breaker_params_default(out);
    out->threshold = 1;
    return 0;
}

START_TEST(params_per_destination)
{
    struct rules_addr_view v;
    struct netaddr a = A("198.51.100.7");

    teardown();
    start(0, 0, fragile);
    ck_assert_int_eq(timeout_at("198.51.100.9", NULL, "sturdy.test", T0), BREAKER_SAME);
    ck_assert_int_eq(timeout_at("198.51.100.7", NULL, "fragile.test", T0), BREAKER_TRIPPED);
    ck_assert_int_eq(rules_addr_get(R, &a, &v), 0);
    ck_assert_uint_eq(v.params->threshold, 1);
    ck_assert_str_eq(v.breaker->reason, "1 connect timeout in 10m");
}
END_TEST

START_TEST(tables_are_bounded)
{
    struct rules_stats st;
    struct rules_addr_view v;
    struct netaddr a2 = A("10.0.0.2"), a6 = A("10.0.0.6");
    struct rules_mx blocked[1] = {{NULL, A("10.0.0.1")}}, open[1] = {{NULL, A("10.0.0.3")}};

    teardown();
    start(4, 2, NULL);
    for (unsigned i = 1; i <= 4; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "10.0.0.%u", i);
        ck_assert_int_ge(answer_at(addr, NULL, SRC_LOG, T0 + i), 0);
    }
    answer_at("10.0.0.1", NULL, SRC_LOG, T0 + 10);               /* 2 is now the oldest */
    ck_assert_int_ge(answer_at("10.0.0.5", NULL, SRC_LOG, T0 + 11), 0);
    ck_assert_int_eq(rules_addr_get(R, &a2, &v), RULES_ENOENT);
    rules_stats(R, &st);
    ck_assert_uint_eq(st.addrs, 4);
    ck_assert_uint_eq(st.evicted_addrs, 1);
    /* Detoured addresses are never forgotten: when all are, evidence is refused. */
    for (unsigned i = 1; i <= 5; i++) {
        char addr[32];
        snprintf(addr, sizeof(addr), "10.0.0.%u", i);
        struct netaddr x = A(addr);
        if (i != 2)
            ck_assert_int_eq(rules_force(R, &x, BREAKER_DETOURED, SRC_FEED, NULL, 0, T0 + 20), BREAKER_TRIPPED);
    }
    ck_assert_int_eq(rules_failure(R, &a6, NULL, NULL, FAIL_TIMEOUT, SRC_LOG, T0 + 30), RULES_EFULL);
    rules_stats(R, &st);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_uint_eq(st.detoured_addrs, 4);
    /* Domains: a detoured one stays, the least recent direct one goes. */
    ck_assert_int_eq(rules_domain_set_mx(R, "blocked.test", blocked, 1, T0 + 40), 1);
    ck_assert_int_eq(rules_force(R, &blocked[0].addr, BREAKER_DETOURED, SRC_FEED, NULL, 0, T0), BREAKER_SAME);
    struct netaddr a3 = A("10.0.0.3");
    rules_force(R, &a3, BREAKER_DIRECT, SRC_MANUAL, NULL, 0, T0 + 41);
    ck_assert_int_eq(rules_domain_set_mx(R, "open1.test", open, 1, T0 + 42), 0);
    ck_assert_int_eq(rules_domain_set_mx(R, "open2.test", open, 1, T0 + 43), 0);
    ck_assert_int_eq(rules_domain_detoured(R, "blocked.test"), 1);
    struct rules_domain_view dv;
    ck_assert_int_eq(rules_domain_get(R, "open1.test", &dv), RULES_ENOENT);
    ck_assert_int_eq(rules_domain_get(R, "open2.test", &dv), 0);
    rules_stats(R, &st);
    ck_assert_uint_eq(st.domains, 2);
    ck_assert_uint_eq(st.evicted_domains, 1);
}
END_TEST

START_TEST(callbacks_may_not_change_the_rules)
{
    reenter = 1;
    reenter_rc = 0;
    block_proton(T0);
    ck_assert_int_eq(reenter_rc, RULES_EBUSY);
    reenter = 0;
    ck_assert_int_ge(timeout_at("192.0.2.1", NULL, NULL, T0), 0);
}
END_TEST

static int count_addr(const struct rules_addr_view *v, void *arg)
{
    (*(int *)arg)++;
    return strcmp(v->host, "stop.test") == 0 ? 7 : 0;
}

static int count_dom(const struct rules_domain_view *v, void *arg)
{
    (void)v;
    (*(int *)arg)++;
    return 0;
}

START_TEST(arguments_views_and_walks)
{
    struct netaddr bad = {0}, a = A("2001:DB8::1");
    char buf[RULES_EXPLAIN_MAX];
    int n = 0;

    ck_assert_int_eq(rules_failure(R, &bad, NULL, NULL, FAIL_TIMEOUT, SRC_LOG, T0), RULES_EINVAL);
    ck_assert_int_eq(rules_failure(R, &a, NULL, "bad domain!", FAIL_TIMEOUT, SRC_LOG, T0), RULES_EINVAL);
    ck_assert_int_eq(rules_failure(R, &a, NULL, NULL, FAIL_NONE, SRC_LOG, T0), RULES_EINVAL);
    ck_assert_int_eq(rules_success(R, &a, NULL, NULL, SRC_COUNT, T0), RULES_EINVAL);
    ck_assert_int_eq(rules_domain_set_mx(R, "", NULL, 0, T0), RULES_EINVAL);
    ck_assert_int_eq(rules_domain_detoured(R, "nowhere.test"), 0);
    ck_assert_int_eq(rules_domain_explain(R, "nowhere.test", buf, sizeof(buf)), RULES_ENOENT);
    ck_assert_int_eq(rules_addr_explain(R, &a, buf, sizeof(buf)), RULES_ENOENT);
    ck_assert_int_eq(rules_failure(R, &a, "mx.v6.test", "v6.test", FAIL_GREETING, SRC_PROBE, T0), 0);
    ck_assert_int_eq(rules_addr_explain(R, &a, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "direct: mx.v6.test[2001:db8::1] no failure recorded");
    timeout_at("192.0.2.9", "stop.test", NULL, T0);
    timeout_at("192.0.2.10", "bad host", NULL, T0);
    ck_assert_int_eq(rules_addr_foreach(R, count_addr, &n), 7);  /* stopped at stop.test */
    ck_assert_int_le(n, 3);
    n = 0;
    ck_assert_int_eq(rules_domain_foreach(R, count_dom, &n), 0);
    ck_assert_int_eq(n, 1);
    struct rules_addr_view v;
    struct netaddr a10 = A("192.0.2.10");
    rules_addr_get(R, &a10, &v);
    ck_assert_str_eq(v.host, "");
}
END_TEST

/* Log lines arrive one at a time: a destination can trip on its own failures
 * before enough others have failed to show an outage.  When the outage is
 * recognised, such trips are undone and flagged for the shared state. */
START_TEST(outage_undoes_the_trips_that_led_up_to_it)
{
    char addr[32], dom[32];
    struct rules_stats st;

    /* d0 fails three times in a row first (default threshold 3): a trip. */
    for (int k = 0; k < 3; k++)
        timeout_at("10.0.0.1", NULL, "d0.test", T0 + (uint64_t)k * SEC);
    ck_assert_int_eq(breaker_of("10.0.0.1")->state, BREAKER_DETOURED);
    /* Then four more unrelated destinations fail in the same minute. */
    for (unsigned i = 1; i < 5; i++) {
        snprintf(addr, sizeof(addr), "10.%u.0.1", i);
        snprintf(dom, sizeof(dom), "d%u.test", i);
        timeout_at(addr, NULL, dom, T0 + 10 * SEC + i * SEC);
    }
    ck_assert_int_eq(last(RULES_CHANGE_OUTAGE, NULL)->outage, 1);
    ck_assert_int_eq(breaker_of("10.0.0.1")->state, BREAKER_DIRECT);
    const struct event *e = last(RULES_CHANGE_ADDR, "10.0.0.1");
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->new_state, BREAKER_DIRECT);
    ck_assert_int_eq(e->outage, 1);
    ck_assert_ptr_nonnull(strstr(breaker_of("10.0.0.1")->reason, "trip undone: local outage"));
    rules_stats(R, &st);
    ck_assert_uint_eq(st.detoured_addrs, 0);
    ck_assert_uint_eq(st.detoured_domains, 0);
    ck_assert_uint_eq(breaker_of("10.0.0.1")->trips, 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc = tcase_create("rules");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, domain_detoured_when_every_mx_is);
    tcase_add_test(tc, one_blocked_mx_is_not_enough);
    tcase_add_test(tc, new_domain_on_blocked_addresses_detoured_at_once);
    tcase_add_test(tc, local_outage_detours_nothing);
    tcase_add_test(tc, outage_undoes_the_trips_that_led_up_to_it);
    tcase_add_test(tc, provider_networks_are_one_destination);
    tcase_add_test(tc, status_lines_regroup_early_failures);
    tcase_add_test(tc, real_block_among_successes_detours);
    tcase_add_test(tc, cool_down_probe_and_restore);
    tcase_add_test(tc, new_mx_of_detoured_domain_is_probed_first);
    tcase_add_test(tc, store_put_get_and_dirty);
    tcase_add_test(tc, params_per_destination);
    tcase_add_test(tc, tables_are_bounded);
    tcase_add_test(tc, callbacks_may_not_change_the_rules);
    tcase_add_test(tc, arguments_views_and_walks);
    suite_add_tcase(s, tc);
    return s;
}

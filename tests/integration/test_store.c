/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state store against a real redis-server (started here on a Unix
 * socket in a temporary directory): records round-trip, two clients racing
 * the same transition trip it once, manual overrides expire by TTL, the
 * change channel announces transitions, keys stay per site, and a Redis
 * restart in the middle is survived by reconnecting.
 */
#include "config.h"

#include <check.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "clock.h"
#include "redis_helper.h"
#include "store.h"

static struct redis_helper redis;
static struct cfg_redis rc;

static const struct breaker_params params = {
    .threshold = 3, .window_ms = 600000, .cooldown_ms = 300000, .cooldown_max_ms = 3600000,
    .decay_ms = 3600000, .kinds = FAIL_DEFAULT_KINDS, .probe_successes = 2,
};

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);   /* as the programs do: a dead Redis is an error, not a signal */
    ck_assert_int_eq(redis_helper_start(&redis), 0);
    memset(&rc, 0, sizeof(rc));
    rc.socket = redis.socket;
    rc.prefix = "mxdtest";
    rc.connect_timeout_ms = 2000;
    rc.command_timeout_ms = 2000;
}

static void teardown(void)
{
    redis_helper_destroy(&redis);
}

static struct store *open_site(const char *site)
{
    char err[256];
    struct store *st = store_open(&rc, site, err, sizeof(err));
    ck_assert_msg(st != NULL, "store_open: %s", err);
    return st;
}

static enum breaker_change timeout_now(struct breaker *b, void *arg)
{
    (void)arg;
    return breaker_failure(b, &params, FAIL_TIMEOUT, SRC_LOG, clock_now_ms());
}

START_TEST(address_record_round_trips)
{
    struct store *st = open_site("a");
    struct store_addr a;
    ck_assert_int_eq(store_addr_get(st, "198.18.0.2", &a), 0);
    ck_assert_int_eq(a.version, 0);
    ck_assert_int_eq(store_addr_update(st, "198.18.0.2", "mx1.blocked.test", timeout_now, NULL, &a),
                     BREAKER_SAME);
    ck_assert_int_eq(a.version, 1);
    ck_assert_int_eq(store_addr_get(st, "198.18.0.2", &a), 1);
    ck_assert_str_eq(a.host, "mx1.blocked.test");
    ck_assert_uint_eq(a.b.nfails, 1);
    ck_assert_uint_eq(a.b.kind_counts[FAIL_TIMEOUT], 1);
    store_addr_update(st, "198.18.0.2", NULL, timeout_now, NULL, &a);
    ck_assert_int_eq(store_addr_update(st, "198.18.0.2", NULL, timeout_now, NULL, &a), BREAKER_TRIPPED);
    ck_assert_int_eq(store_addr_get(st, "198.18.0.2", &a), 1);
    ck_assert_int_eq(a.b.state, BREAKER_DETOURED);
    ck_assert_str_eq(a.host, "mx1.blocked.test");    /* kept when not given */
    store_close(st);
}
END_TEST

START_TEST(stale_version_is_refused)
{
    struct store *st = open_site("a");
    struct store_addr a, b;
    struct breaker br;
    breaker_init(&br, clock_now_ms());
    ck_assert_int_eq(store_addr_cas(st, "198.18.0.3", "mx", 0, &br, 0, &a), 1);
    ck_assert_int_eq(store_addr_cas(st, "198.18.0.3", "mx", 0, &br, 0, &b), 0);
    ck_assert_int_eq(b.version, 1);       /* the conflict returns the current record */
    ck_assert_int_eq(store_addr_cas(st, "198.18.0.3", "mx", 1, &br, 0, &b), 1);
    ck_assert_int_eq(b.version, 2);
    store_close(st);
}
END_TEST

/* Two processes record the failures that trip one address at the same time:
 * every failure is counted and exactly one of them reports the trip. */
START_TEST(racing_clients_trip_once)
{
    enum { ROUNDS = 20 };
    int trips = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char addr[32];
        int fds[2][2];
        snprintf(addr, sizeof(addr), "198.18.1.%d", round);
        struct store *st = open_site("race");
        struct store_addr a;
        store_addr_update(st, addr, "mx", timeout_now, NULL, &a);  /* 1 of 3 */
        store_close(st);
        pid_t pids[2];
        for (int k = 0; k < 2; k++) {
            ck_assert_int_eq(pipe(fds[k]), 0);
            pids[k] = fork();
            if (pids[k] == 0) {
                struct store *s2 = open_site("race");
                struct store_addr out;
                int ch = store_addr_update(s2, addr, "mx", timeout_now, NULL, &out);
                char c = (char)('0' + ch);
                if (write(fds[k][1], &c, 1) != 1)
                    _exit(2);
                store_close(s2);
                _exit(0);
            }
            close(fds[k][1]);
        }
        int tripped = 0;
        for (int k = 0; k < 2; k++) {
            char c = 0;
            ck_assert_int_eq(read(fds[k][0], &c, 1), 1);
            close(fds[k][0]);
            waitpid(pids[k], NULL, 0);
            tripped += c == '0' + BREAKER_TRIPPED;
            ck_assert_msg(c == '0' + BREAKER_TRIPPED || c == '0' + BREAKER_SAME, "child said %c", c);
        }
        ck_assert_int_eq(tripped, 1);
        trips += tripped;
        st = open_site("race");
        ck_assert_int_eq(store_addr_get(st, addr, &a), 1);
        ck_assert_int_eq(a.b.state, BREAKER_DETOURED);
        ck_assert_uint_eq(a.b.kind_counts[FAIL_TIMEOUT], 3);
        ck_assert_int_eq(a.version, 3);
        store_close(st);
    }
    ck_assert_int_eq(trips, ROUNDS);
}
END_TEST

START_TEST(manual_override_expires)
{
    struct store *st = open_site("a");
    struct store_manual m = {.action = MANUAL_BLOCK}, got;
    snprintf(m.key, sizeof(m.key), "blocked.test");
    snprintf(m.via, sizeof(m.via), "relay-fi");
    snprintf(m.reason, sizeof(m.reason), "registry entry 2020-04-14");
    m.expires_ms = clock_now_ms() + 1200;
    ck_assert_int_eq(store_manual_set(st, &m), 0);
    ck_assert_int_eq(store_manual_get(st, "blocked.test", &got), 1);
    ck_assert_int_eq(got.action, MANUAL_BLOCK);
    ck_assert_str_eq(got.via, "relay-fi");
    ck_assert_str_eq(got.reason, "registry entry 2020-04-14");
    struct timespec ts = {1, 500000000};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(store_manual_get(st, "blocked.test", &got), 0);
    m.expires_ms = clock_now_ms() - 1;
    ck_assert_int_eq(store_manual_set(st, &m), -1);     /* already expired */
    store_close(st);
}
END_TEST

START_TEST(records_carry_ttls)
{
    struct store *st = open_site("a");
    struct store_addr a;
    struct store_domain d = {.since_ms = 1};
    snprintf(d.domain, sizeof(d.domain), "pm.test");
    snprintf(d.state, sizeof(d.state), "detoured");
    ck_assert_int_eq(store_domain_put(st, &d), 0);
    store_addr_update(st, "198.18.0.9", "mx", timeout_now, NULL, &a);
    redisContext *c = redisConnectUnix(redis.socket);
    redisReply *r = redisCommand(c, "PTTL mxdtest:a:addr:198.18.0.9");
    ck_assert_int_gt(r->integer, (long long)STORE_KEY_TTL_MS - 60000);
    freeReplyObject(r);
    r = redisCommand(c, "PTTL mxdtest:a:dom:pm.test");
    ck_assert_int_gt(r->integer, (long long)STORE_KEY_TTL_MS - 60000);
    freeReplyObject(r);
    redisFree(c);
    store_close(st);
}
END_TEST

START_TEST(transitions_are_published)
{
    redisContext *sub = redisConnectUnix(redis.socket);
    redisReply *r = redisCommand(sub, "SUBSCRIBE mxdtest:a:changes");
    freeReplyObject(r);
    struct store *st = open_site("a");
    struct store_addr a;
    for (int i = 0; i < 3; i++)
        store_addr_update(st, "198.18.0.4", "mx", timeout_now, NULL, &a);
    struct store_manual m = {.action = MANUAL_UNBLOCK, .expires_ms = clock_now_ms() + 60000};
    snprintf(m.key, sizeof(m.key), "open.test");
    store_manual_set(st, &m);
    /* Only the trip (third failure) and the manual change are announced. */
    ck_assert_int_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
    ck_assert_str_eq(r->element[2]->str, "addr 198.18.0.4 3");
    freeReplyObject(r);
    ck_assert_int_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
    ck_assert_str_eq(r->element[2]->str, "manual open.test");
    freeReplyObject(r);
    redisFree(sub);
    store_close(st);
}
END_TEST

START_TEST(sites_do_not_share_state)
{
    struct store *x = open_site("msk"), *y = open_site("fra");
    struct store_addr a;
    for (int i = 0; i < 3; i++)
        store_addr_update(x, "198.18.0.5", "mx", timeout_now, NULL, &a);
    ck_assert_int_eq(store_addr_get(x, "198.18.0.5", &a), 1);
    ck_assert_int_eq(a.b.state, BREAKER_DETOURED);
    ck_assert_int_eq(store_addr_get(y, "198.18.0.5", &a), 0);
    ck_assert_int_eq(a.b.state, BREAKER_DIRECT);
    store_close(x);
    store_close(y);
}
END_TEST

START_TEST(malformed_record_is_an_error_not_a_crash)
{
    struct store *st = open_site("a");
    struct store_addr a;
    redisContext *c = redisConnectUnix(redis.socket);
    freeReplyObject(redisCommand(c, "HSET mxdtest:a:addr:198.18.0.6 v 7 b %s", "v9 garbage"));
    freeReplyObject(redisCommand(c, "HSET mxdtest:a:addr:198.18.0.7 v notanumber"));
    redisFree(c);
    ck_assert_int_eq(store_addr_get(st, "198.18.0.6", &a), -1);
    ck_assert_ptr_nonnull(strstr(store_error(st), "malformed"));
    ck_assert_int_eq(store_addr_get(st, "198.18.0.7", &a), -1);
    store_close(st);
}
END_TEST

/* Redis restarts (empty: no persistence) in the middle: the old connection
 * fails cleanly, a new one reloads the scripts and works. */
START_TEST(redis_restart_is_survived)
{
    struct store *st = open_site("a");
    struct store_addr a;
    ck_assert_int_eq(store_addr_update(st, "198.18.0.8", "mx", timeout_now, NULL, &a), BREAKER_SAME);
    redis_helper_stop(&redis);
    ck_assert_int_eq(store_addr_get(st, "198.18.0.8", &a), -1);
    char err[256];
    ck_assert_ptr_null(store_open(&rc, "a", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "cannot connect to redis"));
    store_close(st);
    ck_assert_int_eq(redis_helper_restart(&redis), 0);
    st = open_site("a");
    ck_assert_int_eq(store_addr_update(st, "198.18.0.8", "mx", timeout_now, NULL, &a), BREAKER_SAME);
    ck_assert_int_eq(a.version, 1);
    /* SCRIPT FLUSH behind our back: EVALSHA gets NOSCRIPT and reloads. */
    redisContext *c = redisConnectUnix(redis.socket);
    freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
    redisFree(c);
    ck_assert_int_eq(store_addr_update(st, "198.18.0.8", "mx", timeout_now, NULL, &a), BREAKER_SAME);
    ck_assert_int_eq(a.version, 2);
    store_close(st);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("redis");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, address_record_round_trips);
    tcase_add_test(tc, stale_version_is_refused);
    tcase_add_test(tc, racing_clients_trip_once);
    tcase_add_test(tc, manual_override_expires);
    tcase_add_test(tc, records_carry_ttls);
    tcase_add_test(tc, transitions_are_published);
    tcase_add_test(tc, sites_do_not_share_state);
    tcase_add_test(tc, malformed_record_is_an_error_not_a_crash);
    tcase_add_test(tc, redis_restart_is_survived);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/kernel/kernelpub: which blocked addresses go into
 * which kernel-mode tunnel's set, and the requests that make each set so.
 *
 * The root helper is not started: privsep_available(),
 * privsep_request_kernel() and privsep_cancel() are replaced by stubs in
 * this file (relay/core/privsep.o is then not linked).  The stub records
 * every request and answers on the loop, as the helper would: done, or
 * failed when the test says so.  Everything else is real: the tunnels of
 * the configuration (interface "lo", mta_user "root", so the checks pass),
 * relayhealth (each tunnel has a loopback check target; Postfix's word on
 * it, relayhealth_evidence(), takes it down), Redis (not running: a
 * socket that does not exist) and the state file in a temporary directory.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_loop.h"
#include "check_files.h"
#include "check_main.h"
#include "kernelpub.h"
#include "kernelstate.h"
#include "msg.h"
#include "privsep.h"
#include "relayhealth.h"

/* ---- the helper's stand-in ---- */

#define MAXREQ 256

struct req {
    enum privsep_type type;
    struct privsep_kernel k;
    privsep_done_fn done;
    void *arg;
};

static struct req reqs[MAXREQ];         /* every request, in order */
static size_t nreqs, nanswered;
static int helper_up = 1;
static int fail_commit;                 /* answer the next COMMIT with -1 */
static struct event *deliver;

int privsep_available(void)
{
    return helper_up;
}

int privsep_request_kernel(enum privsep_type type, const struct privsep_kernel *k,
                           privsep_done_fn done, void *arg, char *err, size_t errlen)
{
    if (nreqs == MAXREQ) {
        snprintf(err, errlen, "too many requests");
        return -1;
    }
    reqs[nreqs++] = (struct req){.type = type, .k = *k, .done = done, .arg = arg};
    event_active(deliver, EV_TIMEOUT, 0);
    return 0;
}

void privsep_cancel(privsep_done_fn done, void *arg)
{
    for (size_t i = nanswered; i < nreqs; i++)
        if (reqs[i].done == done && reqs[i].arg == arg)
            reqs[i].done = NULL;
}

/* The answers, in order, on the loop. */
static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    while (nanswered < nreqs) {
        struct req *r = &reqs[nanswered++];
        int failed = fail_commit && r->type == PRIVSEP_KERNEL_COMMIT;
        if (failed)
            fail_commit = 0;
        if (r->done)
            r->done(failed ? -1 : 0, failed ? "nft: Operation not permitted" : "set changed", r->arg);
    }
}

/* ---- fixture ---- */

static char dir[64], redis_sock[128], state[128];
static struct event_base *base;
static struct cfg cfg;
static struct cfg_relay relays[3];
static struct daemon d;
static int started;

static char last_warning[512];

static void capture(int pri, const char *module, const char *text)
{
    (void)module;
    if (pri == LOG_WARNING)
        snprintf(last_warning, sizeof(last_warning), "%s", text);
}

static void relay_changed(const char *relay, int up, void *arg)
{
    (void)arg;
    kernelpub_relay_change(relay, up);  /* what the engine does */
}

static void tunnel(struct cfg_relay *r, const char *name, const char *check, uint32_t table)
{
    memset(r, 0, sizeof(*r));
    r->name = (char *)name;
    r->type = RELAY_TUNNEL;
    r->mode = RELAY_MODE_KERNEL;
    r->interface = (char *)"lo";
    r->check_host = (char *)check;
    r->check_port = 9;
    r->kernel.route_table = table;
    r->kernel.fwmark = table;
    r->kernel.rule_priority = 1000;
    r->kernel.mta_user = (char *)"root";
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_kernelpub.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(redis_sock, sizeof(redis_sock), "%s/no-redis.sock", dir);
    snprintf(state, sizeof(state), "%s/" KERNELSTATE_FILE, dir);
    tunnel(&relays[0], "tun-a", "127.0.0.2", 2525);
    tunnel(&relays[1], "tun-b", "127.0.0.3", 2526);
    memset(&relays[2], 0, sizeof(relays[2]));     /* a smarthost: not kernelpub's */
    relays[2].name = (char *)"relay-fi";
    relays[2].type = RELAY_SMARTHOST;
    relays[2].nexthop = (char *)"smtp:[192.0.2.99]:587";
    memset(&cfg, 0, sizeof(cfg));
    cfg.site = (char *)"test";
    cfg.state_dir = dir;
    cfg.redis.socket = redis_sock;
    cfg.redis.prefix = (char *)"mxd";
    cfg.redis.connect_timeout_ms = 200;
    cfg.redis.command_timeout_ms = 200;
    cfg.probe.timeout_ms = 1000;
    cfg.probe.concurrency = 2;
    cfg.probe.port = 25;
    cfg.probe.relay_interval_ms = 3600000;        /* one probe at start, no more */
    cfg.relays = relays;
    cfg.nrelays = 3;
    ck_assert_ptr_nonnull(base = event_base_new());
    ck_assert_ptr_nonnull(deliver = event_new(base, -1, 0, deliver_cb, NULL));
    memset(&d, 0, sizeof(d));
    d.base = base;
    d.cfg = &cfg;
    nreqs = nanswered = 0;
    helper_up = 1;
    fail_commit = 0;
    started = 0;
    last_warning[0] = 0;
    msg_set_capture(capture);
}

static void teardown(void)
{
    char cmd[128];

    if (started)
        kernelpub_module.stop(&d);
    relayhealth_stop();
    event_free(deliver);
    event_base_free(base);
    msg_set_capture(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}


static void start(void)
{
    ck_assert_int_eq(relayhealth_start(base, &cfg, relay_changed, NULL), 0);
    ck_assert_int_eq(kernelpub_module.start(&d), 0);
    started = 1;
    ck_assert(kernelpub_active());
}

static struct netaddr A(const char *text)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(text, &a), 0);
    return a;
}

/* The requests from index `from` on, one word each: "E0" ensure tunnel 0,
 * "A0:192.0.2.1" stage add, "D1:..." delete, "W0:..." want (several
 * addresses joined by ','), "C0/2" commit of 2 staged, "C0/2s" a sync. */
static const char *requests(size_t from)
{
    static char out[4096];
    size_t n = 0;

    out[0] = 0;
    for (size_t i = from; i < nreqs && n < sizeof(out) - 200; i++) {
        const struct privsep_kernel *k = &reqs[i].k;
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s", n ? " " : "");
        switch (reqs[i].type) {
        case PRIVSEP_KERNEL_ENSURE:
            n += (size_t)snprintf(out + n, sizeof(out) - n, "E%u", k->tunnel);
            break;
        case PRIVSEP_KERNEL_COMMIT:
            n += (size_t)snprintf(out + n, sizeof(out) - n, "C%u/%u%s", k->tunnel, k->staged,
                                  k->sync ? "s" : "");
            break;
        case PRIVSEP_KERNEL_STAGE: {
            size_t width = k->family == 4 ? 4 : 16;
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%c%u:",
                                  k->op == PRIVSEP_KOP_ADD ? 'A' : k->op == PRIVSEP_KOP_DEL ? 'D' : 'W',
                                  k->tunnel);
            for (unsigned j = 0; j < k->count; j++) {
                struct netaddr a;
                char text[NETADDR_STRLEN];
                memset(&a, 0, sizeof(a));
                a.family = k->family == 4 ? AF_INET : AF_INET6;
                memcpy(a.bytes, k->addr + j * width, width);
                n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", j ? "," : "",
                                      netaddr_format(&a, text, sizeof(text)));
            }
            break;
        }
        default:
            n += (size_t)snprintf(out + n, sizeof(out) - n, "?%d", (int)reqs[i].type);
        }
    }
    return out;
}

/* Started, and the first rounds done. */
static void started_and_settled(void)
{
    start();
    check_run_loop(base, 200);
}

START_TEST(start_without_redis_or_state_keeps_the_sets_and_adds_only)
{
    started_and_settled();
    /* Each tunnel's table made once, nothing staged, no sync: what an
     * earlier run left in the sets stays (fail-static). */
    ck_assert_str_eq(requests(0), "E0 C0/0 E1 C1/0");
}
END_TEST

START_TEST(blocked_addresses_go_into_the_first_tunnel_up_in_one_round)
{
    struct netaddr a = A("192.0.2.1"), b = A("192.0.2.2"), c = A("2001:db8::25");
    size_t mark;

    started_and_settled();
    mark = nreqs;
    ck_assert(!kernelpub_holds(&a));
    kernelpub_addr(&a, 1, "3 connect timeouts");
    kernelpub_addr(&b, 1, "feed registry");
    kernelpub_addr(&c, 1, "");
    ck_assert(kernelpub_holds(&a));             /* about to be: the log is not about the direct path */
    ck_assert_uint_eq(nreqs, mark);             /* coalesced: nothing sent inside the calls */
    check_run_loop(base, 200);
    ck_assert_str_eq(requests(mark), "A0:192.0.2.1,192.0.2.2 A0:2001:db8::25 C0/3");
    ck_assert_ptr_nonnull(strstr(check_slurp(state), "\n192.0.2.1 tun-a 3 connect timeouts\n"
                                               "192.0.2.2 tun-a feed registry\n2001:db8::25 tun-a -\n"));
    /* Told again: nothing to do. */
    mark = nreqs;
    kernelpub_addr(&a, 1, "3 connect timeouts");
    check_run_loop(base, 100);
    ck_assert_uint_eq(nreqs, mark);
}
END_TEST

START_TEST(an_unblocked_address_leaves_only_after_the_delay)
{
    struct netaddr a = A("192.0.2.1"), b = A("192.0.2.2");
    size_t mark;

    started_and_settled();
    kernelpub_addr(&a, 1, "blocked");
    kernelpub_addr(&b, 1, "blocked");
    check_run_loop(base, 100);
    mark = nreqs;
    /* A flicker: unblocked and blocked again within the delay; no change. */
    kernelpub_addr(&b, 0, NULL);
    check_run_loop(base, 100);
    kernelpub_addr(&b, 1, "blocked again");
    kernelpub_addr(&a, 0, NULL);
    ck_assert(kernelpub_holds(&a));             /* still in the set */
    check_run_loop(base, KERNELPUB_REMOVE_DELAY_MS / 2);
    ck_assert_str_eq(requests(mark), "");
    check_run_loop(base, KERNELPUB_REMOVE_DELAY_MS);
    ck_assert_str_eq(requests(mark), "D0:192.0.2.1 C0/1");
    ck_assert(!kernelpub_holds(&a));
    ck_assert(kernelpub_holds(&b));
    ck_assert_ptr_null(strstr(check_slurp(state), "192.0.2.1 "));
    ck_assert_ptr_nonnull(strstr(check_slurp(state), "192.0.2.2 tun-a"));
}
END_TEST

START_TEST(a_tunnel_down_moves_its_addresses_to_the_next)
{
    struct netaddr a = A("192.0.2.1"), check_a = A("127.0.0.2"), check_b = A("127.0.0.3");
    size_t mark;

    started_and_settled();
    kernelpub_addr(&a, 1, "blocked");
    check_run_loop(base, 100);
    mark = nreqs;
    /* Postfix cannot connect to tun-a's check target: tun-a is down. */
    for (int i = 0; i < RELAYHEALTH_FALL; i++)
        relayhealth_evidence(&check_a, 0);
    ck_assert(!relayhealth_is_up("tun-a"));
    check_run_loop(base, 200);
    /* Out of tun-a's set first, then into tun-b's (one set at a time). */
    ck_assert_str_eq(requests(mark), "D0:192.0.2.1 C0/1 A1:192.0.2.1 C1/1");
    ck_assert_ptr_nonnull(strstr(check_slurp(state), "192.0.2.1 tun-b blocked"));
    /* tun-b down too: in no set, mail goes the direct way (and waits). */
    mark = nreqs;
    for (int i = 0; i < RELAYHEALTH_FALL; i++)
        relayhealth_evidence(&check_b, 0);
    check_run_loop(base, 200);
    ck_assert_str_eq(requests(mark), "D1:192.0.2.1 C1/1");
    ck_assert(!kernelpub_holds(&a));
    /* tun-a back: its table is made again (a recreated interface), then the address. */
    mark = nreqs;
    relayhealth_evidence(&check_a, 1);
    ck_assert(relayhealth_is_up("tun-a"));
    check_run_loop(base, 200);
    ck_assert_str_eq(requests(mark), "E0 A0:192.0.2.1 C0/1");
    ck_assert(kernelpub_holds(&a));
}
END_TEST

START_TEST(a_failed_round_is_retried_after_a_delay)
{
    struct netaddr a = A("192.0.2.1");
    size_t mark;

    started_and_settled();
    mark = nreqs;
    fail_commit = 1;
    kernelpub_addr(&a, 1, "blocked");
    check_run_loop(base, 200);
    ck_assert_str_eq(requests(mark), "A0:192.0.2.1 C0/1");
    ck_assert_msg(strstr(last_warning, "tunnel tun-a: the set was not changed: nft: Operation not permitted"),
                  "warning: %s", last_warning);
    ck_assert_ptr_null(strstr(check_slurp(state), "192.0.2.1"));      /* not in the set */
    /* The retry waits KERNELPUB_RETRY_MIN_MS and makes sure of the table first. */
    mark = nreqs;
    check_run_loop(base, KERNELPUB_RETRY_MIN_MS / 2);
    ck_assert_uint_eq(nreqs, mark);
    check_run_loop(base, KERNELPUB_RETRY_MIN_MS);
    ck_assert_str_eq(requests(mark), "E0 A0:192.0.2.1 C0/1");
    ck_assert_ptr_nonnull(strstr(check_slurp(state), "192.0.2.1 tun-a blocked"));
}
END_TEST

START_TEST(the_last_known_state_is_kept_and_synced_at_start)
{
    FILE *fp = fopen(state, "w");

    ck_assert_ptr_nonnull(fp);
    fputs("# mxdetourd: addresses in the sets\n192.0.2.7 tun-a 3 connect timeouts\n"
          "2001:db8::7 tun-b feed\n", fp);
    fclose(fp);
    started_and_settled();
    /* Redis does not answer: the state file's addresses are taken as
     * blocked, and each set is made exactly that in one transaction (both
     * into tun-a, the first tunnel up; tun-b's set is emptied). */
    ck_assert_str_eq(requests(0), "E0 W0:192.0.2.7 W0:2001:db8::7 C0/2s E1 C1/0s");
    ck_assert_ptr_nonnull(strstr(check_slurp(state), "192.0.2.7 tun-a 3 connect timeouts\n"));
    ck_assert_ptr_nonnull(strstr(check_slurp(state), "2001:db8::7 tun-a feed\n"));
}
END_TEST

/* Thousands of addresses: each is found again (the index grows with the
 * array), and after half of them leave, and a round compacts the array,
 * each of the others still is. */
START_TEST(many_addresses_are_each_found_after_the_array_moves)
{
    enum { N = 3000 };
    char text[64];
    struct netaddr a;

    started_and_settled();
    for (unsigned i = 0; i < N; i++) {
        snprintf(text, sizeof(text), "10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff);
        a = A(text);
        kernelpub_addr(&a, 1, "blocked");
    }
    check_run_loop(base, 200);
    for (unsigned i = 0; i < N; i++) {
        snprintf(text, sizeof(text), "10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff);
        a = A(text);
        ck_assert(kernelpub_holds(&a));
        if (i % 2)
            kernelpub_addr(&a, 0, NULL);
    }
    check_run_loop(base, KERNELPUB_REMOVE_DELAY_MS + 300);
    for (unsigned i = 0; i < N; i++) {
        snprintf(text, sizeof(text), "10.%u.%u.%u", i >> 16, (i >> 8) & 0xff, i & 0xff);
        a = A(text);
        ck_assert_int_eq(kernelpub_holds(&a), i % 2 == 0);
    }
    a = A("10.200.0.1");
    ck_assert(!kernelpub_holds(&a));
}
END_TEST

START_TEST(no_kernel_tunnel_no_module_and_no_helper_no_start)
{
    struct netaddr a = A("192.0.2.1");

    /* Only the smarthost: the module stays inactive and sends nothing. */
    cfg.relays = &relays[2];
    cfg.nrelays = 1;
    ck_assert_int_eq(relayhealth_start(base, &cfg, relay_changed, NULL), 0);
    ck_assert_int_eq(kernelpub_module.start(&d), 0);
    started = 1;
    ck_assert(!kernelpub_active());
    kernelpub_addr(&a, 1, "blocked");
    ck_assert(!kernelpub_holds(&a));
    check_run_loop(base, 100);
    ck_assert_uint_eq(nreqs, 0);
    kernelpub_module.stop(&d);
    /* Kernel-mode tunnels but no helper: the start fails. */
    cfg.relays = relays;
    cfg.nrelays = 3;
    helper_up = 0;
    ck_assert_int_eq(kernelpub_module.start(&d), -1);
    ck_assert(!kernelpub_active());
    /* A tunnel on an interface that does not exist: the start fails too. */
    helper_up = 1;
    relays[1].interface = (char *)"mxd-none0";
    ck_assert_int_eq(kernelpub_module.start(&d), -1);
    ck_assert_uint_eq(nreqs, 0);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("kernelpub");
    TCase *tc = tcase_create("kernelpub");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, start_without_redis_or_state_keeps_the_sets_and_adds_only);
    tcase_add_test(tc, blocked_addresses_go_into_the_first_tunnel_up_in_one_round);
    tcase_add_test(tc, an_unblocked_address_leaves_only_after_the_delay);
    tcase_add_test(tc, a_tunnel_down_moves_its_addresses_to_the_next);
    tcase_add_test(tc, a_failed_round_is_retried_after_a_delay);
    tcase_add_test(tc, the_last_known_state_is_kept_and_synced_at_start);
    tcase_add_test(tc, no_kernel_tunnel_no_module_and_no_helper_no_start);
    tcase_add_test(tc, many_addresses_are_each_found_after_the_array_moves);
    suite_add_tcase(s, tc);
    return s;
}

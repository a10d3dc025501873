/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/net/race: the decision table (race_decide, pure,
 * with elapsed times given), and real races on loopback: a greeting
 * server, a closed port, and a small SOCKS5 proxy in a child process that
 * answers CONNECT with a configured REP and, on success, a greeting of its
 * own (so "the host answers through the control path" while the direct
 * path is refused).
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_loop.h"
#include "check_main.h"
#include "race.h"

static struct race_leg leg(int done, enum probe_kind k, uint64_t ms)
{
    struct race_leg l = {done, k, ms};
    return l;
}

START_TEST(decision_table)
{
    struct race_leg none = leg(0, PROBE_GREETING, 0);
    struct race_leg greet = leg(1, PROBE_GREETING, 200), reply = leg(1, PROBE_REPLY, 200);
    struct race_leg timeout = leg(1, PROBE_TIMEOUT, 15000), refused = leg(1, PROBE_REFUSED, 1);
    struct race_leg error = leg(1, PROBE_ERROR, 5);

    ck_assert_int_eq(race_decide(&greet, &none, 0, 100, 3000), RACE_OPEN);
    ck_assert_int_eq(race_decide(&reply, &timeout, 0, 100, 3000), RACE_OPEN);
    ck_assert_int_eq(race_decide(&none, &none, 0, 100, 3000), RACE_WAIT);
    /* Control greets: blocked here once the direct path fails... */
    ck_assert_int_eq(race_decide(&refused, &greet, 0, 300, 3000), RACE_BLOCKED_HERE);
    ck_assert_int_eq(race_decide(&timeout, &reply, 0, 15000, 3000), RACE_BLOCKED_HERE);
    /* ... or has not connected within fast_confirm, but not before it, */
    ck_assert_int_eq(race_decide(&none, &greet, 0, 2999, 3000), RACE_WAIT);
    ck_assert_int_eq(race_decide(&none, &greet, 0, 3000, 3000), RACE_BLOCKED_HERE);
    /* ... and not while the direct path is connected (a slow banner). */
    ck_assert_int_eq(race_decide(&none, &greet, 1, 9000, 3000), RACE_WAIT);
    /* Both fail: down everywhere, once the direct leg is in. */
    ck_assert_int_eq(race_decide(&none, &timeout, 0, 9000, 3000), RACE_WAIT);
    ck_assert_int_eq(race_decide(&timeout, &refused, 0, 15000, 3000), RACE_DOWN_EVERYWHERE);
    /* The control path itself failed: no word, whatever the direct says. */
    ck_assert_int_eq(race_decide(&none, &error, 0, 9000, 3000), RACE_WAIT);
    ck_assert_int_eq(race_decide(&timeout, &error, 0, 15000, 3000), RACE_NO_CONTROL);
    ck_assert_int_eq(race_decide(&greet, &error, 0, 200, 3000), RACE_OPEN);
    /* A local error on the direct leg proves nothing either. */
    ck_assert_int_eq(race_decide(&error, &greet, 0, 200, 3000), RACE_NO_CONTROL);
    ck_assert_str_eq(race_decision_name(RACE_DOWN_EVERYWHERE), "down-everywhere");
}
END_TEST

static struct event_base *base;
static pid_t child = -1;
static struct race_outcome got;
static char got_sentence[RACE_TEXT_MAX];
static int ndone;

static int listen_on(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A port nobody listens on: connections to it are refused. */
static int closed_port(void)
{
    int port, fd = listen_on(&port);
    close(fd);
    return port;
}

static void read_n(int fd, size_t n)
{
    char buf[64];
    while (n > 0) {
        ssize_t r = read(fd, buf, n < sizeof(buf) ? n : sizeof(buf));
        if (r <= 0)
            _exit(0);
        n -= (size_t)r;
    }
}

/* In a child: a greeting server (rep < 0) or a SOCKS5 proxy answering
 * CONNECT (IPv4) with rep, then "220 control" when rep is 0. */
static int serve(int rep)
{
    int port, fd = listen_on(&port);
    if ((child = fork()) == 0) {
        for (;;) {
            int c = accept(fd, NULL, NULL);
            if (c < 0)
                _exit(0);
            if (rep < 0) {
                (void)!write(c, "220 direct ESMTP\r\n", 18);
            } else {
                unsigned char ok[] = {5, 0}, reply[] = {5, (unsigned char)rep, 0, 1, 0, 0, 0, 0, 0, 0};
                read_n(c, 3);
                (void)!write(c, ok, sizeof(ok));
                read_n(c, 10);
                (void)!write(c, reply, sizeof(reply));
                if (rep == 0)
                    (void)!write(c, "220 control ESMTP\r\n", 19);
            }
            usleep(200000);     /* let the QUIT come */
            close(c);
        }
    }
    close(fd);
    return port;
}

static void on_outcome(const struct race_outcome *o, void *arg)
{
    (void)arg;
    got = *o;
    snprintf(got_sentence, sizeof(got_sentence), "%s", o->sentence);
    got.sentence = got_sentence;
    ndone++;
    event_base_loopbreak(base);
}

static void setup(void)
{
    base = event_base_new();
    ndone = 0;
    child = -1;
}

static void teardown(void)
{
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    event_base_free(base);
}

static const struct race_outcome *race(int direct_port, int proxy_port, uint64_t fast_ms)
{
    struct cfg_probe cp = {.timeout_ms = 3000, .concurrency = 4, .port = direct_port};
    struct socks5_proxy sp = {.port = proxy_port};
    struct race_path path = {.name = "relay-out", .proxy = &sp};
    struct netaddr lo;
    struct racer *r = racer_new(base, &cp, 4);

    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(netaddr_parse("127.0.0.1", &lo), 0);
    sp.addr = lo;
    ck_assert_int_eq(racer_start(r, &lo, &path, fast_ms, on_outcome, NULL), 0);
    ck_assert_int_eq(racer_start(r, &lo, &path, fast_ms, on_outcome, NULL), -1);   /* one per address */
    ck_assert_int_eq(racer_busy(r, &lo), 1);
    ck_assert_int_eq(ndone, 0);         /* never from inside racer_start */
    check_run_loop(base, 5000);
    ck_assert_int_eq(ndone, 1);
    ck_assert_uint_eq(racer_running(r), 0);
    racer_free(r);
    return &got;
}

START_TEST(direct_greeting_is_open)
{
    int direct = serve(-1);
    const struct race_outcome *o = race(direct, closed_port(), 3000);
    ck_assert_int_eq(o->decision, RACE_OPEN);
    ck_assert_msg(strncmp(o->sentence, "open: greeting in ", 18) == 0, "%s", o->sentence);
}
END_TEST

START_TEST(refused_here_greeting_there_is_blocked_here)
{
    int proxy = serve(0);
    const struct race_outcome *o = race(closed_port(), proxy, 3000);
    ck_assert_int_eq(o->decision, RACE_BLOCKED_HERE);
    ck_assert_int_eq(o->direct.kind, PROBE_REFUSED);
    ck_assert_int_eq(o->control.kind, PROBE_GREETING);
    ck_assert_msg(strstr(o->sentence, "blocked here: connection refused in ") == o->sentence
                  && strstr(o->sentence, "on the direct path, greeting in ")
                  && strstr(o->sentence, "through relay-out"), "%s", o->sentence);
}
END_TEST

START_TEST(refused_both_ways_is_down_everywhere)
{
    int proxy = serve(5);               /* REP 5: connection refused */
    const struct race_outcome *o = race(closed_port(), proxy, 3000);
    ck_assert_int_eq(o->decision, RACE_DOWN_EVERYWHERE);
    ck_assert_msg(strstr(o->sentence, "down everywhere: ") == o->sentence, "%s", o->sentence);
}
END_TEST

START_TEST(dead_proxy_gives_no_verdict)
{
    const struct race_outcome *o = race(closed_port(), closed_port(), 3000);
    ck_assert_int_eq(o->decision, RACE_NO_CONTROL);
    ck_assert_int_eq(o->direct.kind, PROBE_REFUSED);       /* still evidence, as a probe */
    ck_assert_msg(strstr(o->sentence, "control path relay-out failed") == o->sentence, "%s", o->sentence);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("race");
    TCase *tc = tcase_create("decide");
    tcase_add_test(tc, decision_table);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("race");
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_set_timeout(tr, 20);
    tcase_add_test(tr, direct_greeting_is_open);
    tcase_add_test(tr, refused_here_greeting_there_is_blocked_here);
    tcase_add_test(tr, refused_both_ways_is_down_everywhere);
    tcase_add_test(tr, dead_proxy_gives_no_verdict);
    suite_add_tcase(s, tr);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration tests for relay/net/prober over loopback: small SMTP-ish servers
 * run on the same event_base as the prober (a greeting, a multi-line
 * greeting sent in pieces, a 554, silence, a hang-up, garbage, an endless
 * "220-"), a closed port, a listener whose accept queue is full (its SYNs
 * are dropped: a connect timeout without a firewall), the concurrency bound,
 * joining, cancelling, overflow and freeing with probes under way; and
 * control probes through Debian's microsocks (a real SOCKS5 proxy, with a
 * user and password; skipped when it is not installed).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "clock.h"
#include "prober.h"
#include "spawn.h"

enum mode { M_GREET, M_MULTI, M_554, M_SILENT, M_CLOSE, M_GARBAGE, M_ENDLESS };

struct conn {
    struct server *s;
    int fd;
    struct event *ev, *later;
    struct conn *next;
};

struct server {
    enum mode mode;
    int lfd, port;
    struct event *lev;
    int accepted, open, max_open, quits;
    struct conn *conns;
};

static struct event_base *base;
static struct prober *pr;
static struct probe_result got[16];
static char got_text[16][PROBER_TEXT_MAX], got_source[16][NETADDR_STRLEN], got_proxy[16][64];
static uint64_t got_at[16];
static int ngot, want;
static uint64_t t0;

static void conn_close(struct conn *c)
{
    struct conn **pp = &c->s->conns;

    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    c->s->open--;
    event_free(c->ev);
    if (c->later)
        event_free(c->later);
    close(c->fd);
    free(c);
}

static void conn_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);

    (void)what;
    if (n > 0) {
        buf[n] = 0;
        if (strstr(buf, "QUIT\r\n"))
            c->s->quits++;
    } else if (n == 0 || errno != EAGAIN) {
        conn_close(c);
    }
}

static void say(int fd, const char *s)
{
    ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void conn_later(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    (void)fd;
    (void)what;
    say(c->fd, "ond\r\n220 last line\r\n");
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct server *s = arg;
    struct conn *c;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

    (void)what;
    if (fd < 0)
        return;
    s->accepted++;
    if (s->mode == M_CLOSE) {
        close(fd);
        return;
    }
    c = calloc(1, sizeof(*c));
    c->s = s;
    c->fd = fd;
    c->next = s->conns;
    s->conns = c;
    if (++s->open > s->max_open)
        s->max_open = s->open;
    c->ev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read, c);
    event_add(c->ev, NULL);
    switch (s->mode) {
    case M_GREET:
        say(fd, "220 mx.test ESMTP\r\n");
        break;
    case M_MULTI: {
        struct timeval tv = {0, 100000};
        say(fd, "220-mx.test first\r\n220-sec");
        c->later = evtimer_new(base, conn_later, c);
        evtimer_add(c->later, &tv);
        break;
    }
    case M_554:
        say(fd, "554 5.7.1 no mail from you\r\n");
        break;
    case M_GARBAGE:
        say(fd, "HTTP/1.1 400 Bad Request\r\n");
        break;
    case M_ENDLESS:
        for (int i = 0; i < 40; i++)
            say(fd, "220-this server never stops talking\r\n");
        break;
    default:
        break;
    }
}

static struct server *server_new(enum mode mode, int backlog)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);

    s->mode = mode;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(s->lfd, 0);
    ck_assert_int_eq(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(s->lfd, backlog), 0);
    ck_assert_int_eq(getsockname(s->lfd, (struct sockaddr *)&sin, &len), 0);
    s->port = ntohs(sin.sin_port);
    if (backlog > 0) {
        s->lev = event_new(base, s->lfd, EV_READ | EV_PERSIST, on_accept, s);
        event_add(s->lev, NULL);
    }
    return s;
}

static void server_free(struct server *s)
{
    while (s->conns)
        conn_close(s->conns);
    if (s->lev)
        event_free(s->lev);
    close(s->lfd);
    free(s);
}

static void on_result(const struct probe_result *r, void *arg)
{
    (void)arg;
    ck_assert_int_lt(ngot, 16);
    got[ngot] = *r;
    snprintf(got_text[ngot], sizeof(got_text[0]), "%s", r->text);
    got[ngot].text = got_text[ngot];
    snprintf(got_source[ngot], sizeof(got_source[0]), "%s", r->source ? r->source : "");
    got[ngot].source = r->source ? got_source[ngot] : NULL;
    snprintf(got_proxy[ngot], sizeof(got_proxy[0]), "%s", r->proxy ? r->proxy : "");
    got[ngot].proxy = r->proxy ? got_proxy[ngot] : NULL;
    got_at[ngot] = clock_mono_ms() - t0;
    if (++ngot >= want)
        event_base_loopbreak(base);
}

static void setup_with(uint64_t timeout_ms, unsigned concurrency, uint64_t jitter_ms)
{
    struct cfg_probe pc = {.timeout_ms = timeout_ms, .concurrency = concurrency, .jitter_ms = jitter_ms,
                           .port = 25, .relay_interval_ms = 15000};

    base = event_base_new();
    pr = prober_new(base, &pc);
    ck_assert_ptr_nonnull(pr);
    ngot = want = 0;
    t0 = clock_mono_ms();
}

static void setup(void)
{
    setup_with(1000, 4, 0);
}

static void teardown(void)
{
    prober_free(pr);
    event_base_free(base);
}

static struct netaddr lo4(void)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse("127.0.0.1", &a), 0);
    return a;
}

/* Probes port with source, runs the loop until the result, returns it. */
static const struct probe_result *probe1(int port, const char *source)
{
    struct netaddr a = lo4();

    ngot = 0;
    want = 1;
    ck_assert_int_eq(prober_probe(pr, &a, port, source, on_result, NULL), 0);
    event_base_dispatch(base);
    ck_assert_int_eq(ngot, 1);
    return &got[0];
}

START_TEST(greeting_then_quit)
{
    struct server *s = server_new(M_GREET, 8);
    const struct probe_result *r = probe1(s->port, NULL);
    struct timeval tv = {0, 200000};

    ck_assert_int_eq(r->kind, PROBE_GREETING);
    ck_assert_int_eq(r->code, 220);
    ck_assert_str_eq(r->text, "220 mx.test ESMTP");
    ck_assert_int_eq(r->port, s->port);
    ck_assert(probe_is_success(r->kind));
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_NONE);
    /* The server hears QUIT and an orderly close. */
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    ck_assert_int_eq(s->quits, 1);
    ck_assert_int_eq(s->open, 0);
    server_free(s);
}
END_TEST

START_TEST(multiline_greeting_in_pieces)
{
    struct server *s = server_new(M_MULTI, 8);
    const struct probe_result *r = probe1(s->port, "127.0.0.1");

    ck_assert_int_eq(r->kind, PROBE_GREETING);
    ck_assert_str_eq(r->text, "220-mx.test first");
    ck_assert_str_eq(r->source, "127.0.0.1");
    ck_assert_uint_ge(r->elapsed_ms, 90);
    server_free(s);
}
END_TEST

START_TEST(reject_is_a_reply)
{
    struct server *s = server_new(M_554, 8);
    const struct probe_result *r = probe1(s->port, NULL);

    ck_assert_int_eq(r->kind, PROBE_REPLY);
    ck_assert_int_eq(r->code, 554);
    ck_assert(probe_is_success(r->kind));
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_NONE);
    server_free(s);
}
END_TEST

START_TEST(silence_is_no_greeting)
{
    struct server *s = server_new(M_SILENT, 8);
    const struct probe_result *r = probe1(s->port, NULL);

    ck_assert_int_eq(r->kind, PROBE_NO_GREETING);
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_GREETING);
    ck_assert_uint_ge(r->elapsed_ms, 950);
    ck_assert_uint_lt(r->elapsed_ms, 5000);
    server_free(s);
}
END_TEST

START_TEST(hangup_garbage_endless)
{
    struct server *s1 = server_new(M_CLOSE, 8), *s2 = server_new(M_GARBAGE, 8);
    struct server *s3 = server_new(M_ENDLESS, 8);

    ck_assert_int_eq(probe1(s1->port, NULL)->kind, PROBE_NO_GREETING);
    ck_assert_int_eq(probe1(s2->port, NULL)->kind, PROBE_NO_GREETING);
    ck_assert_str_eq(got[0].text, "malformed greeting");
    /* 1 KiB of "220-" lines: still a server that talks SMTP. */
    ck_assert_int_eq(probe1(s3->port, NULL)->kind, PROBE_GREETING);
    server_free(s1);
    server_free(s2);
    server_free(s3);
}
END_TEST

START_TEST(closed_port_is_refused)
{
    struct server *s = server_new(M_SILENT, 8);
    int port = s->port;
    const struct probe_result *r;

    server_free(s);
    r = probe1(port, NULL);
    ck_assert_int_eq(r->kind, PROBE_REFUSED);
    ck_assert_int_eq(r->err, ECONNREFUSED);
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_REFUSED);
}
END_TEST

START_TEST(full_accept_queue_times_out)
{
    /* Backlog 0 holds one connection; later SYNs are dropped. */
    struct server *s = server_new(M_SILENT, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int filler[2];
    const struct probe_result *r;

    for (int i = 0; i < 2; i++) {
        filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(filler[i], (struct sockaddr *)&sin, sizeof(sin));
    }
    usleep(100000);
    r = probe1(s->port, NULL);
    ck_assert_msg(r->kind == PROBE_TIMEOUT, "got %s (%s)", probe_kind_name(r->kind), r->text);
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_TIMEOUT);
    ck_assert_uint_ge(r->elapsed_ms, 950);
    close(filler[0]);
    close(filler[1]);
    server_free(s);
}
END_TEST

START_TEST(local_errors)
{
    ck_assert_int_eq(probe1(1, "192.0.2.1")->kind, PROBE_ERROR);     /* not ours */
    ck_assert_int_eq(got[0].err, EADDRNOTAVAIL);
    ck_assert_int_eq(probe1(1, "::1")->kind, PROBE_ERROR);           /* wrong family */
    ck_assert_int_eq(probe_fail_kind(PROBE_ERROR), FAIL_NONE);
    ck_assert(!probe_is_success(PROBE_ERROR));
    struct netaddr a = lo4();
    ck_assert_int_eq(prober_probe(pr, &a, 25, "not-an-address", on_result, NULL), -1);
    a.family = 0;
    ck_assert_int_eq(prober_probe(pr, &a, 25, NULL, on_result, NULL), -1);
}
END_TEST

struct sampler {
    struct server **s;
    int n, worst_running, worst_open;
};

static void sample(evutil_socket_t fd, short what, void *arg)
{
    struct sampler *sm = arg;
    struct prober_stats st;
    int open = 0;

    (void)fd;
    (void)what;
    prober_get_stats(pr, &st);
    if ((int)st.running > sm->worst_running)
        sm->worst_running = (int)st.running;
    for (int i = 0; i < sm->n; i++)
        open += sm->s[i]->open;
    if (open > sm->worst_open)
        sm->worst_open = open;
}

START_TEST(concurrency_is_bounded)
{
    struct server *s[5];
    struct sampler sm = {s, 5, 0, 0};
    struct timeval tv = {0, 20000};
    struct event *tick;
    struct netaddr a = lo4();
    struct prober_stats st;

    teardown();
    setup_with(400, 2, 0);
    for (int i = 0; i < 5; i++)
        s[i] = server_new(M_SILENT, 8);
    tick = event_new(base, -1, EV_PERSIST, sample, &sm);
    event_add(tick, &tv);
    want = 5;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(prober_probe(pr, &a, s[i]->port, NULL, on_result, NULL), 0);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.waiting, 5);
    event_base_dispatch(base);
    ck_assert_int_eq(ngot, 5);
    ck_assert_int_eq(sm.worst_running, 2);
    ck_assert_int_le(sm.worst_open, 2);
    /* First come, first served, two at a time: 400, 400, 800, 800, 1200 ms
     * (the two of a pair end in either order). */
    for (int i = 0; i < 5; i++) {
        int first = i & ~1, other = first + 1 < 5 ? first + 1 : first;
        ck_assert_int_eq(got[i].kind, PROBE_NO_GREETING);
        ck_assert(got[i].port == s[first]->port || got[i].port == s[other]->port);
    }
    ck_assert_uint_ge(got_at[4], 1150);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.started, 5);
    ck_assert_uint_eq(st.results[PROBE_NO_GREETING], 5);
    ck_assert_uint_eq(st.running + st.waiting, 0);
    event_free(tick);
    for (int i = 0; i < 5; i++)
        server_free(s[i]);
}
END_TEST

START_TEST(same_address_joins)
{
    struct server *s = server_new(M_GREET, 8);
    struct netaddr a = lo4();
    struct prober_stats st;

    want = 3;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(prober_probe(pr, &a, s->port, NULL, on_result, NULL), 0);
    event_base_dispatch(base);
    ck_assert_int_eq(ngot, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(got[i].kind, PROBE_GREETING);
    ck_assert_int_eq(s->accepted, 1);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.requested, 3);
    ck_assert_uint_eq(st.joined, 2);
    ck_assert_uint_eq(st.started, 1);
    server_free(s);
}
END_TEST

static void must_not_run(const struct probe_result *r, void *arg)
{
    (void)r;
    (void)arg;
    ck_abort_msg("a cancelled callback ran");
}

START_TEST(cancel_drops_callbacks)
{
    struct server *s = server_new(M_GREET, 8);
    struct netaddr a = lo4();
    int tag;

    want = 1;
    ck_assert_int_eq(prober_probe(pr, &a, s->port, NULL, must_not_run, &tag), 0);
    ck_assert_int_eq(prober_probe(pr, &a, s->port, NULL, on_result, NULL), 0);
    ck_assert_uint_eq(prober_cancel(pr, must_not_run, &tag), 1);
    event_base_dispatch(base);
    ck_assert_int_eq(got[0].kind, PROBE_GREETING);
    /* A probe nobody waits for any more is dropped at once. */
    ck_assert_int_eq(prober_probe(pr, &a, s->port, NULL, must_not_run, &tag), 0);
    ck_assert_uint_eq(prober_cancel(pr, must_not_run, &tag), 1);
    ck_assert_int_eq(event_base_loop(base, EVLOOP_NONBLOCK), 0);
    server_free(s);
}
END_TEST

START_TEST(overflow_and_free_under_way)
{
    struct netaddr a = lo4();
    struct prober_stats st;
    struct server *s;
    struct timeval tv = {0, 100000};

    teardown();
    setup_with(1000, 1, 60000);     /* long jitter: everything waits */
    for (int i = 0; i < PROBER_MAX_PENDING; i++)
        ck_assert_int_eq(prober_probe(pr, &a, 1000 + i, NULL, must_not_run, NULL), 0);
    ck_assert_int_eq(prober_probe(pr, &a, 999, NULL, must_not_run, NULL), -1);
    /* Joining needs no room. */
    ck_assert_int_eq(prober_probe(pr, &a, 1000, NULL, must_not_run, NULL), 0);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.overflow, 1);
    ck_assert_uint_eq(st.waiting, PROBER_MAX_PENDING);
    prober_cancel_all(pr);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.waiting, 0);
    /* The fixture frees the prober while this probe is connected and reading. */
    teardown();
    setup_with(5000, 1, 0);
    s = server_new(M_SILENT, 8);
    ck_assert_int_eq(prober_probe(pr, &a, s->port, NULL, must_not_run, NULL), 0);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.running, 1);
    ck_assert_int_eq(s->accepted, 1);
    server_free(s);
}
END_TEST

START_TEST(kind_names)
{
    ck_assert_str_eq(probe_kind_name(PROBE_TIMEOUT), "timeout");
    ck_assert_str_eq(probe_kind_name(PROBE_NO_GREETING), "no-greeting");
    ck_assert_int_eq(probe_fail_kind(PROBE_UNREACH), FAIL_UNREACH);
    ck_assert_int_eq(probe_fail_kind(PROBE_GREETING), FAIL_NONE);
}
END_TEST

/* Control probes: microsocks on a free loopback port, user "mxd". */

static pid_t ms_pid;
static int ms_leash = -1;               /* microsocks lives while this is open */
static int ms_port;

static int free_port(void)
{
    struct server *s = server_new(M_SILENT, 1);
    int port = s->port;

    server_free(s);
    return port;
}

static int listening(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
    close(fd);
    return ok;
}

static void proxy_setup(void)
{
    const char *path = "/usr/bin/microsocks";
    char port[8], err[128];

    setup();
    ms_pid = 0;
    if (access(path, X_OK) < 0)
        return;
    /* A port taken between free_port() and microsocks's bind makes it
     * exit: try another.  A shell keeps it on a leash: it kills microsocks
     * when the pipe we hold closes, so a case that fails leaves none behind. */
    for (int tries = 0; tries < 5 && ms_pid == 0; tries++) {
        int leash[2];
        pid_t pid;
        ms_port = free_port();
        snprintf(port, sizeof(port), "%d", ms_port);
        const char *argv[] = {"/bin/sh", "-c", "\"$0\" \"$@\" & cat <&3 >/dev/null; kill $!", path,
                              "-i", "127.0.0.1", "-p", port, "-u", "mxd", "-P", "s3cret", NULL};
        ck_assert_int_eq(pipe2(leash, O_CLOEXEC), 0);
        ck_assert_msg(spawn_start(argv, SPAWN_KEEP_STDOUT | SPAWN_KEEP_STDERR, &leash[0], 1, &pid,
                                  NULL, NULL, err, sizeof(err)) == 0, "%s", err);
        close(leash[0]);
        for (int i = 0; i < 100 && ms_pid == 0; i++) {
            if (listening(ms_port)) {
                ms_pid = pid;
                ms_leash = leash[1];
            }
            else
                usleep(20000);
        }
        if (ms_pid == 0) {
            spawn_stop(pid, 500);
            close(leash[1]);
        }
    }
    ck_assert_msg(ms_pid != 0, "microsocks did not start");
}

static void proxy_teardown(void)
{
    if (ms_pid)
        spawn_stop(ms_pid, 1000);
    if (ms_leash >= 0)
        close(ms_leash);
    ms_leash = -1;
    teardown();
}

/* Probes 127.0.0.1:port through microsocks as mxd with password. */
static const struct probe_result *probe_via(int port, const char *password)
{
    struct netaddr a = lo4();
    char user[8] = "mxd", pass[32];
    struct socks5_proxy px = {a, ms_port, user, pass};

    snprintf(pass, sizeof(pass), "%s", password);
    ngot = 0;
    want = 1;
    ck_assert_int_eq(prober_probe_via(pr, &a, port, &px, on_result, NULL), 0);
    /* Copied: the caller's strings may go. */
    memset(user, 'x', sizeof(user) - 1);
    memset(pass, 'x', sizeof(pass) - 1);
    event_base_dispatch(base);
    ck_assert_int_eq(ngot, 1);
    return &got[0];
}

START_TEST(proxy_greeting_and_silence)
{
    struct server *s = server_new(M_GREET, 8), *quiet = server_new(M_SILENT, 8);
    char name[32];
    const struct probe_result *r;
    struct timeval tv = {0, 200000};

    if (ms_pid == 0)
        SKIP_CASE("no /usr/bin/microsocks (apt-get install microsocks)");
    r = probe_via(s->port, "s3cret");
    ck_assert_msg(r->kind == PROBE_GREETING, "%s: %s", probe_kind_name(r->kind), r->text);
    ck_assert_str_eq(r->text, "220 mx.test ESMTP");
    ck_assert_int_eq(r->socks_err, SOCKS5_OK);
    snprintf(name, sizeof(name), "127.0.0.1:%d", ms_port);
    ck_assert_str_eq(r->proxy, name);
    ck_assert_ptr_null(r->source);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    ck_assert_int_eq(s->quits, 1);
    /* Handshake and greeting share timeout_ms (1 s here). */
    r = probe_via(quiet->port, "s3cret");
    ck_assert_int_eq(r->kind, PROBE_NO_GREETING);
    ck_assert_uint_ge(r->elapsed_ms, 950);
    ck_assert_uint_lt(r->elapsed_ms, 3000);
    server_free(s);
    server_free(quiet);
}
END_TEST

START_TEST(proxy_failures)
{
    struct netaddr a = lo4();
    struct socks5_proxy bad = {a, 0, NULL, NULL};
    const struct probe_result *r;
    int closed = free_port();

    if (ms_pid == 0)
        SKIP_CASE("no /usr/bin/microsocks (apt-get install microsocks)");
    /* The target refuses: evidence, as on the direct path. */
    r = probe_via(closed, "s3cret");
    ck_assert_int_eq(r->kind, PROBE_REFUSED);
    ck_assert_int_eq(r->socks_err, SOCKS5_TARGET_REFUSED);
    ck_assert_str_eq(r->text, "connection refused by the proxy's target (REP 5)");
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_REFUSED);
    /* The proxy refuses us, or is not there: never evidence. */
    r = probe_via(closed, "wrong");
    ck_assert_int_eq(r->kind, PROBE_ERROR);
    ck_assert_int_eq(r->socks_err, SOCKS5_PROXY_AUTH);
    ck_assert_int_eq(probe_fail_kind(r->kind), FAIL_NONE);
    ck_assert_int_eq(prober_probe_via(pr, &a, closed, &bad, on_result, NULL), -1);
    bad.port = ms_port;                 /* no user: microsocks wants one */
    want = 1;
    ngot = 0;
    ck_assert_int_eq(prober_probe_via(pr, &a, closed, &bad, on_result, NULL), 0);
    event_base_dispatch(base);
    ck_assert_int_eq(got[0].kind, PROBE_ERROR);
    ck_assert_int_eq(got[0].socks_err, SOCKS5_PROXY_AUTH);
    ck_assert_str_eq(got[0].text, "the proxy requires authentication we were not given");
    spawn_stop(ms_pid, 1000);
    ms_pid = 0;
    r = probe_via(closed, "s3cret");
    ck_assert_int_eq(r->kind, PROBE_ERROR);
    ck_assert_int_eq(r->socks_err, SOCKS5_PROXY_DOWN);
    bad.port = 1080;
    bad.user = "";
    bad.password = "p";
    ck_assert_int_eq(prober_probe_via(pr, &a, 25, &bad, on_result, NULL), -1);
}
END_TEST

START_TEST(proxy_joins_its_own_path_only)
{
    struct server *s = server_new(M_GREET, 8);
    struct netaddr a = lo4();
    struct socks5_proxy px = {a, ms_port, "mxd", "s3cret"}, other = px;
    struct prober_stats st;

    if (ms_pid == 0)
        SKIP_CASE("no /usr/bin/microsocks (apt-get install microsocks)");
    other.password = "wrong";
    want = 4;
    ngot = 0;
    ck_assert_int_eq(prober_probe(pr, &a, s->port, NULL, on_result, NULL), 0);
    ck_assert_int_eq(prober_probe_via(pr, &a, s->port, &px, on_result, NULL), 0);
    ck_assert_int_eq(prober_probe_via(pr, &a, s->port, &px, on_result, NULL), 0);
    ck_assert_int_eq(prober_probe_via(pr, &a, s->port, &other, on_result, NULL), 0);
    event_base_dispatch(base);
    ck_assert_int_eq(ngot, 4);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.started, 3);
    ck_assert_uint_eq(st.joined, 1);
    ck_assert_uint_eq(st.results[PROBE_GREETING], 2);
    ck_assert_uint_eq(st.results[PROBE_ERROR], 1);
    server_free(s);
}
END_TEST

START_TEST(proxy_silent_then_freed_under_way)
{
    struct server *mute = server_new(M_SILENT, 8);     /* a "proxy" that never answers */
    struct netaddr a = lo4();
    struct socks5_proxy px = {a, mute->port, NULL, NULL};
    struct timeval tv = {0, 100000};
    struct prober_stats st;

    want = 1;
    ck_assert_int_eq(prober_probe_via(pr, &a, 25, &px, on_result, NULL), 0);
    event_base_dispatch(base);
    ck_assert_int_eq(got[0].kind, PROBE_ERROR);
    ck_assert_int_eq(got[0].socks_err, SOCKS5_PROXY_DOWN);
    ck_assert_str_eq(got[0].text, "no method reply from the proxy within 1000 ms");
    /* The fixture frees the prober in the middle of a handshake. */
    ck_assert_int_eq(prober_probe_via(pr, &a, 25, &px, must_not_run, NULL), 0);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    prober_get_stats(pr, &st);
    ck_assert_uint_eq(st.running, 1);
    ck_assert_int_eq(mute->accepted, 2);
    server_free(mute);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("prober");
    TCase *tc = tcase_create("loopback");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, greeting_then_quit);
    tcase_add_test(tc, multiline_greeting_in_pieces);
    tcase_add_test(tc, reject_is_a_reply);
    tcase_add_test(tc, silence_is_no_greeting);
    tcase_add_test(tc, hangup_garbage_endless);
    tcase_add_test(tc, closed_port_is_refused);
    tcase_add_test(tc, full_accept_queue_times_out);
    tcase_add_test(tc, local_errors);
    tcase_add_test(tc, concurrency_is_bounded);
    tcase_add_test(tc, same_address_joins);
    tcase_add_test(tc, cancel_drops_callbacks);
    tcase_add_test(tc, overflow_and_free_under_way);
    tcase_add_test(tc, kind_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("socks5");
    tcase_add_checked_fixture(tc, proxy_setup, proxy_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, proxy_greeting_and_silence);
    tcase_add_test(tc, proxy_failures);
    tcase_add_test(tc, proxy_joins_its_own_path_only);
    tcase_add_test(tc, proxy_silent_then_freed_under_way);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/net/socks5: a fake SOCKS5 server on a loopback
 * listener, on the same event_base as the client, answers each handshake
 * from a script (after the client has sent K bytes, send these, perhaps one
 * byte per millisecond, perhaps hang up): success with IPv4, IPv6 and a
 * bound name, user/password, every REP code, short, malformed and overlong
 * replies, hang-ups in each phase, the deadline in each phase, a dead proxy,
 * bad arguments and cancelling.  A real proxy (Debian's microsocks) is
 * tests/integration/test_prober's.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "socks5.h"

struct step {
    size_t after;                       /* once the client has sent this much */
    const char *send;
    size_t len;
    int hangup;                         /* close once sent */
};

#define S(after, lit) {(after), (lit), sizeof(lit) - 1, 0}
#define S_HUP(after, lit) {(after), (lit), sizeof(lit) - 1, 1}
#define END {0, NULL, 0, 0}

struct fake {
    int lfd, port, cfd, dribble, accepted, closed;
    struct event *lev, *cev, *tick;
    const struct step *script;
    size_t next;
    char got[1024];                     /* what the client sent */
    size_t got_len;
    char out[600];                      /* to send, one byte a tick when dribbling */
    size_t out_len, out_pos;
    int hangup_after_out;
};

static struct event_base *base;
static struct socks5_result res;
static char res_text[SOCKS5_TEXT_MAX];
static int ndone;

static void fake_close(struct fake *f)
{
    if (f->cev)
        event_free(f->cev);
    if (f->tick)
        event_free(f->tick);
    f->cev = f->tick = NULL;
    if (f->cfd >= 0)
        close(f->cfd);
    f->cfd = -1;
    f->closed = 1;
}

static void fake_flush(struct fake *f)
{
    size_t n = f->dribble ? 1 : f->out_len - f->out_pos;

    if (f->out_pos < f->out_len) {
        ck_assert_int_eq(write(f->cfd, f->out + f->out_pos, n), (ssize_t)n);
        f->out_pos += n;
    }
    if (f->out_pos == f->out_len && f->hangup_after_out)
        fake_close(f);
}

static void fake_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fake_flush(arg);
}

/* Queues every step that is due. */
static void fake_steps(struct fake *f)
{
    while (f->script[f->next].send && f->script[f->next].after <= f->got_len) {
        const struct step *st = &f->script[f->next++];
        ck_assert_uint_le(f->out_len + st->len, sizeof(f->out));
        memcpy(f->out + f->out_len, st->send, st->len);
        f->out_len += st->len;
        f->hangup_after_out |= st->hangup;
    }
    if (!f->dribble)
        fake_flush(f);
}

static void fake_read(evutil_socket_t fd, short what, void *arg)
{
    struct fake *f = arg;
    ssize_t n = read(fd, f->got + f->got_len, sizeof(f->got) - f->got_len);

    (void)what;
    if (n <= 0) {
        if (n == 0 || errno != EAGAIN)
            fake_close(f);
        return;
    }
    f->got_len += (size_t)n;
    fake_steps(f);
}

static void fake_accept(evutil_socket_t lfd, short what, void *arg)
{
    struct fake *f = arg;
    struct timeval ms = {0, 1000};
    int one = 1;

    (void)what;
    f->cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
    if (f->cfd < 0)
        return;
    f->accepted++;
    setsockopt(f->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    f->cev = event_new(base, f->cfd, EV_READ | EV_PERSIST, fake_read, f);
    event_add(f->cev, NULL);
    if (f->dribble) {
        f->tick = event_new(base, -1, EV_PERSIST, fake_tick, f);
        event_add(f->tick, &ms);
    }
    fake_steps(f);
}

static struct fake *fake_new(const struct step *script, int dribble)
{
    struct fake *f = calloc(1, sizeof(*f));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);

    f->script = script;
    f->dribble = dribble;
    f->cfd = -1;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(f->lfd, 8), 0);
    ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sin, &len), 0);
    f->port = ntohs(sin.sin_port);
    f->lev = event_new(base, f->lfd, EV_READ | EV_PERSIST, fake_accept, f);
    event_add(f->lev, NULL);
    return f;
}

static void fake_free(struct fake *f)
{
    fake_close(f);
    event_free(f->lev);
    close(f->lfd);
    free(f);
}

static void on_done(const struct socks5_result *r, void *arg)
{
    (void)arg;
    ndone++;
    res = *r;
    snprintf(res_text, sizeof(res_text), "%s", r->text);
    res.text = res_text;
    event_base_loopbreak(base);
}

static void setup(void)
{
    base = event_base_new();
    ndone = 0;
    memset(&res, 0, sizeof(res));
}

static void teardown(void)
{
    event_base_free(base);
}

static struct netaddr addr(const char *text)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(text, &a), 0);
    return a;
}

/* One handshake to target:25 through the proxy on port, as user (or NULL). */
static const struct socks5_result *run_at(int port, const char *target, const char *user,
                                          const char *password, uint64_t timeout_ms)
{
    struct socks5_proxy px = {addr("127.0.0.1"), port, user, password};
    struct netaddr t = addr(target);

    ndone = 0;
    ck_assert_ptr_nonnull(socks5_connect(base, &px, &t, 25, timeout_ms, on_done, NULL));
    ck_assert_int_eq(ndone, 0);             /* never from inside the call */
    event_base_dispatch(base);
    ck_assert_int_eq(ndone, 1);
    if (res.err != SOCKS5_OK)
        ck_assert_int_eq(res.fd, -1);
    return &res;
}

static const struct socks5_result *run(struct fake *f, const char *user, const char *password)
{
    return run_at(f->port, "192.0.2.25", user, password, 2000);
}

/* The client's greeting and CONNECT to 192.0.2.25:25. */
#define HELLO "\5\1\0"
#define REQ4 "\5\1\0\1\300\0\2\31\0\31"
#define OK4 "\5\0\0\1\177\0\0\1\4\70"

START_TEST(noauth_leaves_the_greeting_unread)
{
    static const struct step sc[] = {S(3, "\5\0"), S(13, OK4 "220 mx.test\r\n"), END};
    struct fake *f = fake_new(sc, 0);
    char buf[64];

    ck_assert_int_eq(run(f, NULL, NULL)->err, SOCKS5_OK);
    ck_assert_int_ge(res.fd, 0);
    ck_assert_str_eq(res.text, "connected");
    ck_assert_int_eq(res.rep, 0);
    ck_assert_uint_eq(f->got_len, 13);
    ck_assert_mem_eq(f->got, HELLO REQ4, 13);
    /* Every byte after the reply is the target's. */
    ck_assert_int_eq(read(res.fd, buf, sizeof(buf)), 13);
    ck_assert_mem_eq(buf, "220 mx.test\r\n", 13);
    close(res.fd);
    fake_free(f);
}
END_TEST

START_TEST(ipv6_target_and_bound_name_in_pieces)
{
    static const struct step sc[] = {
        S(3, "\5\0"), S(3 + 22, "\5\0\0\3\5proxy\0\31" "220 v6\r\n"), END};
    struct fake *f = fake_new(sc, 1);
    char buf[64];

    ck_assert_int_eq(run_at(f->port, "2001:db8::25", NULL, NULL, 2000)->err, SOCKS5_OK);
    ck_assert_mem_eq(f->got + 3, "\5\1\0\4\x20\1\x0d\xb8", 8);
    ck_assert_mem_eq(f->got + 3 + 4 + 16, "\0\31", 2);
    usleep(50000);
    event_base_loop(base, EVLOOP_NONBLOCK);
    usleep(50000);
    event_base_loop(base, EVLOOP_NONBLOCK);
    ck_assert_int_ge(read(res.fd, buf, sizeof(buf)), 1);
    ck_assert_int_eq(buf[0], '2');
    close(res.fd);
    fake_free(f);
}
END_TEST

START_TEST(user_password)
{
    static const struct step ok[] = {S(4, "\5\2"), S(4 + 11, "\1\0"), S(4 + 11 + 10, OK4), END};
    static const struct step bad[] = {S(4, "\5\2"), S_HUP(4 + 11, "\1\1"), END};
    static const struct step none[] = {S_HUP(3, "\5\377"), END};
    static const struct step neither[] = {S_HUP(4, "\5\377"), END};
    static const struct step noauth[] = {S(4, "\5\0"), S(4 + 10, OK4), END};
    struct fake *f = fake_new(ok, 0);

    ck_assert_int_eq(run(f, "user", "pass")->err, SOCKS5_OK);
    ck_assert_mem_eq(f->got, "\5\2\0\2" "\1\4user\4pass" REQ4, 25);
    close(res.fd);
    fake_free(f);
    f = fake_new(bad, 0);
    ck_assert_int_eq(run(f, "user", "wrong")->err, SOCKS5_PROXY_AUTH);
    ck_assert_str_eq(res.text, "authentication failed (status 1)");
    ck_assert(!socks5_err_is_target(res.err));
    fake_free(f);
    f = fake_new(none, 0);
    ck_assert_int_eq(run(f, NULL, NULL)->err, SOCKS5_PROXY_AUTH);
    ck_assert_str_eq(res.text, "the proxy requires authentication we were not given");
    fake_free(f);
    f = fake_new(neither, 0);
    ck_assert_int_eq(run(f, "user", "pass")->err, SOCKS5_PROXY_AUTH);
    fake_free(f);
    /* A user offered, no authentication chosen: fine. */
    f = fake_new(noauth, 0);
    ck_assert_int_eq(run(f, "user", "pass")->err, SOCKS5_OK);
    close(res.fd);
    fake_free(f);
}
END_TEST

START_TEST(every_rep_code)
{
    static const struct {
        enum socks5_err err;
        const char *text;
    } want[] = {
        {SOCKS5_OK, NULL},
        {SOCKS5_PROXY_PROTO, "general failure of the proxy (REP 1)"},
        {SOCKS5_PROXY_PROTO, "connection not allowed by the proxy's rules (REP 2)"},
        {SOCKS5_TARGET_UNREACH, "network unreachable (REP 3)"},
        {SOCKS5_TARGET_UNREACH, "host unreachable (REP 4)"},
        {SOCKS5_TARGET_REFUSED, "connection refused by the proxy's target (REP 5)"},
        {SOCKS5_TARGET_TIMEOUT, "TTL expired: the proxy's connect timed out (REP 6)"},
        {SOCKS5_PROXY_PROTO, "command not supported by the proxy (REP 7)"},
        {SOCKS5_PROXY_PROTO, "address type not supported by the proxy (REP 8)"},
        {SOCKS5_PROXY_PROTO, "unknown reply from the proxy (REP 9)"},
    };
    char reply[10][11];

    for (int rep = 1; rep < 10; rep++) {
        memcpy(reply[rep], OK4, 11);
        reply[rep][1] = (char)rep;
        struct step sc[] = {S(3, "\5\0"), {13, reply[rep], 10, 1}, END};
        struct fake *f = fake_new(sc, 0);
        ck_assert_int_eq(run(f, NULL, NULL)->err, want[rep].err);
        ck_assert_str_eq(res.text, want[rep].text);
        ck_assert_int_eq(res.rep, rep);
        ck_assert_int_eq(socks5_err_is_target(res.err), rep >= 3 && rep <= 6);
        fake_free(f);
    }
}
END_TEST

START_TEST(short_failure_reply_is_enough)
{
    static const struct step sc[] = {S(3, "\5\0"), S_HUP(13, "\5\5"), END};
    struct fake *f = fake_new(sc, 1);

    ck_assert_int_eq(run(f, NULL, NULL)->err, SOCKS5_TARGET_REFUSED);
    ck_assert(socks5_err_is_target(res.err));
    fake_free(f);
}
END_TEST

/* A script against one expected error and a piece of its text. */
static void expect_error(const struct step *sc, const char *user, enum socks5_err err, const char *text)
{
    struct fake *f = fake_new(sc, 0);

    run(f, user, user ? "pass" : NULL);
    ck_assert_msg(res.err == err, "got %s (%s), want %s", socks5_err_name(res.err), res.text,
                  socks5_err_name(err));
    ck_assert_msg(strstr(res.text, text), "\"%s\" lacks \"%s\"", res.text, text);
    fake_free(f);
}

START_TEST(malformed_replies)
{
    static const struct step http[] = {S_HUP(0, "HTTP/1.1 400 Bad Request\r\n\r\n"), END};
    static const struct step v4[] = {S(3, "\4\0"), END};
    static const struct step unoffered[] = {S(3, "\5\2"), END};
    static const struct step authver[] = {S(4, "\5\2"), S(15, "\5\0"), END};
    static const struct step repver[] = {S(3, "\5\0"), S(13, "\4\0\0\1\0\0\0\0\0\0"), END};
    static const struct step rsv[] = {S(3, "\5\0"), S(13, "\5\0\1\1\0\0\0\0\0\0"), END};
    static const struct step atyp[] = {S(3, "\5\0"), S(13, "\5\0\0\7\0\0\0\0\0\0"), END};
    static const struct step noname[] = {S(3, "\5\0"), S(13, "\5\0\0\3\0\0\0"), END};

    expect_error(http, NULL, SOCKS5_PROXY_PROTO, "not a SOCKS5 proxy (version 72");
    expect_error(v4, NULL, SOCKS5_PROXY_PROTO, "version 4 in its method reply");
    expect_error(unoffered, NULL, SOCKS5_PROXY_PROTO, "method 0x02, which we did not offer");
    expect_error(authver, "user", SOCKS5_PROXY_PROTO, "bad authentication reply");
    expect_error(repver, NULL, SOCKS5_PROXY_PROTO, "version 4 in its reply");
    expect_error(rsv, NULL, SOCKS5_PROXY_PROTO, "reserved byte");
    expect_error(atyp, NULL, SOCKS5_PROXY_PROTO, "unknown address type 7");
    expect_error(noname, NULL, SOCKS5_PROXY_PROTO, "empty bound name");
}
END_TEST

START_TEST(too_much_is_an_error)
{
    /* Bytes past a reply, before the next question: not SOCKS5. */
    static const struct step method[] = {S(3, "\5\0" OK4), END};
    static const struct step auth[] = {S(4, "\5\2"), S(15, "\1\0\1"), END};

    expect_error(method, NULL, SOCKS5_PROXY_PROTO, "more than its reply");
    expect_error(auth, "user", SOCKS5_PROXY_PROTO, "more than its reply");
}
END_TEST

START_TEST(hangups)
{
    static const struct step at_once[] = {{0, "", 0, 1}, END};
    static const struct step in_method[] = {S_HUP(3, "\5"), END};
    static const struct step in_auth[] = {S(4, "\5\2"), {15, "", 0, 1}, END};
    static const struct step on_connect[] = {S(3, "\5\0"), {13, "", 0, 1}, END};
    static const struct step in_reply[] = {S(3, "\5\0"), S_HUP(13, "\5\0\0\1\177"), END};

    expect_error(at_once, NULL, SOCKS5_PROXY_DOWN, "hung up before its method reply");
    expect_error(in_method, NULL, SOCKS5_PROXY_DOWN, "hung up before its method reply");
    expect_error(in_auth, "user", SOCKS5_PROXY_AUTH, "hung up on our user and password");
    /* ssh -D's way to say its connect failed. */
    expect_error(on_connect, NULL, SOCKS5_TARGET_CLOSED, "without a reply to CONNECT");
    expect_error(in_reply, NULL, SOCKS5_PROXY_PROTO, "in the middle of its reply");
}
END_TEST

START_TEST(deadline_in_each_phase)
{
    static const struct step silent[] = {END};
    static const struct step no_auth_reply[] = {S(4, "\5\2"), END};
    static const struct step connecting[] = {S(3, "\5\0"), END};
    static const struct step half[] = {S(3, "\5\0"), S(13, "\5\0\0"), END};
    struct fake *f = fake_new(silent, 0);

    ck_assert_int_eq(run_at(f->port, "192.0.2.25", NULL, NULL, 300)->err, SOCKS5_PROXY_DOWN);
    ck_assert_str_eq(res.text, "no method reply from the proxy within 300 ms");
    ck_assert_uint_ge(res.elapsed_ms, 290);
    ck_assert_uint_lt(res.elapsed_ms, 2000);
    ck_assert_int_eq(res.sys_err, ETIMEDOUT);
    fake_free(f);
    f = fake_new(no_auth_reply, 0);
    ck_assert_int_eq(run_at(f->port, "192.0.2.25", "u", "p", 300)->err, SOCKS5_PROXY_DOWN);
    ck_assert_str_eq(res.text, "no authentication reply from the proxy within 300 ms");
    fake_free(f);
    /* The proxy is up and connecting: the target is silent. */
    f = fake_new(connecting, 0);
    ck_assert_int_eq(run_at(f->port, "192.0.2.25", NULL, NULL, 300)->err, SOCKS5_TARGET_TIMEOUT);
    ck_assert(socks5_err_is_target(res.err));
    ck_assert_uint_ge(res.elapsed_ms, 290);
    fake_free(f);
    f = fake_new(half, 0);
    ck_assert_int_eq(run_at(f->port, "192.0.2.25", NULL, NULL, 300)->err, SOCKS5_PROXY_PROTO);
    fake_free(f);
}
END_TEST

START_TEST(dead_proxy)
{
    static const struct step silent[] = {END};
    struct fake *f = fake_new(silent, 0);
    int port = f->port;

    fake_free(f);
    ck_assert_int_eq(run_at(port, "192.0.2.25", NULL, NULL, 1000)->err, SOCKS5_PROXY_DOWN);
    ck_assert_int_eq(res.sys_err, ECONNREFUSED);
    ck_assert_str_eq(res.text, "connect to the proxy: Connection refused");
    ck_assert(!socks5_err_is_target(res.err));
}
END_TEST

static void must_not_run(const struct socks5_result *r, void *arg)
{
    (void)r;
    (void)arg;
    ck_abort_msg("a cancelled handshake called back");
}

START_TEST(bad_arguments_and_cancel)
{
    static const struct step connecting[] = {S(3, "\5\0"), END};
    struct socks5_proxy px = {addr("127.0.0.1"), 1080, NULL, NULL};
    struct netaddr t = addr("192.0.2.25"), none = {0};
    char longname[300];
    struct fake *f;
    struct socks5 *s;
    struct timeval tv = {0, 100000};

    ck_assert_ptr_null(socks5_connect(base, &px, &t, 0, 0, must_not_run, NULL));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(socks5_connect(base, &px, &t, 65536, 0, must_not_run, NULL));
    ck_assert_ptr_null(socks5_connect(base, &px, &none, 25, 0, must_not_run, NULL));
    px.user = "";
    px.password = "p";
    ck_assert_ptr_null(socks5_connect(base, &px, &t, 25, 0, must_not_run, NULL));
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    px.user = longname;
    ck_assert_ptr_null(socks5_connect(base, &px, &t, 25, 0, must_not_run, NULL));
    px.user = "u";
    px.password = NULL;
    ck_assert_ptr_null(socks5_connect(base, &px, &t, 25, 0, must_not_run, NULL));
    px.user = NULL;
    px.port = 0;
    ck_assert_ptr_null(socks5_connect(base, &px, &t, 25, 0, must_not_run, NULL));
    px.addr = none;
    px.port = 1080;
    ck_assert_ptr_null(socks5_connect(base, &px, &t, 25, 0, must_not_run, NULL));
    socks5_cancel(NULL);
    /* Cancelled while the proxy connects: no callback, the proxy sees a close. */
    f = fake_new(connecting, 0);
    px.addr = addr("127.0.0.1");
    px.port = f->port;
    s = socks5_connect(base, &px, &t, 25, 1000, must_not_run, NULL);
    ck_assert_ptr_nonnull(s);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    ck_assert_uint_eq(f->got_len, 13);
    socks5_cancel(s);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    ck_assert(f->closed);
    fake_free(f);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(socks5_err_name(SOCKS5_OK), "ok");
    ck_assert_str_eq(socks5_err_name(SOCKS5_PROXY_AUTH), "proxy-auth");
    ck_assert_str_eq(socks5_err_name(SOCKS5_TARGET_CLOSED), "target-closed");
    ck_assert_str_eq(socks5_err_name(SOCKS5_ERR_COUNT), "unknown");
    ck_assert(!socks5_err_is_target(SOCKS5_OK));
    ck_assert(!socks5_err_is_target(SOCKS5_LOCAL));
    ck_assert(!socks5_err_is_target(SOCKS5_PROXY_DOWN));
    ck_assert(socks5_err_is_target(SOCKS5_TARGET_TIMEOUT));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("socks5");
    TCase *tc = tcase_create("fake");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, noauth_leaves_the_greeting_unread);
    tcase_add_test(tc, ipv6_target_and_bound_name_in_pieces);
    tcase_add_test(tc, user_password);
    tcase_add_test(tc, every_rep_code);
    tcase_add_test(tc, short_failure_reply_is_enough);
    tcase_add_test(tc, malformed_replies);
    tcase_add_test(tc, too_much_is_an_error);
    tcase_add_test(tc, hangups);
    tcase_add_test(tc, deadline_in_each_phase);
    tcase_add_test(tc, dead_proxy);
    tcase_add_test(tc, bad_arguments_and_cancel);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * socks5 - see socks5.h for what the handshake does and what its errors
 * mean.
 *
 * A handshake's life (one deadline timer over all of it):
 *
 *   CONNECT --writable--> METHOD --0x02--> AUTH --status 0--> REPLY --> done
 *                            |                                  ^
 *                            +--------------0x00----------------+
 *
 * Each phase writes its request (the rest waits for EV_WRITE when the
 * socket is full), then reads its reply into s->in, asking read() for
 * exactly the bytes still missing: a reply's length is known from its
 * first bytes, so nothing past it is consumed.  Before the next request is
 * sent, any byte already waiting is an error: the proxy cannot have meant
 * it as an answer to a question not yet asked.  After CONNECT's reply the
 * bytes that follow are the target's, and stay in the socket.
 *
 * finish() frees the handle before it calls done(), so done() may start
 * another handshake or free whatever holds the handle.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "socks5.h"

#define DEFAULT_TIMEOUT_MS 10000
#define VER 5
#define AUTH_VER 1                      /* RFC 1929's sub-negotiation version */
#define M_NONE 0x00
#define M_USERPASS 0x02
#define M_REFUSED 0xff
#define CMD_CONNECT 1
#define ATYP_V4 1
#define ATYP_DOMAIN 3
#define ATYP_V6 4
#define REPLY_HEAD 5                    /* VER REP RSV ATYP and one byte more */
#define REPLY_MAX (REPLY_HEAD + 255 + 2)

enum phase { PH_CONNECT, PH_METHOD, PH_AUTH, PH_REPLY };

struct socks5 {
    struct event_base *base;
    int fd;
    enum phase phase;
    struct event *rd, *wr, *timer;
    socks5_done_fn done;
    void *arg;
    uint64_t start_ms, timeout_ms;
    int early_errno;                    /* connect() failed at once; said from the loop */
    int userpass;                       /* 0x02 offered */
    uint8_t auth[3 + 2 * 255];          /* the RFC 1929 request, built at the start */
    size_t auth_len;
    uint8_t req[4 + 16 + 2];            /* the CONNECT request */
    size_t req_len;
    const uint8_t *out;                 /* the request being written */
    size_t out_len, out_pos;
    uint8_t in[REPLY_MAX];              /* the reply being read */
    size_t in_len, in_need;
};

static const char *const err_names[SOCKS5_ERR_COUNT] = {
    "ok", "local", "proxy-down", "proxy-auth", "proxy-protocol",
    "target-refused", "target-unreach", "target-timeout", "target-closed",
};

const char *socks5_err_name(enum socks5_err err)
{
    return (unsigned)err < SOCKS5_ERR_COUNT ? err_names[err] : "unknown";
}

int socks5_err_is_target(enum socks5_err err)
{
    return err == SOCKS5_TARGET_REFUSED || err == SOCKS5_TARGET_UNREACH
           || err == SOCKS5_TARGET_TIMEOUT || err == SOCKS5_TARGET_CLOSED;
}

static void free_events(struct socks5 *s)
{
    if (s->rd)
        event_free(s->rd);
    if (s->wr)
        event_free(s->wr);
    if (s->timer)
        event_free(s->timer);
    s->rd = s->wr = s->timer = NULL;
}

void socks5_cancel(struct socks5 *s)
{
    if (s == NULL)
        return;
    free_events(s);
    if (s->fd >= 0)
        close(s->fd);
    explicit_bzero(s->auth, sizeof(s->auth));
    free(s);
}

/* The end: fd is handed over on success and closed otherwise; s is freed
 * before done() runs. */
static void finish(struct socks5 *s, enum socks5_err err, int rep, int sys_err, const char *text)
{
    struct socks5_result r;
    char msg[SOCKS5_TEXT_MAX];
    socks5_done_fn done = s->done;
    void *arg = s->arg;
    size_t o = 0;

    for (const char *c = text; *c && o < sizeof(msg) - 1; c++)
        msg[o++] = *c >= 0x20 && *c < 0x7f ? *c : '?';
    msg[o] = 0;
    memset(&r, 0, sizeof(r));
    r.fd = -1;
    r.err = err;
    r.rep = rep;
    r.sys_err = sys_err;
    r.elapsed_ms = clock_mono_ms() - s->start_ms;
    r.text = msg;
    free_events(s);
    if (err == SOCKS5_OK)
        r.fd = s->fd;
    else if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    explicit_bzero(s->auth, sizeof(s->auth));   /* the password */
    free(s);
    done(&r, arg);
}

static void finish_errno(struct socks5 *s, enum socks5_err err, int sys_err, const char *what)
{
    char text[SOCKS5_TEXT_MAX];

    snprintf(text, sizeof(text), "%s: %s", what, strerror(sys_err));
    finish(s, err, -1, sys_err, text);
}

/* Connecting to the proxy: whatever goes wrong, the control path is dead. */
static void fail_connect(struct socks5 *s, int err)
{
    switch (err) {
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENONET:
    case ETIMEDOUT:
        finish_errno(s, SOCKS5_PROXY_DOWN, err, "connect to the proxy");
        break;
    default:
        finish_errno(s, SOCKS5_LOCAL, err, "connect to the proxy");
        break;
    }
}

/* Starts reading a reply of need bytes (at first) for phase. */
static void expect(struct socks5 *s, size_t need)
{
    s->in_len = 0;
    s->in_need = need;
    if (event_add(s->rd, NULL) < 0)
        finish_errno(s, SOCKS5_LOCAL, ENOMEM, "read event");
}

static void flush(struct socks5 *s)
{
    while (s->out_pos < s->out_len) {
        ssize_t n = send(s->fd, s->out + s->out_pos, s->out_len - s->out_pos, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (event_add(s->wr, NULL) < 0)
                finish_errno(s, SOCKS5_LOCAL, ENOMEM, "write event");
            return;
        }
        if (n < 0) {
            finish_errno(s, s->phase == PH_AUTH ? SOCKS5_PROXY_AUTH : SOCKS5_PROXY_DOWN, errno,
                         "writing to the proxy");
            return;
        }
        s->out_pos += (size_t)n;
    }
    event_del(s->wr);
    /* A method or authentication reply is 2 bytes; CONNECT's is read in two
     * steps, its head first. */
    expect(s, s->phase == PH_REPLY ? REPLY_HEAD : 2);
}

/* Sends the request of the next phase, once nothing unasked-for waits. */
static void send_request(struct socks5 *s, enum phase next, const uint8_t *msg, size_t len)
{
    uint8_t c;

    if (recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
        finish(s, SOCKS5_PROXY_PROTO, -1, 0, "the proxy sent more than its reply");
        return;
    }
    event_del(s->rd);
    s->phase = next;
    s->out = msg;
    s->out_len = len;
    s->out_pos = 0;
    flush(s);
}

static void on_method(struct socks5 *s)
{
    if (s->in[0] != VER) {
        char text[SOCKS5_TEXT_MAX];
        snprintf(text, sizeof(text), "not a SOCKS5 proxy (version %d in its method reply)", s->in[0]);
        finish(s, SOCKS5_PROXY_PROTO, -1, 0, text);
    } else if (s->in[1] == M_NONE) {
        send_request(s, PH_REPLY, s->req, s->req_len);
    } else if (s->in[1] == M_USERPASS && s->userpass) {
        send_request(s, PH_AUTH, s->auth, s->auth_len);
    } else if (s->in[1] == M_REFUSED) {
        finish(s, SOCKS5_PROXY_AUTH, -1, 0,
               s->userpass ? "the proxy accepts neither no authentication nor user/password"
                           : "the proxy requires authentication we were not given");
    } else {
        char text[SOCKS5_TEXT_MAX];
        snprintf(text, sizeof(text), "the proxy chose method 0x%02x, which we did not offer", s->in[1]);
        finish(s, SOCKS5_PROXY_PROTO, -1, 0, text);
    }
}

static void on_auth(struct socks5 *s)
{
    char text[SOCKS5_TEXT_MAX];

    if (s->in[0] != AUTH_VER) {
        snprintf(text, sizeof(text), "bad authentication reply (version %d)", s->in[0]);
        finish(s, SOCKS5_PROXY_PROTO, -1, 0, text);
    } else if (s->in[1] != 0) {
        snprintf(text, sizeof(text), "authentication failed (status %d)", s->in[1]);
        finish(s, SOCKS5_PROXY_AUTH, -1, 0, text);
    } else {
        send_request(s, PH_REPLY, s->req, s->req_len);
    }
}

static void on_rep(struct socks5 *s, int rep)
{
    static const struct {
        enum socks5_err err;
        const char *text;
    } reps[] = {
        [1] = {SOCKS5_PROXY_PROTO, "general failure of the proxy"},
        [2] = {SOCKS5_PROXY_PROTO, "connection not allowed by the proxy's rules"},
        [3] = {SOCKS5_TARGET_UNREACH, "network unreachable"},
        [4] = {SOCKS5_TARGET_UNREACH, "host unreachable"},
        [5] = {SOCKS5_TARGET_REFUSED, "connection refused by the proxy's target"},
        [6] = {SOCKS5_TARGET_TIMEOUT, "TTL expired: the proxy's connect timed out"},
        [7] = {SOCKS5_PROXY_PROTO, "command not supported by the proxy"},
        [8] = {SOCKS5_PROXY_PROTO, "address type not supported by the proxy"},
    };
    char text[SOCKS5_TEXT_MAX];

    if (rep < (int)(sizeof(reps) / sizeof(reps[0]))) {
        snprintf(text, sizeof(text), "%s (REP %d)", reps[rep].text, rep);
        finish(s, reps[rep].err, rep, 0, text);
    } else {
        snprintf(text, sizeof(text), "unknown reply from the proxy (REP %d)", rep);
        finish(s, SOCKS5_PROXY_PROTO, rep, 0, text);
    }
}

/*
 * CONNECT's reply: VER REP RSV ATYP BND.ADDR BND.PORT.  A failure is known
 * from the first two bytes (some proxies send no more before they hang
 * up); a success only once the whole reply, whose length ATYP gives, is in.
 * Returns 1 when done (finished), 0 when more is needed.
 */
static int on_reply(struct socks5 *s)
{
    char text[SOCKS5_TEXT_MAX];

    if (s->in[0] != VER) {
        snprintf(text, sizeof(text), "not a SOCKS5 proxy (version %d in its reply)", s->in[0]);
        finish(s, SOCKS5_PROXY_PROTO, -1, 0, text);
        return 1;
    }
    if (s->in_len < 2)
        return 0;
    if (s->in[1] != 0) {
        on_rep(s, s->in[1]);
        return 1;
    }
    if (s->in_len < REPLY_HEAD)
        return 0;
    if (s->in_need == REPLY_HEAD) {
        if (s->in[2] != 0) {
            finish(s, SOCKS5_PROXY_PROTO, 0, 0, "reserved byte set in the proxy's reply");
            return 1;
        }
        switch (s->in[3]) {
        case ATYP_V4:
            s->in_need = 4 + 4 + 2;
            break;
        case ATYP_V6:
            s->in_need = 4 + 16 + 2;
            break;
        case ATYP_DOMAIN:
            if (s->in[4] == 0) {
                finish(s, SOCKS5_PROXY_PROTO, 0, 0, "empty bound name in the proxy's reply");
                return 1;
            }
            s->in_need = REPLY_HEAD + s->in[4] + 2;
            break;
        default:
            snprintf(text, sizeof(text), "unknown address type %d in the proxy's reply", s->in[3]);
            finish(s, SOCKS5_PROXY_PROTO, 0, 0, text);
            return 1;
        }
    }
    if (s->in_len < s->in_need)
        return 0;
    finish(s, SOCKS5_OK, 0, 0, "connected");
    return 1;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct socks5 *s = arg;
    ssize_t n;

    (void)what;
    n = read(fd, s->in + s->in_len, s->in_need - s->in_len);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        int err = n < 0 ? errno : 0;
        if (s->phase == PH_REPLY && s->in_len == 0)
            finish(s, SOCKS5_TARGET_CLOSED, -1, err,
                   "the proxy hung up without a reply to CONNECT (its connect failed?)");
        else if (s->phase == PH_REPLY)
            finish(s, SOCKS5_PROXY_PROTO, -1, err, "the proxy hung up in the middle of its reply");
        else if (s->phase == PH_AUTH)
            finish(s, SOCKS5_PROXY_AUTH, -1, err, "the proxy hung up on our user and password");
        else
            finish(s, SOCKS5_PROXY_DOWN, -1, err, "the proxy hung up before its method reply");
        return;
    }
    s->in_len += (size_t)n;
    if (s->phase == PH_REPLY) {
        on_reply(s);
        return;
    }
    if (s->in_len < s->in_need)
        return;
    if (s->phase == PH_METHOD)
        on_method(s);
    else
        on_auth(s);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct socks5 *s = arg;
    int err = 0;
    socklen_t len = sizeof(err);

    (void)what;
    if (s->phase != PH_CONNECT) {
        flush(s);
        return;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0) {
        fail_connect(s, err);
        return;
    }
    s->phase = PH_METHOD;
    s->out = s->userpass ? (const uint8_t *)"\5\2\0\2" : (const uint8_t *)"\5\1\0";
    s->out_len = s->userpass ? 4 : 3;
    s->out_pos = 0;
    flush(s);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct socks5 *s = arg;
    char text[SOCKS5_TEXT_MAX];

    (void)fd;
    (void)what;
    if (s->early_errno) {
        fail_connect(s, s->early_errno);
        return;
    }
    switch (s->phase) {
    case PH_CONNECT:
        finish_errno(s, SOCKS5_PROXY_DOWN, ETIMEDOUT, "connect to the proxy");
        return;
    case PH_METHOD:
    case PH_AUTH:
        snprintf(text, sizeof(text), "no %s reply from the proxy within %llu ms",
                 s->phase == PH_METHOD ? "method" : "authentication",
                 (unsigned long long)s->timeout_ms);
        finish(s, SOCKS5_PROXY_DOWN, -1, ETIMEDOUT, text);
        return;
    case PH_REPLY:
        break;
    }
    if (s->out_pos < s->out_len) {
        finish(s, SOCKS5_PROXY_DOWN, -1, ETIMEDOUT, "the proxy did not take our CONNECT request");
    } else if (s->in_len == 0) {
        /* It answered the method selection: it is up, connecting. */
        snprintf(text, sizeof(text), "no reply to CONNECT within %llu ms: the target did not answer",
                 (unsigned long long)s->timeout_ms);
        finish(s, SOCKS5_TARGET_TIMEOUT, -1, ETIMEDOUT, text);
    } else {
        finish(s, SOCKS5_PROXY_PROTO, -1, ETIMEDOUT, "timed out in the middle of the proxy's reply");
    }
}

/* The requests are built up front: the user and password need not outlive
 * the call. */
static int build_requests(struct socks5 *s, const struct socks5_proxy *proxy,
                          const struct netaddr *target, int port)
{
    size_t alen = target->family == AF_INET ? 4 : 16;

    s->req[0] = VER;
    s->req[1] = CMD_CONNECT;
    s->req[2] = 0;
    s->req[3] = target->family == AF_INET ? ATYP_V4 : ATYP_V6;
    memcpy(s->req + 4, target->bytes, alen);
    s->req[4 + alen] = (uint8_t)(port >> 8);
    s->req[5 + alen] = (uint8_t)port;
    s->req_len = 6 + alen;
    if (proxy->user == NULL)
        return 0;
    size_t ulen = strlen(proxy->user), plen = proxy->password ? strlen(proxy->password) : 0;
    if (ulen == 0 || ulen > 255 || plen == 0 || plen > 255)
        return -1;
    s->userpass = 1;
    s->auth[0] = AUTH_VER;
    s->auth[1] = (uint8_t)ulen;
    memcpy(s->auth + 2, proxy->user, ulen);
    s->auth[2 + ulen] = (uint8_t)plen;
    memcpy(s->auth + 3 + ulen, proxy->password, plen);
    s->auth_len = 3 + ulen + plen;
    return 0;
}

struct socks5 *socks5_connect(struct event_base *base, const struct socks5_proxy *proxy,
                              const struct netaddr *target, int port, uint64_t timeout_ms,
                              socks5_done_fn done, void *arg)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    struct socks5 *s;
    struct timeval tv;

    if ((target->family != AF_INET && target->family != AF_INET6) || port <= 0 || port > 65535
        || proxy->port <= 0 || proxy->port > 65535
        || netaddr_sockaddr(&proxy->addr, proxy->port, &ss, &sslen) < 0) {
        errno = EINVAL;
        return NULL;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    s->base = base;
    s->done = done;
    s->arg = arg;
    s->phase = PH_CONNECT;
    s->timeout_ms = timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS;
    s->start_ms = clock_mono_ms();
    if (build_requests(s, proxy, target, port) < 0) {
        free(s);
        errno = EINVAL;
        return NULL;
    }
    s->fd = socket(proxy->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        free(s);
        return NULL;
    }
    tv.tv_sec = (time_t)(s->timeout_ms / 1000);
    tv.tv_usec = (suseconds_t)(s->timeout_ms % 1000) * 1000;
    s->rd = event_new(base, s->fd, EV_READ | EV_PERSIST, on_readable, s);
    s->wr = event_new(base, s->fd, EV_WRITE | EV_PERSIST, on_writable, s);
    s->timer = evtimer_new(base, on_deadline, s);
    if (s->rd == NULL || s->wr == NULL || s->timer == NULL || evtimer_add(s->timer, &tv) < 0) {
        socks5_cancel(s);
        errno = ENOMEM;
        return NULL;
    }
    if (connect(s->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS) {
        /* Said from the loop, like every other outcome. */
        s->early_errno = errno;
        event_active(s->timer, EV_TIMEOUT, 0);
        return s;
    }
    /* Connected at once or not: writable tells, SO_ERROR says which. */
    if (event_add(s->wr, NULL) < 0) {
        socks5_cancel(s);
        errno = ENOMEM;
        return NULL;
    }
    return s;
}

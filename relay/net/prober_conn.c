/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prober_conn - one probe's connection, for prober.c: a non-blocking
 * connect from the configured source, the greeting read into a bounded
 * buffer and parsed, "QUIT", and finish(), which frees the probe before it
 * calls back (prober.c says why).  A control probe (prober_probe_via())
 * has socks5.c connect it through its proxy first, then reads the greeting
 * the same way.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "prober_int.h"

#define MOD PROBER_MOD

static void say_quit(int fd)
{
    static const char quit[] = "QUIT\r\n";

    if (send(fd, quit, sizeof(quit) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(quit) - 1)
        (void)shutdown(fd, SHUT_WR);
    close(fd);
}

/* Probes. */

void prober_queue_remove(struct prober *p, struct probe *pr)
{
    if (pr->qprev)
        pr->qprev->qnext = pr->qnext;
    else
        p->qhead = pr->qnext;
    if (pr->qnext)
        pr->qnext->qprev = pr->qprev;
    else
        p->qtail = pr->qprev;
    pr->qprev = pr->qnext = NULL;
}

/* Unlinks pr from every list, closes what it holds and frees it; returns
 * its callbacks, which the caller now owns. */
struct waiter * prober_destroy(struct probe *pr)
{
    struct prober *p = pr->p;
    struct waiter *w = pr->waiters;

    if (pr->prev)
        pr->prev->next = pr->next;
    else
        p->all = pr->next;
    if (pr->next)
        pr->next->prev = pr->prev;
    if (pr->state == ST_QUEUED)
        prober_queue_remove(p, pr);
    if (pr->state == ST_JITTER || pr->state == ST_QUEUED)
        p->waiting--;
    else
        p->running--;
    if (pr->io)
        event_free(pr->io);
    if (pr->timer)
        event_free(pr->timer);
    if (pr->fd >= 0)
        close(pr->fd);
    socks5_cancel(pr->socks);
    if (pr->proxy)
        explicit_bzero(pr->proxy->password, sizeof(pr->proxy->password));
    free(pr->proxy);
    free(pr);
    return w;
}

void prober_free_waiters(struct waiter *w)
{
    while (w) {
        struct waiter *next = w->next;
        free(w);
        w = next;
    }
}


/* Copies at most PROBER_TEXT_MAX - 1 printable bytes of s[0..n). */
static void printable(char *out, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n && o < PROBER_TEXT_MAX - 1; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[o] = 0;
}

/*
 * The end of a probe: the result goes to every callback.  fd is handed to
 * say_quit() after a reply.  text is copied before pr is freed.
 */
static void finish(struct probe *pr, enum probe_kind kind, int code, int err, const char *text)
{
    struct prober *p = pr->p;
    struct probe_result r;
    struct netaddr addr = pr->addr;
    char source[NETADDR_STRLEN], msg[PROBER_TEXT_MAX], abuf[NETADDR_STRLEN];
    char proxy[sizeof(pr->proxy->name)] = "";
    struct waiter *w;

    memcpy(source, pr->source, sizeof(source));
    if (pr->proxy)
        memcpy(proxy, pr->proxy->name, sizeof(proxy));
    printable(msg, text, strlen(text));
    memset(&r, 0, sizeof(r));
    r.kind = kind;
    r.code = code;
    r.err = err;
    r.elapsed_ms = pr->start_ms ? clock_mono_ms() - pr->start_ms : 0;
    r.addr = &addr;
    r.port = pr->port;
    r.source = source[0] ? source : NULL;
    r.text = msg;
    r.proxy = proxy[0] ? proxy : NULL;
    r.socks_err = pr->socks_err;
    if (probe_is_success(kind) && pr->fd >= 0) {
        say_quit(pr->fd);
        pr->fd = -1;
    }
    p->stats.results[kind]++;
    msg_debug(MOD, "%s:%d%s%s: %s after %" PRIu64 " ms: %s",
              netaddr_format(&addr, abuf, sizeof(abuf)), r.port, proxy[0] ? " through " : "",
              proxy, probe_kind_name(kind), r.elapsed_ms, msg);
    w = prober_destroy(pr);
    for (struct waiter *i = w; i; i = i->next)
        i->fn(&r, i->arg);
    prober_free_waiters(w);
    prober_pump(p);
}

static void finish_errno(struct probe *pr, int err, const char *what)
{
    enum probe_kind kind;
    char text[PROBER_TEXT_MAX], abuf[NETADDR_STRLEN];

    switch (err) {
    case ECONNREFUSED:
    case ECONNRESET:
        kind = PROBE_REFUSED;
        break;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENONET:
        kind = PROBE_UNREACH;
        break;
    case ETIMEDOUT:
        kind = PROBE_TIMEOUT;
        break;
    default:
        kind = PROBE_ERROR;
        break;
    }
    snprintf(text, sizeof(text), "%s: %s", what, strerror(err));
    if (kind == PROBE_ERROR)
        msg_limited(&pr->p->err_lim, 60000, MOD, "probe of %s:%d from %s: %s",
                    netaddr_format(&pr->addr, abuf, sizeof(abuf)), pr->port,
                    pr->source[0] ? pr->source : "any address", text);
    finish(pr, kind, 0, err, text);
}

/*
 * Looks for a complete reply in pr->buf: lines "DDD-text" ending in one
 * "DDD text" (or a bare "DDD"), all with the same code.  Returns 1 when the
 * reply is complete, 0 when more bytes are needed, -1 when the bytes are no
 * SMTP reply.  *code and *first_len (the first line, without CRLF) are set
 * as soon as one line is complete.
 */
static int parse_reply(const struct probe *pr, int *code, size_t *first_len)
{
    size_t pos = 0;

    *code = 0;
    while (pos < pr->len) {
        const char *line = pr->buf + pos;
        const char *nl = memchr(line, '\n', pr->len - pos);
        size_t n;
        int c;

        if (nl == NULL)
            return 0;
        n = (size_t)(nl - line);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9'
            || line[2] < '0' || line[2] > '9')
            return -1;
        c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
        if (*code == 0) {
            *code = c;
            *first_len = n;
        } else if (c != *code) {
            return -1;
        }
        if (n == 3 || line[3] == ' ')
            return 1;
        if (line[3] != '-')
            return -1;
        pos = (size_t)(nl - pr->buf) + 1;
    }
    return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct probe *pr = arg;
    size_t first_len = 0;
    ssize_t n;
    int code, done;

    (void)what;
    n = read(fd, pr->buf + pr->len, sizeof(pr->buf) - pr->len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        finish(pr, PROBE_NO_GREETING, 0, errno, "connection lost before the greeting");
        return;
    }
    pr->len += (size_t)n;
    done = parse_reply(pr, &code, &first_len);
    /* A server still sending "DDD-" lines after PROBER_MAX_REPLY bytes talks
     * SMTP all the same: the path is open.  Take the code it has sent. */
    if (done == 0 && pr->len == sizeof(pr->buf))
        done = code ? 1 : -1;
    if (done > 0) {
        char text[PROBER_TEXT_MAX];
        printable(text, pr->buf, first_len);
        finish(pr, code == 220 ? PROBE_GREETING : PROBE_REPLY, code, 0, text);
    } else if (done < 0) {
        finish(pr, PROBE_NO_GREETING, 0, 0, "malformed greeting");
    } else if (n == 0) {
        finish(pr, PROBE_NO_GREETING, 0, 0, pr->len ? "connection closed in the greeting"
                                                    : "connection closed before the greeting");
    }
}

static int start_reading(struct probe *pr)
{
    if (pr->io)
        event_free(pr->io);
    pr->state = ST_READING;
    pr->io = event_new(pr->p->base, pr->fd, EV_READ | EV_PERSIST, on_readable, pr);
    if (pr->io == NULL || event_add(pr->io, NULL) < 0) {
        finish_errno(pr, ENOMEM, "read event");
        return -1;
    }
    return 0;
}

static void on_connected(evutil_socket_t fd, short what, void *arg)
{
    struct probe *pr = arg;
    int err = 0;
    socklen_t len = sizeof(err);

    (void)what;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0)
        finish_errno(pr, err, "connect");
    else
        start_reading(pr);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct probe *pr = arg;

    (void)fd;
    (void)what;
    if (pr->state == ST_CONNECTING)
        finish(pr, PROBE_TIMEOUT, 0, ETIMEDOUT, "connect timed out");
    else
        finish(pr, PROBE_NO_GREETING, 0, ETIMEDOUT, pr->len ? "timed out in the greeting"
                                                            : "timed out waiting for the greeting");
}

static int arm_timer(struct probe *pr, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    pr->timer = evtimer_new(pr->p->base, on_timeout, pr);
    return pr->timer == NULL || evtimer_add(pr->timer, &tv) < 0 ? -1 : 0;
}

/*
 * A control probe's handshake is over.  The target's failures, as the
 * proxy reports them, are the direct path's kinds; a proxy that hangs up on
 * CONNECT (ssh -D's way to say its connect failed, refused or not) counts
 * as unreachable.  The proxy's own failures are PROBE_ERROR: a dead control
 * path says nothing about the address.  After the handshake the greeting
 * gets what is left of timeout_ms.
 */
static void on_socks(const struct socks5_result *r, void *arg)
{
    struct probe *pr = arg;
    uint64_t spent = clock_mono_ms() - pr->start_ms;
    char abuf[NETADDR_STRLEN];
    enum probe_kind kind;

    pr->socks = NULL;
    pr->socks_err = r->err;
    switch (r->err) {
    case SOCKS5_OK:
        pr->fd = r->fd;
        if (arm_timer(pr, spent < pr->timeout_ms ? pr->timeout_ms - spent : 1) < 0)
            finish_errno(pr, ENOMEM, "timer");
        else
            start_reading(pr);
        return;
    case SOCKS5_TARGET_REFUSED:
        kind = PROBE_REFUSED;
        break;
    case SOCKS5_TARGET_UNREACH:
    case SOCKS5_TARGET_CLOSED:
        kind = PROBE_UNREACH;
        break;
    case SOCKS5_TARGET_TIMEOUT:
        kind = PROBE_TIMEOUT;
        break;
    default:
        kind = PROBE_ERROR;
        msg_limited(&pr->p->err_lim, 60000, MOD, "control probe of %s:%d through %s: %s: %s",
                    netaddr_format(&pr->addr, abuf, sizeof(abuf)), pr->port, pr->proxy->name,
                    socks5_err_name(r->err), r->text);
        break;
    }
    finish(pr, kind, 0, r->sys_err, r->text);
}

static void start_via(struct probe *pr)
{
    pr->socks = socks5_connect(pr->p->base, &pr->proxy->sp, &pr->addr, pr->port, pr->timeout_ms,
                               on_socks, pr);
    if (pr->socks == NULL) {
        /* A local failure, whatever errno says: the proxy was not tried. */
        char text[PROBER_TEXT_MAX];
        int err = errno;
        pr->socks_err = SOCKS5_LOCAL;
        snprintf(text, sizeof(text), "proxy connection: %s", strerror(err));
        msg_limited(&pr->p->err_lim, 60000, MOD, "control probe through %s: %s", pr->proxy->name, text);
        finish(pr, PROBE_ERROR, 0, err, text);
    }
}

/* Holds a slot from here on; any failure finishes the probe at once. */
void prober_start(struct probe *pr)
{
    struct prober *p = pr->p;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;

    pr->state = ST_CONNECTING;
    pr->start_ms = clock_mono_ms();
    p->stats.started++;
    if (pr->proxy) {
        start_via(pr);
        return;
    }
    pr->fd = socket(pr->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pr->fd < 0) {
        finish_errno(pr, errno, "socket");
        return;
    }
    if (pr->source[0]) {
        struct netaddr src;
        int one = 1;
        if (netaddr_parse(pr->source, &src) < 0 || src.family != pr->addr.family) {
            finish_errno(pr, EAFNOSUPPORT, "source address family");
            return;
        }
#ifdef IP_BIND_ADDRESS_NO_PORT
        /* Choose the port at connect(): many probes from one address. */
        (void)setsockopt(pr->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#else
        (void)one;
#endif
        netaddr_sockaddr(&src, 0, &ss, &sslen);
        if (bind(pr->fd, (struct sockaddr *)&ss, sslen) < 0) {
            finish_errno(pr, errno, "bind");
            return;
        }
    }
    netaddr_sockaddr(&pr->addr, pr->port, &ss, &sslen);
    if (arm_timer(pr, pr->timeout_ms) < 0) {
        finish_errno(pr, ENOMEM, "timer");
        return;
    }
    if (connect(pr->fd, (struct sockaddr *)&ss, sslen) == 0) {
        start_reading(pr);
        return;
    }
    if (errno != EINPROGRESS) {
        finish_errno(pr, errno, "connect");
        return;
    }
    pr->io = event_new(p->base, pr->fd, EV_WRITE, on_connected, pr);
    if (pr->io == NULL || event_add(pr->io, NULL) < 0)
        finish_errno(pr, ENOMEM, "connect event");
}

/* Gives free slots to queued probes, oldest first. */

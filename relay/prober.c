/*
 * prober - see prober.h for what a probe does and what its results mean.
 *
 * A probe's life:
 *
 *   JITTER --timer--> QUEUED --slot--> CONNECTING --writable--> READING
 *   (none with jitter 0)                   |                       |
 *                                          +----> finish() <-------+
 *                                                    |
 *                                (after a reply: QUIT, close)
 *
 * Every probe not yet finished is on p->all (the list prober_probe() looks
 * in to join a probe under way); QUEUED probes are also on the FIFO
 * p->qhead..p->qtail.  p->running counts the probes between "slot" and finish().
 * finish() unlinks and frees the probe before it calls any callback, so a
 * callback may start or cancel probes without pulling the floor from under
 * the code that called it.  pump() hands free slots to queued probes; a
 * guard keeps it from recursing when a probe fails at once and finishes
 * inside it.
 *
 * After a reply the probe sends "QUIT" and closes at once; it does not wait
 * for the "221" (whose arrival the kernel answers with a reset, after the
 * server has taken the QUIT).
 *
 * Diagnostics: msg_warn for local errors (socket, bind) and a full queue
 * (rate limited), msg_debug for every result.
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
#include "msg.h"
#include "prober.h"

#define MOD "probe"
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_CONCURRENCY 4
#define DEFAULT_PORT 25

enum probe_state { ST_JITTER, ST_QUEUED, ST_CONNECTING, ST_READING };

struct waiter {
    probe_fn fn;
    void *arg;
    struct waiter *next;
};

struct probe {
    struct prober *p;
    struct probe *prev, *next;          /* p->all */
    struct probe *qprev, *qnext;        /* p->queue, while ST_QUEUED */
    enum probe_state state;
    struct netaddr addr;
    int port;
    char source[NETADDR_STRLEN];        /* canonical, or "" */
    struct waiter *waiters;
    int fd;
    struct event *io;
    struct event *timer;                /* jitter, then the probe's timeout */
    uint64_t timeout_ms;
    uint64_t start_ms;
    size_t len;
    char buf[PROBER_MAX_REPLY];
};

struct prober {
    struct event_base *base;
    uint64_t timeout_ms, jitter_ms;
    unsigned concurrency;
    int port;
    char source[NETADDR_STRLEN];        /* configured source, or "" */
    struct probe *all;
    struct probe *qhead, *qtail;
    unsigned running, waiting;
    int pumping;
    struct event *kick;                 /* runs pump() from the loop */
    struct prober_stats stats;
    struct msg_limiter full_lim, err_lim;
};

static const char *const kind_names[PROBE_KIND_COUNT] = {
    "greeting", "reply", "timeout", "refused", "unreach", "no-greeting", "error",
};

const char *probe_kind_name(enum probe_kind kind)
{
    return (unsigned)kind < PROBE_KIND_COUNT ? kind_names[kind] : "unknown";
}

enum fail_kind probe_fail_kind(enum probe_kind kind)
{
    switch (kind) {
    case PROBE_TIMEOUT:
        return FAIL_TIMEOUT;
    case PROBE_REFUSED:
        return FAIL_REFUSED;
    case PROBE_UNREACH:
        return FAIL_UNREACH;
    case PROBE_NO_GREETING:
        return FAIL_GREETING;
    default:
        return FAIL_NONE;
    }
}

int probe_is_success(enum probe_kind kind)
{
    return kind == PROBE_GREETING || kind == PROBE_REPLY;
}

/* Says QUIT and closes: the server sees an orderly end, not a reset. */
static void say_quit(int fd)
{
    static const char quit[] = "QUIT\r\n";

    if (send(fd, quit, sizeof(quit) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof(quit) - 1)
        (void)shutdown(fd, SHUT_WR);
    close(fd);
}

/* Probes. */

static void queue_remove(struct prober *p, struct probe *pr)
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
static struct waiter *probe_destroy(struct probe *pr)
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
        queue_remove(p, pr);
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
    free(pr);
    return w;
}

static void free_waiters(struct waiter *w)
{
    while (w) {
        struct waiter *next = w->next;
        free(w);
        w = next;
    }
}

static void pump(struct prober *p);

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
    struct waiter *w;

    memcpy(source, pr->source, sizeof(source));
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
    if (probe_is_success(kind) && pr->fd >= 0) {
        say_quit(pr->fd);
        pr->fd = -1;
    }
    p->stats.results[kind]++;
    msg_debug(MOD, "%s:%d: %s after %" PRIu64 " ms: %s",
              netaddr_format(&addr, abuf, sizeof(abuf)), r.port, probe_kind_name(kind),
              r.elapsed_ms, msg);
    w = probe_destroy(pr);
    for (struct waiter *i = w; i; i = i->next)
        i->fn(&r, i->arg);
    free_waiters(w);
    pump(p);
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

static int make_sockaddr(const struct netaddr *a, int port, struct sockaddr_storage *ss,
                         socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        *len = sizeof(*sin);
    } else if (a->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        *len = sizeof(*sin6);
    } else {
        return -1;
    }
    return 0;
}

/* Holds a slot from here on; any failure finishes the probe at once. */
static void start(struct probe *pr)
{
    struct prober *p = pr->p;
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    struct timeval tv = {(time_t)(pr->timeout_ms / 1000), (suseconds_t)(pr->timeout_ms % 1000) * 1000};

    pr->state = ST_CONNECTING;
    pr->start_ms = clock_mono_ms();
    p->stats.started++;
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
        make_sockaddr(&src, 0, &ss, &sslen);
        if (bind(pr->fd, (struct sockaddr *)&ss, sslen) < 0) {
            finish_errno(pr, errno, "bind");
            return;
        }
    }
    make_sockaddr(&pr->addr, pr->port, &ss, &sslen);
    pr->timer = evtimer_new(p->base, on_timeout, pr);
    if (pr->timer == NULL || evtimer_add(pr->timer, &tv) < 0) {
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
static void pump(struct prober *p)
{
    if (p->pumping)
        return;
    p->pumping = 1;
    while (p->qhead && p->running < p->concurrency) {
        struct probe *pr = p->qhead;
        queue_remove(p, pr);
        p->waiting--;
        p->running++;
        start(pr);
    }
    p->pumping = 0;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

static void enqueue(struct prober *p, struct probe *pr)
{
    pr->state = ST_QUEUED;
    pr->qprev = p->qtail;
    if (p->qtail)
        p->qtail->qnext = pr;
    else
        p->qhead = pr;
    p->qtail = pr;
}

static void on_jitter(evutil_socket_t fd, short what, void *arg)
{
    struct probe *pr = arg;

    (void)fd;
    (void)what;
    event_free(pr->timer);
    pr->timer = NULL;
    enqueue(pr->p, pr);
    pump(pr->p);
}

/* The prober itself. */

void prober_configure(struct prober *p, const struct cfg_probe *cfg)
{
    p->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    p->concurrency = cfg->concurrency ? cfg->concurrency : DEFAULT_CONCURRENCY;
    p->jitter_ms = cfg->jitter_ms;
    p->port = cfg->port > 0 && cfg->port < 65536 ? cfg->port : DEFAULT_PORT;
    p->source[0] = 0;
    if (cfg->source_address && netaddr_canon(cfg->source_address, p->source, sizeof(p->source)) == NULL) {
        msg_warn(MOD, "probe source address \"%s\" is not an address: probing from any",
                 cfg->source_address);
        p->source[0] = 0;
    }
    /* More slots may be free now; start them from the loop. */
    event_active(p->kick, EV_TIMEOUT, 0);
}

struct prober *prober_new(struct event_base *base, const struct cfg_probe *cfg)
{
    struct prober *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->base = base;
    p->kick = event_new(base, -1, 0, on_kick, p);
    if (p->kick == NULL) {
        free(p);
        return NULL;
    }
    prober_configure(p, cfg);
    return p;
}

int prober_probe(struct prober *p, const struct netaddr *addr, int port, const char *source,
                 probe_fn fn, void *arg)
{
    char canon[NETADDR_STRLEN] = "";
    struct waiter *w;
    struct probe *pr;
    uint64_t delay = 0;
    struct timeval tv;

    if (addr->family != AF_INET && addr->family != AF_INET6)
        return -1;
    if (port <= 0 || port > 65535)
        port = p->port;
    if (source && netaddr_canon(source, canon, sizeof(canon)) == NULL) {
        msg_warn(MOD, "probe source address \"%s\" is not an address", source);
        return -1;
    }
    if (source == NULL)
        memcpy(canon, p->source, sizeof(canon));
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return -1;
    w->fn = fn;
    w->arg = arg;
    for (pr = p->all; pr; pr = pr->next) {
        if (pr->port == port && netaddr_equal(&pr->addr, addr) && strcmp(pr->source, canon) == 0) {
            struct waiter **tail = &pr->waiters;
            while (*tail)
                tail = &(*tail)->next;
            *tail = w;
            p->stats.requested++;
            p->stats.joined++;
            return 0;
        }
    }
    if (p->waiting >= PROBER_MAX_PENDING) {
        p->stats.overflow++;
        msg_limited(&p->full_lim, 60000, MOD, "%u probes waiting already: probe refused",
                    p->waiting);
        free(w);
        return -1;
    }
    if ((pr = calloc(1, sizeof(*pr))) == NULL) {
        free(w);
        return -1;
    }
    pr->p = p;
    pr->addr = *addr;
    pr->port = port;
    memcpy(pr->source, canon, sizeof(pr->source));
    pr->fd = -1;
    pr->waiters = w;
    pr->timeout_ms = p->timeout_ms;
    if (p->jitter_ms)
        delay = arc4random_uniform(p->jitter_ms < UINT32_MAX ? (uint32_t)p->jitter_ms + 1 : UINT32_MAX);
    if (delay == 0) {
        /* Straight into the queue, in order; started from the loop. */
        enqueue(p, pr);
        event_active(p->kick, EV_TIMEOUT, 0);
    } else {
        tv.tv_sec = (time_t)(delay / 1000);
        tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
        pr->state = ST_JITTER;
        pr->timer = evtimer_new(p->base, on_jitter, pr);
        if (pr->timer == NULL || evtimer_add(pr->timer, &tv) < 0) {
            if (pr->timer)
                event_free(pr->timer);
            free(pr);
            free(w);
            return -1;
        }
    }
    pr->next = p->all;
    if (pr->next)
        pr->next->prev = pr;
    p->all = pr;
    p->waiting++;
    p->stats.requested++;
    return 0;
}

unsigned prober_cancel(struct prober *p, probe_fn fn, void *arg)
{
    unsigned dropped = 0;
    struct probe *pr = p->all;

    while (pr) {
        struct probe *next = pr->next;
        struct waiter **wp = &pr->waiters;
        while (*wp) {
            if ((*wp)->fn == fn && (*wp)->arg == arg) {
                struct waiter *w = *wp;
                *wp = w->next;
                free(w);
                dropped++;
            } else {
                wp = &(*wp)->next;
            }
        }
        if (pr->waiters == NULL)
            free_waiters(probe_destroy(pr));
        pr = next;
    }
    if (dropped)
        event_active(p->kick, EV_TIMEOUT, 0);
    return dropped;
}

void prober_cancel_all(struct prober *p)
{
    while (p->all)
        free_waiters(probe_destroy(p->all));
}

void prober_free(struct prober *p)
{
    if (p == NULL)
        return;
    prober_cancel_all(p);
    event_free(p->kick);
    free(p);
}

void prober_get_stats(const struct prober *p, struct prober_stats *s)
{
    *s = p->stats;
    s->waiting = p->waiting;
    s->running = p->running;
}

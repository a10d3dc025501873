/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routeview - see routeview.h.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "routeview.h"

#define BUCKETS 16384

struct node {
    struct node *next;
    char domain[DOMAIN_MAXLEN + 1];
    struct routeview_entry e;
};

static struct {
    pthread_rwlock_t lock;
    pthread_mutex_t wait_lock;
    pthread_cond_t answered;
    struct node *table[BUCKETS];
    unsigned count;
    int pipe[2];
    struct event *ev;
    void (*on_request)(const char *, void *);
    void *arg;
    char buf[4096];
    size_t buflen;
    struct routeview_stats stats;
    int started;
} rv = {.lock = PTHREAD_RWLOCK_INITIALIZER, .wait_lock = PTHREAD_MUTEX_INITIALIZER,
        .answered = PTHREAD_COND_INITIALIZER, .pipe = {-1, -1}};

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

static struct node *find(const char *domain)
{
    for (struct node *n = rv.table[hash(domain)]; n; n = n->next)
        if (strcmp(n->domain, domain) == 0)
            return n;
    return NULL;
}

/* With the write lock held: forget the direct answers to make room. */
static void forget_direct(void)
{
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct node **pp = &rv.table[b]; *pp;) {
            if ((*pp)->e.kind == RV_DIRECT) {
                struct node *n = *pp;
                *pp = n->next;
                free(n);
                rv.count--;
            } else {
                pp = &(*pp)->next;
            }
        }
}

void routeview_set(const char *domain, const struct routeview_entry *e)
{
    pthread_rwlock_wrlock(&rv.lock);
    struct node *n = find(domain);
    if (n == NULL) {
        if (rv.count >= ROUTEVIEW_MAX)
            forget_direct();
        if (rv.count < ROUTEVIEW_MAX && (n = calloc(1, sizeof(*n))) != NULL) {
            unsigned h = hash(domain);
            snprintf(n->domain, sizeof(n->domain), "%s", domain);
            n->next = rv.table[h];
            rv.table[h] = n;
            rv.count++;
        }
    }
    if (n)
        n->e = *e;
    pthread_rwlock_unlock(&rv.lock);
    pthread_mutex_lock(&rv.wait_lock);
    pthread_cond_broadcast(&rv.answered);
    pthread_mutex_unlock(&rv.wait_lock);
}

int routeview_get(const char *domain, struct routeview_entry *out)
{
    pthread_rwlock_rdlock(&rv.lock);
    struct node *n = find(domain);
    if (n)
        *out = n->e;
    pthread_rwlock_unlock(&rv.lock);
    pthread_mutex_lock(&rv.wait_lock);
    if (n)
        rv.stats.hits++;
    else
        rv.stats.misses++;
    pthread_mutex_unlock(&rv.wait_lock);
    return n != NULL;
}

int routeview_request(const char *domain, uint64_t wait_ms, struct routeview_entry *out)
{
    char line[DOMAIN_MAXLEN + 2];
    size_t len = strlen(domain);

    if (len == 0 || len > DOMAIN_MAXLEN || rv.pipe[1] < 0)
        return 0;
    memcpy(line, domain, len);
    line[len++] = '\n';
    /* One write of at most PIPE_BUF bytes is atomic; a full pipe drops it. */
    pthread_mutex_lock(&rv.wait_lock);
    rv.stats.requests++;
    ssize_t w = write(rv.pipe[1], line, len);
    if (w != (ssize_t)len) {
        rv.stats.dropped++;
        pthread_mutex_unlock(&rv.wait_lock);
        return 0;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(wait_ms / 1000);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    /* wait_lock is held from the check to the wait, so an answer set in
     * between cannot broadcast unseen (routeview_set takes wait_lock). */
    for (int timed_out = 0;;) {
        pthread_rwlock_rdlock(&rv.lock);
        struct node *n = find(domain);
        if (n)
            *out = n->e;
        pthread_rwlock_unlock(&rv.lock);
        if (n || timed_out) {
            rv.stats.timeouts += n == NULL;
            pthread_mutex_unlock(&rv.wait_lock);
            return n != NULL;
        }
        timed_out = pthread_cond_timedwait(&rv.answered, &rv.wait_lock, &until) == ETIMEDOUT;
    }
}

static void read_requests(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    for (;;) {
        ssize_t n = read(fd, rv.buf + rv.buflen, sizeof(rv.buf) - rv.buflen);
        if (n <= 0)
            break;
        rv.buflen += (size_t)n;
        char *start = rv.buf, *nl;
        while ((nl = memchr(start, '\n', rv.buflen - (size_t)(start - rv.buf))) != NULL) {
            *nl = 0;
            if (rv.on_request && *start)
                rv.on_request(start, rv.arg);
            start = nl + 1;
        }
        rv.buflen -= (size_t)(start - rv.buf);
        memmove(rv.buf, start, rv.buflen);
        if (rv.buflen == sizeof(rv.buf))
            rv.buflen = 0;      /* cannot happen with bounded writes; be safe */
    }
}

int routeview_start(struct event_base *base, void (*on_request)(const char *domain, void *arg),
                    void *arg)
{
    if (pipe(rv.pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        fcntl(rv.pipe[i], F_SETFL, fcntl(rv.pipe[i], F_GETFL) | O_NONBLOCK);
    rv.on_request = on_request;
    rv.arg = arg;
    rv.ev = event_new(base, rv.pipe[0], EV_READ | EV_PERSIST, read_requests, NULL);
    if (rv.ev == NULL || event_add(rv.ev, NULL) < 0)
        return -1;
    rv.started = 1;
    return 0;
}

void routeview_stop(void)
{
    if (rv.ev)
        event_free(rv.ev);
    rv.ev = NULL;
    for (int i = 0; i < 2; i++)
        if (rv.pipe[i] >= 0)
            close(rv.pipe[i]);
    rv.pipe[0] = rv.pipe[1] = -1;
    pthread_rwlock_wrlock(&rv.lock);
    for (unsigned b = 0; b < BUCKETS; b++)
        while (rv.table[b]) {
            struct node *n = rv.table[b];
            rv.table[b] = n->next;
            free(n);
        }
    rv.count = 0;
    pthread_rwlock_unlock(&rv.lock);
    rv.started = 0;
}

void routeview_get_stats(struct routeview_stats *s)
{
    pthread_mutex_lock(&rv.wait_lock);
    *s = rv.stats;
    pthread_mutex_unlock(&rv.wait_lock);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelconfirm - see kernelconfirm.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "kernelconfirm.h"
#include "store.h"

struct list {
    struct kconfirm_item *v;
    size_t n, cap;
    int nomem;
};

static struct kconfirm_item *push(struct list *l, const char *addr)
{
    struct netaddr a;
    if (netaddr_parse(addr, &a) < 0)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct kconfirm_item *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->nomem = 1;
            return NULL;
        }
        l->v = v;
        l->cap = cap;
    }
    struct kconfirm_item *it = &l->v[l->n++];
    memset(it, 0, sizeof(*it));
    it->addr = a;
    return it;
}

static void from_addr(const struct store_addr *a, void *arg)
{
    struct kconfirm_item *it = push(arg, a->addr);
    if (it == NULL)
        return;
    it->kind = breaker_is_detoured(&a->b) ? KC_BLOCKED : KC_DIRECT;
    snprintf(it->why, sizeof(it->why), "%.*s", (int)sizeof(it->why) - 1,
             a->b.reason[0] ? a->b.reason : "blocked");
}

static void from_manual(const struct store_manual *m, void *arg)
{
    struct kconfirm_item *it;
    if (m->expires_ms && m->expires_ms <= clock_now_ms())
        return;
    if ((it = push(arg, m->key)) == NULL)
        return;
    it->kind = m->action == MANUAL_UNBLOCK ? KC_UNBLOCKED : KC_BLOCKED;
    snprintf(it->why, sizeof(it->why), "manual %s by %.40s%s%.60s",
             m->action == MANUAL_UNBLOCK ? "unblock" : "block", m->by, m->reason[0] ? ": " : "",
             m->reason);
}

int kernelconfirm_read(const struct cfg_redis *rc, const char *site, struct kconfirm_item **items,
                       size_t *n, char *err, size_t errlen)
{
    struct list l = {0};
    struct store *st = store_open(rc, site, err, errlen);

    *items = NULL;
    *n = 0;
    if (st == NULL)
        return -1;
    int bad = store_addr_list(st, from_addr, &l) < 0 || store_manual_list(st, from_manual, &l) < 0;
    if (bad)
        snprintf(err, errlen, "%s", store_error(st));
    else if (l.nomem)
        snprintf(err, errlen, "out of memory");
    store_close(st);
    if (bad || l.nomem) {
        free(l.v);
        return -1;
    }
    *items = l.v;
    *n = l.n;
    return 0;
}

/* ---- The worker ---- */

static struct {
    pthread_t th;
    int running;
    int pipe[2];
    struct event *ev;
    const struct cfg_redis *rc;
    char site[128];
    kconfirm_fn fn;
    void *arg;
    int rc_read;
    struct kconfirm_item *items;
    size_t n;
    char err[256];
} kc = {.pipe = {-1, -1}};

static void *work(void *arg)
{
    char byte = 1;
    (void)arg;
    kc.rc_read = kernelconfirm_read(kc.rc, kc.site, &kc.items, &kc.n, kc.err, sizeof(kc.err));
    while (write(kc.pipe[1], &byte, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static void finish(int deliver)
{
    if (!kc.running)
        return;
    pthread_join(kc.th, NULL);
    kc.running = 0;
    if (deliver && kc.fn)
        kc.fn(kc.rc_read == 0, kc.items, kc.n, kc.err, kc.arg);
    free(kc.items);
    kc.items = NULL;
    kc.n = 0;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    char buf[8];
    (void)what;
    (void)arg;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    finish(1);
}

int kernelconfirm_start(struct event_base *base, const struct cfg_redis *rc, const char *site,
                        kconfirm_fn fn, void *arg)
{
    if (kc.running)
        return -1;
    if (kc.ev == NULL) {
        if (pipe(kc.pipe) < 0)
            return -1;
        for (int i = 0; i < 2; i++) {
            fcntl(kc.pipe[i], F_SETFL, fcntl(kc.pipe[i], F_GETFL) | O_NONBLOCK);
            fcntl(kc.pipe[i], F_SETFD, FD_CLOEXEC);
        }
        kc.ev = event_new(base, kc.pipe[0], EV_READ | EV_PERSIST, done_cb, NULL);
        if (kc.ev == NULL || event_add(kc.ev, NULL) < 0)
            return -1;
    }
    kc.rc = rc;
    snprintf(kc.site, sizeof(kc.site), "%s", site);
    kc.fn = fn;
    kc.arg = arg;
    kc.err[0] = 0;
    if (pthread_create(&kc.th, NULL, work, NULL) != 0)
        return -1;
    kc.running = 1;
    return 0;
}

int kernelconfirm_running(void)
{
    return kc.running;
}

void kernelconfirm_cancel(void)
{
    finish(0);
    if (kc.ev)
        event_free(kc.ev);
    for (int i = 0; i < 2; i++)
        if (kc.pipe[i] >= 0)
            close(kc.pipe[i]);
    memset(&kc, 0, sizeof(kc));
    kc.pipe[0] = kc.pipe[1] = -1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async_lock - the site's probe lock on the asynchronous store (see
 * store_async_lock_probe() in store_async.h).  State in store_async_int.h;
 * event loop only.
 */
#include "config.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_async_int.h"
#include "store_keys.h"

struct lock_req {
    store_async_lock_fn fn;
    void *arg;
    struct event *later;            /* Redis down: answer on the next loop turn */
};

static void lock_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct lock_req *lr = priv;
    redisReply *r = store_async_took(reply);
    (void)ac;
    /* "OK" when taken, nil when held; no answer (connection lost): probe. */
    if (!astore.stopping)
        lr->fn(r == NULL || r->type == REDIS_REPLY_STATUS, lr->arg);
    free(lr);
}

static void lock_later(evutil_socket_t fd, short what, void *priv)
{
    struct lock_req *lr = priv;
    (void)fd;
    (void)what;
    event_free(lr->later);
    lr->fn(1, lr->arg);
    free(lr);
}

void store_async_lock_probe(const char *addr, uint64_t ttl_ms, store_async_lock_fn fn, void *arg)
{
    char key[320], ttl[24], owner[96], host[64] = "?";
    struct lock_req *lr = calloc(1, sizeof(*lr));

    if (lr == NULL)
        return;
    lr->fn = fn;
    lr->arg = arg;
    gethostname(host, sizeof(host) - 1);
    snprintf(owner, sizeof(owner), "%.63s:%ld", host, (long)getpid());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ttl_ms);
    if (astore.up && store_key(key, sizeof(key), astore.prefix, "lock:probe", addr)) {
        const char *argv[] = {"SET", key, owner, "NX", "PX", ttl};
        if (store_async_send_cmd(astore.cmd, lock_reply, lr, 6, argv) == 0)
            return;
    }
    struct timeval now = {0, 0};
    lr->later = evtimer_new(astore.base, lock_later, lr);
    if (lr->later == NULL || evtimer_add(lr->later, &now) < 0) {
        if (lr->later)
            event_free(lr->later);
        free(lr);
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async_feed - writes feed records (lib/state/store.h: struct store_feed)
 * from the daemon's loop: what a feed listed and what mxdetour did about it,
 * for `mxdetourctl show`.  Derived data, fire and forget: a record lost while
 * Redis is down is written again at the next change of the listing.
 */
#include "config.h"

#include <stdio.h>

#include "clock.h"
#include "store_async_int.h"

static void took_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)priv;
    store_async_took(reply);
}

void store_async_feed_put(const struct store_feed *f)
{
    char key[320], line[24], now[24], ttl[24];
    if (!astore.up || !store_key(key, sizeof(key), astore.prefix, "feed", f->addr))
        return;
    snprintf(line, sizeof(line), "%lu", f->line);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)clock_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)STORE_FEED_TTL_MS);
    const char *del[] = {"DEL", key};
    const char *set[] = {"HSET", key, "feed", f->feed, "trust", f->trust, "line", line,
                         "entry", f->entry, "org", f->org, "decision", f->decision,
                         "date", f->date, "action", f->action, "updated", now};
    const char *exp[] = {"PEXPIRE", key, ttl};
    /* One connection, so the three arrive in order. */
    store_async_send_cmd(astore.cmd, took_reply, NULL, 2, del);
    store_async_send_cmd(astore.cmd, took_reply, NULL, (int)(sizeof(set) / sizeof(set[0])), set);
    store_async_send_cmd(astore.cmd, took_reply, NULL, 3, exp);
}

void store_async_feed_del(const char *addr)
{
    char key[320];
    if (!astore.up || !store_key(key, sizeof(key), astore.prefix, "feed", addr))
        return;
    const char *del[] = {"DEL", key};
    store_async_send_cmd(astore.cmd, took_reply, NULL, 2, del);
}

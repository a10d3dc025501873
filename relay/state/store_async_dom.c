/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async_dom - destination records on the asynchronous store (see
 * store_async.h): written fire and forget, since they are derived data the
 * engine writes again on every change; after a reconnection put back only
 * where Redis has none; and read when the change channel names one, or at a
 * resync, for on_domain().  State in store_async_int.h; event loop only.
 */
#include "config.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "msg.h"
#include "store_async_int.h"
#include "store_codec.h"
#include "store_keys.h"

#define MOD "store_async"

void store_async_domain_put(const struct store_domain *d)
{
    char key[320], index[200], chan[200], now[24], ttl[24], since[24];
    if (!astore.up || !store_key(key, sizeof(key), astore.prefix, "dom", d->domain))
        return;
    store_key(index, sizeof(index), astore.prefix, "doms", NULL);
    store_key(chan, sizeof(chan), astore.prefix, "changes", NULL);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)clock_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)STORE_KEY_TTL_MS);
    snprintf(since, sizeof(since), "%llu", (unsigned long long)d->since_ms);
    const char *argv[] = {"EVAL", store_script_text[SCRIPT_DOM_PUT], "3", key, index, chan,
                          d->domain, now, ttl, "mx", d->mx, "state", d->state, "via", d->via,
                          "reason", d->reason, "since", since, "updated", now};
    store_async_send_cmd(astore.cmd, store_async_ignore_reply, NULL, (int)(sizeof(argv) / sizeof(argv[0])), argv);
}

/* EXISTS, then the write: a destination record is put back only where the
 * new master has none, so another MTA's fresher record is kept. */
static void exists_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct store_domain *d = priv;
    redisReply *r = store_async_took(reply);
    (void)ac;

    if (r && !astore.stopping && r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
        msg_limited(&astore.restore_dom_lim, 10000, MOD, "redis has lost the record of destination %s "
                    "(a failover or a restart); writing back this daemon's view", d->domain);
        store_async_domain_put(d);
    }
    free(d);
}

void store_async_domain_restore(const struct store_domain *d)
{
    char key[320];
    struct store_domain *copy;

    if (!astore.up || !store_key(key, sizeof(key), astore.prefix, "dom", d->domain)
        || (copy = malloc(sizeof(*copy))) == NULL)
        return;
    *copy = *d;
    const char *argv[] = {"EXISTS", key};
    if (store_async_send_cmd(astore.cmd, exists_reply, copy, 2, argv) < 0)
        free(copy);
}

static void domain_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    char *domain = priv;
    redisReply *r = store_async_took(reply);
    struct store_domain d;
    (void)ac;

    if (r && !astore.stopping && astore.cb.on_domain) {
        int rc = store_decode_domain(r, domain, &d);
        if (rc < 0) {
            astore.stats.errors++;
            msg_limited(&astore.err_lim, 60000, MOD, "malformed destination record for %s; ignored", domain);
        } else if (rc == 1) {
            astore.cb.on_domain(&d, astore.cb.arg);
        }
    }
    free(domain);
}

void store_async_refresh_domain(const char *domain)
{
    char key[320];
    char *copy;
    if (astore.cb.on_domain == NULL || store_key(key, sizeof(key), astore.prefix, "dom", domain) == NULL
        || (copy = strdup(domain)) == NULL)
        return;
    const char *argv[] = {"HGETALL", key};
    if (store_async_send_cmd(astore.cmd, domain_reply, copy, 2, argv) < 0)
        free(copy);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async_news - what Redis tells the asynchronous store unasked; see
 * store_async.h ("News") for the callbacks, and store_async_int.h for the
 * state shared with store_async.c.
 *
 * store_async_change_message() reads the site's change channel ("addr <address>
 * <version>", "manual <name>", "dom <domain>"): a newer
 * version of an address than the one we hold is read again (HMGET), and a
 * manual record is read whole (HGETALL) and reported through on_manual().
 * store_async_resync(), after every (re)connection, reads the indexes (newest
 * first, at most RESYNC_MAX members each) and refreshes every member.
 * Records come back through store_async.c's read path, which reports them
 * with on_addr(); destination records (read only when the caller has an
 * on_domain callback) come back through store_async_dom.c.  Members and messages from Redis are bounded and checked
 * before use.
 *
 * Event loop, main thread only, like the rest of the module.
 */
#include "config.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "store_async_int.h"
#include "store_codec.h"
#include "store_keys.h"

#define MOD "store_async"
#define RESYNC_MAX 100000
#define DOMAIN_RESYNC_MAX 10000     /* destination records: the newest only */

static void refresh_addr(const char *addr)
{
    struct entry *e = store_async_lookup(addr, 1);
    if (e && !e->inflight)
        store_async_send_read(e);
}

static void manual_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    char *name = priv;
    redisReply *r = store_async_took(reply);
    struct store_manual m;
    (void)ac;

    if (r && !astore.stopping) {
        int rc = r->type == REDIS_REPLY_ARRAY ? store_decode_manual(r, name, &m) : -1;
        if (rc < 0) {
            astore.stats.errors++;
            msg_limited(&astore.err_lim, 60000, MOD, "malformed manual record for %s; ignored", name);
        } else if (astore.cb.on_manual) {
            astore.cb.on_manual(name, rc ? &m : NULL, astore.cb.arg);
        }
    }
    free(name);
}

static void refresh_manual(const char *name)
{
    char key[320];
    if (store_key(key, sizeof(key), astore.prefix, "manual", name) == NULL)
        return;
    char *copy = strdup(name);
    const char *argv[] = {"HGETALL", key};
    if (copy && store_async_send_cmd(astore.cmd, manual_reply, copy, 2, argv) < 0)
        free(copy);
}

/* A member of an index: printable, bounded, no separators. */
static int valid_member(const redisReply *e)
{
    if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > DOMAIN_MAXLEN)
        return 0;
    for (size_t i = 0; i < e->len; i++)
        if (e->str[i] <= ' ' || e->str[i] == 0x7f)
            return 0;
    return 1;
}

static int manual_marker, domain_marker;     /* which index a reply lists */

static void index_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = store_async_took(reply);
    (void)ac;

    if (r == NULL || astore.stopping || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements && i < RESYNC_MAX; i++)
        if (valid_member(r->element[i])) {
            if (priv == &manual_marker)
                refresh_manual(r->element[i]->str);
            else if (priv == &domain_marker)
                store_async_refresh_domain(r->element[i]->str);
            else
                refresh_addr(r->element[i]->str);
        }
}

/* After every (re)connection: read everything again. */
void store_async_resync(void)
{
    char key[200], max[16];
    snprintf(max, sizeof(max), "%d", RESYNC_MAX - 1);
    store_key(key, sizeof(key), astore.prefix, "addrs", NULL);
    const char *argv[] = {"ZREVRANGE", key, "0", max};
    store_async_send_cmd(astore.cmd, index_reply, NULL, 4, argv);
    char mkey[200];
    store_key(mkey, sizeof(mkey), astore.prefix, "manuals", NULL);
    const char *margv[] = {"ZREVRANGE", mkey, "0", max};
    store_async_send_cmd(astore.cmd, index_reply, &manual_marker, 4, margv);
    if (astore.cb.on_domain) {
        char dkey[200];
        store_key(dkey, sizeof(dkey), astore.prefix, "doms", NULL);
        char dmax[16];
        snprintf(dmax, sizeof(dmax), "%d", DOMAIN_RESYNC_MAX - 1);
        const char *dargv[] = {"ZREVRANGE", dkey, "0", dmax};
        store_async_send_cmd(astore.cmd, index_reply, &domain_marker, 4, dargv);
    }
}

/* "addr <address> <version>", "manual <name>", "dom <domain>" */
void store_async_change_message(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = reply;
    char text[320], *sp;
    (void)ac;
    (void)priv;

    if (r == NULL || astore.stopping || r->type != REDIS_REPLY_ARRAY || r->elements != 3
        || r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0
        || r->element[2]->type != REDIS_REPLY_STRING || r->element[2]->len >= sizeof(text))
        return;
    memcpy(text, r->element[2]->str, r->element[2]->len);
    text[r->element[2]->len] = 0;
    if ((sp = strchr(text, ' ')) == NULL)
        return;
    *sp++ = 0;
    if (strcmp(text, "addr") == 0) {
        char *ver = strchr(sp, ' ');
        if (ver == NULL)
            return;
        *ver++ = 0;
        struct entry *e = store_async_lookup(sp, 0);
        if (e == NULL || !e->have_auth || atoll(ver) > e->version)
            refresh_addr(sp);
    } else if (strcmp(text, "manual") == 0) {
        refresh_manual(sp);
    } else if (strcmp(text, "dom") == 0) {
        struct store_domain probe;
        if (strlen(sp) < sizeof(probe.domain))
            store_async_refresh_domain(sp);
    }
}

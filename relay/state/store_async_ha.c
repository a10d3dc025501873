/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async_ha - the asynchronous store with Redis Sentinel: where the
 * master is, checking it, and following a failover (see store_async.h,
 * "Sentinel"); the state shared with store_async.c is in store_async_int.h.
 *
 * store_async_connect() asks here when it has no fresh master address; the
 * answer comes back through master_answer(), which connects.  Every
 * connection is checked with ROLE before the scripts are loaded, so the
 * store is never "up" on a replica.  A +switch-master announcement moves
 * both connections (commands and the change channel) to the new master at
 * once; connecting again loads the scripts, resyncs, and puts back records
 * the new master lacks (store_async.c, store_async_dom.c).  Event loop, main thread only.
 */
#include "config.h"

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "sentinel.h"
#include "sentinel_async.h"
#include "store_async_int.h"

#define MOD "store_async"

static void master_answer(const struct cfg_hostport *m, const char *why_not, void *arg)
{
    char buf[900];
    (void)arg;

    astore.asking = 0;
    if (astore.stopping || astore.cmd)
        return;                     /* a +switch-master got there first */
    if (m == NULL) {
        snprintf(buf, sizeof(buf), "no sentinel named a master for %s (%s)", astore.rc.master_name, why_not);
        store_async_went_down(buf);
        return;
    }
    astore.master = *m;
    astore.have_master = 1;
    store_async_connect();
}

void store_async_find_master(void)
{
    if (astore.asking)
        return;
    astore.asking = 1;
    sentinel_async_ask(master_answer, NULL);
}

static void role_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = store_async_took(reply);
    char role[16], where[64], why[256];
    (void)ac;
    (void)priv;

    if (r == NULL || astore.stopping)
        return;
    int is = sentinel_decode_role(r, role, sizeof(role));
    if (is == 1)
        return;
    sentinel_hostport(&astore.at, where, sizeof(where));
    if (r->type == REDIS_REPLY_ERROR)   /* e.g. NOAUTH: redis.password_file is wrong */
        snprintf(why, sizeof(why), "%s, named master by the sentinels, refused ROLE: %.80s", where, r->str);
    else
        snprintf(why, sizeof(why), "%s, named master by the sentinels, %s%s; asking them again", where,
                 is == 0 ? "is a " : "gives no valid answer to ROLE", is == 0 ? role : "");
    store_async_went_down(why);
}

void store_async_check_role(void)
{
    const char *argv[] = {"ROLE"};
    store_async_send_cmd(astore.cmd, role_reply, NULL, 1, argv);
}

/* The sentinels promoted a replica: leave the old master now, even if its
 * connection still looks alive (it may be cut off rather than dead). */
static void on_switch(const struct cfg_hostport *m, void *arg)
{
    char was[64], now[64], why[200];
    (void)arg;

    if (astore.stopping)
        return;
    if ((astore.cmd || astore.up) && strcmp(astore.at.host, m->host) == 0 && astore.at.port == m->port)
        return;                     /* there already */
    msg_info(MOD, "the sentinels moved redis master %s from %s to %s", astore.rc.master_name,
             astore.at.port ? sentinel_hostport(&astore.at, was, sizeof(was)) : "(none yet)",
             sentinel_hostport(m, now, sizeof(now)));
    astore.master = *m;
    astore.have_master = 1;
    /* Connect within 250 ms, not when a retry set up by the failures
     * before the announcement (up to 30 s) would. */
    astore.backoff_ms = 0;
    evtimer_del(astore.retry);
    snprintf(why, sizeof(why), "failover to %s", now);
    store_async_went_down(why);
}

int store_async_ha_start(void)
{
    return sentinel_async_start(astore.base, &astore.rc, on_switch, NULL);
}

void store_async_ha_stop(void)
{
    sentinel_async_stop();
}

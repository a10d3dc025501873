/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async - see store_async.h.
 *
 * Per address an entry holds the last record read from or written to Redis
 * (auth, version) and the evidence not yet written (ops).  flush() applies
 * the ops to auth and sends the compare-and-set; a conflict brings the
 * current record back, and the same ops are applied to it and sent again.
 *
 * Here: the entries, evidence and its writes, the two connections (commands,
 * and the change-channel subscription) with their watchdog and backoff.
 * Elsewhere: what Redis tells us unasked (the change channel, resyncs,
 * manual records) in store_async_news.c, Sentinel in store_async_ha.c,
 * destination records in store_async_dom.c, the probe lock in
 * store_async_lock.c; the state they share is in store_async_int.h.  Event
 * loop, main thread only.
 */
#include "config.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "msg.h"
#include "sentinel.h"
#include "store_async.h"
#include "store_async_int.h"
#include "store_codec.h"
#include "store_keys.h"
#include "store_tls.h"

#define MOD "store_async"
#define CAS_TRIES 16
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

struct store_async_state astore;         /* the module; see store_async_int.h */

static void flush(struct entry *e);

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

struct entry *store_async_lookup(const char *addr, int create)
{
    unsigned h = hash(addr);
    for (struct entry *e = astore.table[h]; e; e = e->next)
        if (strcmp(e->addr, addr) == 0)
            return e;
    if (!create)
        return NULL;
    if (astore.nentries >= ASTORE_MAX_ADDRS) {
        /* Bound memory: forget a record with nothing to write; the next
         * resync or change message brings it back if it matters. */
        for (unsigned b = 0; b < BUCKETS; b++)
            for (struct entry **pp = &astore.table[b]; *pp; pp = &(*pp)->next)
                if ((*pp)->nops == 0 && !(*pp)->inflight) {
                    struct entry *victim = *pp;
                    *pp = victim->next;
                    free(victim->ops);
                    free(victim);
                    astore.nentries--;
                    goto room;
                }
        return NULL;
    }
room:;
    struct entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    snprintf(e->addr, sizeof(e->addr), "%s", addr);
    breaker_init(&e->auth, clock_now_ms());
    e->next = astore.table[h];
    astore.table[h] = e;
    astore.nentries++;
    return e;
}

int store_async_send_cmd(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, int argc, const char **argv)
{
    if (ac == NULL)
        return -1;
    if (redisAsyncCommandArgv(ac, fn, priv, argc, argv, NULL) != REDIS_OK)
        return -1;
    if (ac == astore.cmd) {
        if (astore.outstanding++ == 0)
            astore.last_reply_ms = clock_mono_ms();
    }
    return 0;
}

/* Every reply on cmd passes here first: it feeds the watchdog. */
redisReply *store_async_took(void *reply)
{
    if (astore.outstanding > 0)
        astore.outstanding--;
    astore.last_reply_ms = clock_mono_ms();
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) != 0) {
        astore.stats.errors++;
        msg_limited(&astore.err_lim, 60000, MOD, "redis answered: %.200s", r->str);
    }
    return r;
}

/* Applies one piece of evidence; *changed is set when the state moved. */
static void apply(struct breaker *b, const struct op *o, int *changed)
{
    enum breaker_change ch = BREAKER_SAME;

    if (breaker_tick(b, &o->p, o->now_ms) != BREAKER_SAME)
        *changed = 1;
    switch (o->type) {
    case ASTORE_FAILURE:
        ch = breaker_failure(b, &o->p, o->kind, o->src, o->now_ms);
        break;
    case ASTORE_SUCCESS:
        ch = breaker_success(b, &o->p, o->src, o->now_ms);
        break;
    case ASTORE_FORCE:
        ch = breaker_force(b, o->state, o->src, o->reason, o->until_ms, o->now_ms);
        break;
    case ASTORE_VERDICT:
        ch = breaker_verdict(b, &o->p, o->verdict, o->reason, o->now_ms);
        *changed = 1;           /* the verdict is news even when the state is not */
        break;
    case ASTORE_UNDO_TRIP:
        if (b->state == BREAKER_DETOURED && b->source == SRC_LOG && b->since_ms >= o->until_ms) {
            ch = breaker_force(b, BREAKER_DIRECT, SRC_LOG, o->reason, 0, o->now_ms);
            if (b->trips > 0)
                b->trips--;             /* it was never a block */
        }
        break;
    }
    if (ch != BREAKER_SAME)
        *changed = 1;
}

static void cas_reply(redisAsyncContext *ac, void *reply, void *priv);

/* An entry with nothing queued keeps no op array. */
static void release_ops(struct entry *e)
{
    if (e->nops == 0) {
        free(e->ops);
        e->ops = NULL;
        e->capops = 0;
    }
}

static void send_cas(struct entry *e, int use_eval)
{
    struct store_cas_args a;
    int changed = 0;

    e->sent = e->nops;
    e->sent_b = e->auth;
    for (unsigned i = 0; i < e->sent; i++)
        apply(&e->sent_b, &e->ops[i], &changed);
    changed |= e->republish;
    e->republish = 0;
    if (store_cas_prepare(&a, astore.prefix, e->addr, e->host, e->have_auth ? e->version : 0, &e->sent_b,
                          changed, clock_now_ms(), STORE_KEY_TTL_MS) < 0) {
        astore.stats.dropped += e->nops;
        e->nops = e->sent = 0;
        release_ops(e);
        return;
    }
    const char *argv[13] = {use_eval ? "EVAL" : "EVALSHA",
                            use_eval ? store_script_text[SCRIPT_ADDR_CAS] : astore.sha[SCRIPT_ADDR_CAS], "3"};
    memcpy(argv + 3, a.argv, sizeof(a.argv));
    if (store_async_send_cmd(astore.cmd, cas_reply, e, 13, argv) == 0)
        e->inflight = 1;
}

static void deliver(const struct entry *e)
{
    struct store_addr a = {.version = e->version, .updated_ms = clock_now_ms(), .b = e->auth};
    snprintf(a.addr, sizeof(a.addr), "%s", e->addr);
    snprintf(a.host, sizeof(a.host), "%s", e->host);
    if (astore.cb.on_addr)
        astore.cb.on_addr(&a, astore.cb.arg);
}

/* The ops the last CAS covered are done with, written or given up. */
static void retire_sent(struct entry *e)
{
    if (e->nops > e->sent)      /* e->ops is NULL when nothing is queued */
        memmove(e->ops, e->ops + e->sent, (e->nops - e->sent) * sizeof(e->ops[0]));
    e->nops -= e->sent;
    e->sent = 0;
    e->tries = 0;
    release_ops(e);
}

static void cas_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct entry *e = priv;
    redisReply *r = store_async_took(reply);
    struct store_addr cur;
    (void)ac;

    e->inflight = 0;
    if (r == NULL || astore.stopping)
        return;                     /* connection lost: the ops wait */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        send_cas(e, 1);
        return;
    }
    int rc = r->type == REDIS_REPLY_ERROR ? -1
             : store_cas_reply(r, e->addr, e->host, &e->sent_b, clock_now_ms(), &cur);
    if (rc == 1 || rc == 0) {
        e->auth = cur.b;
        e->version = cur.version;
        e->have_auth = 1;
        if (cur.host[0])
            snprintf(e->host, sizeof(e->host), "%s", cur.host);
    }
    if (rc == 1) {
        astore.stats.writes++;
        retire_sent(e);
        deliver(e);
    } else if (rc == 0 && ++e->tries < CAS_TRIES) {
        astore.stats.conflicts++;
        deliver(e);                 /* another MTA's view, before ours lands */
    } else {
        astore.stats.errors += rc < 0;
        astore.stats.dropped += e->sent;
        msg_limited(&astore.err_lim, 60000, MOD, "could not write the record of %s (%s); "
                    "its evidence is dropped", e->addr, rc < 0 ? "bad reply" : "too many races");
        retire_sent(e);
    }
    flush(e);
}

static void read_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct entry *e = priv;
    redisReply *r = store_async_took(reply);
    struct store_addr a;
    (void)ac;

    int restore = e->restore;
    e->inflight = e->restore = 0;
    if (r == NULL || astore.stopping)
        return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4
        || store_decode_addr(e->addr, r->element[0], r->element[1], r->element[2], r->element[3], &a) < 0) {
        astore.stats.errors++;
        msg_limited(&astore.err_lim, 60000, MOD, "malformed record for %s in redis; ignored", e->addr);
        return;
    }
    if (restore && a.version == 0 && e->have_auth && e->version > 0) {
        /* Redis lacks a record we had: a new master that never got our
         * last writes (replication is asynchronous), or a Redis restarted
         * empty.  Put back what we knew, with the evidence still queued. */
        msg_limited(&astore.restore_lim, 10000, MOD, "redis has lost the record of %s (a failover "
                    "or a restart); writing back this daemon's copy", e->addr);
        e->version = 0;
        e->republish = 1;
        send_cas(e, 0);
        return;
    }
    e->have_auth = 1;
    e->version = a.version;
    e->auth = a.b;
    if (a.host[0])
        snprintf(e->host, sizeof(e->host), "%s", a.host);
    if (a.version > 0)
        deliver(e);
    flush(e);
}

void store_async_send_read(struct entry *e)
{
    char key[256];
    if (store_key(key, sizeof(key), astore.prefix, "addr", e->addr) == NULL)
        return;
    const char *argv[] = {"HMGET", key, "v", "b", "host", "updated"};
    if (store_async_send_cmd(astore.cmd, read_reply, e, 6, argv) == 0)
        e->inflight = 1;
}

static void flush(struct entry *e)
{
    if (!astore.up || e->inflight || e->nops == 0)
        return;
    if (!e->have_auth)
        store_async_send_read(e);
    else
        send_cas(e, 0);
}

/* The address's next op, filled in but for the caller's fields; NULL when
 * it cannot be queued (counted as dropped). */
static struct op *queue_op(struct entry **ep, const char *addr, const char *host, enum store_async_op type,
                           enum evidence_source src, const struct breaker_params *p, uint64_t now_ms,
                           const char *reason)
{
    struct entry *e = store_async_lookup(addr, 1);
    *ep = e;
    if (e == NULL) {
        astore.stats.dropped++;
        return NULL;
    }
    if (host && *host)
        snprintf(e->host, sizeof(e->host), "%s", host);
    if (e->nops == ASTORE_MAX_OPS) {
        if (e->inflight)        /* the ops in flight must stay where they are */
            goto drop;
        memmove(e->ops, e->ops + 1, (ASTORE_MAX_OPS - 1) * sizeof(e->ops[0]));
        e->nops--;
drop:
        astore.stats.dropped++;
        if (e->nops == ASTORE_MAX_OPS)
            return NULL;
    }
    if (e->nops == e->capops) {
        unsigned cap = e->capops ? e->capops * 2 : 2;
        if (cap > ASTORE_MAX_OPS)
            cap = ASTORE_MAX_OPS;
        struct op *grown = realloc(e->ops, cap * sizeof(*grown));
        if (grown == NULL) {
            astore.stats.dropped++;
            return NULL;
        }
        e->ops = grown;
        e->capops = cap;
    }
    struct op *o = &e->ops[e->nops++];
    memset(o, 0, sizeof(*o));
    o->type = type;
    o->src = src;
    o->p = *p;
    o->now_ms = now_ms;
    snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
    return o;
}

void store_async_record(const char *addr, const char *host, enum store_async_op type, enum fail_kind kind,
                   enum evidence_source src, const struct breaker_params *p, uint64_t now_ms,
                   enum breaker_state state, uint64_t until_ms, const char *reason)
{
    struct entry *e;
    struct op *o = queue_op(&e, addr, host, type, src, p, now_ms, reason);
    if (o == NULL)
        return;
    o->kind = kind;
    o->state = state;
    o->until_ms = until_ms;
    flush(e);
}

void store_async_verdict(const char *addr, const char *host, const struct breaker_params *p,
                         enum verdict v, const char *reason, uint64_t now_ms)
{
    struct entry *e;
    struct op *o = queue_op(&e, addr, host, ASTORE_VERDICT, SRC_PROBE, p, now_ms, reason);
    if (o == NULL)
        return;
    o->verdict = v;
    flush(e);
}

/* ---- Connections ---- */

static void schedule_retry(void)
{
    if (astore.stopping || (astore.retry && evtimer_pending(astore.retry, NULL)))
        return;
    astore.backoff_ms = astore.backoff_ms ? astore.backoff_ms * 2 : BACKOFF_MIN_MS;
    if (astore.backoff_ms > BACKOFF_MAX_MS)
        astore.backoff_ms = BACKOFF_MAX_MS;
    uint64_t wait = astore.backoff_ms / 2 + (uint64_t)rand() % (astore.backoff_ms / 2 + 1);
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(astore.retry, &tv);
}

/* Forgets both connections first, then frees them: a callback that runs
 * during the free (pending replies get NULL, and a connected context its
 * disconnect callback) then finds nothing of ours to act on. */
static void drop_connections(void)
{
    redisAsyncContext *c = astore.cmd, *s = astore.sub;
    astore.cmd = astore.sub = NULL;
    astore.outstanding = 0;
    if (c)
        redisAsyncFree(c);
    if (s)
        redisAsyncFree(s);
}

void store_async_went_down(const char *why)
{
    int was_up = astore.up;
    astore.up = 0;
    drop_connections();
    if (was_up) {
        msg_warn(MOD, "lost redis (%s); the last known state stays in force and new evidence "
                 "is kept until it is back", why);
        if (astore.cb.on_down)
            astore.cb.on_down(astore.cb.arg);
    } else {
        msg_limited(&astore.down_lim, 60000, MOD, "cannot reach redis: %s; retrying", why);
    }
    schedule_retry();
}

/* hiredis frees ac after this returns. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
    char buf[160];
    (void)status;
    if (ac != astore.cmd && ac != astore.sub)
        return;                     /* one we dropped ourselves */
    snprintf(buf, sizeof(buf), "%s", ac->errstr[0] ? ac->errstr : "connection closed");
    if (ac == astore.cmd)
        astore.cmd = NULL;
    else
        astore.sub = NULL;
    if (!astore.stopping)
        store_async_went_down(buf);
}

/* On failure hiredis frees ac after this returns, without on_disconnect. */
static void on_connect(const redisAsyncContext *ac, int status)
{
    char buf[160];
    if (status == REDIS_OK || (ac != astore.cmd && ac != astore.sub))
        return;
    snprintf(buf, sizeof(buf), "%s", ac->errstr);
    if (ac == astore.cmd)
        astore.cmd = NULL;
    else
        astore.sub = NULL;
    if (!astore.stopping)
        store_async_went_down(buf);
}

static void script_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    long idx = (long)(intptr_t)priv;
    redisReply *r = store_async_took(reply);
    (void)ac;

    if (r == NULL || astore.stopping)
        return;
    if (r->type != REDIS_REPLY_STRING || r->len != 40) {
        store_async_went_down("SCRIPT LOAD failed");
        return;
    }
    memcpy(astore.sha[idx], r->str, 40);
    astore.sha[idx][40] = 0;
    if (idx == SCRIPT_COUNT - 1) {
        /* Everything before this reply went through: we are up. */
        astore.up = 1;
        astore.backoff_ms = 0;
        astore.stats.reconnects++;
        if (astore.rc.nsentinels) {
            char where[64];
            msg_info(MOD, "connected to redis master %s (%s, from the sentinels); site key prefix %s",
                     sentinel_hostport(&astore.at, where, sizeof(where)), astore.rc.master_name,
                     astore.prefix);
        } else {
            msg_info(MOD, "connected to redis; site key prefix %s", astore.prefix);
        }
        if (astore.cb.on_up)
            astore.cb.on_up(astore.cb.arg);
        store_async_resync();
        /* Records we know are read first (and put back if lost), then our
         * queued evidence is applied to them. */
        for (unsigned b = 0; b < BUCKETS; b++)
            for (struct entry *e = astore.table[b]; e; e = e->next) {
                if (e->have_auth && e->version > 0 && !e->inflight) {
                    e->restore = 1;
                    store_async_send_read(e);
                } else {
                    flush(e);
                }
            }
    }
}

void store_async_ignore_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)priv;
    store_async_took(reply);
}

static void auth_and_select(redisAsyncContext *ac)
{
    redisCallbackFn *fn = ac == astore.cmd ? store_async_ignore_reply : NULL;
    if (astore.rc.password) {
        const char *argv[] = {"AUTH", astore.rc.user ? astore.rc.user : astore.rc.password, astore.rc.password};
        store_async_send_cmd(ac, fn, NULL, astore.rc.user ? 3 : 2, argv);
    }
    if (astore.rc.database) {
        char db[16];
        snprintf(db, sizeof(db), "%d", astore.rc.database);
        const char *argv[] = {"SELECT", db};
        store_async_send_cmd(ac, fn, NULL, 2, argv);
    }
}

static redisAsyncContext *open_one(void)
{
    redisAsyncContext *ac = astore.rc.nsentinels ? redisAsyncConnect(astore.at.host, astore.at.port)
                            : astore.rc.socket ? redisAsyncConnectUnix(astore.rc.socket)
                                               : redisAsyncConnect(astore.rc.host, astore.rc.port);
    if (ac == NULL)
        return NULL;
    char buf[200];
    if (ac->err || store_tls_wrap(&ac->c, buf, sizeof(buf)) < 0) {
        if (ac->err)
            snprintf(buf, sizeof(buf), "%s", ac->errstr);
        redisAsyncFree(ac);
        msg_limited(&astore.down_lim, 60000, MOD, "cannot reach redis: %s; retrying", buf);
        return NULL;
    }
    redisLibeventAttach(ac, astore.base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

void store_async_connect(void)
{
    if (astore.cmd || astore.sub)
        return;                     /* connected or connecting already */
    if (astore.rc.nsentinels) {
        if (!astore.have_master) {  /* ask the sentinels; they call us back */
            store_async_find_master();
            return;
        }
        astore.have_master = 0;     /* after a loss, ask again */
        astore.at = astore.master;
    }
    astore.cmd = open_one();
    astore.sub = astore.cmd ? open_one() : NULL;
    if (astore.cmd == NULL || astore.sub == NULL) {
        drop_connections();
        schedule_retry();
        return;
    }
    astore.outstanding = 0;
    auth_and_select(astore.cmd);
    auth_and_select(astore.sub);
    if (astore.rc.nsentinels)
        store_async_check_role();        /* before the scripts: up only on a master */
    char chan[200];
    store_key(chan, sizeof(chan), astore.prefix, "changes", NULL);
    const char *argv[] = {"SUBSCRIBE", chan};
    redisAsyncCommandArgv(astore.sub, store_async_change_message, NULL, 2, argv, NULL);
    for (long i = 0; i < SCRIPT_COUNT; i++) {
        const char *sargv[] = {"SCRIPT", "LOAD", store_script_text[i]};
        store_async_send_cmd(astore.cmd, script_reply, (void *)(intptr_t)i, 3, sargv);
    }
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    store_async_connect();
}

/* Drops a connection whose commands hang, or that never finishes connecting. */
static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t limit = astore.rc.command_timeout_ms + (astore.up ? 0 : astore.rc.connect_timeout_ms);
    if (astore.cmd && astore.outstanding > 0 && clock_mono_ms() - astore.last_reply_ms > limit)
        store_async_went_down("command timed out");
}

int store_async_start(struct event_base *base, const struct cfg_redis *rc, const char *site,
                 const struct store_async_callbacks *cb)
{
    memset(&astore, 0, sizeof(astore));
    astore.base = base;
    astore.rc = *rc;
    astore.rc.socket = rc->socket ? strdup(rc->socket) : NULL;
    astore.rc.host = rc->host ? strdup(rc->host) : NULL;
    astore.rc.user = rc->user ? strdup(rc->user) : NULL;
    astore.rc.password = rc->password ? strdup(rc->password) : NULL;
    astore.rc.master_name = rc->master_name ? strdup(rc->master_name) : NULL;
    astore.rc.sentinel_user = rc->sentinel_user ? strdup(rc->sentinel_user) : NULL;
    astore.rc.sentinel_password = rc->sentinel_password ? strdup(rc->sentinel_password) : NULL;
    astore.rc.prefix = NULL;
    snprintf(astore.prefix, sizeof(astore.prefix), "%s:%s", rc->prefix, site);
    if (cb)
        astore.cb = *cb;
    char why[300];
    if (store_tls_setup(rc, why, sizeof(why)) < 0) {
        msg_warn(MOD, "%s", why);
        return -1;
    }
    srand((unsigned)(clock_mono_ms() ^ (uint64_t)getpid()));
    astore.retry = evtimer_new(base, retry_cb, NULL);
    astore.watchdog = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
    struct timeval second = {1, 0};
    if (astore.retry == NULL || astore.watchdog == NULL || evtimer_add(astore.watchdog, &second) < 0)
        return -1;
    if (astore.rc.nsentinels && store_async_ha_start() < 0)
        return -1;
    store_async_connect();
    return 0;
}

void store_async_stop(void)
{
    astore.stopping = 1;
    if (astore.rc.nsentinels)
        store_async_ha_stop();
    drop_connections();
    if (astore.retry)
        event_free(astore.retry);
    if (astore.watchdog)
        event_free(astore.watchdog);
    for (unsigned b = 0; b < BUCKETS; b++)
        while (astore.table[b]) {
            struct entry *e = astore.table[b];
            astore.table[b] = e->next;
            free(e->ops);
            free(e);
        }
    free(astore.rc.socket);
    free(astore.rc.host);
    free(astore.rc.user);
    free(astore.rc.password);
    free(astore.rc.master_name);
    free(astore.rc.sentinel_user);
    free(astore.rc.sentinel_password);
    memset(&astore, 0, sizeof(astore));
}

int store_async_is_up(void)
{
    return astore.up;
}

void store_async_get_stats(struct store_async_stats *s)
{
    *s = astore.stats;
    s->pending = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct entry *e = astore.table[b]; e; e = e->next)
            s->pending += e->nops;
}

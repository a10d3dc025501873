/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sentinel_async - see sentinel_async.h.
 *
 * Two connections at most: q, the question of the moment (one sentinel at
 * a time; closed once answered), and w, the +switch-master subscription.
 * Every callback first checks that its context is still the current one:
 * a context we dropped calls back with a NULL reply while it is freed.
 */
#include "config.h"

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "sentinel.h"
#include "sentinel_async.h"
#include "store_tls.h"

#define MOD "sentinel_async"
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000

static struct {
    struct event_base *base;
    const struct cfg_redis *rc;
    /* the question */
    redisAsyncContext *q;
    size_t first, tried, cur;       /* sentinel indexes: where we began, how many, which now */
    size_t preferred;               /* the last one that answered */
    struct event *q_timer;
    sentinel_master_fn fn;
    void *fn_arg;
    char why[768];
    /* the watch */
    redisAsyncContext *w;
    size_t wi;
    uint64_t w_backoff_ms;
    struct event *w_retry;
    sentinel_switch_fn on_switch;
    void *sw_arg;
    struct msg_limiter w_lim;
} sa;

static void ask_next(void);
static void watch_open(void);

/* A connection to sentinel i, logged in; NULL with the reason in err. */
static redisAsyncContext *connect_to(size_t i, redisConnectCallback *on_conn,
                                     redisDisconnectCallback *on_disc, char *err, size_t errlen)
{
    const struct cfg_hostport *s = &sa.rc->sentinels[i];
    redisAsyncContext *ac = redisAsyncConnect(s->host, s->port);
    if (ac == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (ac->err || store_tls_wrap(&ac->c, err, errlen) < 0) {
        if (ac->err)
            snprintf(err, errlen, "%s", ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    redisLibeventAttach(ac, sa.base);
    redisAsyncSetConnectCallback(ac, on_conn);
    redisAsyncSetDisconnectCallback(ac, on_disc);
    if (sa.rc->sentinel_password) {
        const char *argv[] = {"AUTH", sa.rc->sentinel_user ? sa.rc->sentinel_user : sa.rc->sentinel_password,
                              sa.rc->sentinel_password};
        redisAsyncCommandArgv(ac, NULL, NULL, sa.rc->sentinel_user ? 3 : 2, argv, NULL);
    }
    return ac;
}

/* ---- The question ---- */

/* Adds "sentinel ADDR: what" to the reasons given when none answers. */
static void note(const char *what)
{
    char where[64];
    size_t len = strlen(sa.why);
    snprintf(sa.why + len, sizeof(sa.why) - len, "%ssentinel %s: %.160s", len ? "; " : "",
             sentinel_hostport(&sa.rc->sentinels[sa.cur], where, sizeof(where)), what);
}

static void drop_question(void)
{
    redisAsyncContext *q = sa.q;
    sa.q = NULL;
    if (sa.q_timer)
        evtimer_del(sa.q_timer);
    if (q)
        redisAsyncFree(q);
}

static void answer(const struct cfg_hostport *m)
{
    sentinel_master_fn fn = sa.fn;
    drop_question();
    sa.fn = NULL;
    if (fn)
        fn(m, m ? NULL : sa.why, sa.fn_arg);
}

static void master_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = reply;
    struct cfg_hostport m;
    (void)priv;

    if (ac != sa.q || r == NULL)
        return;                     /* dropped, or lost: on_q_disconnect moves on */
    if (r->type == REDIS_REPLY_ERROR) {
        note(r->str);
    } else {
        int rc = sentinel_decode_master(r, &m);
        if (rc == 1) {
            sa.preferred = sa.cur;
            answer(&m);
            return;
        }
        note(rc == 0 ? "does not know this master name" : "malformed answer");
    }
    drop_question();
    ask_next();
}

static void on_q_connect(const redisAsyncContext *ac, int status)
{
    if (ac != sa.q || status == REDIS_OK)
        return;
    note(ac->errstr);
    sa.q = NULL;                    /* hiredis frees it */
    evtimer_del(sa.q_timer);
    ask_next();
}

static void on_q_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    if (ac != sa.q)
        return;
    note(ac->errstr[0] ? ac->errstr : "connection closed");
    sa.q = NULL;
    evtimer_del(sa.q_timer);
    ask_next();
}

static void q_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    note("no answer in time");
    drop_question();
    ask_next();
}

static void ask_next(void)
{
    uint64_t ms = sa.rc->connect_timeout_ms + sa.rc->command_timeout_ms;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    while (sa.tried < sa.rc->nsentinels) {
        sa.cur = (sa.first + sa.tried++) % sa.rc->nsentinels;
        char err[128];
        sa.q = connect_to(sa.cur, on_q_connect, on_q_disconnect, err, sizeof(err));
        if (sa.q == NULL) {
            note(err);
            continue;
        }
        const char *argv[] = {"SENTINEL", "get-master-addr-by-name", sa.rc->master_name};
        if (redisAsyncCommandArgv(sa.q, master_reply, NULL, 3, argv, NULL) != REDIS_OK) {
            note("cannot send");
            drop_question();
            continue;
        }
        evtimer_add(sa.q_timer, &tv);
        return;
    }
    answer(NULL);
}

void sentinel_async_ask(sentinel_master_fn fn, void *arg)
{
    drop_question();
    sa.fn = fn;
    sa.fn_arg = arg;
    sa.why[0] = 0;
    sa.first = sa.preferred;
    sa.tried = 0;
    ask_next();
}

/* ---- The watch ---- */

static void watch_later(void)
{
    sa.w_backoff_ms = sa.w_backoff_ms ? sa.w_backoff_ms * 2 : BACKOFF_MIN_MS;
    if (sa.w_backoff_ms > BACKOFF_MAX_MS)
        sa.w_backoff_ms = BACKOFF_MAX_MS;
    struct timeval tv = {(time_t)(sa.w_backoff_ms / 1000), (suseconds_t)(sa.w_backoff_ms % 1000) * 1000};
    sa.wi = (sa.wi + 1) % sa.rc->nsentinels;     /* the next one may be alive */
    evtimer_add(sa.w_retry, &tv);
}

static void watch_lost(const char *what)
{
    char where[64];
    msg_limited(&sa.w_lim, 60000, MOD, "sentinel %s: %s; failovers are still noticed when redis "
                "goes away, and another sentinel is tried",
                sentinel_hostport(&sa.rc->sentinels[sa.wi], where, sizeof(where)), what);
    sa.w = NULL;
    watch_later();
}

static void on_w_connect(const redisAsyncContext *ac, int status)
{
    if (ac == sa.w && status != REDIS_OK)
        watch_lost(ac->errstr[0] ? ac->errstr : "cannot connect");
}

static void on_w_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    if (ac == sa.w)
        watch_lost(ac->errstr[0] ? ac->errstr : "connection closed");
}

/* ["subscribe", chan, n] once, then ["message", chan, text] per failover. */
static void switch_message(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = reply;
    struct cfg_hostport m;
    char where[64];
    (void)priv;

    if (ac != sa.w || r == NULL)
        return;
    if (r->type == REDIS_REPLY_ERROR) {     /* e.g. a login the sentinel refused */
        char what[200];
        snprintf(what, sizeof(what), "refused the subscription: %.150s", r->str);
        watch_lost(what);                   /* forgets sa.w and tries the next sentinel */
        redisAsyncDisconnect(ac);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING)
        return;
    if (strcmp(r->element[0]->str, "subscribe") == 0) {
        sa.w_backoff_ms = 0;
        msg_info(MOD, "following failovers of %s through sentinel %s", sa.rc->master_name,
                 sentinel_hostport(&sa.rc->sentinels[sa.wi], where, sizeof(where)));
        return;
    }
    if (strcmp(r->element[0]->str, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING)
        return;
    int rc = sentinel_decode_switch(r->element[2]->str, r->element[2]->len, sa.rc->master_name, &m);
    if (rc < 0)
        msg_limited(&sa.w_lim, 60000, MOD, "sentinel %s: malformed +switch-master message; ignored",
                    sentinel_hostport(&sa.rc->sentinels[sa.wi], where, sizeof(where)));
    else if (rc == 1 && sa.on_switch)
        sa.on_switch(&m, sa.sw_arg);
}

static void watch_open(void)
{
    char err[128];
    if ((sa.w = connect_to(sa.wi, on_w_connect, on_w_disconnect, err, sizeof(err))) == NULL) {
        watch_lost(err);
        return;
    }
    const char *argv[] = {"SUBSCRIBE", "+switch-master"};
    redisAsyncCommandArgv(sa.w, switch_message, NULL, 2, argv, NULL);
}

static void w_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    watch_open();
}

int sentinel_async_start(struct event_base *base, const struct cfg_redis *rc,
                         sentinel_switch_fn on_switch, void *arg)
{
    memset(&sa, 0, sizeof(sa));
    sa.base = base;
    sa.rc = rc;
    sa.on_switch = on_switch;
    sa.sw_arg = arg;
    sa.q_timer = evtimer_new(base, q_timeout, NULL);
    sa.w_retry = evtimer_new(base, w_retry_cb, NULL);
    if (sa.q_timer == NULL || sa.w_retry == NULL || rc->nsentinels == 0)
        return -1;
    watch_open();
    return 0;
}

void sentinel_async_stop(void)
{
    redisAsyncContext *w = sa.w;
    sa.fn = NULL;
    drop_question();
    sa.w = NULL;
    if (w)
        redisAsyncFree(w);
    if (sa.q_timer)
        event_free(sa.q_timer);
    if (sa.w_retry)
        event_free(sa.w_retry);
    memset(&sa, 0, sizeof(sa));
}

/*
 * store_async - see store_async.h.
 *
 * Per address an entry holds the last record read from or written to Redis
 * (auth, version) and the evidence not yet written (ops).  flush() applies
 * the ops to auth and sends the compare-and-set; a conflict brings the
 * current record back, and the same ops are applied to it and sent again.
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
#include "store_async.h"
#include "store_int.h"
#include "store_keys.h"

#define MOD "store"
#define BUCKETS 4096
#define CAS_TRIES 16
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 30000
#define RESYNC_MAX 100000

struct op {
    enum astore_op type;
    enum fail_kind kind;
    enum evidence_source src;
    struct breaker_params p;
    uint64_t now_ms;
    enum breaker_state state;
    uint64_t until_ms;
    char reason[BREAKER_REASON_MAX];
};

struct entry {
    struct entry *next;
    char addr[NETADDR_STRLEN];
    char host[DOMAIN_MAXLEN + 1];
    long long version;
    struct breaker auth;
    int have_auth;                  /* auth/version reflect Redis */
    struct op ops[ASTORE_MAX_OPS];
    unsigned nops;
    unsigned sent;                  /* ops covered by the CAS in flight */
    int inflight;
    int tries;
};

static struct {
    struct event_base *base;
    struct cfg_redis rc;            /* strings owned here */
    char prefix[160];
    char sha[SCRIPT_COUNT][41];
    redisAsyncContext *cmd, *sub;
    int up;
    unsigned outstanding;           /* commands awaiting replies on cmd */
    uint64_t last_reply_ms;
    uint64_t backoff_ms;
    struct event *retry, *watchdog;
    struct astore_callbacks cb;
    struct entry *table[BUCKETS];
    unsigned nentries;
    struct astore_stats stats;
    struct msg_limiter down_lim, err_lim;
    int stopping;
} as;

static void connect_all(void);
static void flush(struct entry *e);

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

static struct entry *lookup(const char *addr, int create)
{
    unsigned h = hash(addr);
    for (struct entry *e = as.table[h]; e; e = e->next)
        if (strcmp(e->addr, addr) == 0)
            return e;
    if (!create)
        return NULL;
    if (as.nentries >= ASTORE_MAX_ADDRS) {
        /* Bound memory: forget a record with nothing to write; the next
         * resync or change message brings it back if it matters. */
        for (unsigned b = 0; b < BUCKETS; b++)
            for (struct entry **pp = &as.table[b]; *pp; pp = &(*pp)->next)
                if ((*pp)->nops == 0 && !(*pp)->inflight) {
                    struct entry *victim = *pp;
                    *pp = victim->next;
                    free(victim);
                    as.nentries--;
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
    e->next = as.table[h];
    as.table[h] = e;
    as.nentries++;
    return e;
}

static int send_cmd(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, int argc, const char **argv)
{
    if (ac == NULL)
        return -1;
    if (redisAsyncCommandArgv(ac, fn, priv, argc, argv, NULL) != REDIS_OK)
        return -1;
    if (ac == as.cmd) {
        if (as.outstanding++ == 0)
            as.last_reply_ms = clock_mono_ms();
    }
    return 0;
}

/* Every reply on cmd passes here first: it feeds the watchdog. */
static redisReply *took(void *reply)
{
    if (as.outstanding > 0)
        as.outstanding--;
    as.last_reply_ms = clock_mono_ms();
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) != 0) {
        as.stats.errors++;
        msg_limited(&as.err_lim, 60000, MOD, "redis answered: %.200s", r->str);
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
    }
    if (ch != BREAKER_SAME)
        *changed = 1;
}

static void cas_reply(redisAsyncContext *ac, void *reply, void *priv);

static void send_cas(struct entry *e, int use_eval)
{
    struct store_cas_args a;
    struct breaker b = e->auth;
    int changed = 0;

    e->sent = e->nops;
    for (unsigned i = 0; i < e->sent; i++)
        apply(&b, &e->ops[i], &changed);
    if (store_cas_prepare(&a, as.prefix, e->addr, e->host, e->have_auth ? e->version : 0, &b,
                          changed, clock_now_ms(), STORE_KEY_TTL_MS) < 0) {
        as.stats.dropped += e->nops;
        e->nops = e->sent = 0;
        return;
    }
    const char *argv[13] = {use_eval ? "EVAL" : "EVALSHA",
                            use_eval ? store_script_text[SCRIPT_ADDR_CAS] : as.sha[SCRIPT_ADDR_CAS], "3"};
    memcpy(argv + 3, a.argv, sizeof(a.argv));
    if (send_cmd(as.cmd, cas_reply, e, 13, argv) == 0)
        e->inflight = 1;
}

static void deliver(const struct entry *e)
{
    struct store_addr a = {.version = e->version, .updated_ms = clock_now_ms(), .b = e->auth};
    snprintf(a.addr, sizeof(a.addr), "%s", e->addr);
    snprintf(a.host, sizeof(a.host), "%s", e->host);
    if (as.cb.on_addr)
        as.cb.on_addr(&a, as.cb.arg);
}

static void cas_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct entry *e = priv;
    redisReply *r = took(reply);
    struct store_addr cur;
    (void)ac;

    e->inflight = 0;
    if (r == NULL || as.stopping)
        return;                     /* connection lost: the ops wait */
    if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        send_cas(e, 1);
        return;
    }
    struct breaker b = e->auth;
    int changed = 0;
    for (unsigned i = 0; i < e->sent; i++)
        apply(&b, &e->ops[i], &changed);
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : store_cas_reply(r, e->addr, e->host, &b, clock_now_ms(), &cur);
    if (rc == 1 || rc == 0) {
        e->auth = cur.b;
        e->version = cur.version;
        e->have_auth = 1;
        if (cur.host[0])
            snprintf(e->host, sizeof(e->host), "%s", cur.host);
    }
    if (rc == 1) {
        as.stats.writes++;
        memmove(e->ops, e->ops + e->sent, (e->nops - e->sent) * sizeof(e->ops[0]));
        e->nops -= e->sent;
        e->sent = 0;
        e->tries = 0;
        deliver(e);
    } else if (rc == 0 && ++e->tries < CAS_TRIES) {
        as.stats.conflicts++;
        deliver(e);                 /* another MTA's view, before ours lands */
    } else {
        as.stats.errors += rc < 0;
        as.stats.dropped += e->sent;
        msg_limited(&as.err_lim, 60000, MOD, "could not write the record of %s (%s); "
                    "its evidence is dropped", e->addr, rc < 0 ? "bad reply" : "too many races");
        memmove(e->ops, e->ops + e->sent, (e->nops - e->sent) * sizeof(e->ops[0]));
        e->nops -= e->sent;
        e->sent = 0;
        e->tries = 0;
    }
    flush(e);
}

static void read_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct entry *e = priv;
    redisReply *r = took(reply);
    struct store_addr a;
    (void)ac;

    e->inflight = 0;
    if (r == NULL || as.stopping)
        return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4
        || store_decode_addr(e->addr, r->element[0], r->element[1], r->element[2], r->element[3], &a) < 0) {
        as.stats.errors++;
        msg_limited(&as.err_lim, 60000, MOD, "malformed record for %s in redis; ignored", e->addr);
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

static void send_read(struct entry *e)
{
    char key[256];
    if (store_key(key, sizeof(key), as.prefix, "addr", e->addr) == NULL)
        return;
    const char *argv[] = {"HMGET", key, "v", "b", "host", "updated"};
    if (send_cmd(as.cmd, read_reply, e, 6, argv) == 0)
        e->inflight = 1;
}

static void flush(struct entry *e)
{
    if (!as.up || e->inflight || e->nops == 0)
        return;
    if (!e->have_auth)
        send_read(e);
    else
        send_cas(e, 0);
}

void astore_record(const char *addr, const char *host, enum astore_op type, enum fail_kind kind,
                   enum evidence_source src, const struct breaker_params *p, uint64_t now_ms,
                   enum breaker_state state, uint64_t until_ms, const char *reason)
{
    struct entry *e = lookup(addr, 1);
    if (e == NULL) {
        as.stats.dropped++;
        return;
    }
    if (host && *host)
        snprintf(e->host, sizeof(e->host), "%s", host);
    if (e->nops == ASTORE_MAX_OPS) {
        if (e->inflight)        /* the ops in flight must stay where they are */
            goto drop;
        memmove(e->ops, e->ops + 1, (ASTORE_MAX_OPS - 1) * sizeof(e->ops[0]));
        e->nops--;
drop:
        as.stats.dropped++;
        if (e->nops == ASTORE_MAX_OPS)
            return;
    }
    struct op *o = &e->ops[e->nops++];
    memset(o, 0, sizeof(*o));
    o->type = type;
    o->kind = kind;
    o->src = src;
    o->p = *p;
    o->now_ms = now_ms;
    o->state = state;
    o->until_ms = until_ms;
    snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
    flush(e);
}

/* ---- News from Redis: the change channel and resyncs ---- */

static void refresh_addr(const char *addr)
{
    struct entry *e = lookup(addr, 1);
    if (e && !e->inflight)
        send_read(e);
}

static void manual_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    char *name = priv;
    redisReply *r = took(reply);
    struct store_manual m;
    (void)ac;

    if (r && !as.stopping) {
        int rc = r->type == REDIS_REPLY_ARRAY ? store_decode_manual(r, name, &m) : -1;
        if (rc < 0) {
            as.stats.errors++;
            msg_limited(&as.err_lim, 60000, MOD, "malformed manual record for %s; ignored", name);
        } else if (as.cb.on_manual) {
            as.cb.on_manual(name, rc ? &m : NULL, as.cb.arg);
        }
    }
    free(name);
}

static void refresh_manual(const char *name)
{
    char key[320];
    if (store_key(key, sizeof(key), as.prefix, "manual", name) == NULL)
        return;
    char *copy = strdup(name);
    const char *argv[] = {"HGETALL", key};
    if (copy && send_cmd(as.cmd, manual_reply, copy, 2, argv) < 0)
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

static void index_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    int manuals = priv != NULL;
    redisReply *r = took(reply);
    (void)ac;

    if (r == NULL || as.stopping || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements && i < RESYNC_MAX; i++)
        if (valid_member(r->element[i])) {
            if (manuals)
                refresh_manual(r->element[i]->str);
            else
                refresh_addr(r->element[i]->str);
        }
}

/* After every (re)connection: read everything again. */
static void resync(void)
{
    static int manual_marker;
    char key[200], max[16];
    snprintf(max, sizeof(max), "%d", RESYNC_MAX - 1);
    store_key(key, sizeof(key), as.prefix, "addrs", NULL);
    const char *argv[] = {"ZREVRANGE", key, "0", max};
    send_cmd(as.cmd, index_reply, NULL, 4, argv);
    char mkey[200];
    store_key(mkey, sizeof(mkey), as.prefix, "manuals", NULL);
    const char *margv[] = {"ZREVRANGE", mkey, "0", max};
    send_cmd(as.cmd, index_reply, &manual_marker, 4, margv);
}

/* "addr <address> <version>", "manual <name>", "dom <domain>" */
static void change_message(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *r = reply;
    char text[320], *sp;
    (void)ac;
    (void)priv;

    if (r == NULL || as.stopping || r->type != REDIS_REPLY_ARRAY || r->elements != 3
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
        struct entry *e = lookup(sp, 0);
        if (e == NULL || !e->have_auth || atoll(ver) > e->version)
            refresh_addr(sp);
    } else if (strcmp(text, "manual") == 0) {
        refresh_manual(sp);
    }
}

/* ---- Connections ---- */

static void schedule_retry(void)
{
    if (as.stopping || (as.retry && evtimer_pending(as.retry, NULL)))
        return;
    as.backoff_ms = as.backoff_ms ? as.backoff_ms * 2 : BACKOFF_MIN_MS;
    if (as.backoff_ms > BACKOFF_MAX_MS)
        as.backoff_ms = BACKOFF_MAX_MS;
    uint64_t wait = as.backoff_ms / 2 + (uint64_t)rand() % (as.backoff_ms / 2 + 1);
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(as.retry, &tv);
}

/* Forgets both connections first, then frees them: a callback that runs
 * during the free (pending replies get NULL, and a connected context its
 * disconnect callback) then finds nothing of ours to act on. */
static void drop_connections(void)
{
    redisAsyncContext *c = as.cmd, *s = as.sub;
    as.cmd = as.sub = NULL;
    as.outstanding = 0;
    if (c)
        redisAsyncFree(c);
    if (s)
        redisAsyncFree(s);
}

static void went_down(const char *why)
{
    int was_up = as.up;
    as.up = 0;
    drop_connections();
    if (was_up) {
        msg_warn(MOD, "lost redis (%s); the last known state stays in force and new evidence "
                 "is kept until it is back", why);
        if (as.cb.on_down)
            as.cb.on_down(as.cb.arg);
    } else {
        msg_limited(&as.down_lim, 60000, MOD, "cannot reach redis: %s; retrying", why);
    }
    schedule_retry();
}

/* hiredis frees ac after this returns. */
static void on_disconnect(const redisAsyncContext *ac, int status)
{
    char buf[160];
    (void)status;
    if (ac != as.cmd && ac != as.sub)
        return;                     /* one we dropped ourselves */
    snprintf(buf, sizeof(buf), "%s", ac->errstr[0] ? ac->errstr : "connection closed");
    if (ac == as.cmd)
        as.cmd = NULL;
    else
        as.sub = NULL;
    if (!as.stopping)
        went_down(buf);
}

/* On failure hiredis frees ac after this returns, without on_disconnect. */
static void on_connect(const redisAsyncContext *ac, int status)
{
    char buf[160];
    if (status == REDIS_OK || (ac != as.cmd && ac != as.sub))
        return;
    snprintf(buf, sizeof(buf), "%s", ac->errstr);
    if (ac == as.cmd)
        as.cmd = NULL;
    else
        as.sub = NULL;
    if (!as.stopping)
        went_down(buf);
}

static void script_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    long idx = (long)(intptr_t)priv;
    redisReply *r = took(reply);
    (void)ac;

    if (r == NULL || as.stopping)
        return;
    if (r->type != REDIS_REPLY_STRING || r->len != 40) {
        went_down("SCRIPT LOAD failed");
        return;
    }
    memcpy(as.sha[idx], r->str, 40);
    as.sha[idx][40] = 0;
    if (idx == SCRIPT_COUNT - 1) {
        /* Everything before this reply went through: we are up. */
        as.up = 1;
        as.backoff_ms = 0;
        as.stats.reconnects++;
        msg_info(MOD, "connected to redis; site key prefix %s", as.prefix);
        if (as.cb.on_up)
            as.cb.on_up(as.cb.arg);
        resync();
        for (unsigned b = 0; b < BUCKETS; b++)
            for (struct entry *e = as.table[b]; e; e = e->next)
                flush(e);
    }
}

static void ignore_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    (void)ac;
    (void)priv;
    took(reply);
}

static void auth_and_select(redisAsyncContext *ac)
{
    if (as.rc.password) {
        const char *argv[] = {"AUTH", as.rc.user ? as.rc.user : as.rc.password, as.rc.password};
        send_cmd(ac, ac == as.cmd ? ignore_reply : NULL, NULL, as.rc.user ? 3 : 2, argv);
    }
    if (as.rc.database) {
        char db[16];
        snprintf(db, sizeof(db), "%d", as.rc.database);
        const char *argv[] = {"SELECT", db};
        send_cmd(ac, ac == as.cmd ? ignore_reply : NULL, NULL, 2, argv);
    }
}

static redisAsyncContext *open_one(void)
{
    redisAsyncContext *ac = as.rc.socket ? redisAsyncConnectUnix(as.rc.socket)
                                         : redisAsyncConnect(as.rc.host, as.rc.port);
    if (ac == NULL)
        return NULL;
    if (ac->err) {
        char buf[160];
        snprintf(buf, sizeof(buf), "%s", ac->errstr);
        redisAsyncFree(ac);
        msg_limited(&as.down_lim, 60000, MOD, "cannot reach redis: %s; retrying", buf);
        return NULL;
    }
    redisLibeventAttach(ac, as.base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

static void connect_all(void)
{
    if (as.cmd || as.sub)
        return;                     /* connected or connecting already */
    as.cmd = open_one();
    as.sub = as.cmd ? open_one() : NULL;
    if (as.cmd == NULL || as.sub == NULL) {
        drop_connections();
        schedule_retry();
        return;
    }
    as.outstanding = 0;
    auth_and_select(as.cmd);
    auth_and_select(as.sub);
    char chan[200];
    store_key(chan, sizeof(chan), as.prefix, "changes", NULL);
    const char *argv[] = {"SUBSCRIBE", chan};
    redisAsyncCommandArgv(as.sub, change_message, NULL, 2, argv, NULL);
    for (long i = 0; i < SCRIPT_COUNT; i++) {
        const char *sargv[] = {"SCRIPT", "LOAD", store_script_text[i]};
        send_cmd(as.cmd, script_reply, (void *)(intptr_t)i, 3, sargv);
    }
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    connect_all();
}

/* Drops a connection whose commands hang, or that never finishes connecting. */
static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    uint64_t limit = as.rc.command_timeout_ms + (as.up ? 0 : as.rc.connect_timeout_ms);
    if (as.cmd && as.outstanding > 0 && clock_mono_ms() - as.last_reply_ms > limit)
        went_down("command timed out");
}

int astore_start(struct event_base *base, const struct cfg_redis *rc, const char *site,
                 const struct astore_callbacks *cb)
{
    memset(&as, 0, sizeof(as));
    as.base = base;
    as.rc = *rc;
    as.rc.socket = rc->socket ? strdup(rc->socket) : NULL;
    as.rc.host = rc->host ? strdup(rc->host) : NULL;
    as.rc.user = rc->user ? strdup(rc->user) : NULL;
    as.rc.password = rc->password ? strdup(rc->password) : NULL;
    as.rc.prefix = NULL;
    snprintf(as.prefix, sizeof(as.prefix), "%s:%s", rc->prefix, site);
    if (cb)
        as.cb = *cb;
    srand((unsigned)(clock_mono_ms() ^ (uint64_t)getpid()));
    as.retry = evtimer_new(base, retry_cb, NULL);
    as.watchdog = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
    struct timeval second = {1, 0};
    if (as.retry == NULL || as.watchdog == NULL || evtimer_add(as.watchdog, &second) < 0)
        return -1;
    connect_all();
    return 0;
}

void astore_stop(void)
{
    as.stopping = 1;
    drop_connections();
    if (as.retry)
        event_free(as.retry);
    if (as.watchdog)
        event_free(as.watchdog);
    for (unsigned b = 0; b < BUCKETS; b++)
        while (as.table[b]) {
            struct entry *e = as.table[b];
            as.table[b] = e->next;
            free(e);
        }
    free(as.rc.socket);
    free(as.rc.host);
    free(as.rc.user);
    free(as.rc.password);
    memset(&as, 0, sizeof(as));
}

int astore_is_up(void)
{
    return as.up;
}

void astore_domain_put(const struct store_domain *d)
{
    char key[320], index[200], chan[200], now[24], ttl[24], since[24];
    if (!as.up || !store_key(key, sizeof(key), as.prefix, "dom", d->domain))
        return;
    store_key(index, sizeof(index), as.prefix, "doms", NULL);
    store_key(chan, sizeof(chan), as.prefix, "changes", NULL);
    snprintf(now, sizeof(now), "%llu", (unsigned long long)clock_now_ms());
    snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)STORE_KEY_TTL_MS);
    snprintf(since, sizeof(since), "%llu", (unsigned long long)d->since_ms);
    const char *argv[] = {"EVAL", store_script_text[SCRIPT_DOM_PUT], "3", key, index, chan,
                          d->domain, now, ttl, "mx", d->mx, "state", d->state, "via", d->via,
                          "reason", d->reason, "since", since, "updated", now};
    send_cmd(as.cmd, ignore_reply, NULL, (int)(sizeof(argv) / sizeof(argv[0])), argv);
}

void astore_get_stats(struct astore_stats *s)
{
    *s = as.stats;
    s->pending = 0;
    for (unsigned b = 0; b < BUCKETS; b++)
        for (struct entry *e = as.table[b]; e; e = e->next)
            s->pending += e->nops;
}

struct lock_req {
    astore_lock_fn fn;
    void *arg;
    struct event *later;            /* Redis down: answer on the next loop turn */
};

static void lock_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    struct lock_req *lr = priv;
    redisReply *r = took(reply);
    (void)ac;
    /* "OK" when taken, nil when held; no answer (connection lost): probe. */
    if (!as.stopping)
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

void astore_lock_probe(const char *addr, uint64_t ttl_ms, astore_lock_fn fn, void *arg)
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
    if (as.up && store_key(key, sizeof(key), as.prefix, "lock:probe", addr)) {
        const char *argv[] = {"SET", key, owner, "NX", "PX", ttl};
        if (send_cmd(as.cmd, lock_reply, lr, 6, argv) == 0)
            return;
    }
    struct timeval now = {0, 0};
    lr->later = evtimer_new(as.base, lock_later, lr);
    if (lr->later == NULL || evtimer_add(lr->later, &now) < 0) {
        if (lr->later)
            event_free(lr->later);
        free(lr);
    }
}

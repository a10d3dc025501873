/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store - blocking Redis client for mxdetour's state; see store.h.
 * Every reply is checked for type and size before use: Redis is outside input.
 */
#include "config.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "sentinel.h"
#include "store.h"
#include "store_int.h"
#include "store_keys.h"
#include "store_tls.h"

#define CAS_TRIES 16


int store_fail(struct store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof(st->err), fmt, ap);
    va_end(ap);
    return -1;
}

const char *store_error(const struct store *st)
{
    return st->err;
}

const char *store_prefix(const struct store *st)
{
    return st->prefix;
}

/* A reply, or NULL with st->err set when there was none or it is an error. */
static redisReply *checked(struct store *st, redisReply *r)
{
    if (r == NULL) {
        store_fail(st, "redis: %s", st->rc->errstr[0] ? st->rc->errstr : "connection lost");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        store_fail(st, "redis: %.200s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Runs a command given as argv; NULL (with st->err set) on I/O or Redis error. */
redisReply *store_command(struct store *st, int argc, const char **argv, const size_t *lens)
{
    return checked(st, redisCommandArgv(st->rc, argc, argv, lens));
}

static int load_scripts(struct store *st)
{
    for (int i = 0; i < SCRIPT_COUNT; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", store_script_text[i]};
        redisReply *r = store_command(st, 3, argv, NULL);
        if (r == NULL)
            return -1;
        if (r->type != REDIS_REPLY_STRING || r->len != 40) {
            freeReplyObject(r);
            return store_fail(st, "redis: unexpected reply to SCRIPT LOAD");
        }
        memcpy(st->sha[i], r->str, 40);
        st->sha[i][40] = 0;
        freeReplyObject(r);
    }
    return 0;
}

/* EVALSHA with the script text as fallback when Redis lost its cache. */
redisReply *store_eval(struct store *st, enum store_script s, int nkeys, int nargs,
                        const char **args)
{
    const char *argv[64];
    char nk[8];
    int argc = 0;

    if (nargs + 3 > 64) {
        store_fail(st, "internal: too many script arguments");
        return NULL;
    }
    snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[argc++] = "EVALSHA";
    argv[argc++] = st->sha[s];
    argv[argc++] = nk;
    for (int i = 0; i < nargs; i++)
        argv[argc++] = args[i];
    redisReply *r = redisCommandArgv(st->rc, argc, argv, NULL);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        if (load_scripts(st) < 0)
            return NULL;
        argv[1] = st->sha[s];
        r = redisCommandArgv(st->rc, argc, argv, NULL);
    }
    return checked(st, r);
}

/* AUTH and SELECT on a fresh connection. */
static int login(struct store *st, const struct cfg_redis *rc)
{
    redisReply *r;
    if (rc->password) {
        const char *argv[] = {"AUTH", rc->user ? rc->user : rc->password, rc->password};
        if ((r = store_command(st, rc->user ? 3 : 2, argv, NULL)) == NULL)
            return -1;
        freeReplyObject(r);
    }
    if (rc->database) {
        char db[16];
        snprintf(db, sizeof(db), "%d", rc->database);
        const char *argv[] = {"SELECT", db};
        if ((r = store_command(st, 2, argv, NULL)) == NULL)
            return -1;
        freeReplyObject(r);
    }
    return 0;
}

/* Connects to socket, or host and port, and logs in; -1 with st->err set. */
static int open_at(struct store *st, const struct cfg_redis *rc, const char *socket,
                   const char *host, int port)
{
    struct timeval ct = {(time_t)(rc->connect_timeout_ms / 1000),
                         (suseconds_t)(rc->connect_timeout_ms % 1000) * 1000};
    struct timeval cmd = {(time_t)(rc->command_timeout_ms / 1000),
                          (suseconds_t)(rc->command_timeout_ms % 1000) * 1000};

    if (st->rc)
        redisFree(st->rc);
    st->rc = socket ? redisConnectUnixWithTimeout(socket, ct) : redisConnectWithTimeout(host, port, ct);
    if (st->rc == NULL || st->rc->err) {
        if (socket)
            store_fail(st, "cannot connect to redis at %s: %s", socket,
                       st->rc ? st->rc->errstr : "out of memory");
        else
            store_fail(st, "cannot connect to redis at %s%s%s:%d: %s", strchr(host, ':') ? "[" : "",
                       host, strchr(host, ':') ? "]" : "", port, st->rc ? st->rc->errstr : "out of memory");
        return -1;
    }
    char why[200];
    if (store_tls_wrap(st->rc, why, sizeof(why)) < 0)
        return store_fail(st, "cannot connect to redis at %s port %d: %s", host, port, why);
    redisSetTimeout(st->rc, cmd);
    return login(st, rc);
}

/* Asks the sentinels in turn for the master, and takes the first answer
 * that ROLE confirms: a sentinel that has not yet seen a failover may name
 * a master that is a replica now, and writes there would fail. */
static int open_by_sentinel(struct store *st, const struct cfg_redis *rc)
{
    char why[512] = "", one[256], where[64], role[16];
    size_t len = 0;

    for (size_t i = 0; i < rc->nsentinels; i++) {
        struct cfg_hostport m;
        if (sentinel_ask(rc, i, &m, one, sizeof(one)) == 0) {
            sentinel_hostport(&m, where, sizeof(where));
            if (open_at(st, rc, NULL, m.host, m.port) < 0) {
                snprintf(one, sizeof(one), "%s", st->err);
            } else {
                const char *argv[] = {"ROLE"};
                redisReply *r = store_command(st, 1, argv, NULL);
                int is = r ? sentinel_decode_role(r, role, sizeof(role)) : -1;
                if (r)
                    freeReplyObject(r);
                if (is == 1)
                    return 0;
                char sent[64];
                snprintf(one, sizeof(one), "sentinel %s names %s, which %s%s",
                         sentinel_hostport(&rc->sentinels[i], sent, sizeof(sent)), where,
                         is == 0 ? "is a " : "gives no valid answer to ROLE", is == 0 ? role : "");
            }
        }
        /* Every sentinel's reason, in order: they may disagree. */
        int w = snprintf(why + len, sizeof(why) - len, "%s%s", len ? "; " : "", one);
        if (w > 0 && (size_t)w < sizeof(why) - len)
            len += (size_t)w;
    }
    return store_fail(st, "no master %s from the sentinels: %s", rc->master_name, why);
}

struct store *store_open(const struct cfg_redis *rc, const char *site, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(st->prefix, sizeof(st->prefix), "%s:%s", rc->prefix, site);
    if (store_tls_setup(rc, err, errlen) < 0) {
        store_close(st);
        return NULL;
    }
    int ok = rc->nsentinels ? open_by_sentinel(st, rc) : open_at(st, rc, rc->socket, rc->host, rc->port);
    if (ok < 0 || load_scripts(st) < 0) {
        snprintf(err, errlen, "%s", st->err);
        store_close(st);
        return NULL;
    }
    return st;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    if (st->rc)
        redisFree(st->rc);
    free(st);
}

void store_copy_str(char *dst, size_t size, const redisReply *r)
{
    if (r && r->type == REDIS_REPLY_STRING && r->len < size) {
        memcpy(dst, r->str, r->len);
        dst[r->len] = 0;
    } else {
        dst[0] = 0;
    }
}

int store_parse_ull(const redisReply *r, uint64_t *out)
{
    char buf[24], *end;
    if (r == NULL || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(buf))
        return -1;
    memcpy(buf, r->str, r->len);
    buf[r->len] = 0;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end || buf[0] == '-')
        return -1;
    *out = v;
    return 0;
}

int store_decode_addr(const char *addr, const redisReply *v, const redisReply *b,
                      const redisReply *host, const redisReply *updated, struct store_addr *out)
{
    uint64_t ver = 0;

    memset(out, 0, sizeof(*out));
    snprintf(out->addr, sizeof(out->addr), "%s", addr);
    breaker_init(&out->b, clock_now_ms());
    if (v == NULL || v->type == REDIS_REPLY_NIL)
        return 0;
    if (store_parse_ull(v, &ver) < 0 || ver > (uint64_t)1 << 62)
        return -1;
    out->version = (long long)ver;
    if (ver == 0)
        return 0;
    if (b == NULL || b->type != REDIS_REPLY_STRING || breaker_decode(b->str, b->len, &out->b) < 0)
        return -1;
    store_copy_str(out->host, sizeof(out->host), host);
    store_parse_ull(updated, &out->updated_ms);
    return 1;
}

/* Fills out from version/breaker/host/updated replies; -1 on malformed data. */
static int fill_addr(struct store *st, const char *addr, const redisReply *v, const redisReply *b,
                     const redisReply *host, const redisReply *updated, struct store_addr *out)
{
    int rc = store_decode_addr(addr, v, b, host, updated, out);
    if (rc < 0)
        return store_fail(st, "redis: malformed breaker record for %s", addr);
    return rc;
}

int store_addr_get(struct store *st, const char *addr, struct store_addr *out)
{
    char key[256];

    if (store_key(key, sizeof(key), st->prefix, "addr", addr) == NULL)
        return store_fail(st, "address too long");
    const char *argv[] = {"HMGET", key, "v", "b", "host", "updated"};
    redisReply *r = store_command(st, 6, argv, NULL);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        freeReplyObject(r);
        return store_fail(st, "redis: unexpected reply to HMGET");
    }
    int rc = fill_addr(st, addr, r->element[0], r->element[1], r->element[2], r->element[3], out);
    freeReplyObject(r);
    return rc;
}

int store_addr_cas(struct store *st, const char *addr, const char *host, long long expected,
                   const struct breaker *b, int publish, struct store_addr *out)
{
    struct store_cas_args a;
    uint64_t now_ms = clock_now_ms();

    if (store_cas_prepare(&a, st->prefix, addr, host, expected, b, publish, now_ms,
                          STORE_KEY_TTL_MS) < 0)
        return store_fail(st, "address too long or record too big");
    redisReply *r = store_eval(st, SCRIPT_ADDR_CAS, 3, 10, a.argv);
    if (r == NULL)
        return -1;
    int rc = store_cas_reply(r, addr, host, b, now_ms, out);
    if (rc == -1)
        store_fail(st, "redis: unexpected reply to the address script for %s", addr);
    freeReplyObject(r);
    return rc;
}

int store_cas_reply(const redisReply *r, const char *addr, const char *host,
                    const struct breaker *b, uint64_t now_ms, struct store_addr *out)
{
    uint64_t v;

    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER
        && r->element[0]->integer == 1 && store_parse_ull(r->element[1], &v) == 0) {
        memset(out, 0, sizeof(*out));
        snprintf(out->addr, sizeof(out->addr), "%s", addr);
        snprintf(out->host, sizeof(out->host), "%s", host ? host : "");
        out->version = (long long)v;
        out->updated_ms = now_ms;
        out->b = *b;
        return 1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 5 && r->element[0]->type == REDIS_REPLY_INTEGER
        && r->element[0]->integer == 0)
        return store_decode_addr(addr, r->element[1], r->element[2], r->element[3], r->element[4], out) < 0
                   ? -1 : 0;
    return -1;
}

int store_addr_update(struct store *st, const char *addr, const char *host,
                      store_update_fn fn, void *arg, struct store_addr *out)
{
    struct store_addr cur;

    if (store_addr_get(st, addr, &cur) < 0)
        return -1;
    for (int tries = 0; tries < CAS_TRIES; tries++) {
        struct breaker b = cur.b;
        enum breaker_change ch = fn(&b, arg);
        int rc = store_addr_cas(st, addr, host && *host ? host : cur.host, cur.version, &b,
                                ch != BREAKER_SAME, out);
        if (rc < 0)
            return -1;
        if (rc == 1)
            return (int)ch;
        cur = *out;     /* somebody else won: apply our evidence to theirs */
    }
    return store_fail(st, "gave up on %s after %d concurrent updates", addr, CAS_TRIES);
}

/* ZREVRANGE over an index, then fn(name) for each member; used by the listings. */
int store_each_member(struct store *st, const char *index_kind,
                      int (*fn)(struct store *, const char *, void *), void *arg)
{
    char index[200];
    store_key(index, sizeof(index), st->prefix, index_kind, NULL);
    const char *argv[] = {"ZREVRANGE", index, "0", "99999"};
    redisReply *r = store_command(st, 4, argv, NULL);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(r);
        return store_fail(st, "redis: unexpected reply to ZREVRANGE");
    }
    int n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len > DOMAIN_MAXLEN || memchr(e->str, 0, e->len))
            continue;
        int rc = fn(st, e->str, arg);
        if (rc < 0) {
            freeReplyObject(r);
            return -1;
        }
        n += rc;
    }
    freeReplyObject(r);
    return n;
}

struct addr_list_ctx {
    store_addr_cb fn;
    void *arg;
};

static int list_addr_one(struct store *st, const char *addr, void *arg)
{
    struct addr_list_ctx *lc = arg;
    struct store_addr a;
    int rc = store_addr_get(st, addr, &a);
    if (rc == 1)
        lc->fn(&a, lc->arg);
    return rc < 0 ? -1 : rc;
}

int store_addr_list(struct store *st, store_addr_cb fn, void *arg)
{
    struct addr_list_ctx lc = {fn, arg};
    return store_each_member(st, "addrs", list_addr_one, &lc);
}

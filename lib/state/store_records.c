/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_records - manual overrides, destination records and the probe lock;
 * see store.h.  Records are Redis hashes read with HGETALL and checked field
 * by field: unknown fields are ignored, oversize ones rejected.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "store_int.h"

static const redisReply *field(const redisReply *r, const char *name)
{
    if (r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, name) == 0)
            return r->element[i + 1];
    return NULL;
}

/* HGETALL key: 1 with *out set (caller frees), 0 absent, -1 error. */
static int hgetall(struct store *st, const char *kind, const char *name, redisReply **out)
{
    char key[320];
    if (store_key(key, sizeof(key), st->prefix, kind, name) == NULL)
        return store_fail(st, "name too long");
    const char *argv[] = {"HGETALL", key};
    redisReply *r = store_command(st, 2, argv, NULL);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        freeReplyObject(r);
        return store_fail(st, "redis: unexpected reply to HGETALL");
    }
    if (r->elements == 0) {
        freeReplyObject(r);
        return 0;
    }
    *out = r;
    return 1;
}

static void u64text(char *buf, size_t size, uint64_t v)
{
    snprintf(buf, size, "%llu", (unsigned long long)v);
}

int store_manual_set(struct store *st, const struct store_manual *m)
{
    char key[320], index[200], chan[200], now[24], ttl[24], exp[24], created[24];
    uint64_t now_ms = clock_now_ms();

    if (!store_key(key, sizeof(key), st->prefix, "manual", m->key))
        return store_fail(st, "name too long");
    store_key(index, sizeof(index), st->prefix, "manuals", NULL);
    store_key(chan, sizeof(chan), st->prefix, "changes", NULL);
    u64text(now, sizeof(now), now_ms);
    u64text(ttl, sizeof(ttl), m->expires_ms > now_ms ? m->expires_ms - now_ms : 0);
    u64text(exp, sizeof(exp), m->expires_ms);
    u64text(created, sizeof(created), m->created_ms ? m->created_ms : now_ms);
    if (m->expires_ms && m->expires_ms <= now_ms)
        return store_fail(st, "the expiry time has passed");
    const char *args[] = {key, index, chan, m->key, now, ttl, exp,
                          "action", m->action == MANUAL_BLOCK ? "block" : "unblock",
                          "via", m->via, "reason", m->reason, "by", m->by,
                          "created", created, "expires", exp};
    redisReply *r = store_eval(st, SCRIPT_MANUAL_SET, 3, (int)(sizeof(args) / sizeof(args[0])), args);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int store_decode_manual(const redisReply *r, const char *name, struct store_manual *m)
{
    const redisReply *action = field(r, "action");

    memset(m, 0, sizeof(*m));
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return 0;
    snprintf(m->key, sizeof(m->key), "%s", name);
    if (action && action->type == REDIS_REPLY_STRING && strcmp(action->str, "block") == 0)
        m->action = MANUAL_BLOCK;
    else if (action && action->type == REDIS_REPLY_STRING && strcmp(action->str, "unblock") == 0)
        m->action = MANUAL_UNBLOCK;
    else
        return -1;
    store_copy_str(m->via, sizeof(m->via), field(r, "via"));
    store_copy_str(m->reason, sizeof(m->reason), field(r, "reason"));
    store_copy_str(m->by, sizeof(m->by), field(r, "by"));
    store_parse_ull(field(r, "created"), &m->created_ms);
    store_parse_ull(field(r, "expires"), &m->expires_ms);
    return 1;
}

int store_manual_get(struct store *st, const char *name, struct store_manual *m)
{
    redisReply *r;
    int rc = hgetall(st, "manual", name, &r);
    if (rc <= 0)
        return rc;
    rc = store_decode_manual(r, name, m);
    freeReplyObject(r);
    if (rc < 0)
        return store_fail(st, "redis: malformed manual record for %s", name);
    return rc;
}

int store_manual_del(struct store *st, const char *name)
{
    char key[320], index[200], chan[200];
    if (!store_key(key, sizeof(key), st->prefix, "manual", name))
        return store_fail(st, "name too long");
    store_key(index, sizeof(index), st->prefix, "manuals", NULL);
    store_key(chan, sizeof(chan), st->prefix, "changes", NULL);
    const char *args[] = {key, index, chan, name};
    redisReply *r = store_eval(st, SCRIPT_MANUAL_DEL, 3, 4, args);
    if (r == NULL)
        return -1;
    int n = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
    freeReplyObject(r);
    return n > 0 ? 1 : 0;
}

struct manual_list_ctx {
    store_manual_cb fn;
    void *arg;
};

static int list_manual_one(struct store *st, const char *name, void *arg)
{
    struct manual_list_ctx *lc = arg;
    struct store_manual m;
    int rc = store_manual_get(st, name, &m);
    if (rc == 1)
        lc->fn(&m, lc->arg);
    return rc < 0 ? -1 : rc;     /* an expired key is simply absent */
}

int store_manual_list(struct store *st, store_manual_cb fn, void *arg)
{
    struct manual_list_ctx lc = {fn, arg};
    return store_each_member(st, "manuals", list_manual_one, &lc);
}

int store_domain_put(struct store *st, const struct store_domain *d)
{
    char key[320], index[200], chan[200], now[24], ttl[24], since[24];
    uint64_t now_ms = clock_now_ms();

    if (!store_key(key, sizeof(key), st->prefix, "dom", d->domain))
        return store_fail(st, "name too long");
    store_key(index, sizeof(index), st->prefix, "doms", NULL);
    store_key(chan, sizeof(chan), st->prefix, "changes", NULL);
    u64text(now, sizeof(now), now_ms);
    u64text(ttl, sizeof(ttl), STORE_KEY_TTL_MS);
    u64text(since, sizeof(since), d->since_ms);
    const char *args[] = {key, index, chan, d->domain, now, ttl,
                          "mx", d->mx, "state", d->state, "via", d->via, "reason", d->reason,
                          "since", since, "updated", now};
    redisReply *r = store_eval(st, SCRIPT_DOM_PUT, 3, (int)(sizeof(args) / sizeof(args[0])), args);
    if (r == NULL)
        return -1;
    freeReplyObject(r);
    return 0;
}

int store_decode_domain(const redisReply *r, const char *domain, struct store_domain *d)
{
    memset(d, 0, sizeof(*d));
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return 0;
    snprintf(d->domain, sizeof(d->domain), "%s", domain);
    store_copy_str(d->mx, sizeof(d->mx), field(r, "mx"));
    store_copy_str(d->state, sizeof(d->state), field(r, "state"));
    store_copy_str(d->via, sizeof(d->via), field(r, "via"));
    store_copy_str(d->reason, sizeof(d->reason), field(r, "reason"));
    store_parse_ull(field(r, "since"), &d->since_ms);
    store_parse_ull(field(r, "updated"), &d->updated_ms);
    return d->state[0] ? 1 : -1;
}

const char *store_domain_mx_next(const char *p, char *host, size_t hostsize, struct netaddr *addr)
{
    char text[NETADDR_STRLEN];
    while (*p == ' ')
        p++;
    const char *lb = strchr(p, '['), *rb = lb ? strchr(lb, ']') : NULL;
    if (lb == NULL || rb == NULL || (size_t)(rb - lb - 1) >= sizeof(text))
        return NULL;
    memcpy(text, lb + 1, (size_t)(rb - lb - 1));
    text[rb - lb - 1] = 0;
    if (netaddr_parse(text, addr) < 0)
        return NULL;
    if (domain_normalize(p, (size_t)(lb - p), host, hostsize) < 0)
        host[0] = 0;
    return rb + 1;
}

int store_domain_get(struct store *st, const char *domain, struct store_domain *d)
{
    redisReply *r;
    int rc = hgetall(st, "dom", domain, &r);
    if (rc <= 0)
        return rc;
    rc = store_decode_domain(r, domain, d);
    freeReplyObject(r);
    if (rc <= 0)
        return store_fail(st, "redis: malformed destination record for %s", domain);
    return 1;
}

struct domain_list_ctx {
    store_domain_cb fn;
    void *arg;
};

static int list_domain_one(struct store *st, const char *name, void *arg)
{
    struct domain_list_ctx *lc = arg;
    struct store_domain d;
    int rc = store_domain_get(st, name, &d);
    if (rc == 1)
        lc->fn(&d, lc->arg);
    return rc < 0 ? -1 : rc;
}

int store_domain_list(struct store *st, store_domain_cb fn, void *arg)
{
    struct domain_list_ctx lc = {fn, arg};
    return store_each_member(st, "doms", list_domain_one, &lc);
}

int store_lock_probe(struct store *st, const char *addr, const char *owner, uint64_t ttl_ms)
{
    char key[320], ttl[24];
    if (!store_key(key, sizeof(key), st->prefix, "lock:probe", addr))
        return store_fail(st, "address too long");
    u64text(ttl, sizeof(ttl), ttl_ms);
    const char *argv[] = {"SET", key, owner, "NX", "PX", ttl};
    redisReply *r = store_command(st, 6, argv, NULL);
    if (r == NULL)
        return -1;
    int taken = r->type == REDIS_REPLY_STATUS;    /* "OK"; nil when held */
    freeReplyObject(r);
    return taken;
}

int store_unlock_probe(struct store *st, const char *addr, const char *owner)
{
    char key[320];
    if (!store_key(key, sizeof(key), st->prefix, "lock:probe", addr))
        return store_fail(st, "address too long");
    const char *args[] = {key, owner};
    redisReply *r = store_eval(st, SCRIPT_UNLOCK, 1, 2, args);
    if (r == NULL)
        return -1;
    int n = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 0;
    freeReplyObject(r);
    return n;
}

int store_feed_get(struct store *st, const char *addr, struct store_feed *f)
{
    redisReply *r;
    uint64_t line = 0;
    int rc = hgetall(st, "feed", addr, &r);
    if (rc <= 0)
        return rc;
    memset(f, 0, sizeof(*f));
    snprintf(f->addr, sizeof(f->addr), "%s", addr);
    store_copy_str(f->feed, sizeof(f->feed), field(r, "feed"));
    store_copy_str(f->trust, sizeof(f->trust), field(r, "trust"));
    store_parse_ull(field(r, "line"), &line);
    f->line = (unsigned long)line;
    store_copy_str(f->entry, sizeof(f->entry), field(r, "entry"));
    store_copy_str(f->org, sizeof(f->org), field(r, "org"));
    store_copy_str(f->decision, sizeof(f->decision), field(r, "decision"));
    store_copy_str(f->date, sizeof(f->date), field(r, "date"));
    store_copy_str(f->action, sizeof(f->action), field(r, "action"));
    store_parse_ull(field(r, "updated"), &f->updated_ms);
    freeReplyObject(r);
    if (f->feed[0] == 0 || f->entry[0] == 0)
        return store_fail(st, "redis: malformed feed record for %s", addr);
    return 1;
}

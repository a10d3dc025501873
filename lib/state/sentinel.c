/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sentinel - see sentinel.h.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cfg_redis.h"
#include "sentinel.h"
#include "store_tls.h"

/* An IP literal and a port as two strings (how sentinels send them). */
static int hostport_from(const char *ip, size_t iplen, const char *port, size_t portlen,
                         struct cfg_hostport *out)
{
    char text[80];
    int v6 = memchr(ip, ':', iplen) != NULL;
    if (iplen == 0 || iplen >= sizeof(out->host) || portlen == 0 || portlen > 5)
        return -1;
    snprintf(text, sizeof(text), "%s%.*s%s:%.*s", v6 ? "[" : "", (int)iplen, ip, v6 ? "]" : "",
             (int)portlen, port);
    return cfg_parse_hostport(text, out);
}

int sentinel_decode_master(const redisReply *r, struct cfg_hostport *out)
{
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_NIL)
        return 0;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_STRING)
        return -1;
    return hostport_from(r->element[0]->str, r->element[0]->len, r->element[1]->str,
                         r->element[1]->len, out) < 0 ? -1 : 1;
}

int sentinel_decode_role(const redisReply *r, char *role, size_t size)
{
    role[0] = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1
        || r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len == 0
        || r->element[0]->len >= size || r->element[0]->len >= 16)
        return -1;
    for (size_t i = 0; i < r->element[0]->len; i++)
        if (r->element[0]->str[i] < 'a' || r->element[0]->str[i] > 'z')
            return -1;
    memcpy(role, r->element[0]->str, r->element[0]->len);
    role[r->element[0]->len] = 0;
    return strcmp(role, "master") == 0;
}

int sentinel_decode_switch(const char *msg, size_t len, const char *master_name,
                           struct cfg_hostport *out)
{
    const char *f[5];
    size_t flen[5], n = 0, i = 0;

    if (len > 256)
        return -1;
    while (i < len && n < 5) {
        f[n] = msg + i;
        while (i < len && msg[i] != ' ')
            i++;
        flen[n] = (size_t)(msg + i - f[n]);
        if (flen[n] == 0)
            return -1;
        n++;
        if (i < len)
            i++;            /* the space */
    }
    if (n != 5 || f[4] + flen[4] != msg + len)   /* nothing after the port */
        return -1;
    struct cfg_hostport old;
    if (hostport_from(f[1], flen[1], f[2], flen[2], &old) < 0
        || hostport_from(f[3], flen[3], f[4], flen[4], out) < 0)
        return -1;
    return strlen(master_name) == flen[0] && memcmp(master_name, f[0], flen[0]) == 0;
}

const char *sentinel_hostport(const struct cfg_hostport *hp, char *buf, size_t size)
{
    int v6 = strchr(hp->host, ':') != NULL;
    snprintf(buf, size, "%s%s%s:%d", v6 ? "[" : "", hp->host, v6 ? "]" : "", hp->port);
    return buf;
}

int sentinel_ask(const struct cfg_redis *rc, size_t i, struct cfg_hostport *out, char *err,
                 size_t errlen)
{
    struct timeval ct = {(time_t)(rc->connect_timeout_ms / 1000),
                         (suseconds_t)(rc->connect_timeout_ms % 1000) * 1000};
    struct timeval cmd = {(time_t)(rc->command_timeout_ms / 1000),
                          (suseconds_t)(rc->command_timeout_ms % 1000) * 1000};
    char where[64];
    redisReply *r = NULL;
    int rc_ = -1;

    sentinel_hostport(&rc->sentinels[i], where, sizeof(where));
    redisContext *c = redisConnectWithTimeout(rc->sentinels[i].host, rc->sentinels[i].port, ct);
    if (c == NULL || c->err) {
        snprintf(err, errlen, "sentinel %s: %s", where, c ? c->errstr : "out of memory");
        goto done;
    }
    char why[200];
    if (store_tls_wrap(c, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "sentinel %s: %s", where, why);
        goto done;
    }
    redisSetTimeout(c, cmd);
    if (rc->sentinel_password) {
        const char *argv[] = {"AUTH", rc->sentinel_user ? rc->sentinel_user : rc->sentinel_password,
                              rc->sentinel_password};
        r = redisCommandArgv(c, rc->sentinel_user ? 3 : 2, argv, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "sentinel %s: login refused: %.120s", where,
                     r ? r->str : c->errstr);
            goto done;
        }
        freeReplyObject(r);
    }
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", rc->master_name};
    r = redisCommandArgv(c, 3, argv, NULL);
    if (r == NULL) {
        snprintf(err, errlen, "sentinel %s: %s", where, c->errstr);
        goto done;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "sentinel %s: %.160s", where, r->str);
        goto done;
    }
    switch (sentinel_decode_master(r, out)) {
    case 1:
        rc_ = 0;
        break;
    case 0:
        snprintf(err, errlen, "sentinel %s does not know a master named %s", where, rc->master_name);
        break;
    default:
        snprintf(err, errlen, "sentinel %s: malformed answer for master %s", where, rc->master_name);
    }
done:
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return rc_;
}

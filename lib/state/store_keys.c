/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "store_keys.h"

/*
 * ADDR_CAS  KEYS: addr key, addrs index, channel
 *           ARGV: expected version, breaker text, now ms, ttl ms, address, host, publish
 * Writes only when the stored version equals the expected one, so a racing
 * writer re-reads and re-applies its evidence instead of overwriting.
 * Trims the index of records idle longer than the TTL (bounded growth).
 */
static const char addr_cas[] =
    "local cur = redis.call('HGET', KEYS[1], 'v') or '0'\n"
    "if cur ~= ARGV[1] then\n"
    "  return {0, cur, redis.call('HGET', KEYS[1], 'b') or '', redis.call('HGET', KEYS[1], 'host') or '',"
    "          redis.call('HGET', KEYS[1], 'updated') or '0'}\n"
    "end\n"
    "local v = tonumber(cur) + 1\n"
    "redis.call('HSET', KEYS[1], 'b', ARGV[2], 'v', tostring(v), 'updated', ARGV[3])\n"
    "if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'host', ARGV[6]) end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tostring(tonumber(ARGV[3]) - tonumber(ARGV[4])))\n"
    "if ARGV[7] == '1' then redis.call('PUBLISH', KEYS[3], 'addr ' .. ARGV[5] .. ' ' .. v) end\n"
    "return {1, tostring(v)}\n";

/*
 * MANUAL_SET  KEYS: manual key, manuals index, channel
 *             ARGV: key name, now, ttl ms (0 none), expires, then field/value pairs
 */
static const char manual_set[] =
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HSET', KEYS[1], unpack(ARGV, 5))\n"
    "if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '1', ARGV[2])\n"
    "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])\n"
    "redis.call('PUBLISH', KEYS[3], 'manual ' .. ARGV[1])\n"
    "return 1\n";

/* MANUAL_DEL  KEYS: manual key, manuals index, channel  ARGV: key name */
static const char manual_del[] =
    "local n = redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[2], ARGV[1])\n"
    "if n > 0 then redis.call('PUBLISH', KEYS[3], 'manual ' .. ARGV[1]) end\n"
    "return n\n";

/* DOM_PUT  KEYS: dom key, doms index, channel  ARGV: domain, now, ttl, field/value pairs */
static const char dom_put[] =
    "redis.call('HSET', KEYS[1], unpack(ARGV, 4))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tostring(tonumber(ARGV[2]) - tonumber(ARGV[3])))\n"
    "redis.call('PUBLISH', KEYS[3], 'dom ' .. ARGV[1])\n"
    "return 1\n";

/* UNLOCK  KEYS: lock key  ARGV: owner.  Deletes only our own lock. */
static const char unlock[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

const char *const store_script_text[SCRIPT_COUNT] = {
    [SCRIPT_ADDR_CAS] = addr_cas,
    [SCRIPT_MANUAL_SET] = manual_set,
    [SCRIPT_MANUAL_DEL] = manual_del,
    [SCRIPT_DOM_PUT] = dom_put,
    [SCRIPT_UNLOCK] = unlock,
};

const char *store_key(char *buf, size_t size, const char *prefix, const char *kind,
                      const char *name)
{
    int n = name ? snprintf(buf, size, "%s:%s:%s", prefix, kind, name)
                 : snprintf(buf, size, "%s:%s", prefix, kind);
    return n < 0 || (size_t)n >= size ? NULL : buf;
}

int store_cas_prepare(struct store_cas_args *a, const char *prefix, const char *addr,
                      const char *host, long long expected, const struct breaker *b,
                      int publish, uint64_t now_ms, uint64_t ttl_ms)
{
    if (!store_key(a->key, sizeof(a->key), prefix, "addr", addr)
        || !store_key(a->index, sizeof(a->index), prefix, "addrs", NULL)
        || !store_key(a->chan, sizeof(a->chan), prefix, "changes", NULL)
        || breaker_encode(b, a->text, sizeof(a->text)) < 0)
        return -1;
    snprintf(a->expected, sizeof(a->expected), "%lld", expected);
    snprintf(a->now, sizeof(a->now), "%llu", (unsigned long long)now_ms);
    snprintf(a->ttl, sizeof(a->ttl), "%llu", (unsigned long long)ttl_ms);
    const char *argv[10] = {a->key, a->index, a->chan, a->expected, a->text, a->now, a->ttl,
                            addr, host ? host : "", publish ? "1" : "0"};
    memcpy(a->argv, argv, sizeof(argv));
    return 0;
}

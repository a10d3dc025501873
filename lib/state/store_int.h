/*
 * store_int - what store.c shares with store_records.c, and nothing else
 * should use: the connection, reply checks and script calls.
 */
#ifndef MXD_STORE_INT_H
#define MXD_STORE_INT_H

#include <hiredis/hiredis.h>

#include "store.h"
#include "store_keys.h"

struct store {
    redisContext *rc;
    char prefix[160];
    char sha[SCRIPT_COUNT][41];
    char err[256];
};

int store_fail(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
redisReply *store_command(struct store *st, int argc, const char **argv, const size_t *lens);
redisReply *store_eval(struct store *st, enum store_script s, int nkeys, int nargs, const char **args);
void store_copy_str(char *dst, size_t size, const redisReply *r);
int store_parse_ull(const redisReply *r, uint64_t *out);
int store_each_member(struct store *st, const char *index_kind,
                      int (*fn)(struct store *, const char *, void *), void *arg);


/* Reply decoders shared with the asynchronous store (relay/store_async.c).
 * They check every element: 1 record, 0 none, -1 malformed. */
int store_decode_addr(const char *addr, const redisReply *v, const redisReply *b,
                      const redisReply *host, const redisReply *updated, struct store_addr *out);
/* The reply of SCRIPT_ADDR_CAS: 1 written (out = b at the new version),
 * 0 conflict (out = the current record), -1 malformed. */
int store_cas_reply(const redisReply *r, const char *addr, const char *host,
                    const struct breaker *b, uint64_t now_ms, struct store_addr *out);
/* An HGETALL reply of a manual record. */
int store_decode_manual(const redisReply *hash, const char *name, struct store_manual *m);
/* An HGETALL reply of a destination record: 1, 0 none, -1 malformed. */
int store_decode_domain(const redisReply *hash, const char *domain, struct store_domain *d);

#endif

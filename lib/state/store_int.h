/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_int - what store.c shares with store_records.c, and nothing else
 * should use: the connection, reply checks and script calls.
 */
#ifndef MXD_STORE_INT_H
#define MXD_STORE_INT_H

#include <hiredis/hiredis.h>

#include "store.h"
#include "store_codec.h"
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


#endif

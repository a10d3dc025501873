/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_codec - Redis replies into the state records of store.h, for the
 * blocking store (lib/state/store.c) and the asynchronous one
 * (relay/state/store_async*.c), so the two can never read a record
 * differently.  Each decoder checks every element of the reply it is given:
 * types, sizes, numbers and the breaker's text form.
 *
 * Ownership: the caller owns the replies and the output structs; nothing
 * is kept.  Pure functions: any thread.
 */
#ifndef MXD_STORE_CODEC_H
#define MXD_STORE_CODEC_H

#include <stdint.h>

#include <hiredis/hiredis.h>

#include "breaker.h"
#include "store.h"

/* An address record from its fields (version, breaker text, host name,
 * updated): 1 record, 0 none, -1 malformed. */
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

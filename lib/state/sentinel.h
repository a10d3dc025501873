/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sentinel - Redis Sentinel: finding the current master of the site's Redis.
 *
 * The sentinels (redis.sentinels) watch the master and its replicas and
 * promote a replica when the master dies.  A client asks them
 *   SENTINEL get-master-addr-by-name <redis.master_name>
 * connects to the answer and checks with ROLE that it really is a master (a
 * sentinel may still name a master that has just been demoted); it learns
 * of a promotion from the "+switch-master" channel of any sentinel.
 *
 * Here: decoding those three answers, each checked for type, size and
 * address syntax (sentinels are outside input), and the blocking question
 * used by mxdetourctl and the tests (lib/state/store.c).  The daemon asks the same
 * question on its event loop (relay/state/sentinel_async.h).
 */
#ifndef MXD_SENTINEL_H
#define MXD_SENTINEL_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "cfg.h"

/* The reply to get-master-addr-by-name: 1 an address (in out), 0 the
 * sentinel does not know the name (nil), -1 malformed. */
int sentinel_decode_master(const redisReply *r, struct cfg_hostport *out);

/* The reply to ROLE: 1 master, 0 another role (its name in role), -1
 * malformed.  role must hold 16 bytes. */
int sentinel_decode_role(const redisReply *r, char *role, size_t size);

/* A +switch-master message, "<name> <old-ip> <old-port> <new-ip> <new-port>":
 * 1 it is about master_name (the new address in out), 0 another master's,
 * -1 malformed. */
int sentinel_decode_switch(const char *msg, size_t len, const char *master_name,
                           struct cfg_hostport *out);

/* "address:port", IPv6 in brackets, for log lines; buf of 64 bytes. */
const char *sentinel_hostport(const struct cfg_hostport *hp, char *buf, size_t size);

/* Blocking: asks sentinel number i of rc (log in with sentinel_user and
 * sentinel_password when set) for the master.  0 with its address in out,
 * -1 with the reason in err. */
int sentinel_ask(const struct cfg_redis *rc, size_t i, struct cfg_hostport *out, char *err,
                 size_t errlen);

#endif

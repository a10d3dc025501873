/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_async_int - what store_async.c (evidence, connections, locks) and
 * store_async_news.c (the change channel, resyncs and manual records) share,
 * and nothing else should use: the module's state and the command path.
 *
 * The state is one instance per process, astore, as store_async.h says:
 * store_async.c sets it up in store_async_start() and clears it in store_async_stop();
 * both files read and change it from the event loop only (main thread).
 *
 * store_async.c provides:
 *   store_async_send_cmd()   sends a command; on the command connection the
 *                       reply is counted for the watchdog (-1: not sent)
 *   store_async_took()       every reply callback on that connection calls it
 *                       first; it returns the reply (NULL: connection lost)
 *   store_async_lookup()     the entry of an address, created if asked (NULL
 *                       when full or out of memory)
 *   store_async_send_read()  reads the record of an entry from Redis
 *   store_async_connect()    opens both connections (to the master, with sentinels)
 *   store_async_went_down()  drops them, logs why, and retries with backoff
 *   store_async_ignore_reply() a reply callback for fire-and-forget commands
 * store_async_news.c provides:
 *   store_async_resync()          after every (re)connection: reads all again
 *   store_async_change_message()  the callback of the change-channel SUBSCRIBE
 */
#ifndef MXD_STORE_ASYNC_INT_H
#define MXD_STORE_ASYNC_INT_H

#include <stdint.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "breaker.h"
#include "msg.h"
#include "netaddr.h"
#include "store_async.h"
#include "store_keys.h"

#define BUCKETS 4096

struct event;
struct event_base;

struct op {
    enum store_async_op type;
    enum fail_kind kind;
    enum evidence_source src;
    struct breaker_params p;
    uint64_t now_ms;
    enum breaker_state state;
    uint64_t until_ms;
    enum verdict verdict;           /* ASTORE_VERDICT */
    char reason[BREAKER_REASON_MAX];
};

struct entry {
    struct entry *next;
    char addr[NETADDR_STRLEN];
    char host[DOMAIN_MAXLEN + 1];
    long long version;
    struct breaker auth;
    int have_auth;                  /* auth/version reflect Redis */
    struct op *ops;                 /* queued evidence, grown on demand up to
                                       ASTORE_MAX_OPS and freed when empty:
                                       most entries have none, and 32 embedded
                                       ops were 8 KB of every tracked address */
    unsigned nops, capops;
    unsigned sent;                  /* ops covered by the CAS in flight */
    struct breaker sent_b;          /* auth with those ops applied: what the CAS wrote */
    int inflight;
    int tries;
    int restore;                    /* read after a (re)connection: put auth back if missing */
    int republish;                  /* the next CAS announces the record even if unchanged */
};

struct store_async_state {
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
    struct store_async_callbacks cb;
    struct entry *table[BUCKETS];
    unsigned nentries;
    struct store_async_stats stats;
    struct msg_limiter down_lim, err_lim, restore_lim, restore_dom_lim;
    int stopping;
    /* With sentinels (store_async_ha.c): the master to connect to next,
     * and the one connected to. */
    struct cfg_hostport master, at;
    int have_master;                /* master is fresh: use it, do not ask */
    int asking;                     /* a question to the sentinels is out */
};

extern struct store_async_state astore;

/* store_async.c */
int store_async_send_cmd(redisAsyncContext *ac, redisCallbackFn *fn, void *priv, int argc,
                    const char **argv);
redisReply *store_async_took(void *reply);
struct entry *store_async_lookup(const char *addr, int create);
void store_async_send_read(struct entry *e);

void store_async_connect(void);
void store_async_ignore_reply(redisAsyncContext *ac, void *reply, void *priv);
void store_async_went_down(const char *why);

/* store_async_ha.c: Sentinel (see store_async.h, "Sentinel") */
int store_async_ha_start(void);
void store_async_ha_stop(void);
void store_async_find_master(void);      /* asks; store_async_connect() once answered */
void store_async_check_role(void);       /* on cmd: ROLE, down unless master */

/* store_async_news.c */
void store_async_resync(void);
/* store_async_dom.c: reads a destination record and reports it (on_domain). */
void store_async_refresh_domain(const char *domain);
void store_async_change_message(redisAsyncContext *ac, void *reply, void *priv);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prober_int - what prober.c (the queue, concurrency, the public calls) and
 * prober_conn.c (one probe's connection: connect, read the greeting,
 * finish) share, and nothing else should use.  prober.c describes a probe's
 * life.
 */
#ifndef MXD_PROBER_INT_H
#define MXD_PROBER_INT_H

#include <stdint.h>

#include "msg.h"
#include "prober.h"

#define PROBER_MOD "prober"

enum probe_state { ST_JITTER, ST_QUEUED, ST_CONNECTING, ST_READING };

struct waiter {
    probe_fn fn;
    void *arg;
    struct waiter *next;
};

/* A control probe's proxy, owned by its probe (prober_probe_via()). */
struct probe_proxy {
    struct socks5_proxy sp;             /* user and password point below */
    char user[256], password[256];
    char name[NETADDR_STRLEN + 8];      /* "ADDR:PORT", for results and logs */
};

struct probe {
    struct prober *p;
    struct probe *prev, *next;          /* p->all */
    struct probe *qprev, *qnext;        /* p->queue, while ST_QUEUED */
    enum probe_state state;
    struct netaddr addr;
    int port;
    char source[NETADDR_STRLEN];        /* canonical, or "" */
    struct waiter *waiters;
    struct probe_proxy *proxy;          /* NULL: the direct path */
    struct socks5 *socks;               /* the proxy's handshake under way */
    enum socks5_err socks_err;          /* how it ended */
    int fd;
    struct event *io;
    struct event *timer;                /* jitter, then the probe's timeout */
    uint64_t timeout_ms;
    uint64_t start_ms;
    size_t len;
    char buf[PROBER_MAX_REPLY];
};

struct prober {
    struct event_base *base;
    uint64_t timeout_ms, jitter_ms;
    unsigned concurrency;
    int port;
    char source[NETADDR_STRLEN];        /* configured source, or "" */
    struct probe *all;
    struct probe *qhead, *qtail;
    unsigned running, waiting;
    int pumping;
    struct event *kick;                 /* runs pump() from the loop */
    struct prober_stats stats;
    struct msg_limiter full_lim, err_lim;
};

/* prober_conn.c */
/* Connects (ST_CONNECTING), or finishes at once on a local error. */
void prober_start(struct probe *pr);
/* Unlinks and frees pr; returns its waiters for the caller to call and free. */
struct waiter *prober_destroy(struct probe *pr);
void prober_free_waiters(struct waiter *w);
void prober_queue_remove(struct prober *p, struct probe *pr);

/* prober.c */
/* Hands free slots to queued probes. */
void prober_pump(struct prober *p);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelconfirm - what Redis says of every address, for the kernel-mode
 * publisher (kernelpub.c): the detoured breakers and the manual overrides
 * of the site, read with the blocking store.
 *
 * At start kernelconfirm_read() runs in the caller (the loop has not begun).
 * Once the daemon runs, kernelconfirm_start() reads on a worker thread, so
 * the loop never waits for Redis or the sentinels, and hands the items to fn
 * on the loop.  Items come in Redis's order: every address record, then
 * every manual override, so a manual one is applied last and wins.
 *
 * Lifetime: the worker reads rc (the running configuration); a caller that
 * may free it (a reload, a stop) calls kernelconfirm_cancel() first, which
 * waits for the worker and drops its answer.
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_KERNELCONFIRM_H
#define MXD_KERNELCONFIRM_H

#include <stddef.h>

#include "cfg.h"
#include "netaddr.h"

struct event_base;

enum kconfirm_kind {
    KC_BLOCKED,         /* detoured (a breaker) or a manual block */
    KC_DIRECT,          /* a record that is not detoured */
    KC_UNBLOCKED,       /* a manual unblock: wins over anything */
};

struct kconfirm_item {
    struct netaddr addr;
    enum kconfirm_kind kind;
    char why[160];
};

/* ok: 1 and items (n of them) when Redis answered, else 0 and err. */
typedef void (*kconfirm_fn)(int ok, const struct kconfirm_item *items, size_t n, const char *err,
                            void *arg);

/* Blocking: 0 and *items (malloc'd, the caller frees) and *n, or -1 and err. */
int kernelconfirm_read(const struct cfg_redis *rc, const char *site, struct kconfirm_item **items,
                       size_t *n, char *err, size_t errlen);

/* Starts a read on the worker thread; 0, or -1 (one is running already, or
 * no thread could be started). */
int kernelconfirm_start(struct event_base *base, const struct cfg_redis *rc, const char *site,
                        kconfirm_fn fn, void *arg);
int kernelconfirm_running(void);
/* Waits for a running worker and drops its answer; frees the loop's event. */
void kernelconfirm_cancel(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * helper_kernel - the helper's side of the kernel requests (privsep_msg.h):
 * every field checked, then kernelnft does the work.
 *
 * The tunnels come from the helper's command line; a request names one by
 * index.  Staged addresses are kept in one
 * bounded buffer, for one tunnel at a time; COMMIT applies and empties it.
 * Any request refused or failed empties it too, so the daemon's next round
 * starts clean (and its COMMIT's count tells the helper what to expect).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "helper.h"
#include "kernelnft.h"
#include "msg.h"

#define MOD "helper"

enum { STAGE_ADD, STAGE_DEL, STAGE_WANT, STAGE_KINDS };

static struct {
    struct kernel_tunnel tunnels[KERNELNFT_MAX_TUNNELS];
    size_t ntunnels;
    long staged_for;            /* tunnel index, or -1 */
    struct netaddr *staged[STAGE_KINDS];
    size_t nstaged[STAGE_KINDS], total;
} pk = {.staged_for = -1};

static void unstage(void)
{
    for (int k = 0; k < STAGE_KINDS; k++) {
        free(pk.staged[k]);
        pk.staged[k] = NULL;
        pk.nstaged[k] = 0;
    }
    pk.total = 0;
    pk.staged_for = -1;
}

size_t helper_kernel_configure(const struct kernel_tunnel *t, size_t n)
{
    pk.ntunnels = n < KERNELNFT_MAX_TUNNELS ? n : KERNELNFT_MAX_TUNNELS;
    if (pk.ntunnels > 0)    /* t may be NULL when n is 0 */
        memcpy(pk.tunnels, t, pk.ntunnels * sizeof(*t));
    unstage();
    return pk.ntunnels;
}

size_t helper_kernel_count(void)
{
    return pk.ntunnels;
}

/* Whether the len bytes at p are all zero. */
static int all_zero(const void *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (((const unsigned char *)p)[i])
            return 0;
    return 1;
}

static int stage(const struct privsep_kernel *k, char *text, size_t len)
{
    size_t width = k->family == 4 ? 4 : 16;
    size_t max = k->family == 4 ? PRIVSEP_KERNEL_V4 : PRIVSEP_KERNEL_V6;
    int kind = k->op - PRIVSEP_KOP_ADD;
    struct netaddr *v;

    if (k->op < PRIVSEP_KOP_ADD || k->op > PRIVSEP_KOP_WANT || k->sync != 0 || k->staged != 0) {
        snprintf(text, len, "refused: stage op %u sync %u", k->op, k->sync);
        return -1;
    }
    if ((k->family != 4 && k->family != 6) || k->count == 0 || k->count > max) {
        snprintf(text, len, "refused: %u addresses of family %u", k->count, k->family);
        return -1;
    }
    if (!all_zero(k->addr + (size_t)k->count * width, sizeof(k->addr) - (size_t)k->count * width)) {
        snprintf(text, len, "refused: bytes after the last address");
        return -1;
    }
    if (pk.staged_for >= 0 && pk.staged_for != (long)k->tunnel) {
        snprintf(text, len, "refused: addresses of tunnel %ld are staged already", pk.staged_for);
        return -1;
    }
    if (pk.total + k->count > PRIVSEP_KERNEL_STAGE_MAX) {
        snprintf(text, len, "refused: more than %d addresses staged", PRIVSEP_KERNEL_STAGE_MAX);
        return -1;
    }
    v = realloc(pk.staged[kind], (pk.nstaged[kind] + k->count) * sizeof(*v));
    if (v == NULL) {
        snprintf(text, len, "out of memory");
        return -1;
    }
    pk.staged[kind] = v;
    for (size_t i = 0; i < k->count; i++) {
        struct netaddr *a = &v[pk.nstaged[kind]++];
        memset(a, 0, sizeof(*a));
        a->family = k->family == 4 ? AF_INET : AF_INET6;
        memcpy(a->bytes, k->addr + i * width, width);
    }
    pk.total += k->count;
    pk.staged_for = (long)k->tunnel;
    text[0] = 0;
    return 0;
}

static int commit(const struct privsep_kernel *k, char *text, size_t len)
{
    const struct kernel_tunnel *t = &pk.tunnels[k->tunnel];
    size_t added, removed;
    int rc;

    if (k->sync > 1 || k->op || k->family || k->count || !all_zero(k->addr, sizeof(k->addr))) {
        snprintf(text, len, "refused: a commit carries only the tunnel and sync");
        return -1;
    }
    if (pk.staged_for >= 0 && pk.staged_for != (long)k->tunnel) {
        snprintf(text, len, "refused: the staged addresses are for tunnel %ld", pk.staged_for);
        return -1;
    }
    if (k->sync && pk.nstaged[STAGE_ADD] + pk.nstaged[STAGE_DEL] > 0) {
        snprintf(text, len, "refused: a sync commit with additions or removals staged");
        return -1;
    }
    if (k->staged != pk.total) {
        snprintf(text, len, "refused: %u addresses announced, %zu staged", k->staged, pk.total);
        return -1;
    }
    if (!k->sync && pk.nstaged[STAGE_WANT] > 0) {
        snprintf(text, len, "refused: wanted addresses staged for a delta commit");
        return -1;
    }
    rc = kernelnft_apply(t, pk.staged[STAGE_ADD], pk.nstaged[STAGE_ADD], pk.staged[STAGE_DEL],
                         pk.nstaged[STAGE_DEL], k->sync, pk.staged[STAGE_WANT],
                         pk.nstaged[STAGE_WANT], &added, &removed, text, len);
    unstage();                  /* applied or not, a commit ends the staging */
    if (rc == 0)
        snprintf(text, len, "added %zu, removed %zu", added, removed);
    return rc;
}

static int handle_one(const struct privsep_msg *m, char *text, size_t len)
{
    const struct privsep_kernel *k = &m->kernel;

    if (k->tunnel >= pk.ntunnels) {
        snprintf(text, len, "refused: no kernel-mode tunnel %u", k->tunnel);
        return -1;
    }
    if (!all_zero(m->text + sizeof(*k), sizeof(m->text) - sizeof(*k))) {
        snprintf(text, len, "refused: bytes after the kernel payload");
        return -1;
    }
    switch (m->type) {
    case PRIVSEP_KERNEL_ENSURE:
        if (k->op || k->family || k->count || k->sync || k->staged) {
            snprintf(text, len, "refused: an ensure request carries only the tunnel");
            return -1;
        }
        if (!all_zero(k->addr, sizeof(k->addr))) {
            snprintf(text, len, "refused: an ensure request carries only the tunnel");
            return -1;
        }
        unstage();              /* a round starts here: nothing left of a failed one */
        int rc = kernelnft_ensure(&pk.tunnels[k->tunnel], text, len);
        if (rc != 0)
            msg_warn(MOD, "tunnel %s: %s", pk.tunnels[k->tunnel].name, text);
        if (rc < 0)
            return -1;
        snprintf(text, len, "table inet " KERNELNFT_TABLE ", fwmark 0x%x, table %u ready",
                 pk.tunnels[k->tunnel].mark, pk.tunnels[k->tunnel].table);
        return 0;
    case PRIVSEP_KERNEL_STAGE:
        return stage(k, text, len);
    case PRIVSEP_KERNEL_COMMIT:
        return commit(k, text, len);
    default:
        snprintf(text, len, "refused: unknown request type %u", m->type);
        return -1;
    }
}

int helper_kernel_handle(const struct privsep_msg *m, char *text, size_t len)
{
    int rc = handle_one(m, text, len);

    if (rc < 0)
        unstage();              /* a refused or failed request leaves nothing staged */
    return rc;
}

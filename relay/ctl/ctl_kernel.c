/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_kernel - `mxdetourctl kernel`: what is in the nftables sets of the
 * kernel-mode tunnels, and why.
 *
 * The sets themselves are read from the kernel (kernelnft_list; needs
 * CAP_NET_ADMIN, so run it as root); the reason of each address comes from
 * mxdetourd's last known state (STATE_DIR/kernel.state).  Each address is
 * one line "ADDRESS TUNNEL WHY"; an address the set holds that mxdetourd
 * does not know, or the other way round, is said so.  Needs no Redis.
 * Exit: 0, or CTL_NOT_FOUND when the sets cannot be read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "kernelnft.h"
#include "kernelpub.h"
#include "kernelstate.h"
#include "privsep.h"

struct known {
    struct netaddr a;
    char tunnel[65];
    char why[KERNELPUB_WHY_MAX];
    int seen;
};

struct knownlist {
    struct known *v;
    size_t n, cap;
};

static void add_known(const struct netaddr *a, const char *tunnel, const char *why, void *arg)
{
    struct knownlist *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct known *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return;
        l->v = v;
        l->cap = cap;
    }
    struct known *k = &l->v[l->n++];
    k->a = *a;
    k->seen = 0;
    snprintf(k->tunnel, sizeof(k->tunnel), "%s", tunnel);
    snprintf(k->why, sizeof(k->why), "%.*s", (int)sizeof(k->why) - 1, why);
}

int ctl_kernel(struct ctl *c)
{
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];
    size_t nt = privsep_tunnels(c->cfg, t, KERNELNFT_MAX_TUNNELS), nk;
    struct knownlist kl = {0};
    struct known *known;
    char path[4200], text[NETADDR_STRLEN], err[256];
    int rc = CTL_OK;

    if (nt == 0) {
        printf("no tunnel relay is in mode \"kernel\"\n");
        return CTL_OK;
    }
    snprintf(path, sizeof(path), "%s/" KERNELSTATE_FILE, c->cfg->state_dir);
    kernelstate_read(path, add_known, &kl);
    known = kl.v;
    nk = kl.n;
    for (size_t i = 0; i < nt; i++) {
        struct netaddr *v;
        size_t n;
        printf("tunnel %s: table inet " KERNELNFT_TABLE " sets d4_%s d6_%s, fwmark 0x%x, "
               "routing table %u, interface %s\n", t[i].name, t[i].ident, t[i].ident, t[i].mark,
               t[i].table, t[i].ifname);
        if (kernelnft_list(&t[i], &v, &n, err, sizeof(err)) < 0) {
            printf("  cannot read the sets (%s); mxdetourd's last known state follows\n", err);
            for (size_t k = 0; k < nk; k++)
                if (strcmp(known[k].tunnel, t[i].name) == 0)
                    printf("  %s %s\n", netaddr_format(&known[k].a, text, sizeof(text)), known[k].why);
            rc = CTL_NOT_FOUND;
            continue;
        }
        printf("  %zu address%s in the set\n", n, n == 1 ? "" : "es");
        for (size_t j = 0; j < n; j++) {
            const char *why = "not in mxdetourd's last known state (added by hand?)";
            for (size_t k = 0; k < nk; k++)
                if (netaddr_equal(&known[k].a, &v[j]) && strcmp(known[k].tunnel, t[i].name) == 0) {
                    why = known[k].why;
                    known[k].seen = 1;
                }
            printf("  %s %s\n", netaddr_format(&v[j], text, sizeof(text)), why);
        }
        for (size_t k = 0; k < nk; k++)
            if (!known[k].seen && strcmp(known[k].tunnel, t[i].name) == 0)
                printf("  %s missing from the set, though mxdetourd put it there: %s\n",
                       netaddr_format(&known[k].a, text, sizeof(text)), known[k].why);
        free(v);
    }
    free(known);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privsep_tunnels - the kernel-mode tunnels of a configuration, as the
 * root helper serves them; see privsep.h.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "privsep.h"

size_t privsep_tunnels(const struct cfg *cfg, struct kernel_tunnel *out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < cfg->nrelays && n < max; i++) {
        const struct cfg_relay *r = &cfg->relays[i];
        struct kernel_tunnel *t = &out[n];
        if (r->type != RELAY_TUNNEL || r->mode != RELAY_MODE_KERNEL || r->interface == NULL)
            continue;
        memset(t, 0, sizeof(*t));
        snprintf(t->name, sizeof(t->name), "%s", r->name);
        kernelnft_tunnel_ident(t->name, t->ident);
        snprintf(t->ifname, sizeof(t->ifname), "%s", r->interface);
        t->table = r->kernel.route_table;
        t->mark = r->kernel.fwmark;
        t->priority = r->kernel.rule_priority;
        const char *gw[2] = {r->kernel.gateway, r->kernel.gateway6};
        for (int g = 0; g < 2; g++) {
            struct netaddr a;
            if (gw[g] && netaddr_parse(gw[g], &a) == 0)
                t->gateway[a.family == AF_INET6] = a;
        }
        t->has_source = r->source_address && netaddr_parse(r->source_address, &t->source) == 0;
        const struct passwd *pw = r->kernel.mta_user ? getpwnam(r->kernel.mta_user) : NULL;
        t->uid = pw ? (long)pw->pw_uid : -1;
        n++;
    }
    return n;
}

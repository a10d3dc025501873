/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_kernel - see cfg_kernel.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_read.h"
#include "netaddr.h"

void cfg_read_relay_kernel(struct cfg_reader *r, const config_setting_t *g, struct cfg_relay *rl)
{
    static const char *const keys[] = {CFG_KERNEL_KEYS, NULL};
    struct cfg_relay_kernel *k = &rl->kernel;
    char where[256];
    struct netaddr a;

    cfg_read_path(g, where, sizeof(where));
    if (rl->mode != RELAY_MODE_KERNEL) {
        for (size_t i = 0; keys[i]; i++)
            if (config_setting_get_member(g, keys[i]))
                cfg_read_error(r, config_setting_get_member(g, keys[i]),
                           "%s.%s: only for a tunnel in mode \"kernel\"", where, keys[i]);
        return;
    }
    long table = cfg_read_int(r, g, "route_table", CFG_KERNEL_TABLE_DEFAULT, 1, 0xfffffffeL);
    if (table >= 253 && table <= 255)
        cfg_read_error(r, config_setting_get_member(g, "route_table"),
                   "%s.route_table: %ld is a table of the system (default, main, local)", where, table);
    k->route_table = (uint32_t)table;
    k->fwmark = (uint32_t)cfg_read_int(r, g, "fwmark", table > 0 ? table : 1, 1, 0xffffffffL);
    k->rule_priority = (uint32_t)cfg_read_int(r, g, "rule_priority", CFG_KERNEL_PRIORITY_DEFAULT, 1, 32765);
    k->gateway = cfg_read_string(r, g, "gateway", NULL, false);
    k->gateway6 = cfg_read_string(r, g, "gateway6", NULL, false);
    if (k->gateway6 && netaddr_parse(k->gateway6, &a) < 0)
        cfg_read_error(r, config_setting_get_member(g, "gateway6"),
                   "%s.gateway6: \"%s\" is not an IP address", where, k->gateway6);
    k->mta_user = cfg_read_string(r, g, "mta_user", "postfix", false);
    if (k->gateway && netaddr_parse(k->gateway, &a) < 0)
        cfg_read_error(r, config_setting_get_member(g, "gateway"),
                   "%s.gateway: \"%s\" is not an IP address", where, k->gateway);
}

/* The nftables identifier of a relay name (relay/helper/kernelnft.c builds it the same way). */
static int same_ident(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = isalnum((unsigned char)*a) ? *a : '_', y = isalnum((unsigned char)*b) ? *b : '_';
        if (x != y)
            return 0;
    }
    return *a == *b;
}

void cfg_check_kernel_relays(struct cfg_reader *r, const config_setting_t *root, const struct cfg *c)
{
    const config_setting_t *list = config_setting_get_member(root, "relays");
    size_t n = 0;
    char where[256];

    for (size_t j = 0; j < c->nrelays; j++) {
        const struct cfg_relay *b = &c->relays[j];
        const config_setting_t *g = list ? config_setting_get_elem(list, (unsigned)j) : NULL;
        if (b->type != RELAY_TUNNEL || b->mode != RELAY_MODE_KERNEL || b->name == NULL || g == NULL)
            continue;
        cfg_read_path(g, where, sizeof(where));
        if (++n > CFG_KERNEL_MAX_TUNNELS)
            cfg_read_error(r, g, "%s: more than %d tunnels in mode \"kernel\"", where, CFG_KERNEL_MAX_TUNNELS);
        for (size_t i = 0; i < j; i++) {
            const struct cfg_relay *a = &c->relays[i];
            if (a->type != RELAY_TUNNEL || a->mode != RELAY_MODE_KERNEL || a->name == NULL)
                continue;
            if (a->kernel.route_table == b->kernel.route_table)
                cfg_read_error(r, g, "%s: route_table %u is also relay \"%s\"'s (line %d); each kernel-mode "
                           "tunnel needs a table of its own", where, b->kernel.route_table, a->name, a->line);
            if (a->kernel.fwmark == b->kernel.fwmark)
                cfg_read_error(r, g, "%s: fwmark 0x%x is also relay \"%s\"'s (line %d); each kernel-mode "
                           "tunnel needs a mark of its own", where, b->kernel.fwmark, a->name, a->line);
            if (same_ident(a->name, b->name))
                cfg_read_error(r, g, "%s: name \"%s\" makes the same nftables names as relay \"%s\" "
                           "(line %d); use names that differ in letters or digits", where, b->name,
                           a->name, a->line);
        }
    }
}

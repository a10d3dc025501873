/*
 * cfg_kernel - see cfg_kernel.h.
 */
#include "config.h"

#include <stdlib.h>

#include "cfg.h"
#include "cfg_read.h"
#include "netaddr.h"

void cfg_read_relay_kernel(struct cfg_reader *r, const config_setting_t *g, struct cfg_relay *rl)
{
    static const char *const keys[] = {CFG_KERNEL_KEYS, NULL};
    struct cfg_relay_kernel *k = &rl->kernel;
    char where[256];
    struct netaddr a;

    cfgr_path(g, where, sizeof(where));
    if (rl->mode != RELAY_MODE_KERNEL) {
        for (size_t i = 0; keys[i]; i++)
            if (config_setting_get_member(g, keys[i]))
                cfgr_error(r, config_setting_get_member(g, keys[i]),
                           "%s.%s: only for a tunnel in mode \"kernel\"", where, keys[i]);
        return;
    }
    long table = cfgr_int(r, g, "route_table", CFG_KERNEL_TABLE_DEFAULT, 1, 0xfffffffeL);
    if (table >= 253 && table <= 255)
        cfgr_error(r, config_setting_get_member(g, "route_table"),
                   "%s.route_table: %ld is a table of the system (default, main, local)", where, table);
    k->route_table = (uint32_t)table;
    k->fwmark = (uint32_t)cfgr_int(r, g, "fwmark", table > 0 ? table : 1, 1, 0xffffffffL);
    k->rule_priority = (uint32_t)cfgr_int(r, g, "rule_priority", CFG_KERNEL_PRIORITY_DEFAULT, 1, 32765);
    k->gateway = cfgr_string(r, g, "gateway", NULL, false);
    k->gateway6 = cfgr_string(r, g, "gateway6", NULL, false);
    if (k->gateway6 && netaddr_parse(k->gateway6, &a) < 0)
        cfgr_error(r, config_setting_get_member(g, "gateway6"),
                   "%s.gateway6: \"%s\" is not an IP address", where, k->gateway6);
    k->mta_user = cfgr_string(r, g, "mta_user", "postfix", false);
    if (k->gateway && netaddr_parse(k->gateway, &a) < 0)
        cfgr_error(r, config_setting_get_member(g, "gateway"),
                   "%s.gateway: \"%s\" is not an IP address", where, k->gateway);
}

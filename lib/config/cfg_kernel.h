/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_kernel - the settings of a tunnel relay in mode "kernel"
 * (docs/kernel.md): which routing table and firewall mark its detour uses.
 *
 *   route_table    routing table the marked connections look up (default
 *                  2525; 1..2^32-2, not 253-255, which the system uses)
 *   fwmark         mark the nftables rule sets (default: route_table)
 *   gateway        next hop inside the tunnel; unset: a device route, as a
 *   gateway6       WireGuard interface needs (gateway for IPv4, gateway6
 *                  for IPv6; either may hold either family)
 *   rule_priority  priority of the "ip rule" entries (default 1000)
 *   mta_user       only connections of this user's sockets are marked: the
 *                  user Postfix's smtp client runs as (default "postfix"),
 *                  so mxdetourd's own probes keep testing the direct path
 *
 * cfg_read_relay_kernel() is called by cfg.c for every tunnel relay, with
 * its keys in CFG_KERNEL_KEYS; errors are FILE:LINE entries like the rest.
 * Ownership: gateway belongs to the struct cfg (freed by cfg_free).
 */
#ifndef MXD_CFG_KERNEL_H
#define MXD_CFG_KERNEL_H

#include <stdint.h>

#define CFG_KERNEL_KEYS "route_table", "fwmark", "gateway", "rule_priority", "mta_user", "gateway6"
#define CFG_KERNEL_PRIORITY_DEFAULT 1000
#define CFG_KERNEL_TABLE_DEFAULT 2525

struct cfg_relay_kernel {
    uint32_t route_table;        /* 0: not in kernel mode */
    uint32_t fwmark;
    char *gateway;               /* an IP address, or NULL */
    char *gateway6;
    uint32_t rule_priority;
    char *mta_user;
};

struct cfg_reader;
struct cfg_relay;
struct config_setting_t;

void cfg_read_relay_kernel(struct cfg_reader *r, const struct config_setting_t *g,
                           struct cfg_relay *rl);

/* After all relays: at most CFG_KERNEL_MAX_TUNNELS kernel-mode tunnels, each
 * with its own route_table, fwmark and nftables name (the relay name with
 * every character but letters and digits made '_'), since two sharing one
 * would replace each other's route or flush each other's rules. */
#define CFG_KERNEL_MAX_TUNNELS 8
struct cfg;
void cfg_check_kernel_relays(struct cfg_reader *r, const struct config_setting_t *root,
                             const struct cfg *c);

#endif

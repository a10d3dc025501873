/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_deliver - see cfg_deliver.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_read.h"
#include "netaddr.h"

#define DKIM_LOG_DEFAULT_MS (3600 * 1000ULL)

/* A relay's exit_addresses and helo_name; g is its group in the file. */
static void read_relay(struct cfg_reader *r, const config_setting_t *g, struct cfg_relay *rl)
{
    struct cfg_relay_deliver *d = &rl->deliver;
    char where[256], canon[NETADDR_STRLEN], dom[DOMAIN_MAXLEN + 1];
    size_t n = 0;
    char **v = cfg_read_strings(r, g, "exit_addresses", &n);
    const config_setting_t *s = config_setting_get_member(g, "exit_addresses");

    cfg_read_path(g, where, sizeof(where));
    if (n > CFG_DELIVER_MAX_EXITS)
        cfg_read_error(r, s, "%s.exit_addresses: at most %d addresses", where, CFG_DELIVER_MAX_EXITS);
    for (size_t i = 0; i < n && d->nexits < CFG_DELIVER_MAX_EXITS; i++) {
        if (netaddr_canon(v[i], canon, sizeof(canon)) == NULL) {
            cfg_read_error(r, s, "%s.exit_addresses: \"%s\" is not an IP address", where, v[i]);
            continue;
        }
        snprintf(d->exits[d->nexits++], CFG_DELIVER_ADDRLEN, "%s", canon);
    }
    cfg_read_free_strings(v, n);
    d->helo_name = cfg_read_string(r, g, "helo_name", NULL, false);
    if (d->helo_name && (domain_normalize(d->helo_name, strlen(d->helo_name), dom, sizeof(dom)) < 0
                         || strcmp(dom, d->helo_name) != 0))
        cfg_read_error(r, config_setting_get_member(g, "helo_name"),
                       "%s.helo_name: \"%s\" is not a lower-case host name", where, d->helo_name);
}

void cfg_read_deliver(struct cfg_reader *r, const config_setting_t *root, struct cfg *c)
{
    const config_setting_t *list = config_setting_get_member(root, "relays");
    char dom[DOMAIN_MAXLEN + 1];
    size_t n = 0;

    for (size_t j = 0; list && j < c->nrelays; j++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)j);
        if (g && config_setting_type(g) == CONFIG_TYPE_GROUP)
            read_relay(r, g, &c->relays[j]);
    }
    char **v = cfg_read_strings(r, root, "sender_domains", &n);
    const config_setting_t *s = config_setting_get_member(root, "sender_domains");
    if (n > CFG_DELIVER_MAX_SENDERS)
        cfg_read_error(r, s, "sender_domains: at most %d domains", CFG_DELIVER_MAX_SENDERS);
    c->deliver.sender_domains = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n && c->deliver.nsender_domains < CFG_DELIVER_MAX_SENDERS; i++) {
        if (domain_normalize(v[i], strlen(v[i]), dom, sizeof(dom)) < 0) {
            cfg_read_error(r, s, "sender_domains: \"%s\" is not a domain", v[i]);
            continue;
        }
        c->deliver.sender_domains[c->deliver.nsender_domains++] = strdup(dom);
    }
    cfg_read_free_strings(v, n);
    c->deliver.dkim_log_interval_ms = cfg_read_duration(r, root, "dkim_log_interval", DKIM_LOG_DEFAULT_MS,
                                                        1000, 7 * 24 * 3600 * 1000ULL);
}

void cfg_free_deliver(struct cfg *c)
{
    for (size_t i = 0; i < c->nrelays; i++)
        free(c->relays[i].deliver.helo_name);
    for (size_t i = 0; i < c->deliver.nsender_domains; i++)
        free(c->deliver.sender_domains[i]);
    free(c->deliver.sender_domains);
}

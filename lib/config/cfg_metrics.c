/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_metrics - see cfg_metrics.h.  Kept apart from cfg.c, which holds the
 * other sections.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg_metrics.h"
#include "netaddr.h"

int cfg_metrics_listen(const char *listen, char *host, size_t size, int *port)
{
    const char *colon = strrchr(listen, ':'), *h = listen;
    size_t hlen;
    struct netaddr a;
    char *end;

    if (colon == NULL)
        return -1;
    hlen = (size_t)(colon - listen);
    if (h[0] == '[') {          /* [IPv6]:port */
        if (hlen < 2 || h[hlen - 1] != ']')
            return -1;
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return -1;              /* an IPv6 address needs its brackets */
    }
    if (hlen == 0 || hlen >= size)
        return -1;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (netaddr_parse(host, &a) < 0)
        return -1;
    *port = (int)p;
    return 0;
}

void cfg_metrics_read(struct cfg_reader *r, const config_setting_t *root, struct cfg_metrics *m)
{
    static const char *const keys[] = {"listen", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "metrics");
    char host[NETADDR_STRLEN];
    int port;

    if (g)
        cfg_read_check_keys(r, g, keys);
    m->listen = cfg_read_string(r, g, "listen", NULL, false);
    if (m->listen && cfg_metrics_listen(m->listen, host, sizeof(host), &port) < 0)
        cfg_read_error(r, config_setting_get_member(g, "listen"),
                   "metrics.listen: \"%s\" is not ADDRESS:PORT such as \"127.0.0.1:9466\" or "
                   "\"[::1]:9466\"", m->listen);
}

void cfg_metrics_free(struct cfg_metrics *m)
{
    free(m->listen);
    m->listen = NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelpub_check - what a kernel-mode tunnel needs from the host, checked
 * at start and by `mxdetourd -t` (kernelpub.h).
 *
 * Reverse-path filtering: the replies of a detoured connection come back on
 * the tunnel interface while the route back to their source (the MX host)
 * is the uplink; strict mode (1) drops them and every connection times out
 * (measured on the test bed).  The kernel uses the larger of
 * net.ipv4.conf.all.rp_filter and the interface's own value.
 */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernelnft.h"
#include "kernelpub.h"
#include "msg.h"
#include "privsep.h"

#define MOD "kernelpub"

static int read_int(const char *path)
{
    FILE *fp = fopen(path, "r");
    int v = -1;

    if (fp == NULL)
        return -1;
    if (fscanf(fp, "%d", &v) != 1)
        v = -1;
    fclose(fp);
    return v;
}

int kernelpub_rp_filter(const char *ifname)
{
    char path[128];
    int all, own;

    all = read_int("/proc/sys/net/ipv4/conf/all/rp_filter");
    snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", ifname);
    own = read_int(path);
    if (all < 0 && own < 0)
        return -1;
    return all > own ? all : own;
}

__attribute__((format(printf, 3, 4)))
static void say(FILE *out, int warn, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (out)
        fprintf(out, "mxdetourd: %s: %s\n", warn ? "warning" : "error", line);
    else
        msg_warn(MOD, "%s", line);
}

int kernelpub_check(const struct cfg *cfg, FILE *out)
{
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];
    size_t n = privsep_tunnels(cfg, t, KERNELNFT_MAX_TUNNELS);
    int errors = 0;

    for (size_t i = 0; i < n; i++) {
        if (if_nametoindex(t[i].ifname) == 0) {
            say(out, 0, "tunnel %s: interface %s does not exist; mode \"kernel\" cannot route "
                "into it (bring the tunnel up first)", t[i].name, t[i].ifname);
            errors++;
            continue;
        }
        if (t[i].uid < 0) {
            say(out, 0, "tunnel %s: mta_user does not exist: name the user Postfix's smtp client "
                "runs as (mail_owner)", t[i].name);
            errors++;
        }
        if (kernelpub_rp_filter(t[i].ifname) == 1)
            say(out, 1, "tunnel %s: strict reverse-path filtering on %s drops the replies of "
                "detoured connections; set net.ipv4.conf.all.rp_filter=2 and "
                "net.ipv4.conf.%s.rp_filter=2 (loose)", t[i].name, t[i].ifname, t[i].ifname);
    }
    return errors;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * probe_cli - drives relay/net/prober and relay/net/mxresolve from the command line,
 * for tests that run inside the netns test bed (prober_netns.sh) and for
 * trying them by hand.
 *
 *   probe_cli [-t TIMEOUT_MS] [-n COUNT] ADDR [PORT [SOURCE]]
 *       probes ADDR (COUNT times at once: they share one probe) and prints
 *       "KIND CODE ELAPSED_MS TEXT", e.g. "greeting 220 3 220 mx1 ESMTP",
 *       then "started=S joined=J" when COUNT > 1.
 *       Exit status 0 for a greeting or reply, 1 for a failure, 2 for an
 *       error or bad usage.
 *   probe_cli [-s SERVERS] resolve DOMAIN...
 *       prints "DOMAIN STATUS ttl=N implicit=0|1 partial=0|1" and then one
 *       "  PREF HOST STATUS ADDR..." line per MX host.  Exit status 0 when
 *       every domain resolved to MX_OK.
 *
 * One event_base, created and freed here; everything else belongs to the
 * modules under test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "msg.h"
#include "mxresolve.h"
#include "netaddr.h"
#include "prober.h"

static int status = 2;
static int outstanding;

static void usage(void)
{
    fprintf(stderr, "usage: probe_cli [-t timeout_ms] [-n count] ADDR [PORT [SOURCE]]\n"
                    "       probe_cli [-s servers] resolve DOMAIN...\n");
    exit(2);
}

static void on_probe(const struct probe_result *r, void *arg)
{
    struct event_base *base = arg;

    if (status == 2) {          /* every joined callback gets the same result */
        printf("%s %d %llu %s\n", probe_kind_name(r->kind), r->code,
               (unsigned long long)r->elapsed_ms, r->text);
        status = probe_is_success(r->kind) ? 0 : r->kind == PROBE_ERROR ? 2 : 1;
    }
    if (--outstanding == 0)
        event_base_loopbreak(base);
}

static void on_mx(const struct mx_result *r, void *arg)
{
    struct event_base *base = arg;
    char buf[NETADDR_STRLEN];

    printf("%s %s ttl=%u implicit=%d partial=%d\n", r->domain, mx_status_name(r->status),
           (unsigned)r->ttl, r->implicit, r->partial);
    for (size_t i = 0; i < r->nhosts; i++) {
        const struct mx_host *h = &r->hosts[i];
        printf("  %u %s %s", h->preference, h->name, mx_status_name(h->status));
        for (size_t j = 0; j < h->naddrs; j++)
            printf(" %s", netaddr_format(&h->addrs[j], buf, sizeof(buf)));
        printf("\n");
    }
    if (r->status != MX_OK)
        status = 1;
    if (--outstanding == 0)
        event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
    struct cfg_probe pc = {.timeout_ms = 5000, .concurrency = 4, .port = 25, .relay_interval_ms = 15000};
    const char *servers = NULL;
    struct event_base *base;
    int c, count = 1;

    msg_open("probe_cli", MSG_STDERR, 0);
    while ((c = getopt(argc, argv, "n:s:t:v")) != -1) {
        switch (c) {
        case 'n':
            count = atoi(optarg);
            break;
        case 's':
            servers = optarg;
            break;
        case 't':
            pc.timeout_ms = strtoull(optarg, NULL, 10);
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1 || count < 1 || count > 100)
        usage();
    if ((base = event_base_new()) == NULL)
        return 2;
    if (strcmp(argv[0], "resolve") == 0) {
        struct mxresolve *r = mxresolve_new2(base, servers);
        if (r == NULL || argc < 2)
            usage();
        status = 0;
        for (int i = 1; i < argc; i++, outstanding++)
            mxresolve_domain(r, argv[i], on_mx, base);
        event_base_dispatch(base);
        mxresolve_free(r);
    } else {
        struct netaddr addr;
        int port = argc > 1 ? atoi(argv[1]) : 25;
        struct prober *p = prober_new(base, &pc);
        if (p == NULL || netaddr_parse(argv[0], &addr) < 0)
            usage();
        for (int i = 0; i < count; i++, outstanding++)
            if (prober_probe(p, &addr, port, argc > 2 ? argv[2] : NULL, on_probe, base) < 0) {
                prober_free(p);
                event_base_free(base);
                return 2;
            }
        event_base_dispatch(base);
        if (count > 1) {
            struct prober_stats st;
            prober_get_stats(p, &st);
            printf("started=%lu joined=%lu\n", st.started, st.joined);
        }
        prober_free(p);
    }
    event_base_free(base);
    return status;
}

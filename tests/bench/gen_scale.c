/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gen_scale - the inputs of tests/bench/bench_scale.sh for N tracked
 * destinations, each with one MX address:
 *
 *   gen_scale redis CONF N    writes, through the configuration's Redis and
 *                             site, one detoured address record (P:addr, with
 *                             P:addrs) and one detoured destination record
 *                             (P:dom, with P:doms) per destination, with the
 *                             blocking store mxdetourctl uses: the documented
 *                             format by construction (docs/state.md).
 *   gen_scale log N           prints one Postfix deferral per destination
 *                             (connect timeout to its MX), dated now, for the
 *                             daemon's log follower.
 *
 * Destination i is d<i>.scale.test, its MX mx.d<i>.scale.test at 10.x.y.z
 * (i + 1 in the low 24 bits), the same in both modes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "breaker.h"
#include "cfg.h"
#include "clock.h"
#include "store.h"

static void names(unsigned long i, char *dom, size_t dsize, char *host, size_t hsize, char *addr,
                  size_t asize)
{
    unsigned long a = i + 1;
    snprintf(dom, dsize, "d%lu.scale.test", i);
    snprintf(host, hsize, "mx.d%lu.scale.test", i);
    snprintf(addr, asize, "10.%lu.%lu.%lu", (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static int gen_redis(const char *conf, unsigned long n)
{
    struct cfg_errors errs;
    struct cfg *cfg = cfg_load(conf, &errs);
    char err[256], dom[96], host[96], addr[32];

    if (cfg == NULL) {
        fprintf(stderr, "gen_scale: %s: the configuration does not load\n", conf);
        return 1;
    }
    struct store *st = store_open(&cfg->redis, cfg->site, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "gen_scale: redis: %s\n", err);
        cfg_free(cfg);
        return 1;
    }
    uint64_t now = clock_now_ms();
    for (unsigned long i = 0; i < n; i++) {
        struct breaker b;
        struct store_addr out;
        struct store_domain d;

        names(i, dom, sizeof(dom), host, sizeof(host), addr, sizeof(addr));
        breaker_init(&b, now);
        breaker_force(&b, BREAKER_DETOURED, SRC_MANUAL, "bench_scale", 0, now);
        memset(&d, 0, sizeof(d));
        snprintf(d.domain, sizeof(d.domain), "%s", dom);
        snprintf(d.mx, sizeof(d.mx), "%s[%s]", host, addr);
        snprintf(d.state, sizeof(d.state), "detoured");
        snprintf(d.via, sizeof(d.via), "relay-out");
        snprintf(d.reason, sizeof(d.reason), "bench_scale");
        d.since_ms = d.updated_ms = now;
        if (store_addr_cas(st, addr, host, 0, &b, 0, &out) != 1 || store_domain_put(st, &d) < 0) {
            fprintf(stderr, "gen_scale: redis: %s\n", store_error(st));
            store_close(st);
            cfg_free(cfg);
            return 1;
        }
    }
    store_close(st);
    cfg_free(cfg);
    return 0;
}

static int gen_log(unsigned long n)
{
    char dom[96], host[96], addr[32], when[32];
    time_t t = time(NULL);
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm);
    for (unsigned long i = 0; i < n; i++) {
        names(i, dom, sizeof(dom), host, sizeof(host), addr, sizeof(addr));
        printf("%s mta postfix/smtp[%lu]: %010lX: to=<user@%s>, relay=none, delay=30, "
               "delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to %s[%s]:25: Connection "
               "timed out)\n", when, 20000 + i % 5000, 0x1000000000ul + i, dom, host, addr);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "redis") == 0)
        return gen_redis(argv[2], strtoul(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "log") == 0)
        return gen_log(strtoul(argv[2], NULL, 10));
    fprintf(stderr, "usage: gen_scale redis CONF N | gen_scale log N\n");
    return 2;
}

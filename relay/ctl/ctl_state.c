/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_state - mxdetourctl's commands over the shared state: status, list,
 * show, block, unblock, clear.  Plain text for people, --json for scripts.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "duration.h"
#include "json.h"
#include "netaddr.h"

#define DEFAULT_BLOCK_TTL_MS (24ULL * 3600 * 1000)
#define DEFAULT_UNBLOCK_TTL_MS (3600ULL * 1000)

/* "2026-11-23T11:02:03Z" */
const char *ctl_when(uint64_t ms, char *buf, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms == 0 || gmtime_r(&t, &tm) == NULL)
        return "-";
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* "12m ago" / "in 5m" */
const char *ctl_relative(uint64_t ms, char *buf, size_t size)
{
    char d[32];
    uint64_t now = clock_now_ms();
    if (ms == 0)
        return "";
    if (ms <= now)
        snprintf(buf, size, " (%s ago)", duration_format((now - ms) / 1000 * 1000, d, sizeof(d)));
    else
        snprintf(buf, size, " (in %s)", duration_format((ms - now + 999) / 1000 * 1000, d, sizeof(d)));
    return buf;
}

/* An address (canonical) or a domain (normalised) from the command line. */
int ctl_classify(const char *name, char *out, size_t size, int *is_addr)
{
    if (netaddr_canon(name, out, size)) {
        *is_addr = 1;
        return 0;
    }
    *is_addr = 0;
    if (domain_normalize(name, strlen(name), out, size) == 0)
        return 0;
    fprintf(stderr, "mxdetourctl: \"%s\" is neither an IP address nor a domain\n", name);
    return -1;
}

int ctl_redis_failed(struct ctl *c)
{
    fprintf(stderr, "mxdetourctl: %s\n", store_error(c->store));
    return CTL_REDIS;
}

struct counts {
    int addrs, detoured, half_open, domains, domains_detoured, manual;
};

static void count_addr(const struct store_addr *a, void *arg)
{
    struct counts *n = arg;
    n->addrs++;
    n->detoured += a->b.state == BREAKER_DETOURED;
    n->half_open += a->b.state == BREAKER_HALF_OPEN;
}

static void count_domain(const struct store_domain *d, void *arg)
{
    struct counts *n = arg;
    n->domains++;
    n->domains_detoured += strcmp(d->state, "direct") != 0;
}

static void count_manual(const struct store_manual *m, void *arg)
{
    (void)m;
    ((struct counts *)arg)->manual++;
}

/* "running (pid 4711) since 2026-11-23T11:02:03Z (3h ago)" or "not running (why)". */
static const char *daemon_line(const struct ctl_daemon *d, char *buf, size_t size)
{
    char t[32], r[48];
    if (d->running == 1 && d->since_ms)
        snprintf(buf, size, "running (pid %ld) since %s%s", d->pid, ctl_when(d->since_ms, t, sizeof(t)),
                 ctl_relative(d->since_ms, r, sizeof(r)));
    else if (d->running == 1)
        snprintf(buf, size, "running (pid %ld)", d->pid);
    else
        snprintf(buf, size, "%s (%s)", d->running ? "unknown" : "not running", d->why);
    return buf;
}

int ctl_status(struct ctl *c)
{
    struct counts n = {0};
    struct ctl_daemon d;
    struct json j;
    char line[sizeof(d.why) + 100];
    const char *why = c->redis_err && *c->redis_err ? c->redis_err : "no connection";

    if (c->store && (store_addr_list(c->store, count_addr, &n) < 0
                     || store_domain_list(c->store, count_domain, &n) < 0
                     || store_manual_list(c->store, count_manual, &n) < 0))
        return ctl_redis_failed(c);
    ctl_daemon_state(c->cfg, &d);
    if (c->json) {
        json_init(&j, stdout);
        json_begin_object(&j);
        json_kv_string(&j, "site", c->cfg->site);
        json_kv_string(&j, "mxdetourd", d.running == 1 ? "running" : d.running ? "unknown" : "not running");
        if (d.running == 1) {
            json_kv_uint(&j, "pid", (uint64_t)d.pid);
            json_kv_uint(&j, "since", d.since_ms / 1000);
        } else {
            json_kv_string(&j, "mxdetourd_why", d.why);
        }
        json_kv_string(&j, "redis", c->store ? "up" : "down");
        if (c->store) {
            json_kv_uint(&j, "addresses", (uint64_t)n.addrs);
            json_kv_uint(&j, "addresses_detoured", (uint64_t)n.detoured);
            json_kv_uint(&j, "addresses_half_open", (uint64_t)n.half_open);
            json_kv_uint(&j, "destinations", (uint64_t)n.domains);
            json_kv_uint(&j, "destinations_detoured", (uint64_t)n.domains_detoured);
            json_kv_uint(&j, "manual_overrides", (uint64_t)n.manual);
        } else {
            json_kv_string(&j, "redis_error", why);
        }
        json_end_object(&j);
    } else {
        printf("site:          %s\n", c->cfg->site);
        printf("mxdetourd:     %s\n", daemon_line(&d, line, sizeof(line)));
        if (c->store) {
            printf("redis:         up (%s)\n", store_prefix(c->store));
            printf("addresses:     %d known, %d detoured, %d probing\n", n.addrs, n.detoured, n.half_open);
            printf("destinations:  %d known, %d detoured\n", n.domains, n.domains_detoured);
            printf("manual:        %d override%s\n", n.manual, n.manual == 1 ? "" : "s");
        } else {
            printf("redis:         down: %s\n", why);
        }
    }
    return c->store ? CTL_OK : CTL_REDIS;
}

struct list_ctx {
    struct ctl *c;
    struct json *j;
    unsigned shown;         /* lines printed: none gets a line of its own */
};

static void list_addr(const struct store_addr *a, void *arg)
{
    struct list_ctx *lc = arg;
    char t[32], r[48];
    /* A host down everywhere stays direct, but is worth seeing. */
    if (a->b.state == BREAKER_DIRECT && a->b.verdict != VERDICT_DOWN_EVERYWHERE && !lc->c->all)
        return;
    lc->shown++;
    if (lc->j) {
        json_begin_object(lc->j);
        json_kv_string(lc->j, "address", a->addr);
        json_kv_string(lc->j, "host", a->host);
        json_kv_string(lc->j, "state", breaker_state_name(a->b.state));
        json_kv_uint(lc->j, "since", a->b.since_ms / 1000);
        json_kv_string(lc->j, "reason", a->b.reason);
        json_kv_string(lc->j, "verdict", verdict_name(a->b.verdict));
        json_kv_uint(lc->j, "verdict_at", a->b.verdict_ms / 1000);
        json_end_object(lc->j);
    } else {
        int v = a->b.verdict != VERDICT_NONE;
        printf("address  %-39s %-10s since %s%s  %s%s%s%s%s%s\n", a->addr, breaker_state_name(a->b.state),
               ctl_when(a->b.since_ms, t, sizeof(t)), ctl_relative(a->b.since_ms, r, sizeof(r)),
               v ? "[" : "", v ? verdict_name(a->b.verdict) : "", v ? "] " : "",
               a->host[0] ? a->host : "", a->host[0] && a->b.reason[0] ? ": " : "", a->b.reason);
    }
}

static void list_domain(const struct store_domain *d, void *arg)
{
    struct list_ctx *lc = arg;
    char t[32], r[48];
    if (strcmp(d->state, "direct") == 0 && !lc->c->all)
        return;
    lc->shown++;
    if (lc->j) {
        json_begin_object(lc->j);
        json_kv_string(lc->j, "domain", d->domain);
        json_kv_string(lc->j, "state", d->state);
        json_kv_string(lc->j, "via", d->via);
        json_kv_uint(lc->j, "since", d->since_ms / 1000);
        json_kv_string(lc->j, "reason", d->reason);
        json_end_object(lc->j);
    } else {
        printf("domain   %-39s %-10s since %s%s  %s%s%s\n", d->domain, d->state,
               ctl_when(d->since_ms, t, sizeof(t)), ctl_relative(d->since_ms, r, sizeof(r)),
               d->via[0] ? "via " : "", d->via, d->reason[0] ? "" : "");
    }
}

static void list_manual(const struct store_manual *m, void *arg)
{
    struct list_ctx *lc = arg;
    char t[32], r[48];
    const char *action = m->action == MANUAL_BLOCK ? "block" : "unblock";
    lc->shown++;
    if (lc->j) {
        json_begin_object(lc->j);
        json_kv_string(lc->j, "name", m->key);
        json_kv_string(lc->j, "action", action);
        json_kv_string(lc->j, "via", m->via);
        json_kv_string(lc->j, "reason", m->reason);
        json_kv_string(lc->j, "by", m->by);
        json_kv_uint(lc->j, "expires", m->expires_ms / 1000);
        json_end_object(lc->j);
    } else {
        printf("manual   %-39s %-10s until %s%s  %s%s%s%s\n", m->key, action,
               ctl_when(m->expires_ms, t, sizeof(t)), ctl_relative(m->expires_ms, r, sizeof(r)),
               m->via[0] ? "via " : "", m->via, m->via[0] && m->reason[0] ? ": " : "", m->reason);
    }
}

int ctl_list(struct ctl *c)
{
    struct json j;
    struct list_ctx lc = {c, c->json ? &j : NULL, 0};

    if (c->json) {
        json_init(&j, stdout);
        json_begin_object(&j);
        json_key(&j, "addresses");
        json_begin_array(&j);
    }
    if (store_addr_list(c->store, list_addr, &lc) < 0)
        return ctl_redis_failed(c);
    if (c->json) {
        json_end_array(&j);
        json_key(&j, "destinations");
        json_begin_array(&j);
    }
    if (store_domain_list(c->store, list_domain, &lc) < 0)
        return ctl_redis_failed(c);
    if (c->json) {
        json_end_array(&j);
        json_key(&j, "manual");
        json_begin_array(&j);
    }
    if (store_manual_list(c->store, list_manual, &lc) < 0)
        return ctl_redis_failed(c);
    if (c->json) {
        json_end_array(&j);
        json_end_object(&j);
    } else if (lc.shown == 0) {
        printf(c->all ? "nothing recorded: no address, destination or manual override\n"
                      : "nothing detoured and no manual override (--all lists direct ones too)\n");
    }
    return CTL_OK;
}

static int set_manual(struct ctl *c, const char *name, enum manual_action action, uint64_t dflt_ttl)
{
    struct store_manual m = {.action = action};
    char key[DOMAIN_MAXLEN + 1], host[128] = "?", d[32];
    int is_addr;
    struct passwd *pw = getpwuid(getuid());

    if (ctl_classify(name, key, sizeof(key), &is_addr) < 0)
        return CTL_USAGE;
    gethostname(host, sizeof(host) - 1);
    snprintf(m.key, sizeof(m.key), "%s", key);
    snprintf(m.via, sizeof(m.via), "%s", c->via ? c->via : "");
    snprintf(m.reason, sizeof(m.reason), "%s", c->reason ? c->reason : "");
    snprintf(m.by, sizeof(m.by), "%.30s@%.30s", pw ? pw->pw_name : "?", host);
    m.created_ms = clock_now_ms();
    m.expires_ms = m.created_ms + (c->ttl_ms ? c->ttl_ms : dflt_ttl);
    if (store_manual_set(c->store, &m) < 0)
        return ctl_redis_failed(c);
    printf("%s %s%s%s for %s\n", action == MANUAL_BLOCK ? "blocked" : "unblocked", key,
           m.via[0] ? " via " : "", m.via,
           duration_format(c->ttl_ms ? c->ttl_ms : dflt_ttl, d, sizeof(d)));
    return CTL_OK;
}

int ctl_block(struct ctl *c, const char *name)
{
    return set_manual(c, name, MANUAL_BLOCK, DEFAULT_BLOCK_TTL_MS);
}

int ctl_unblock(struct ctl *c, const char *name)
{
    if (c->via) {
        fprintf(stderr, "mxdetourctl: unblock takes no --via\n");
        return CTL_USAGE;
    }
    return set_manual(c, name, MANUAL_UNBLOCK, DEFAULT_UNBLOCK_TTL_MS);
}

int ctl_clear(struct ctl *c, const char *name)
{
    char key[DOMAIN_MAXLEN + 1];
    int is_addr;

    if (ctl_classify(name, key, sizeof(key), &is_addr) < 0)
        return CTL_USAGE;
    int rc = store_manual_del(c->store, key);
    if (rc < 0)
        return ctl_redis_failed(c);
    printf(rc ? "cleared the manual override of %s\n" : "%s had no manual override\n", key);
    return rc ? CTL_OK : CTL_NOT_FOUND;
}

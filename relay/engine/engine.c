/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine - see engine.h.  This file: evidence in (log, probes, feeds, the
 * shared state), rules events, manual overrides and the module's hooks;
 * engine_routes.c turns the state into routes and the milter's view.
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "control.h"
#include "engine_int.h"
#include "feedpolicy.h"
#include "feedset.h"
#include "follower.h"
#include "health.h"
#include "kernelpub.h"
#include "logparse.h"
#include "metrics.h"
#include "msg.h"
#include "mxresolve.h"
#include "recheck.h"
#include "relayhealth.h"
#include "routes.h"
#include "netaddr.h"
#include "routeview.h"
#include "rules.h"
#include "store_async.h"

#define MOD "engine"
#define MAX_LOGS 8
#define TICK_MS 1000
#define SKEW_MS (86400ULL * 1000)   /* log times further off than this are replaced */

struct engine_state eng;

/* ---- Manual overrides ---- */

struct manual *engine_manual_find(const char *name)
{
    for (size_t i = 0; i < eng.nmanual; i++)
        if (strcmp(eng.manual[i].name, name) == 0)
            return &eng.manual[i];
    return NULL;
}

static int params_for(const struct netaddr *addr, const char *host, const char *domain,
                      struct breaker_params *out, void *arg);

/* A manual override of an address acts on the local breaker; the shared
 * record keeps the evidence, so every MTA applies the override itself. */
static void apply_addr_manual(const struct manual *mo, uint64_t now)
{
    enum breaker_state s = mo->m.action == MANUAL_BLOCK ? BREAKER_DETOURED : BREAKER_DIRECT;
    char reason[BREAKER_REASON_MAX];
    snprintf(reason, sizeof(reason), "manual %s by %.40s%s%.80s",
             mo->m.action == MANUAL_BLOCK ? "block" : "unblock", mo->m.by,
             mo->m.reason[0] ? ": " : "", mo->m.reason);
    rules_force(eng.rules, &mo->addr, s, SRC_MANUAL, reason, mo->m.expires_ms, now);
}

static void on_manual(const char *name, const struct store_manual *m, void *arg)
{
    struct manual *mo = engine_manual_find(name);
    uint64_t now = clock_now_ms();
    (void)arg;

    if (m == NULL || (m->expires_ms && m->expires_ms <= now)) {
        if (mo == NULL)
            return;
        msg_info(MOD, "manual %s of %s ended", mo->m.action == MANUAL_BLOCK ? "block" : "unblock",
                 mo->name);
        struct manual gone = *mo;
        *mo = eng.manual[--eng.nmanual];
        if (gone.is_addr)       /* back to the evidence, starting clean */
            rules_force(eng.rules, &gone.addr, BREAKER_DIRECT, SRC_MANUAL, "manual override ended", 0, now);
        else
            engine_reroute(gone.name);
        return;
    }
    if (mo == NULL) {
        if (eng.nmanual == MAX_MANUAL) {
            msg_warn(MOD, "more than %d manual overrides; %s is ignored", MAX_MANUAL, name);
            return;
        }
        mo = &eng.manual[eng.nmanual++];
    }
    memset(mo, 0, sizeof(*mo));
    snprintf(mo->name, sizeof(mo->name), "%s", name);
    mo->m = *m;
    mo->is_addr = netaddr_parse(name, &mo->addr) == 0;
    msg_info(MOD, "manual %s of %s%s%s by %s%s%s", m->action == MANUAL_BLOCK ? "block" : "unblock",
             name, m->via[0] ? " via " : "", m->via, m->by, m->reason[0] ? ": " : "", m->reason);
    if (mo->is_addr)
        apply_addr_manual(mo, now);
    else
        engine_reroute(name);
}

static void expire_manual(uint64_t now)
{
    for (size_t i = 0; i < eng.nmanual;) {
        if (eng.manual[i].m.expires_ms && eng.manual[i].m.expires_ms <= now) {
            char name[DOMAIN_MAXLEN + 1];
            snprintf(name, sizeof(name), "%s", eng.manual[i].name);
            on_manual(name, NULL, NULL);        /* moves the last entry here */
        } else {
            i++;
        }
    }
}

/* ---- DNS: which addresses serve a domain ---- */

static void on_mx(const struct mx_result *res, void *arg)
{
    struct rules_mx mx[MX_MAX_HOSTS * MX_MAX_ADDRS];
    size_t n = 0;
    int racing = 0;
    (void)arg;

    if (res->status == MX_OK) {
        for (size_t h = 0; h < res->nhosts; h++)
            for (size_t a = 0; a < res->hosts[h].naddrs && n < sizeof(mx) / sizeof(mx[0]); a++) {
                mx[n].host = res->hosts[h].name;
                mx[n].addr = res->hosts[h].addrs[a];
                /* A listed address is acted on before the domain's
                 * route is decided, so its first message goes right. */
                feedpolicy_seen(&mx[n].addr, mx[n].host, clock_now_ms());
                n++;
            }
        if (n > 0)
            rules_domain_set_mx(eng.rules, res->domain, mx, n, clock_now_ms());
        /* Addresses with no fresh verdict are raced against a control
         * path; the milter's answer waits for them (within route_wait). */
        for (size_t i = 0; i < n; i++)
            if (!feedpolicy_allowed(&mx[i].addr))
                racing |= control_consider(&mx[i].addr, mx[i].host, res->domain, clock_now_ms());
    }
    /* Whatever DNS said, the domain now has an answer for the milter,
     * unless its new detour is still on its way into Postfix. */
    if (!racing)
        engine_show_unless_pending(res->domain);
}

void engine_resolve(const char *domain)
{
    if (mxresolve_domain(eng.dns, domain, on_mx, NULL) < 0)
        engine_show_unless_pending(domain);
}

/* ---- Probes ---- */

static void on_probe_result(const struct netaddr *addr, const char *host,
                            const struct probe_result *r, void *arg)
{
    struct breaker_params p;
    char text[NETADDR_STRLEN];
    uint64_t now = clock_now_ms();
    (void)arg;

    params_for(addr, host, NULL, &p, NULL);
    netaddr_format(addr, text, sizeof(text));
    if (feedpolicy_allowed(addr)
        || feedpolicy_probe_result(addr, host, probe_is_success(r->kind), probe_fail_kind(r->kind), now))
        return;
    if (probe_is_success(r->kind)) {
        rules_success(eng.rules, addr, host, NULL, SRC_PROBE, now);
        store_async_record(text, host, ASTORE_SUCCESS, FAIL_NONE, SRC_PROBE, &p, now, BREAKER_DIRECT, 0, NULL);
    } else if (probe_fail_kind(r->kind) != FAIL_NONE) {
        rules_failure(eng.rules, addr, host, NULL, probe_fail_kind(r->kind), SRC_PROBE, now);
        store_async_record(text, host, ASTORE_FAILURE, probe_fail_kind(r->kind), SRC_PROBE, &p, now,
                      BREAKER_DIRECT, 0, NULL);
    }
}

/* A race ended (control.c): a result without a verdict is a probe's
 * evidence like any other; the domains that waited get their answer. */
static void on_control_done(const struct race_outcome *o, const char *host, const char *const *domains,
                            size_t ndomains, void *arg)
{
    (void)arg;
    if (o && (o->decision == RACE_NO_CONTROL || o->decision == RACE_OPEN) && o->direct.done) {
        struct probe_result r = {.kind = o->direct.kind, .elapsed_ms = o->direct.ms, .addr = o->addr,
                                 .text = o->direct_text};
        on_probe_result(o->addr, host, &r, NULL);
    }
    for (size_t i = 0; i < ndomains; i++)
        engine_show_unless_pending(domains[i]);
}

/* ---- Rules events ---- */

static void on_change(const struct rules_change *c, void *arg)
{
    char buf[NETADDR_STRLEN];
    (void)arg;

    switch (c->kind) {
    case RULES_CHANGE_ADDR:
        metrics_inc(MET_ADDRESS_CHANGES, c->new_state);
        msg_info(MOD, "%s[%s]: %s -> %s: %s", c->host && *c->host ? c->host : "-",
                 netaddr_format(c->addr, buf, sizeof(buf)), breaker_state_name(c->old_state),
                 breaker_state_name(c->new_state), c->reason ? c->reason : "");
        kernelpub_addr(c->addr, c->new_state != BREAKER_DIRECT, c->reason);
        if (c->outage) {
            /* A trip the outage guard undid was written to Redis before the
             * outage was recognised: undo it there too, unless the shared
             * record's trip is older than the outage window (another MTA's). */
            struct breaker_params p;
            uint64_t now = clock_now_ms(), window = eng.d->cfg->outage.window_ms;
            params_for(c->addr, c->host, NULL, &p, NULL);
            store_async_record(buf, c->host, ASTORE_UNDO_TRIP, FAIL_NONE, SRC_LOG, &p, now,
                          BREAKER_DIRECT, now > window ? now - window : 0, c->reason);
        }
        break;
    case RULES_CHANGE_DOMAIN: {
        struct engine_route rt;
        metrics_destination_change(c->domain, c->new_state == BREAKER_DETOURED);
        engine_route(c->domain, &rt);
        if (rt.kind == ENGINE_DETOUR)
            msg_info(MOD, "%s; routing via %s", c->explain, rt.relay->name);
        else if (rt.kind == ENGINE_POLICY)
            msg_info(MOD, "%s; policy %s", c->explain, policy_name(rt.policy));
        else
            msg_info(MOD, "%s", c->explain);
        engine_reroute(c->domain);
        break;
    }
    case RULES_CHANGE_OUTAGE:
        if (c->outage)
            msg_warn(MOD, "%s", c->explain);
        else
            msg_info(MOD, "%s", c->explain);
        break;
    }
}

static int params_for(const struct netaddr *addr, const char *host, const char *domain,
                      struct breaker_params *out, void *arg)
{
    (void)addr;
    (void)host;
    (void)arg;
    *out = *cfg_detect_for(eng.d->cfg, domain);
    return 0;
}

/* ---- Evidence ---- */

static void record(const struct netaddr *addr, const char *host, const char *domain,
                   enum store_async_op op, enum fail_kind kind, uint64_t t)
{
    struct breaker_params p;
    char text[NETADDR_STRLEN];

    metrics_inc(MET_EVIDENCE, op == ASTORE_FAILURE ? kind : FAIL_NONE);
    if (feedpolicy_seen(addr, host, t))
        return;                 /* an allow list's address: never detoured */
    params_for(addr, host, domain, &p, NULL);
    if (op == ASTORE_FAILURE) {
        rules_failure(eng.rules, addr, host, domain, kind, SRC_LOG, t);
        control_consider(addr, host, domain, t);    /* a verdict in seconds, not after N timeouts */
    } else
        rules_success(eng.rules, addr, host, domain, SRC_LOG, t);
    if (!rules_outage(eng.rules) || !outage_active(rules_outage(eng.rules)))
        store_async_record(netaddr_format(addr, text, sizeof(text)), host, op, kind, SRC_LOG, &p, t,
                      BREAKER_DIRECT, 0, NULL);
}

static void on_event(const struct logparse_event *ev, void *arg)
{
    uint64_t now = clock_now_ms();
    uint64_t t = ev->time_ms && ev->time_ms + SKEW_MS > now && ev->time_ms < now + SKEW_MS ? ev->time_ms : now;
    (void)arg;

    switch (ev->type) {
    case LOGPARSE_CONNECT_FAIL:
        relayhealth_evidence(&ev->addr, 0);
        if (kernelpub_holds(&ev->addr))
            break;      /* Postfix went through a kernel-mode tunnel: no word on the direct path */
        record(&ev->addr, ev->host, NULL, ASTORE_FAILURE, ev->kind, t);
        break;
    case LOGPARSE_REPLY:
        relayhealth_evidence(&ev->addr, 1);
        if (kernelpub_holds(&ev->addr))
            break;
        record(&ev->addr, ev->host, NULL, ASTORE_SUCCESS, FAIL_NONE, t);
        break;
    case LOGPARSE_STATUS:
        if (ev->repeat || ev->rcpt_domain[0] == 0)
            break;
        /* Learn which addresses serve the domain, but never from mail we
         * sent through a relay ourselves. */
        struct engine_route rt;
        engine_route(ev->rcpt_domain, &rt);
        if (rt.kind != ENGINE_DIRECT)
            break;
        struct rules_domain_view dv;
        int known = rules_domain_get(eng.rules, ev->rcpt_domain, &dv) == 0;
        for (unsigned i = 0; i < ev->nattempts; i++) {
            feedpolicy_seen(&ev->attempts[i].addr, NULL, t);
            rules_domain_add_mx(eng.rules, ev->rcpt_domain, NULL, &ev->attempts[i].addr, t);
        }
        if (ev->have_addr) {
            feedpolicy_seen(&ev->addr, ev->host, t);
            rules_domain_add_mx(eng.rules, ev->rcpt_domain, ev->host, &ev->addr, t);
        }
        if (!known || ev->nattempts > 0)
            engine_resolve(ev->rcpt_domain);   /* the whole MX set, not only what was tried */
        break;
    default:
        break;
    }
}

void engine_log_line(const char *line, size_t len)
{
    logparse_line(eng.parser, line, len);
}

static void on_line(const char *line, size_t len, void *arg)
{
    (void)arg;
    engine_log_line(line, len);
}

/* ---- Shared state ---- */

static void on_addr(const struct store_addr *a, void *arg)
{
    struct netaddr addr;
    (void)arg;
    if (netaddr_parse(a->addr, &addr) < 0)
        return;
    if (feedpolicy_allowed(&addr) && breaker_is_detoured(&a->b) && a->b.source != SRC_MANUAL)
        return;                 /* another MTA's detour of an address we allow */
    rules_addr_put(eng.rules, &addr, a->host, &a->b, clock_now_ms());
    struct manual *mo = engine_manual_find(a->addr);
    if (mo)
        apply_addr_manual(mo, clock_now_ms());
}

/* A destination record in Redis that another MTA detoured: a domain this
 * daemon has not met learns its MX addresses from it, so its route is in
 * force here before its first message (without a milter to ask). */
static void on_domain(const struct store_domain *d, void *arg)
{
    struct rules_mx mx[RULES_MAX_MX];
    char hosts[RULES_MAX_MX][DOMAIN_MAXLEN + 1], norm[DOMAIN_MAXLEN + 1];
    struct rules_domain_view v;
    const char *p = d->mx;
    size_t n = 0;
    (void)arg;

    if (strcmp(d->state, "direct") == 0 || domain_normalize(d->domain, strlen(d->domain), norm, sizeof(norm)) < 0
        || rules_domain_get(eng.rules, norm, &v) == 0)
        return;
    while (p && *p && n < RULES_MAX_MX) {
        if ((p = store_domain_mx_next(p, hosts[n], sizeof(hosts[n]), &mx[n].addr)) == NULL)
            break;
        mx[n].host = hosts[n][0] ? hosts[n] : NULL;
        feedpolicy_seen(&mx[n].addr, mx[n].host, clock_now_ms());
        n++;
    }
    if (n > 0)
        rules_domain_set_mx(eng.rules, norm, mx, n, clock_now_ms());
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    uint64_t now = clock_now_ms();
    (void)fd;
    (void)what;
    (void)arg;
    expire_manual(now);
    rules_tick(eng.rules, now);
    recheck_tick(eng.rules, now);
    feedpolicy_tick(now);
    health_note_rules(eng.rules);
    char paths[2048];
    control_paths_text(paths, sizeof(paths));
    health_note_control(paths);
    engine_logs_tick(eng.d->cfg, now);
}

static void on_feeds_changed(void *arg)
{
    (void)arg;
    feedpolicy_recheck_all(clock_now_ms());
}

/* ---- Module hooks ---- */

static int engine_start(struct daemon *d)
{
    const struct cfg *cfg = d->cfg;
    struct rules_config rc;
    char names[1024] = "", err[256];

    memset(&eng, 0, sizeof(eng));
    eng.d = d;
    rules_config_default(&rc);
    rc.defaults = cfg->detect;
    rc.outage.min_destinations = cfg->outage.min_destinations;
    rc.outage.share = cfg->outage.share;
    rc.outage.window_ms = cfg->outage.window_ms;
    rc.params = params_for;
    rc.on_change = on_change;
    rc.hash_seed = clock_mono_ms() ^ (uint64_t)(uintptr_t)&eng;
    if ((eng.rules = rules_new(&rc)) == NULL) {
        msg_warn(MOD, "cannot set up the rules");
        return -1;
    }
    if ((eng.parser = logparse_create(cfg_syslog_names(cfg, names, sizeof(names)), on_event, NULL)) == NULL) {
        msg_warn(MOD, "postfix.syslog_names: invalid list \"%s\"", names);
        return -1;
    }
    for (size_t i = 0; i < cfg->nlogs && eng.nlogs < MAX_LOGS; i++) {
        char state[4096];
        struct follower_config fc = {.on_line = on_line};
        const struct cfg_log *lg = &cfg->logs[i];
        fc.source = lg->type == CFG_LOG_FILE ? FOLLOW_FILE : lg->type == CFG_LOG_COMMAND ? FOLLOW_COMMAND
                                                                                            : FOLLOW_FD;
        fc.path = lg->path;
        fc.command = lg->command;
        fc.fd = 0;
        snprintf(state, sizeof(state), "%s/log%zu.pos", cfg->state_dir, i);
        fc.state_path = lg->type == CFG_LOG_FILE ? state : NULL;
        eng.logs[eng.nlogs] = follower_create(d->base, &fc, err, sizeof(err));
        if (eng.logs[eng.nlogs] == NULL) {
            msg_warn(MOD, "log %s: %s", lg->path ? lg->path : lg->command ? lg->command : "stdin", err);
            return -1;
        }
        eng.nlogs++;
    }
    routes_on_live(engine_on_route_live, NULL);
    if (routeview_start(d->base, engine_on_view_request, NULL) < 0) {
        msg_warn(MOD, "cannot set up the route view");
        return -1;
    }
    if ((eng.dns = mxresolve_new(d->base)) == NULL || recheck_start(d->base, &cfg->probe, on_probe_result, NULL) < 0
        || relayhealth_start(d->base, cfg, engine_on_relay_change, NULL) < 0
        || control_start(d->base, cfg, eng.rules, on_control_done, NULL) < 0) {
        msg_warn(MOD, "cannot set up DNS resolution and probes");
        return -1;
    }
    struct store_async_callbacks cb = {.on_addr = on_addr, .on_manual = on_manual, .on_domain = on_domain, .on_up = engine_on_store_up};
    if (store_async_start(d->base, &cfg->redis, cfg->site, &cb) < 0)
        return -1;
    feedpolicy_start(eng.rules, cfg);
    if (feedset_start(d->base, cfg, on_feeds_changed, NULL) < 0) {
        msg_warn(MOD, "cannot set up the block-list feeds");
        return -1;
    }
    engine_logs_start(cfg);
    eng.tick = event_new(d->base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
    if (eng.tick == NULL || event_add(eng.tick, &tv) < 0)
        return -1;
    msg_info(MOD, "site %s: following %zu log%s", cfg->site, eng.nlogs, eng.nlogs == 1 ? "" : "s");
    return 0;
}

static void engine_stop(struct daemon *d)
{
    (void)d;
    if (eng.tick)
        event_free(eng.tick);
    for (size_t i = 0; i < eng.nlogs; i++)
        follower_free(eng.logs[i]);
    routes_on_live(NULL, NULL);
    engine_pending_clear();
    feedset_stop();
    feedpolicy_stop();
    control_stop();
    recheck_stop();
    relayhealth_stop();
    if (eng.dns)
        mxresolve_free(eng.dns);
    store_async_stop();
    routeview_stop();
    if (eng.parser)
        logparse_free(eng.parser);
    if (eng.rules)
        rules_free(eng.rules);
    memset(&eng, 0, sizeof(eng));
}

/* A new configuration: relays, probes and destination policies may have
 * changed, so every detoured or overridden destination is routed again. */
static void engine_reload(struct daemon *d, const struct cfg *old)
{
    (void)old;
    relayhealth_configure(d->cfg);
    recheck_configure(&d->cfg->probe);
    control_configure(d->cfg);
    feedpolicy_configure(d->cfg);
    feedset_configure(d->cfg);
    engine_on_relay_change(NULL, 1, NULL);
}

const struct daemon_module engine_module = {
    .name = "engine",
    .start = engine_start,
    .reload = engine_reload,
    .stop = engine_stop,
};

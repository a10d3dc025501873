/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_routes - the engine's routes: where mail for a domain goes now
 * (engine_route), what the milter's threads are shown (the route view, held
 * back while a new detour is on its way into Postfix), and re-publishing a
 * domain's route and record after every change.  See engine.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "engine_int.h"
#include "kernelpub.h"
#include "metrics.h"
#include "msg.h"
#include "relayhealth.h"
#include "routes.h"
#include "routeview.h"
#include "store_async.h"

#define MOD "engine"

/* ---- Routes ---- */

/* The relay to use: the one an administrator named, else the destination's
 * first relay that is up (relayhealth).  NULL when every relay is down:
 * the destination then stays on direct routing and Postfix keeps its mail. */
static const struct cfg_relay *first_relay(const struct cfg *cfg, const struct cfg_dest *dest,
                                           const char *via)
{
    if (via && *via)
        return cfg_relay_find(cfg, via);
    for (size_t i = 0; dest && i < dest->nrelays; i++)
        if (relayhealth_is_up(cfg->relays[dest->relays[i]].name))
            return &cfg->relays[dest->relays[i]];
    return NULL;
}

void engine_route(const char *domain, struct engine_route *out)
{
    const struct cfg *cfg = eng.d->cfg;
    const struct cfg_dest *dest = cfg_dest_match(cfg, domain);
    const struct manual *mo = engine_manual_find(domain);

    memset(out, 0, sizeof(*out));
    out->why = "direct";
    if (mo && mo->m.action == MANUAL_UNBLOCK) {
        out->why = "manual unblock";
        return;
    }
    if (mo && mo->m.action == MANUAL_BLOCK) {
        out->relay = first_relay(cfg, dest, mo->m.via);
        out->kind = out->relay ? ENGINE_DETOUR : ENGINE_DIRECT;
        out->why = out->relay ? "manual block" : "manual block, but no relay to use";
        out->no_relay = out->relay == NULL;
        return;
    }
    if (dest == NULL || dest->policy == POLICY_PASS || rules_domain_detoured(eng.rules, domain) != 1)
        return;
    out->why = "every MX address blocked";
    if (dest->policy != POLICY_DETOUR) {
        out->kind = ENGINE_POLICY;
        out->policy = dest->policy;
        return;
    }
    out->relay = first_relay(cfg, dest, NULL);
    if (out->relay)
        out->kind = ENGINE_DETOUR;
    else
        out->why = dest->nrelays ? "every MX address blocked, and every relay is down"
                                 : "every MX address blocked, but no relay is configured";
    out->no_relay = out->relay == NULL;
}

/* The answer milter threads read (routeview.h). */
static void publish_view(const char *domain, const struct engine_route *rt)
{
    struct routeview_entry e = {0};
    e.kind = rt->kind == ENGINE_DETOUR ? RV_DETOUR : rt->kind == ENGINE_POLICY ? RV_POLICY : RV_DIRECT;
    e.policy = rt->policy;
    snprintf(e.relay, sizeof(e.relay), "%s", rt->relay ? rt->relay->name : "");
    snprintf(e.reason, sizeof(e.reason), "%s", rt->why);
    routeview_set(domain, &e);
}

/* Domains whose new detour is not in Postfix yet: their view waits for
 * on_route_live.  Small and bounded: a full list only loses the wait. */
#define MAX_PENDING 256
static char pending[MAX_PENDING][DOMAIN_MAXLEN + 1];
static size_t npending;

static void pending_view(const char *domain)
{
    for (size_t i = 0; i < npending; i++)
        if (strcmp(pending[i], domain) == 0)
            return;
    if (npending < MAX_PENDING)
        snprintf(pending[npending++], sizeof(pending[0]), "%s", domain);
}

static int pending_take(const char *domain)
{
    for (size_t i = 0; i < npending; i++)
        if (strcmp(pending[i], domain) == 0) {
            memcpy(pending[i], pending[--npending], sizeof(pending[0]));
            return 1;
        }
    return 0;
}

static int is_pending(const char *domain)
{
    for (size_t i = 0; i < npending; i++)
        if (strcmp(pending[i], domain) == 0)
            return 1;
    return 0;
}

void engine_show_unless_pending(const char *domain)
{
    struct engine_route rt;
    if (is_pending(domain))
        return;
    engine_route(domain, &rt);
    publish_view(domain, &rt);
}

/* A milter thread met a domain with no answer yet.  What the rules know of
 * its MX addresses decides now; DNS resolution refines it. */
/* Domains a milter thread asked about lately: a detour found for one of
 * them must be in force before that message is queued, so its publication
 * reloads Postfix (routes_urgent) though nothing waits in the queue yet. */
#define MAX_ASKED 256
#define ASKED_FOR_MS 60000          /* longer than milter.route_wait's 30 s at most */
static struct {
    char domain[DOMAIN_MAXLEN + 1];
    uint64_t at_ms;
} asked[MAX_ASKED];
static size_t asked_next;

static void asked_note(const char *domain)
{
    snprintf(asked[asked_next].domain, sizeof(asked[0].domain), "%s", domain);
    asked[asked_next].at_ms = clock_mono_ms();
    asked_next = (asked_next + 1) % MAX_ASKED;
}

static int asked_lately(const char *domain)
{
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < MAX_ASKED; i++)
        if (asked[i].domain[0] && now - asked[i].at_ms < ASKED_FOR_MS
            && strcmp(asked[i].domain, domain) == 0)
            return 1;
    return 0;
}

void engine_on_view_request(const char *domain, void *arg)
{
    char norm[DOMAIN_MAXLEN + 1];
    struct engine_route rt;
    (void)arg;
    if (domain_normalize(domain, strlen(domain), norm, sizeof(norm)) < 0)
        return;
    asked_note(norm);
    engine_route(norm, &rt);
    if (rt.kind != ENGINE_DIRECT)
        engine_show_unless_pending(norm);  /* known already: answer at once */
    else
        engine_resolve(norm);              /* its MX addresses may be blocked ones */
}

/* Set while engine_on_store_up() re-publishes: records are then only put back
 * where Redis lost them. */
static int restoring;

/* Publishes the domain's route and record after a change. */
void engine_reroute(const char *domain)
{
    struct engine_route rt;
    struct store_domain rec = {0};
    struct rules_domain_view v;
    char buf[NETADDR_STRLEN];

    engine_route(domain, &rt);
    snprintf(rec.domain, sizeof(rec.domain), "%s", domain);
    snprintf(rec.state, sizeof(rec.state), "%s",
             rt.kind == ENGINE_DETOUR ? "detoured" : rt.kind == ENGINE_POLICY ? policy_name(rt.policy)
                                                                             : "direct");
    snprintf(rec.via, sizeof(rec.via), "%s", rt.relay ? rt.relay->name : "");
    snprintf(rec.reason, sizeof(rec.reason), "%s", rt.why);
    rec.since_ms = clock_now_ms();
    if (rules_domain_get(eng.rules, domain, &v) == 0) {
        size_t len = 0;
        for (size_t i = 0; i < v.nmx && len < sizeof(rec.mx); i++) {
            struct rules_addr_view av;
            const char *host = rules_addr_get(eng.rules, &v.mx[i], &av) == 0 && av.host[0] ? av.host : "";
            int w = snprintf(rec.mx + len, sizeof(rec.mx) - len, "%s%s[%s]", i ? " " : "", host,
                             netaddr_format(&v.mx[i], buf, sizeof(buf)));
            if (w < 0 || (size_t)w >= sizeof(rec.mx) - len) {
                rec.mx[len] = 0;    /* keep whole entries only */
                break;
            }
            len += (size_t)w;
        }
    }
    if (restoring)
        store_async_domain_restore(&rec);
    else
        store_async_domain_put(&rec);
    /* A new detour is shown to the milter only once Postfix has it
     * (engine_on_route_live), so that mail it accepts is never routed the old way;
     * everything else is shown at once. */
    /* A tunnel in mode "kernel" detours by address below Postfix
     * (kernelpub): no transport entry. */
    const char *want = rt.kind == ENGINE_DETOUR && rt.relay->mode != RELAY_MODE_KERNEL
                       ? rt.relay->nexthop : NULL;
    const char *had = routes_get(domain);
    if (want == NULL || (had && strcmp(had, want) == 0)) {
        publish_view(domain, &rt);
    } else {
        pending_view(domain);
        /* Mail at RCPT is waiting mail the queue does not show yet; an
         * administrator's block with nothing waiting is left to Postfix's
         * own table check, like any other change (routes_reload.h). */
        if (asked_lately(domain))
            routes_urgent(domain, "a message waits for it at the milter");
    }
    routes_set(domain, want);
    /* Only when a detour was meant: "pass", no destination and a manual
     * unblock keep direct routing on purpose. */
    if (rt.no_relay && rules_domain_detoured(eng.rules, domain) == 1)
        msg_warn(MOD, "%s is blocked but stays on direct routing: %s; Postfix keeps its mail "
                 "queued", domain, rt.why);
}

void engine_on_route_live(const char *domain, void *arg)
{
    (void)arg;
    metrics_detour_live(domain);
    pending_take(domain);
    engine_show_unless_pending(domain);
}

static int reroute_detoured(const struct rules_domain_view *v, void *arg)
{
    (void)arg;
    if (v->detoured)
        engine_reroute(v->domain);
    return 0;
}

/* A relay went down or came back: move the destinations that use it. */
void engine_on_relay_change(const char *relay, int up, void *arg)
{
    (void)arg;
    kernelpub_relay_change(relay, up);
    rules_domain_foreach(eng.rules, reroute_detoured, NULL);
    for (size_t i = 0; i < eng.nmanual; i++)
        if (!eng.manual[i].is_addr)
            engine_reroute(eng.manual[i].name);
}

/* Redis is (back) up, maybe a new master that never got our last writes:
 * put back the records of our detoured destinations it lacks. */
void engine_on_store_up(void *arg)
{
    kernelpub_store_up();
    restoring = 1;
    engine_on_relay_change(NULL, 1, arg);
    restoring = 0;
}

void engine_pending_clear(void)
{
    npending = 0;
}

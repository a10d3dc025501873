/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_int - what engine.c (evidence, rules events, manual overrides, the
 * module) and engine_routes.c (routes, the milter's view, re-publishing)
 * share, and nothing else should use.  One instance, on the daemon's loop.
 */
#ifndef MXD_ENGINE_INT_H
#define MXD_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "netaddr.h"
#include "rules.h"
#include "store.h"

struct cfg;
struct event;
struct follower;
struct logparse;
struct mxresolve;

#define MAX_MANUAL 4096
#define ENGINE_MAX_LOGS 8

struct manual {
    char name[DOMAIN_MAXLEN + 1];
    int is_addr;
    struct netaddr addr;
    struct store_manual m;
};

struct engine_state {
    struct daemon *d;
    struct rules *rules;
    struct logparse *parser;
    struct follower *logs[ENGINE_MAX_LOGS];
    size_t nlogs;
    struct event *tick;
    struct mxresolve *dns;
    struct manual manual[MAX_MANUAL];
    size_t nmanual;
};

extern struct engine_state eng;


/* engine.c */
struct manual *engine_manual_find(const char *name);
/* Resolves the domain's MX set (mxresolve); the view is shown when it comes. */
void engine_resolve(const char *domain);

/* engine_logs.c: whether the logs give evidence (health file, metrics). */
void engine_logs_start(const struct cfg *cfg);
void engine_logs_tick(const struct cfg *cfg, uint64_t now);

/* engine_routes.c */
/* Publishes the domain's route, view and record after a change. */
void engine_reroute(const char *domain);
/* Shows the domain's view to the milter unless its detour is on its way. */
void engine_show_unless_pending(const char *domain);
void engine_pending_clear(void);
/* Callbacks: routeview (a milter thread met a domain), routes (a route is
 * live in Postfix), relayhealth (a relay went down or came back), astore
 * (Redis is up, maybe a new master). */
void engine_on_view_request(const char *domain, void *arg);
void engine_on_route_live(const char *domain, void *arg);
void engine_on_relay_change(const char *relay, int up, void *arg);
void engine_on_store_up(void *arg);

#endif

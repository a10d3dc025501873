/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg - mxdetour.conf(5), see cfg.h.  Each section has one reader below; the
 * generic, error-reporting reads live in cfg_read.c.  Defaults are chosen in
 * docs/detection.md and documented in mxdetour.conf(5).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_control.h"
#include "cfg_read.h"
#include "cfg_metrics.h"
#include "cfg_redis.h"
#include "duration.h"
#include "netaddr.h"

#define DAY_MS (86400ULL * 1000)

static const char *const policy_names[] = {"detour", "hold", "tempfail", "reject", "pass", NULL};

const char *policy_name(enum policy p)
{
    return (unsigned)p < 5 ? policy_names[p] : "unknown";
}

static bool valid_name(const char *s)
{
    return cfg_read_valid_name(s);
}

/* Detection parameters, globally or as a destination's override of them. */
static void read_detection(struct cfg_reader *r, const config_setting_t *g,
                           const struct breaker_params *dflt, struct breaker_params *p)
{
    char where[256];
    size_t nkinds;
    char **kinds = cfg_read_strings(r, g, "kinds", &nkinds);

    *p = *dflt;
    if (kinds) {
        p->kinds = 0;
        const config_setting_t *ks = config_setting_get_member(g, "kinds");
        for (size_t i = 0; i < nkinds; i++) {
            enum fail_kind k = fail_kind_parse(kinds[i]);
            if (k == FAIL_NONE)
                cfg_read_error(r, ks, "%s: unknown failure kind \"%s\" (timeout, refused, unreach, "
                           "greeting, tls)", cfg_read_path(ks, where, sizeof(where)), kinds[i]);
            else
                p->kinds |= FAIL_BIT(k);
        }
        if (nkinds == 0)
            cfg_read_error(r, ks, "%s: name at least one failure kind", cfg_read_path(ks, where, sizeof(where)));
        cfg_read_free_strings(kinds, nkinds);
    }
    p->threshold = (unsigned)cfg_read_int(r, g, "threshold", dflt->threshold, 1, BREAKER_MAX_FAILS);
    p->window_ms = cfg_read_duration(r, g, "window", dflt->window_ms, 1000, 7 * DAY_MS);
    p->cooldown_ms = cfg_read_duration(r, g, "cooldown", dflt->cooldown_ms, 1000, 7 * DAY_MS);
    p->cooldown_max_ms = cfg_read_duration(r, g, "cooldown_max", dflt->cooldown_max_ms, 1000, 30 * DAY_MS);
    p->decay_ms = cfg_read_duration(r, g, "decay", dflt->decay_ms, 1000, 30 * DAY_MS);
    p->probe_successes = (unsigned)cfg_read_int(r, g, "probe_successes", dflt->probe_successes, 1, 10);
    cfg_read_down_everywhere(r, g, dflt->down_detour, p);
    if (g && (config_setting_get_member(g, "cooldown") || config_setting_get_member(g, "cooldown_max"))
        && p->cooldown_max_ms < p->cooldown_ms)
        cfg_read_error(r, g, "%s: cooldown_max is shorter than cooldown", cfg_read_path(g, where, sizeof(where)));
}

static const char *const detection_keys[] = {"kinds", "threshold", "window", "cooldown",
                                             "cooldown_max", "decay", "probe_successes",
                                             "down_everywhere", NULL};

static void read_global_detection(struct cfg_reader *r, const config_setting_t *root, struct cfg *c)
{
    static const char *const keys[] = {"kinds", "threshold", "window", "cooldown", "cooldown_max",
                                       "decay", "probe_successes", "down_everywhere", "outage", NULL};
    static const char *const outage_keys[] = {"min_destinations", "share", "window", NULL};
    static const struct breaker_params builtin = {
        .threshold = 3, .window_ms = 600000, .cooldown_ms = 300000, .cooldown_max_ms = 3600000,
        .decay_ms = 3600000, .kinds = FAIL_DEFAULT_KINDS, .probe_successes = 2,
    };
    const config_setting_t *g = cfg_read_group(r, root, "detection");

    if (g)
        cfg_read_check_keys(r, g, keys);
    read_detection(r, g, &builtin, &c->detect);
    const config_setting_t *o = g ? cfg_read_group(r, g, "outage") : NULL;
    if (o)
        cfg_read_check_keys(r, o, outage_keys);
    c->outage.min_destinations = (unsigned)cfg_read_int(r, o, "min_destinations", 5, 2, 10000);
    c->outage.share = cfg_read_float(r, o, "share", 0.5, 0.0, 1.0);
    c->outage.window_ms = cfg_read_duration(r, o, "window", 300000, 10000, DAY_MS);
}

static void read_probe(struct cfg_reader *r, const config_setting_t *root, struct cfg_probe *p)
{
    static const char *const keys[] = {"source_address", "timeout", "concurrency", "jitter", "port",
                                       "relay_interval", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "probe");
    struct netaddr a;

    if (g)
        cfg_read_check_keys(r, g, keys);
    p->source_address = cfg_read_string(r, g, "source_address", NULL, false);
    if (p->source_address && netaddr_parse(p->source_address, &a) < 0)
        cfg_read_error(r, config_setting_get_member(g, "source_address"),
                   "probe.source_address: \"%s\" is not an IP address", p->source_address);
    p->timeout_ms = cfg_read_duration(r, g, "timeout", 15000, 1000, 300000);
    p->concurrency = (unsigned)cfg_read_int(r, g, "concurrency", 4, 1, 256);
    p->jitter_ms = cfg_read_duration(r, g, "jitter", 5000, 0, 3600000);
    p->port = (int)cfg_read_int(r, g, "port", 25, 1, 65535);
    p->relay_interval_ms = cfg_read_duration(r, g, "relay_interval", 15000, 1000, 3600000);
}

/* "smtp:[relay.example]:587" -> check host "relay.example", port 587. */
static void nexthop_target(const char *nexthop, char **host, int *port)
{
    const char *lb = strchr(nexthop, '[');
    const char *rb = lb ? strchr(lb, ']') : NULL;

    *host = NULL;
    *port = 25;
    if (lb && rb && rb > lb + 1) {
        *host = strndup(lb + 1, (size_t)(rb - lb - 1));
        if (rb[1] == ':')
            *port = atoi(rb + 2) > 0 && atoi(rb + 2) < 65536 ? atoi(rb + 2) : 25;
    }
}

static void read_relays(struct cfg_reader *r, const config_setting_t *root, struct cfg *c)
{
    static const char *const keys[] = {"name", "type", "nexthop", "transport", "mode", "check",
                                       "source_address", "interface", CFG_KERNEL_KEYS,
                                       CFG_CONTROL_KEYS, CFG_DELIVER_RELAY_KEYS, NULL};
    static const char *const types[] = {"smarthost", "tunnel", NULL};
    static const char *const modes[] = {"transport", "kernel", NULL};
    const config_setting_t *l = cfg_read_list(r, root, "relays");
    char where[256];

    if (l == NULL)
        return;
    c->nrelays = (size_t)config_setting_length(l);
    c->relays = calloc(c->nrelays ? c->nrelays : 1, sizeof(*c->relays));
    for (size_t i = 0; i < c->nrelays; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        struct cfg_relay *rl = &c->relays[i];
        rl->line = config_setting_source_line(g);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfg_read_error(r, g, "%s: must be a group { name = ...; ... }", cfg_read_path(g, where, sizeof(where)));
            continue;
        }
        cfg_read_check_keys(r, g, keys);
        rl->name = cfg_read_string(r, g, "name", NULL, true);
        if (rl->name && !valid_name(rl->name))
            cfg_read_error(r, g, "%s.name: \"%s\": use letters, digits, '-', '_' and '.'",
                       cfg_read_path(g, where, sizeof(where)), rl->name);
        for (size_t j = 0; rl->name && j < i; j++)
            if (c->relays[j].name && strcmp(c->relays[j].name, rl->name) == 0)
                cfg_read_error(r, g, "%s: duplicate relay name \"%s\" (first defined at line %d)",
                           cfg_read_path(g, where, sizeof(where)), rl->name, c->relays[j].line);
        rl->type = (enum relay_type)cfg_read_enum(r, g, "type", types, RELAY_SMARTHOST);
        rl->mode = (enum relay_mode)cfg_read_enum(r, g, "mode", modes, RELAY_MODE_TRANSPORT);
        rl->source_address = cfg_read_string(r, g, "source_address", NULL, false);
        rl->interface = cfg_read_string(r, g, "interface", NULL, false);
        char *check = cfg_read_string(r, g, "check", NULL, false);
        if (rl->type == RELAY_SMARTHOST) {
            rl->nexthop = cfg_read_string(r, g, "nexthop", NULL, true);
            if (rl->nexthop && (strchr(rl->nexthop, ':') == NULL || strpbrk(rl->nexthop, " \t")))
                cfg_read_error(r, config_setting_get_member(g, "nexthop"),
                           "%s.nexthop: \"%s\" is not a transport:nexthop such as "
                           "\"smtp:[relay.example.net]:587\"", cfg_read_path(g, where, sizeof(where)), rl->nexthop);
            else if (rl->nexthop)
                nexthop_target(rl->nexthop, &rl->check_host, &rl->check_port);
        } else {
            char *transport = cfg_read_string(r, g, "transport", NULL, rl->mode == RELAY_MODE_TRANSPORT);
            if (transport) {
                /* Empty next-hop: Postfix keeps the recipient domain (transport(5)). */
                size_t n = strlen(transport) + 2;
                rl->nexthop = malloc(n);
                snprintf(rl->nexthop, n, "%s:", transport);
                if (!valid_name(transport))
                    cfg_read_error(r, config_setting_get_member(g, "transport"),
                               "%s.transport: \"%s\" is not a master.cf service name",
                               cfg_read_path(g, where, sizeof(where)), transport);
                free(transport);
            }
            if (rl->mode == RELAY_MODE_KERNEL && rl->interface == NULL)
                cfg_read_error(r, g, "%s: mode \"kernel\" needs interface", cfg_read_path(g, where, sizeof(where)));
            cfg_read_relay_kernel(r, g, rl);
        }
        if (check) {
            /* "host:port" overrides the target of the relay's health probe. */
            char *colon = strrchr(check, ':');
            int port = colon ? atoi(colon + 1) : 0;
            if (colon == NULL || colon == check || port <= 0 || port > 65535)
                cfg_read_error(r, config_setting_get_member(g, "check"),
                           "%s.check: \"%s\" is not host:port", cfg_read_path(g, where, sizeof(where)), check);
            else {
                free(rl->check_host);
                rl->check_host = strndup(check, (size_t)(colon - check));
                rl->check_port = port;
            }
            free(check);
        }
        struct netaddr a;
        if (rl->source_address && netaddr_parse(rl->source_address, &a) < 0)
            cfg_read_error(r, config_setting_get_member(g, "source_address"),
                       "%s.source_address: \"%s\" is not an IP address",
                       cfg_read_path(g, where, sizeof(where)), rl->source_address);
        cfg_read_relay_control(r, g, rl);
    }
}

static bool valid_pattern(const char *p)
{
    char buf[DOMAIN_MAXLEN + 1];

    if (strcmp(p, "*") == 0)
        return true;
    if (*p == '.')
        p++;
    return domain_normalize(p, strlen(p), buf, sizeof(buf)) == 0 && strcmp(buf, p) == 0;
}

static void read_destinations(struct cfg_reader *r, const config_setting_t *root, struct cfg *c)
{
    static const char *const keys[] = {"name", "domains", "relays", "policy", "reply", "detection", NULL};
    const config_setting_t *l = cfg_read_list(r, root, "destinations");
    char where[256];

    if (l == NULL)
        return;
    c->ndests = (size_t)config_setting_length(l);
    c->dests = calloc(c->ndests ? c->ndests : 1, sizeof(*c->dests));
    for (size_t i = 0; i < c->ndests; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        struct cfg_dest *d = &c->dests[i];
        d->line = config_setting_source_line(g);
        d->detect = c->detect;
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfg_read_error(r, g, "%s: must be a group { domains = ...; ... }", cfg_read_path(g, where, sizeof(where)));
            continue;
        }
        cfg_read_check_keys(r, g, keys);
        d->name = cfg_read_string(r, g, "name", NULL, false);
        d->domains = cfg_read_strings(r, g, "domains", &d->ndomains);
        if (config_setting_get_member(g, "domains") == NULL)
            cfg_read_error(r, g, "%s.domains: required setting is missing", cfg_read_path(g, where, sizeof(where)));
        const config_setting_t *ds = config_setting_get_member(g, "domains");
        for (size_t k = 0; k < d->ndomains; k++) {
            if (!valid_pattern(d->domains[k]))
                cfg_read_error(r, ds, "%s: \"%s\" is not a lower-case domain, \".domain\" or \"*\"",
                           cfg_read_path(ds, where, sizeof(where)), d->domains[k]);
            for (size_t j = 0; j <= i; j++)
                for (size_t m = 0; m < c->dests[j].ndomains && (j < i || m < k); m++)
                    if (strcmp(c->dests[j].domains[m], d->domains[k]) == 0)
                        cfg_read_error(r, ds, "%s: pattern \"%s\" is already used by the destination "
                                   "at line %d", cfg_read_path(ds, where, sizeof(where)),
                                   d->domains[k], c->dests[j].line);
        }
        size_t nrelays;
        char **relays = cfg_read_strings(r, g, "relays", &nrelays);
        const config_setting_t *rs = config_setting_get_member(g, "relays");
        if (nrelays > CFG_MAX_RELAYS_PER_DEST)
            cfg_read_error(r, rs, "%s: at most %d relays", cfg_read_path(rs, where, sizeof(where)),
                       CFG_MAX_RELAYS_PER_DEST);
        for (size_t k = 0; k < nrelays && k < CFG_MAX_RELAYS_PER_DEST; k++) {
            const struct cfg_relay *rl = cfg_relay_find(c, relays[k]);
            if (rl == NULL)
                cfg_read_error(r, rs, "%s: relay \"%s\" is not defined in relays",
                           cfg_read_path(rs, where, sizeof(where)), relays[k]);
            else
                d->relays[d->nrelays++] = (int)(rl - c->relays);
        }
        cfg_read_free_strings(relays, nrelays);
        d->policy = (enum policy)cfg_read_enum(r, g, "policy", policy_names, POLICY_DETOUR);
        d->reply = cfg_read_string(r, g, "reply", NULL, false);
        if (d->reply && (strlen(d->reply) > 400 || strpbrk(d->reply, "\r\n%")))
            cfg_read_error(r, config_setting_get_member(g, "reply"),
                       "%s.reply: at most 400 characters, no line breaks or '%%'",
                       cfg_read_path(g, where, sizeof(where)));
        if (d->policy == POLICY_DETOUR && d->nrelays == 0 && config_setting_get_member(g, "relays") == NULL)
            cfg_read_error(r, g, "%s: policy \"detour\" needs relays", cfg_read_path(g, where, sizeof(where)));
        const config_setting_t *dg = cfg_read_group(r, g, "detection");
        if (dg) {
            cfg_read_check_keys(r, dg, detection_keys);
            read_detection(r, dg, &c->detect, &d->detect);
        }
    }
}

static void read_logs(struct cfg_reader *r, const config_setting_t *root, struct cfg *c)
{
    static const char *const keys[] = {"file", "command", "stdin", NULL};
    const config_setting_t *l = cfg_read_list(r, root, "logs");
    char where[256];

    if (l == NULL)
        return;
    c->nlogs = (size_t)config_setting_length(l);
    c->logs = calloc(c->nlogs ? c->nlogs : 1, sizeof(*c->logs));
    for (size_t i = 0; i < c->nlogs; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        struct cfg_log *lg = &c->logs[i];
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfg_read_error(r, g, "%s: must be a group { file = ...; }", cfg_read_path(g, where, sizeof(where)));
            continue;
        }
        cfg_read_check_keys(r, g, keys);
        lg->path = cfg_read_string(r, g, "file", NULL, false);
        lg->command = cfg_read_string(r, g, "command", NULL, false);
        bool in = cfg_read_bool(r, g, "stdin", false);
        int n = (lg->path != NULL) + (lg->command != NULL) + in;
        if (n != 1)
            cfg_read_error(r, g, "%s: give exactly one of file, command or stdin",
                       cfg_read_path(g, where, sizeof(where)));
        lg->type = lg->path ? CFG_LOG_FILE : lg->command ? CFG_LOG_COMMAND : CFG_LOG_STDIN;
    }
}

static void read_routes(struct cfg_reader *r, const config_setting_t *root, struct cfg_routes *rt)
{
    static const char *const keys[] = {"mode", "table", "table_type", "postmap", "reload",
                                       "reload_interval", "socketmap", "coalesce_floor",
                                       "coalesce_ceiling", NULL};
    static const char *const modes[] = {"table", "socketmap", NULL};
    static const char *const reloads[] = {"auto", "never", NULL};
    static const char *const types[] = {"hash", "lmdb", "cdb", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "routes");

    if (g)
        cfg_read_check_keys(r, g, keys);
    rt->mode = (enum routes_mode)cfg_read_enum(r, g, "mode", modes, ROUTES_TABLE);
    rt->table = cfg_read_string(r, g, "table", LOCALSTATEDIR "/lib/mxdetour/transport", false);
    rt->table_type = strdup(types[cfg_read_enum(r, g, "table_type", types, 0)]);
    rt->postmap = cfg_read_string(r, g, "postmap", "/usr/sbin/postmap", false);
    rt->reload = (enum routes_reload)cfg_read_enum(r, g, "reload", reloads, RELOAD_AUTO);
    rt->reload_interval_ms = cfg_read_duration(r, g, "reload_interval", 10000, 1000, 3600000);
    rt->socketmap = cfg_read_string(r, g, "socketmap", NULL, rt->mode == ROUTES_SOCKETMAP);
    rt->coalesce_floor_ms = cfg_read_duration(r, g, "coalesce_floor", 10, 0, 1000);
    rt->coalesce_ceiling_ms = cfg_read_duration(r, g, "coalesce_ceiling", 1000, 100, 60000);
    if (rt->coalesce_ceiling_ms < rt->coalesce_floor_ms)
        cfg_read_error(r, config_setting_get_member(g, "coalesce_ceiling"),
                       "routes.coalesce_ceiling: shorter than routes.coalesce_floor");
}

static void read_milter(struct cfg_reader *r, const config_setting_t *root, struct cfg_milter *m)
{
    static const char *const keys[] = {"socket", "trace_header", "route_wait", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "milter");

    if (g)
        cfg_read_check_keys(r, g, keys);
    m->socket = cfg_read_string(r, g, "socket", NULL, false);
    if (m->socket && strncmp(m->socket, "unix:", 5) && strncmp(m->socket, "local:", 6)
        && strncmp(m->socket, "inet:", 5) && strncmp(m->socket, "inet6:", 6))
        cfg_read_error(r, config_setting_get_member(g, "socket"),
                   "milter.socket: \"%s\" is not unix:PATH or inet:PORT@HOST", m->socket);
    m->trace_header = cfg_read_bool(r, g, "trace_header", false);
    m->route_wait_ms = cfg_read_duration(r, g, "route_wait", 2000, 0, 30000);
}

static void read_postfix(struct cfg_reader *r, const config_setting_t *root, struct cfg_postfix *p)
{
    static const char *const keys[] = {"syslog_names", "config_directory", "postqueue", "postfix",
                                       "kick_rate", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "postfix");

    if (g)
        cfg_read_check_keys(r, g, keys);
    p->syslog_names = cfg_read_strings(r, g, "syslog_names", &p->nsyslog_names);
    if (p->syslog_names == NULL || p->nsyslog_names == 0) {
        cfg_read_free_strings(p->syslog_names, p->nsyslog_names);
        p->syslog_names = calloc(2, sizeof(char *));
        p->syslog_names[0] = strdup("postfix");
        p->nsyslog_names = 1;
    }
    p->config_directory = cfg_read_string(r, g, "config_directory", "/etc/postfix", false);
    p->postqueue = cfg_read_string(r, g, "postqueue", "/usr/sbin/postqueue", false);
    p->postfix = cfg_read_string(r, g, "postfix", "/usr/sbin/postfix", false);
    p->kick_rate = (unsigned)cfg_read_int(r, g, "kick_rate", 50, 1, 10000);
}

/* Errors in file order: sections are read in a fixed order, not the file's. */
static int error_line(const char *text)
{
    const char *colon = strchr(text, ':');
    return colon ? atoi(colon + 1) : 0;
}

static void cfg_errors_sort(struct cfg_errors *errors)
{
    for (size_t i = 1; i < errors->count; i++) {    /* insertion sort: stable */
        char *t = errors->text[i];
        size_t j = i;
        for (; j > 0 && error_line(errors->text[j - 1]) > error_line(t); j--)
            errors->text[j] = errors->text[j - 1];
        errors->text[j] = t;
    }
}

/*
 * A file that still holds `unconfigured = "TEXT";` is an example nobody has
 * edited for this host yet (the Debian package installs one): it is refused
 * with the one error "FILE:LINE: edit FILE: TEXT", before any other, so
 * that mxdetourd never starts on the example's values.
 */
static bool refuse_unconfigured(struct cfg_reader *r, const config_setting_t *root)
{
    const config_setting_t *s = config_setting_get_member(root, "unconfigured");
    const char *text = NULL;

    if (s == NULL)
        return false;
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        text = config_setting_get_string(s);
    cfg_read_error(r, s, "edit %s: %s", r->file, text && *text ? text
               : "it is an unedited example; delete the \"unconfigured\" line when done");
    return true;
}

struct cfg *cfg_load(const char *file, struct cfg_errors *errors)
{
    static const char *const keys[] = {"site", "user", "pid_file", "state_dir", "redis", "logs",
                                       "detection", "probe", "relays", "destinations", "routes",
                                       "milter", "postfix", "feeds", "feed_check",
                                       "metrics", "log_silence", "control",
                                       CFG_DELIVER_KEYS, NULL};
    struct cfg_reader r = {.file = file, .errors = errors};
    config_t lc;
    struct cfg *c;

    errors->count = 0;
    config_init(&lc);
    if (config_read_file(&lc, file) != CONFIG_TRUE) {
        char *line = malloc(strlen(file) + 512);
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            sprintf(line, "%s:0: cannot read: %s", file, strerror(errno));
        else
            sprintf(line, "%s:%d: %.400s", config_error_file(&lc) ? config_error_file(&lc) : file,
                    config_error_line(&lc), config_error_text(&lc));
        errors->text[errors->count++] = line;
        config_destroy(&lc);
        return NULL;
    }
    const config_setting_t *root = config_root_setting(&lc);
    if (refuse_unconfigured(&r, root)) {
        config_destroy(&lc);
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    c->file = strdup(file);
    cfg_read_check_keys(&r, root, keys);
    c->site = cfg_read_string(&r, root, "site", NULL, true);
    if (c->site && !valid_name(c->site))
        cfg_read_error(&r, config_setting_get_member(root, "site"),
                   "site: \"%s\": use letters, digits, '-', '_' and '.' only", c->site);
    c->user = cfg_read_string(&r, root, "user", NULL, false);
    c->pid_file = cfg_read_string(&r, root, "pid_file", RUNSTATEDIR "/mxdetour/mxdetourd.pid", false);
    c->state_dir = cfg_read_string(&r, root, "state_dir", LOCALSTATEDIR "/lib/mxdetour", false);
    cfg_read_redis(&r, root, &c->redis);
    read_logs(&r, root, c);
    c->log_silence_ms = cfg_read_duration(&r, root, "log_silence", CFG_LOG_SILENCE_MS, 0,
                                          7 * 24 * 3600 * 1000ULL);
    read_global_detection(&r, root, c);
    read_probe(&r, root, &c->probe);
    cfg_read_control(&r, root, &c->control);
    c->detect.verdict_ttl_ms = c->control.verdict_ttl_ms;
    read_relays(&r, root, c);
    cfg_check_kernel_relays(&r, root, c);
    read_destinations(&r, root, c);
    read_routes(&r, root, &c->routes);
    read_milter(&r, root, &c->milter);
    if (cfg_has_control(c) && config_lookup(&lc, "milter.route_wait") == NULL)
        c->milter.route_wait_ms = c->control.fast_confirm_floor_ms + 3000;  /* a race and its publication */
    read_postfix(&r, root, &c->postfix);
    cfg_read_feeds(&r, root, c);
    cfg_metrics_read(&r, root, &c->metrics);
    cfg_read_deliver(&r, root, c);
    config_destroy(&lc);
    cfg_errors_sort(errors);
    if (errors->count > 0) {
        cfg_free(c);
        return NULL;
    }
    return c;
}

void cfg_errors_clear(struct cfg_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        free(errors->text[i]);
    errors->count = 0;
}

const struct cfg_relay *cfg_relay_find(const struct cfg *c, const char *name)
{
    for (size_t i = 0; i < c->nrelays; i++)
        if (c->relays[i].name && strcmp(c->relays[i].name, name) == 0)
            return &c->relays[i];
    return NULL;
}

const struct cfg_dest *cfg_dest_match(const struct cfg *c, const char *domain)
{
    const struct cfg_dest *best = NULL;
    size_t best_len = 0;
    size_t dlen = strlen(domain);

    for (size_t i = 0; i < c->ndests; i++) {
        for (size_t k = 0; k < c->dests[i].ndomains; k++) {
            const char *p = c->dests[i].domains[k];
            size_t plen = strlen(p), score = 0;
            if (strcmp(p, domain) == 0)
                return &c->dests[i];                    /* exact wins outright */
            if (p[0] == '.' && dlen > plen && strcmp(domain + dlen - plen, p) == 0)
                score = plen + 1;                       /* longest parent wins */
            else if (strcmp(p, "*") == 0)
                score = 1;
            if (score > best_len) {
                best = &c->dests[i];
                best_len = score;
            }
        }
    }
    return best;
}

const struct breaker_params *cfg_detect_for(const struct cfg *c, const char *domain)
{
    const struct cfg_dest *dest = domain ? cfg_dest_match(c, domain) : NULL;
    return dest ? &dest->detect : &c->detect;
}

const char *cfg_syslog_names(const struct cfg *c, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = 0;
    for (size_t i = 0; i < c->postfix.nsyslog_names && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", i ? "," : "", c->postfix.syslog_names[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

void cfg_free(struct cfg *c)
{
    if (c == NULL)
        return;
    free(c->file);
    free(c->site);
    free(c->user);
    free(c->pid_file);
    free(c->state_dir);
    cfg_redis_free(&c->redis);
    for (size_t i = 0; i < c->nlogs; i++) {
        free(c->logs[i].path);
        free(c->logs[i].command);
    }
    free(c->logs);
    free(c->probe.source_address);
    cfg_free_deliver(c);        /* before the relays it reads */
    for (size_t i = 0; i < c->nrelays; i++) {
        free(c->relays[i].name);
        free(c->relays[i].nexthop);
        free(c->relays[i].check_host);
        free(c->relays[i].source_address);
        free(c->relays[i].interface);
        cfg_relay_control_free(&c->relays[i].control);
        free(c->relays[i].kernel.gateway);
        free(c->relays[i].kernel.gateway6);
        free(c->relays[i].kernel.mta_user);
    }
    free(c->relays);
    for (size_t i = 0; i < c->ndests; i++) {
        free(c->dests[i].name);
        cfg_read_free_strings(c->dests[i].domains, c->dests[i].ndomains);
        free(c->dests[i].reply);
    }
    free(c->dests);
    free(c->routes.table);
    free(c->routes.table_type);
    free(c->routes.postmap);
    free(c->routes.socketmap);
    free(c->milter.socket);
    cfg_free_feeds(c);
    cfg_read_free_strings(c->postfix.syslog_names, c->postfix.nsyslog_names);
    free(c->postfix.config_directory);
    free(c->postfix.postqueue);
    free(c->postfix.postfix);
    cfg_metrics_free(&c->metrics);
    free(c);
}

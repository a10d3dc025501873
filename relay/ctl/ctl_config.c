/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_config - `mxdetourctl config [--all]`: the configuration in force, one
 * "name = value" line per setting, as `postconf -n` prints Postfix's.
 *
 * Without --all, only the settings whose value differs from the default
 * (what the file sets, less what it sets to the default), and every relay,
 * destination, log and feed, which have no defaults.  With --all, every
 * setting; those at their default end in "# default".
 *
 * The defaults are not written down a second time here: they are what
 * cfg_load() makes of a file that sets nothing but the site, so this can
 * never disagree with lib/config.  Names are the file's own paths
 * (redis.socket); list members go by their name (relays.relay-fi.nexthop)
 * or, unnamed, by their index (destinations[1].domains).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "duration.h"
#include "feed.h"

#define VALUE_MAX 1024

struct printer {
    int all;
};

/* One setting; val and dflt may be NULL (unset).  dflt NULL and is_list:
 * always printed (no default to compare with). */
static void emit(const struct printer *p, const char *name, const char *val, const char *dflt, int has_default)
{
    const char *v = val ? val : "";
    int is_default = has_default && strcmp(v, dflt ? dflt : "") == 0;

    if (!p->all && is_default)
        return;
    printf("%s = %s%s\n", name, v, p->all && is_default ? "   # default" : "");
}

static void emit_str(const struct printer *p, const char *name, const char *val, const char *dflt)
{
    emit(p, name, val, dflt, 1);
}

static void emit_uint(const struct printer *p, const char *name, unsigned long long val, unsigned long long dflt)
{
    char v[32], d[32];
    snprintf(v, sizeof(v), "%llu", val);
    snprintf(d, sizeof(d), "%llu", dflt);
    emit(p, name, v, d, 1);
}

static void emit_ms(const struct printer *p, const char *name, uint64_t val, uint64_t dflt)
{
    char v[32], d[32];
    emit(p, name, duration_format(val, v, sizeof(v)), duration_format(dflt, d, sizeof(d)), 1);
}

static void emit_bool(const struct printer *p, const char *name, int val, int dflt)
{
    emit(p, name, val ? "true" : "false", dflt ? "true" : "false", 1);
}

/* A list member's setting: no default. */
static void emit_item(const struct printer *p, const char *name, const char *val)
{
    if (val)
        emit(p, name, val, NULL, 0);
}

static const char *join(char *const *items, size_t n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", items[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

static const char *kinds_text(unsigned kinds, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT && len < size; k++)
        if (kinds & FAIL_BIT(k)) {
            int w = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", fail_kind_name((enum fail_kind)k));
            if (w < 0)
                break;
            len += (size_t)w;
        }
    return buf;
}

static void emit_detection(const struct printer *p, const char *prefix, const struct breaker_params *v,
                           const struct breaker_params *d)
{
    char name[160], a[VALUE_MAX], b[VALUE_MAX];
#define NAME(key) (snprintf(name, sizeof(name), "%s.%s", prefix, key), name)
    emit_str(p, NAME("kinds"), kinds_text(v->kinds, a, sizeof(a)), kinds_text(d->kinds, b, sizeof(b)));
    emit_uint(p, NAME("threshold"), v->threshold, d->threshold);
    emit_ms(p, NAME("window"), v->window_ms, d->window_ms);
    emit_ms(p, NAME("cooldown"), v->cooldown_ms, d->cooldown_ms);
    emit_ms(p, NAME("cooldown_max"), v->cooldown_max_ms, d->cooldown_max_ms);
    emit_ms(p, NAME("decay"), v->decay_ms, d->decay_ms);
    emit_uint(p, NAME("probe_successes"), v->probe_successes, d->probe_successes);
#undef NAME
}

static void emit_relays(const struct printer *p, const struct cfg *c)
{
    static const char *const types[] = {"smarthost", "tunnel"};
    static const char *const modes[] = {"transport", "kernel"};
    char name[200], v[VALUE_MAX];

    for (size_t i = 0; i < c->nrelays; i++) {
        const struct cfg_relay *r = &c->relays[i];
#define NAME(key) (snprintf(name, sizeof(name), "relays.%s.%s", r->name, key), name)
        emit_item(p, NAME("type"), types[r->type == RELAY_TUNNEL]);
        if (r->type == RELAY_TUNNEL)
            emit_item(p, NAME("mode"), modes[r->mode == RELAY_MODE_KERNEL]);
        if (r->type == RELAY_TUNNEL && r->nexthop)      /* "smtp-wg:" came from transport = "smtp-wg" */
            emit_item(p, NAME("transport"), (snprintf(v, sizeof(v), "%.*s", (int)strcspn(r->nexthop, ":"),
                                                      r->nexthop), v));
        else
            emit_item(p, NAME("nexthop"), r->nexthop);
        if (r->check_host) {
            snprintf(v, sizeof(v), "%s:%d", r->check_host, r->check_port);
            emit_item(p, NAME("check"), v);
        }
        emit_item(p, NAME("source_address"), r->source_address);
        emit_item(p, NAME("interface"), r->interface);
        if (r->kernel.route_table) {
            snprintf(v, sizeof(v), "%u", r->kernel.route_table);
            emit_item(p, NAME("route_table"), v);
            snprintf(v, sizeof(v), "%#x", r->kernel.fwmark);
            emit_item(p, NAME("fwmark"), v);
            emit_item(p, NAME("gateway"), r->kernel.gateway);
            emit_item(p, NAME("gateway6"), r->kernel.gateway6);
            snprintf(v, sizeof(v), "%u", r->kernel.rule_priority);
            emit_item(p, NAME("rule_priority"), v);
            emit_item(p, NAME("mta_user"), r->kernel.mta_user);
        }
#undef NAME
    }
}

static void emit_dests(const struct printer *p, const struct cfg *c)
{
    char name[200], prefix[160], v[VALUE_MAX];

    for (size_t i = 0; i < c->ndests; i++) {
        const struct cfg_dest *d = &c->dests[i];
        if (d->name)
            snprintf(prefix, sizeof(prefix), "destinations.%s", d->name);
        else
            snprintf(prefix, sizeof(prefix), "destinations[%zu]", i);
#define NAME(key) (snprintf(name, sizeof(name), "%s.%s", prefix, key), name)
        emit_item(p, NAME("domains"), join(d->domains, d->ndomains, v, sizeof(v)));
        size_t len = 0;
        v[0] = 0;
        for (size_t k = 0; k < d->nrelays && len < sizeof(v); k++) {
            int w = snprintf(v + len, sizeof(v) - len, "%s%s", k ? ", " : "", c->relays[d->relays[k]].name);
            len += w > 0 ? (size_t)w : 0;
        }
        emit_item(p, NAME("relays"), v);
        emit_item(p, NAME("policy"), policy_name(d->policy));
        emit_item(p, NAME("reply"), d->reply);
#undef NAME
        /* A destination's detection: only where it overrides the global one. */
        struct printer only_changed = {0};
        snprintf(name, sizeof(name), "%s.detection", prefix);
        emit_detection(&only_changed, name, &d->detect, &c->detect);
    }
}

static void emit_all(const struct printer *p, const struct cfg *c, const struct cfg *d)
{
    static const char *const modes[] = {"table", "socketmap"};
    static const char *const reloads[] = {"auto", "never"};
    char name[200], a[VALUE_MAX], b[VALUE_MAX];

    emit_str(p, "site", c->site, NULL);
    emit_str(p, "user", c->user, d->user);
    emit_str(p, "pid_file", c->pid_file, d->pid_file);
    emit_str(p, "state_dir", c->state_dir, d->state_dir);

    const struct cfg_redis *r = &c->redis, *rd = &d->redis;
    if (r->nsentinels) {
        size_t len = 0;
        a[0] = 0;
        for (size_t i = 0; i < r->nsentinels && len < sizeof(a); i++) {
            const struct cfg_hostport *h = &r->sentinels[i];
            int v6 = strchr(h->host, ':') != NULL;
            int w = snprintf(a + len, sizeof(a) - len, "%s%s%s%s:%d", i ? ", " : "", v6 ? "[" : "", h->host,
                             v6 ? "]" : "", h->port);
            len += w > 0 ? (size_t)w : 0;
        }
        emit_item(p, "redis.sentinels", a);
        emit_item(p, "redis.master_name", r->master_name);
        emit_str(p, "redis.sentinel_user", r->sentinel_user, NULL);
        emit_str(p, "redis.sentinel_password", r->sentinel_password ? "(from sentinel_password_file)" : NULL, NULL);
    } else {
        emit_str(p, "redis.socket", r->socket, rd->socket);
        emit_str(p, "redis.host", r->host, rd->host);
        emit_uint(p, "redis.port", (unsigned)r->port, (unsigned)rd->port);
    }
    emit_uint(p, "redis.database", (unsigned)r->database, (unsigned)rd->database);
    emit_str(p, "redis.prefix", r->prefix, rd->prefix);
    emit_str(p, "redis.user", r->user, rd->user);
    /* The secret itself is never printed. */
    emit_str(p, "redis.password", r->password ? "(from password_file)" : NULL, NULL);
    emit_ms(p, "redis.connect_timeout", r->connect_timeout_ms, rd->connect_timeout_ms);
    emit_ms(p, "redis.command_timeout", r->command_timeout_ms, rd->command_timeout_ms);

    for (size_t i = 0; i < c->nlogs; i++) {
        const struct cfg_log *l = &c->logs[i];
        snprintf(name, sizeof(name), "logs[%zu].%s", i,
                 l->type == CFG_LOG_FILE ? "file" : l->type == CFG_LOG_COMMAND ? "command" : "stdin");
        emit_item(p, name, l->type == CFG_LOG_FILE ? l->path : l->type == CFG_LOG_COMMAND ? l->command : "true");
    }
    if (c->nlogs == 0)
        emit(p, "logs", "", "", 1);

    emit_detection(p, "detection", &c->detect, &d->detect);
    emit_uint(p, "detection.outage.min_destinations", c->outage.min_destinations, d->outage.min_destinations);
    snprintf(a, sizeof(a), "%g", c->outage.share);
    snprintf(b, sizeof(b), "%g", d->outage.share);
    emit_str(p, "detection.outage.share", a, b);
    emit_ms(p, "detection.outage.window", c->outage.window_ms, d->outage.window_ms);

    emit_str(p, "probe.source_address", c->probe.source_address, d->probe.source_address);
    emit_ms(p, "probe.timeout", c->probe.timeout_ms, d->probe.timeout_ms);
    emit_uint(p, "probe.concurrency", c->probe.concurrency, d->probe.concurrency);
    emit_ms(p, "probe.jitter", c->probe.jitter_ms, d->probe.jitter_ms);
    emit_uint(p, "probe.port", (unsigned)c->probe.port, (unsigned)d->probe.port);
    emit_ms(p, "probe.relay_interval", c->probe.relay_interval_ms, d->probe.relay_interval_ms);

    emit_relays(p, c);
    emit_dests(p, c);

    emit_str(p, "routes.mode", modes[c->routes.mode == ROUTES_SOCKETMAP], modes[d->routes.mode == ROUTES_SOCKETMAP]);
    emit_str(p, "routes.table", c->routes.table, d->routes.table);
    emit_str(p, "routes.table_type", c->routes.table_type, d->routes.table_type);
    emit_str(p, "routes.postmap", c->routes.postmap, d->routes.postmap);
    emit_str(p, "routes.reload", reloads[c->routes.reload == RELOAD_NEVER], reloads[d->routes.reload == RELOAD_NEVER]);
    emit_ms(p, "routes.reload_interval", c->routes.reload_interval_ms, d->routes.reload_interval_ms);
    emit_str(p, "routes.socketmap", c->routes.socketmap, d->routes.socketmap);

    emit_str(p, "milter.socket", c->milter.socket, d->milter.socket);
    emit_bool(p, "milter.trace_header", c->milter.trace_header, d->milter.trace_header);
    emit_ms(p, "milter.route_wait", c->milter.route_wait_ms, d->milter.route_wait_ms);

    emit_str(p, "postfix.syslog_names", join(c->postfix.syslog_names, c->postfix.nsyslog_names, a, sizeof(a)),
             join(d->postfix.syslog_names, d->postfix.nsyslog_names, b, sizeof(b)));
    emit_str(p, "postfix.config_directory", c->postfix.config_directory, d->postfix.config_directory);
    emit_str(p, "postfix.postqueue", c->postfix.postqueue, d->postfix.postqueue);
    emit_str(p, "postfix.postfix", c->postfix.postfix, d->postfix.postfix);
    emit_uint(p, "postfix.kick_rate", c->postfix.kick_rate, d->postfix.kick_rate);

    for (size_t i = 0; i < c->nfeeds; i++) {
        const struct cfg_feed *f = &c->feeds[i];
#define NAME(key) (snprintf(name, sizeof(name), "feeds.%s.%s", f->name, key), name)
        emit_item(p, NAME("file"), f->file);
        emit_item(p, NAME("format"), feed_format_name((enum feed_format)f->format));
        emit_item(p, NAME("trust"), feed_trust_name(f->trust));
#undef NAME
    }
    emit_ms(p, "feed_check", c->feed_check_ms, d->feed_check_ms);
    emit_ms(p, "log_silence", c->log_silence_ms, d->log_silence_ms);
    emit_str(p, "metrics.listen", c->metrics.listen, d->metrics.listen);
}

/* The defaults: what cfg_load() makes of a file that sets only the site. */
static struct cfg *load_defaults(void)
{
    static const char text[] = "site = \"defaults\";\n";
    struct cfg_errors errors = {0};
    char path[64];
    struct cfg *d = NULL;
    FILE *fp = tmpfile();

    if (fp == NULL)
        return NULL;
    if (fputs(text, fp) >= 0 && fflush(fp) == 0) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fileno(fp));
        d = cfg_load(path, &errors);
        cfg_errors_clear(&errors);
    }
    fclose(fp);
    return d;
}

int ctl_config(struct ctl *c)
{
    struct printer p = {.all = c->all};
    struct cfg *d = load_defaults();

    if (d == NULL) {
        fprintf(stderr, "mxdetourctl: config: cannot work out the defaults (no temporary file)\n");
        return CTL_CONFIG;
    }
    printf("# %s\n", c->cfg->file);
    emit_all(&p, c->cfg, d);
    cfg_free(d);
    return CTL_OK;
}

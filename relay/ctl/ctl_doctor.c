/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_doctor - `mxdetourctl doctor [--json] [-C DIR]`: the `postfix check`
 * of mxdetour.  It reads mxdetour.conf, asks postconf(1) about the Postfix
 * instance in postfix.config_directory (or -C DIR), and looks at this host:
 *
 *   transport_maps  every table exists (a missing one means 451 for all
 *                   mail); mxdetour's table is named, and first
 *   master.cf       every relay's transport is a service
 *   milter          smtpd_milters reaches mxdetour's socket from where
 *                   smtpd runs (chroot or not); default action accept
 *   files           the daemon's user may write state_dir and the route
 *                   table's directory, read each log; the milter socket's
 *                   directory exists
 *   logs            each log file exists, is readable, has Postfix lines,
 *                   and was written lately
 *   redis           reachable, and why not
 *   addresses       probe and relay source addresses are this host's
 *
 * Each finding is one line: what is wrong and what to change.  The exit
 * code is the monitoring-plugin one of the worst finding (CRITICAL, then
 * UNKNOWN, then WARNING; 0 when all are OK).  --json prints
 * {"status":"...","findings":[{"severity","check","message"}...]}.
 * Permissions are judged by mode bits for the user who needs them (the
 * daemon's user, Postfix's mail_owner), not by what the caller may do.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl_doctor.h"
#include "json.h"
#include "netaddr.h"

#define LOG_TAIL_BYTES (64 * 1024)

static const char *const sev_names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

void doctor_add(struct doctor *d, enum doctor_sev sev, const char *check, const char *fmt, ...)
{
    va_list ap;

    if (d->n >= DOCTOR_MAX_FINDINGS) {
        d->dropped++;
        return;
    }
    d->f[d->n].sev = sev;
    snprintf(d->f[d->n].check, sizeof(d->f[d->n].check), "%s", check);
    va_start(ap, fmt);
    vsnprintf(d->f[d->n].text, sizeof(d->f[d->n].text), fmt, ap);
    va_end(ap);
    d->n++;
}

static void parent_of(const char *path, char *buf, size_t size)
{
    const char *slash = strrchr(path, '/');
    snprintf(buf, size, "%.*s", slash && slash != path ? (int)(slash - path) : 1, slash ? path : "/");
}

static void check_files(struct doctor *d)
{
    const struct cfg *cfg = d->c->cfg;
    const struct setupcheck_user *u = &d->daemon;
    char why[1200], dir[4096];
    int bad = 0;

    if (!u->exists) {
        doctor_add(d, DOC_CRITICAL, "files", "user %s (user in %s) does not exist: create it (adduser --system "
                   "%s) or change user", u->name, cfg->file, u->name);
        return;
    }
    if (setupcheck_user_may(u, cfg->state_dir, 7, why, sizeof(why)) < 0) {
        bad++;
        doctor_add(d, DOC_CRITICAL, "files", "state_dir: %s may not write %s (%s): install -d -o %s %s",
                   u->name, cfg->state_dir, why, u->name, cfg->state_dir);
    }
    if (cfg->routes.mode == ROUTES_TABLE) {
        parent_of(cfg->routes.table, dir, sizeof(dir));
        if (setupcheck_user_may(u, dir, 3, why, sizeof(why)) < 0) {
            bad++;
            doctor_add(d, DOC_CRITICAL, "files", "routes.table: %s may not replace files in %s (%s), so routes "
                       "never reach Postfix: install -d -o %s %s", u->name, dir, why, u->name, dir);
        }
    }
    const char *sock = cfg->milter.socket;
    if (sock && (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)) {
        parent_of(strchr(sock, ':') + 1, dir, sizeof(dir));
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            bad++;
            doctor_add(d, DOC_CRITICAL, "files", "milter.socket: directory %s does not exist, so mxdetourd cannot "
                       "create its socket: install -d -o %s %s", dir, u->name, dir);
        } else if (setupcheck_user_may(u, dir, 3, why, sizeof(why)) < 0) {
            bad++;
            doctor_add(d, DOC_WARNING, "files", "milter.socket: %s may not remove its socket from %s at stop (%s): "
                       "chown %s %s", u->name, dir, why, u->name, dir);
        }
    }
    if (!bad)
        doctor_add(d, DOC_OK, "files", "%s may write state_dir and the route table's directory", u->name);
}

/* Whether the last LOG_TAIL_BYTES of fp hold a line of a syslog name. */
static int has_postfix_lines(FILE *fp, const struct cfg *cfg)
{
    static char tail[LOG_TAIL_BYTES + 1];
    char tag[128];

    if (fseek(fp, 0, SEEK_END) == 0 && ftell(fp) > LOG_TAIL_BYTES)
        fseek(fp, -LOG_TAIL_BYTES, SEEK_END);
    else
        rewind(fp);
    size_t n = fread(tail, 1, LOG_TAIL_BYTES, fp);
    tail[n] = 0;
    for (size_t i = 0; i < cfg->postfix.nsyslog_names; i++) {
        snprintf(tag, sizeof(tag), " %s/", cfg->postfix.syslog_names[i]);
        if (memmem(tail, n, tag, strlen(tag)))
            return 1;
    }
    return 0;
}

static void check_logs(struct doctor *d)
{
    const struct cfg *cfg = d->c->cfg;
    char why[1200], age[64];
    int files = 0;

    for (size_t i = 0; i < cfg->nlogs; i++) {
        const char *path = cfg->logs[i].path;
        struct stat st;
        if (cfg->logs[i].type != CFG_LOG_FILE)
            continue;
        files++;
        if (stat(path, &st) < 0) {
            doctor_add(d, DOC_CRITICAL, "logs", "%s: %s, so detection sees nothing: point logs at Postfix's log "
                       "(rsyslog's mail.log, or Postfix's maillog_file)", path, strerror(errno));
            continue;
        }
        if (d->daemon.exists && setupcheck_user_may(&d->daemon, path, 4, why, sizeof(why)) < 0) {
            doctor_add(d, DOC_CRITICAL, "logs", "%s may not read %s (%s): give it the log's group (adduser %s adm) "
                       "or a readable mode", d->daemon.name, path, why, d->daemon.name);
            continue;
        }
        FILE *fp = fopen(path, "re");
        if (fp == NULL) {
            doctor_add(d, DOC_UNKNOWN, "logs", "cannot read %s here: %s; run doctor as root", path, strerror(errno));
            continue;
        }
        int postfix = has_postfix_lines(fp, cfg);
        fclose(fp);
        time_t quiet = time(NULL) - st.st_mtime;
        snprintf(age, sizeof(age), "%lldh%02lldm", (long long)quiet / 3600, (long long)quiet % 3600 / 60);
        if (!postfix)
            doctor_add(d, DOC_WARNING, "logs", "%s has no line of postfix.syslog_names in its last %d KB: is it "
                       "Postfix's log, and are syslog_names right?", path, LOG_TAIL_BYTES / 1024);
        else if (cfg->log_silence_ms && (uint64_t)quiet * 1000 > cfg->log_silence_ms)
            doctor_add(d, DOC_WARNING, "logs", "%s was last written %s ago: is Postfix logging elsewhere (after "
                       "a logrotate, or to maillog_file)?", path, age);
        else
            doctor_add(d, DOC_OK, "logs", "%s is readable and has recent Postfix lines", path);
    }
    if (cfg->nlogs == 0)
        doctor_add(d, DOC_WARNING, "logs", "no logs in %s: mxdetourd learns only from probes and the milter; "
                   "add logs = ( { file = \"/var/log/mail.log\"; } )", cfg->file);
    (void)files;
}

/* What to change for the reason store_open() gave. */
static const char *redis_hint(const struct cfg_redis *r, const char *err)
{
    if (strstr(err, "No such file"))
        return "start redis-server, with unixsocket set to this path (Debian's redis.conf leaves it commented "
               "out), or correct redis.socket";
    if (strstr(err, "Permission denied"))
        return "let this user reach the socket: unixsocketperm 770 in redis.conf and adduser USER redis";
    if (strstr(err, "Connection refused"))
        return r->socket ? "redis-server is not listening on this socket: start it" :
               "redis-server is not listening there: start it, or correct redis.host and redis.port";
    if (strstr(err, "WRONGPASS") || strstr(err, "NOAUTH") || strstr(err, "invalid password")
        || strstr(err, "AUTH"))
        return "check redis.user and redis.password_file against Redis's ACL (requirepass, user ...)";
    if (strstr(err, "timed out") || strstr(err, "Timeout"))
        return "nothing answers in redis.connect_timeout: check the address and the firewall";
    return "check the redis settings (mxdetourctl config)";
}

static void check_redis(struct doctor *d)
{
    const struct ctl *c = d->c;
    const struct cfg_redis *r = &c->cfg->redis;
    char why[1200];

    if (c->store == NULL) {
        const char *err = c->redis_err && *c->redis_err ? c->redis_err : "no connection";
        doctor_add(d, DOC_CRITICAL, "redis", "%s: %s", err, redis_hint(r, err));
        return;
    }
    if (r->socket && r->nsentinels == 0 && d->daemon.exists
        && setupcheck_user_may(&d->daemon, r->socket, 2, why, sizeof(why)) < 0) {
        doctor_add(d, DOC_CRITICAL, "redis", "Redis answers here, but %s may not connect to %s (%s): "
                   "unixsocketperm 770 in redis.conf and adduser %s redis", d->daemon.name, r->socket, why,
                   d->daemon.name);
        return;
    }
    doctor_add(d, DOC_OK, "redis", "Redis answers (%s)", store_prefix(c->store));
}

static void check_sources(struct doctor *d)
{
    const struct cfg *cfg = d->c->cfg;
    char why[512];
    int n = 0, bad = 0;

    if (cfg->probe.source_address && ++n
        && setupcheck_local_address(cfg->probe.source_address, why, sizeof(why)) < 0 && ++bad)
        doctor_add(d, DOC_WARNING, "addresses", "probe.source_address: %s, so every probe fails: add it "
                   "to an interface or correct it", why);
    for (size_t i = 0; i < cfg->nrelays; i++) {
        const struct cfg_relay *r = &cfg->relays[i];
        if (r->source_address && ++n && setupcheck_local_address(r->source_address, why, sizeof(why)) < 0
            && ++bad)
            doctor_add(d, DOC_CRITICAL, "addresses", "relay %s: source_address: %s, so its transport "
                       "cannot connect: bring up its interface or correct it", r->name, why);
    }
    if (n && !bad)
        doctor_add(d, DOC_OK, "addresses", "every source address is this host's");
}

static int rank(enum doctor_sev s)      /* CRITICAL > UNKNOWN > WARNING > OK */
{
    static const int r[] = {0, 1, 3, 2};
    return r[s];
}

/* Prints the findings, text or JSON; returns the exit code. */
static int report(const struct doctor *d, int as_json)
{
    enum doctor_sev worst = DOC_OK;
    unsigned count[4] = {0};

    for (size_t i = 0; i < d->n; i++) {
        count[d->f[i].sev]++;
        if (rank(d->f[i].sev) > rank(worst))
            worst = d->f[i].sev;
    }
    if (as_json) {
        struct json j;
        json_init(&j, stdout);
        json_begin_object(&j);
        json_kv_string(&j, "status", sev_names[worst]);
        json_key(&j, "findings");
        json_begin_array(&j);
        for (size_t i = 0; i < d->n; i++) {
            json_begin_object(&j);
            json_kv_string(&j, "severity", sev_names[d->f[i].sev]);
            json_kv_string(&j, "check", d->f[i].check);
            json_kv_string(&j, "message", d->f[i].text);
            json_end_object(&j);
        }
        json_end_array(&j);
        json_end_object(&j);
    } else {
        /* Problems first, worst first; then what is fine. */
        static const enum doctor_sev order[] = {DOC_CRITICAL, DOC_UNKNOWN, DOC_WARNING, DOC_OK};
        for (size_t k = 0; k < 4; k++)
            for (size_t i = 0; i < d->n; i++)
                if (d->f[i].sev == order[k])
                    printf("%-8s %s: %s\n", sev_names[d->f[i].sev], d->f[i].check, d->f[i].text);
        printf("doctor: %s (%u critical, %u unknown, %u warning, %u ok)\n", sev_names[worst],
               count[DOC_CRITICAL], count[DOC_UNKNOWN], count[DOC_WARNING], count[DOC_OK]);
    }
    return (int)worst;
}

void ctl_doctor_unloaded(struct ctl *c, const char *error)
{
    static struct doctor d;     /* large; once per run */

    d.n = 0;
    doctor_add(&d, DOC_UNKNOWN, "config", "%s: fix the configuration first (mxdetourd -t lists every error)",
               error);
    report(&d, c->json);
}

int ctl_doctor(struct ctl *c)
{
    struct doctor *d = calloc(1, sizeof(*d));

    if (d == NULL) {
        fprintf(stderr, "mxdetourctl: out of memory\n");
        return DOC_UNKNOWN;
    }
    d->c = c;
    d->postfix_dir = c->postfix_dir ? c->postfix_dir : c->cfg->postfix.config_directory;
    setupcheck_user_lookup(&d->daemon, c->cfg->user ? c->cfg->user : "root");
    doctor_postfix_read(d);
    setupcheck_user_lookup(&d->postfix, d->mail_owner ? d->mail_owner : "postfix");
    doctor_postfix_check(d);
    check_files(d);
    check_logs(d);
    check_redis(d);
    check_sources(d);
    if (d->dropped)
        doctor_add(d, DOC_UNKNOWN, "doctor", "%zu more findings not shown", d->dropped);
    int rc = report(d, c->json);
    doctor_postfix_free(d);
    free(d);
    return rc;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_doctor_postfix - Postfix's side of `mxdetourctl doctor`: asks
 * postconf(1) for the effective main.cf values (`postconf -x NAME...`, so
 * defaults and $name expansions count, which `postconf -n` would miss:
 * milter_default_action is tempfail when nobody set it) and for master.cf
 * (`postconf -M`), then checks transport_maps, the relays' transports and
 * the milter as smtpd(8) and cleanup(8) will see them.
 *
 * postconf runs through lib/base/spawn (no shell), with -c DIR, its output
 * read up to POSTCONF_MAX bytes within POSTCONF_TIMEOUT_MS.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_doctor.h"
#include "netaddr.h"
#include "spawn.h"

#define POSTCONF_MAX (1024 * 1024)
#define POSTCONF_TIMEOUT_MS 10000

/* Runs argv; its stdout and stderr into a malloc'd, NUL-terminated *out.
 * 0 when it exited 0, else -1 with the reason in err (and *out, if any). */
static int capture(const char *const argv[], char **out, char *err, size_t errlen)
{
    size_t len = 0;
    char *buf = malloc(POSTCONF_MAX + 1);
    int fd, status;
    pid_t pid;
    uint64_t deadline = spawn_real_ms() + POSTCONF_TIMEOUT_MS;

    *out = NULL;
    if (buf == NULL || spawn_start(argv, 0, NULL, 0, &pid, &fd, NULL, err, errlen) < 0) {
        free(buf);
        return -1;
    }
    int late = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t now = spawn_real_ms();
        if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
            snprintf(err, errlen, "%s: no answer within %d ms", argv[0], POSTCONF_TIMEOUT_MS);
            late = 1;
            break;
        }
        ssize_t r = read(fd, buf + len, POSTCONF_MAX - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == POSTCONF_MAX) {
            snprintf(err, errlen, "%s: more than %d bytes of output", argv[0], POSTCONF_MAX);
            late = 1;
            break;
        }
    }
    close(fd);
    buf[len] = 0;
    *out = buf;
    if (late) {                 /* a stuck or runaway postconf: end it */
        spawn_stop(pid, 1000);
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(err, errlen, "waitpid: %s", strerror(errno));
            return -1;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(err, errlen, "exit status %d: %.300s", WEXITSTATUS(status), buf[0] ? strtok(buf, "\n") : "");
    else
        snprintf(err, errlen, "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return -1;
}

/* postconf next to postfix.postfix (/usr/sbin/postfix -> /usr/sbin/postconf). */
static void postconf_path(const struct cfg *cfg, char *buf, size_t size)
{
    const char *slash = strrchr(cfg->postfix.postfix, '/');
    if (slash)
        snprintf(buf, size, "%.*s/postconf", (int)(slash - cfg->postfix.postfix), cfg->postfix.postfix);
    else
        snprintf(buf, size, "/usr/sbin/postconf");
}

void doctor_postfix_read(struct doctor *d)
{
    char postconf[1024], err[512];
    char *out, *save = NULL;
    const char *const pargv[] = {postconf, "-c", d->postfix_dir, "-x", "queue_directory", "mail_owner",
                                 "transport_maps", "smtpd_milters", "non_smtpd_milters",
                                 "milter_default_action", NULL};
    const char *const margv[] = {postconf, "-c", d->postfix_dir, "-M", NULL};

    postconf_path(d->c->cfg, postconf, sizeof(postconf));
    if (capture(pargv, &out, err, sizeof(err)) < 0) {
        doctor_add(d, DOC_UNKNOWN, "postfix", "cannot run %s -c %s: %s: install Postfix, or give its "
                   "configuration directory with -C DIR (postfix.config_directory)", postconf,
                   d->postfix_dir, err);
        free(out);
        return;
    }
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *name, *value, **slot = NULL;
        if (doctor_parse_param(line, &name, &value) < 0)
            continue;
        if (strcmp(name, "queue_directory") == 0) slot = &d->queue_directory;
        else if (strcmp(name, "mail_owner") == 0) slot = &d->mail_owner;
        else if (strcmp(name, "transport_maps") == 0) slot = &d->transport_maps;
        else if (strcmp(name, "smtpd_milters") == 0) slot = &d->smtpd_milters;
        else if (strcmp(name, "non_smtpd_milters") == 0) slot = &d->non_smtpd_milters;
        else if (strcmp(name, "milter_default_action") == 0) slot = &d->milter_default_action;
        if (slot && *slot == NULL)
            *slot = strdup(value);
    }
    free(out);
    for (size_t n = d->queue_directory ? strlen(d->queue_directory) : 0; n > 1 && d->queue_directory[n - 1] == '/';)
        d->queue_directory[--n] = 0;
    if (d->queue_directory == NULL || d->mail_owner == NULL) {
        doctor_add(d, DOC_UNKNOWN, "postfix", "%s -c %s did not name queue_directory and mail_owner: "
                   "is %s a Postfix configuration directory?", postconf, d->postfix_dir, d->postfix_dir);
        return;
    }
    if (capture(margv, &out, err, sizeof(err)) < 0) {
        doctor_add(d, DOC_UNKNOWN, "postfix", "cannot read master.cf with %s -c %s -M: %s", postconf,
                   d->postfix_dir, err);
        free(out);
        return;
    }
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (d->nmaster < DOCTOR_MAX_MASTER && doctor_parse_master(line, &d->master[d->nmaster]) == 0)
            d->nmaster++;
    free(out);
    d->postconf_ok = 1;
}

void doctor_postfix_free(struct doctor *d)
{
    free(d->queue_directory);
    free(d->mail_owner);
    free(d->transport_maps);
    free(d->smtpd_milters);
    free(d->non_smtpd_milters);
    free(d->milter_default_action);
}

/* The file Postfix opens for a table, or NULL when it is not a local file
 * (socketmap, ldap, inline, static, ...). */
static const char *table_file(const char *type, const char *name, char *buf, size_t size)
{
    static const struct { const char *type, *suffix; } files[] = {
        {"hash", ".db"}, {"btree", ".db"}, {"lmdb", ".lmdb"}, {"cdb", ".cdb"}, {"dbm", ".pag"},
        {"sdbm", ".pag"}, {"texthash", ""}, {"regexp", ""}, {"pcre", ""}, {"cidr", ""},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strcmp(type, files[i].type) == 0 && name[0] == '/') {
            snprintf(buf, size, "%s%s", name, files[i].suffix);
            return buf;
        }
    return NULL;
}

static int uses_transport_table(const struct cfg *cfg)
{
    for (size_t i = 0; i < cfg->nrelays; i++)
        if (cfg->relays[i].nexthop)
            return 1;
    return 0;
}

static void check_transport_maps(struct doctor *d)
{
    const struct cfg *cfg = d->c->cfg;
    char member[DOCTOR_FIELD_MAX * 4], file[4200], mine[4200];
    const char *p = d->transport_maps ? d->transport_maps : "";
    int bad, index = 0, mine_at = -1, missing = 0;

    snprintf(mine, sizeof(mine), "%s:%s", cfg->routes.table_type, cfg->routes.table);
    while ((p = doctor_list_next(p, member, sizeof(member), &bad)) != NULL) {
        const char *m = strncmp(member, "proxy:", 6) == 0 ? member + 6 : member;
        char *colon = strchr(m, ':');
        if (strcmp(m, mine) == 0 && mine_at < 0)
            mine_at = index;
        index++;
        if (colon == NULL)
            continue;
        char type[32];
        snprintf(type, sizeof(type), "%.*s", (int)(colon - m), m);
        struct stat st;
        if (table_file(type, colon + 1, file, sizeof(file)) && stat(file, &st) < 0) {
            missing++;
            doctor_add(d, DOC_CRITICAL, "transport_maps", "%s does not exist (%s: %s): Postfix answers every "
                       "recipient \"451 4.3.0 Temporary lookup failure\"; create it (postmap %s) or remove it "
                       "from transport_maps", m, file, strerror(errno), m);
        }
    }
    if (bad)
        doctor_add(d, DOC_WARNING, "transport_maps", "cannot read transport_maps (a member too long or a "
                   "\"{\" not closed): check it with postconf transport_maps");
    if (cfg->routes.mode == ROUTES_SOCKETMAP || !uses_transport_table(cfg)) {
        if (!missing)
            doctor_add(d, DOC_OK, "transport_maps", "every table named exists");
        return;
    }
    if (mine_at < 0)
        doctor_add(d, DOC_CRITICAL, "transport_maps", "transport_maps does not name mxdetour's table %s, so "
                   "no detour reaches Postfix: set transport_maps = %s%s%s", mine, mine,
                   d->transport_maps && *d->transport_maps ? ", " : "", d->transport_maps ? d->transport_maps : "");
    else if (mine_at > 0)
        doctor_add(d, DOC_WARNING, "transport_maps", "mxdetour's table %s is not first in transport_maps, so "
                   "an earlier table's entry for a domain hides its detour: put it first", mine);
    else if (!missing)
        doctor_add(d, DOC_OK, "transport_maps", "every table exists and mxdetour's %s comes first", mine);
}

static const struct master_entry *master_find(const struct doctor *d, const char *service, const char *type)
{
    for (size_t i = 0; i < d->nmaster; i++)
        if (strcmp(d->master[i].service, service) == 0 && strcmp(d->master[i].type, type) == 0)
            return &d->master[i];
    return NULL;
}

static void check_relays(struct doctor *d)
{
    const struct cfg *cfg = d->c->cfg;
    int bad = 0;

    for (size_t i = 0; i < cfg->nrelays; i++) {
        const struct cfg_relay *r = &cfg->relays[i];
        char transport[DOCTOR_FIELD_MAX];
        const char *colon = r->nexthop ? strchr(r->nexthop, ':') : NULL;
        if (colon == NULL)
            continue;           /* kernel mode: no Postfix transport */
        snprintf(transport, sizeof(transport), "%.*s", (int)(colon - r->nexthop), r->nexthop);
        if (master_find(d, transport, "unix") == NULL) {
            bad++;
            doctor_add(d, DOC_CRITICAL, "master.cf", "relay %s: transport %s is not a unix service in %s/master.cf, "
                       "so mail detoured through it stays deferred (\"mail transport unavailable\"): add it "
                       "(see master.cf.mxdetour)", r->name, transport, d->postfix_dir);
        }
    }
    if (!bad && cfg->nrelays)
        doctor_add(d, DOC_OK, "master.cf", "every relay's transport is a service in master.cf");
}

/* The first smtpd or cleanup service of master.cf that runs chrooted. */
static const struct master_entry *chrooted(const struct doctor *d, const char *command)
{
    for (size_t i = 0; i < d->nmaster; i++)
        if (d->master[i].chroot && strcmp(d->master[i].command, command) == 0)
            return &d->master[i];
    return NULL;
}

/* mxdetour's socket as its Postfix address: "unix:/path" or "inet:HOST:PORT". */
static void mxdetour_milter(const char *sock, char *path, size_t psize, char *inet, size_t isize)
{
    path[0] = inet[0] = 0;
    if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0) {
        snprintf(path, psize, "%s", strchr(sock, ':') + 1);
    } else {
        /* libmilter's inet:PORT@HOST (HOST may be left out: any address) */
        const char *at = strchr(sock, '@');
        const char *port = strchr(sock, ':') + 1;
        snprintf(inet, isize, "%.*s", at ? (int)(at - port) : (int)strlen(port), port);
    }
}

/* Whether a Postfix milter address is mxdetour's: the unix path as the
 * client sees it (under root when chrooted), or the inet port. */
static int is_mxdetour(const char *addr, const char *root, const char *path, const char *port)
{
    char seen[4200];
    if (path[0] && (strncmp(addr, "unix:", 5) == 0 || addr[0] == '/')) {
        const char *p = addr[0] == '/' ? addr : addr + 5;
        snprintf(seen, sizeof(seen), "%s%s", root ? root : "", p);
        return strcmp(seen, path) == 0;
    }
    if (port[0] && (strncmp(addr, "inet:", 5) == 0 || strncmp(addr, "inet6:", 6) == 0)) {
        const char *colon = strrchr(addr, ':');
        return strcmp(colon + 1, port) == 0;
    }
    return 0;
}

static void check_socket(struct doctor *d, const char *path)
{
    struct stat st;
    char why[1200];
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    if (stat(path, &st) < 0) {
        doctor_add(d, DOC_WARNING, "milter", "no socket at %s (%s): mxdetourd is not running or has the milter "
                   "off; mail flows without the milter's policies until it starts", path, strerror(errno));
        return;
    }
    if (!S_ISSOCK(st.st_mode)) {
        doctor_add(d, DOC_CRITICAL, "milter", "%s is not a socket: remove it and restart mxdetourd", path);
        return;
    }
    if (d->postfix.exists && setupcheck_user_may(&d->postfix, path, 2, why, sizeof(why)) < 0) {
        struct group *gr = getgrgid(st.st_gid);
        doctor_add(d, DOC_CRITICAL, "milter", "user %s (smtpd, cleanup) may not connect to %s: %s; put %s in "
                   "the socket's group (adduser %s %s) and restart Postfix", d->postfix.name, path, why,
                   d->postfix.name, d->postfix.name, gr ? gr->gr_name : "GROUP");
        return;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (strlen(path) < sizeof(sun.sun_path) && fd >= 0) {
        memcpy(sun.sun_path, path, strlen(path) + 1);
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
            doctor_add(d, DOC_WARNING, "milter", "%s does not answer (%s): a socket left behind, mxdetourd "
                       "is not running; start it", path, strerror(errno));
        else
            doctor_add(d, DOC_OK, "milter", "%s answers, and smtpd and cleanup can reach it", path);
    }
    if (fd >= 0)
        close(fd);
}

/* libmilter's inet:PORT@HOST: does something listen there?  Only for an
 * address literal (a name would need a DNS lookup to mean anything). */
static void check_inet(struct doctor *d, const char *sock, const char *port)
{
    const char *at = strchr(sock, '@');
    struct netaddr a;
    struct sockaddr_storage ss = {0};
    socklen_t len;

    if (at == NULL || netaddr_parse(at + 1, &a) < 0)
        return;
    (void)netaddr_sockaddr(&a, atoi(port), &ss, &len);   /* parsed: AF_INET or AF_INET6 */
    int fd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&ss, len) < 0)
        doctor_add(d, DOC_WARNING, "milter", "nothing listens on %s (%s): mxdetourd is not running or has the "
                   "milter off; mail flows without the milter's policies until it starts", sock, strerror(errno));
    else
        doctor_add(d, DOC_OK, "milter", "%s answers", sock);
    close(fd);
}

static void check_milter(struct doctor *d)
{
    const char *sock = d->c->cfg->milter.socket;
    const struct master_entry *smtpd = chrooted(d, "smtpd"), *cleanup = chrooted(d, "cleanup");
    const char *q = d->queue_directory;
    char path[4200], port[64], member[DOCTOR_FIELD_MAX * 4], addr[DOCTOR_FIELD_MAX * 4], action[64];
    char raw_addr[DOCTOR_FIELD_MAX * 4], raw_action[64];
    int bad, found = 0, raw = 0;

    if (sock == NULL) {
        doctor_add(d, DOC_OK, "milter", "milter off (no milter.socket in %s)", d->c->cfg->file);
        return;
    }
    mxdetour_milter(sock, path, sizeof(path), port, sizeof(port));
    for (const char *p = d->smtpd_milters; p && (p = doctor_list_next(p, member, sizeof(member), &bad));) {
        doctor_milter_member(member, addr, sizeof(addr), action, sizeof(action));
        if (is_mxdetour(addr, smtpd ? q : NULL, path, port)) {
            found = 1;
            break;
        }
        if (!raw && is_mxdetour(addr, NULL, path, port)) {
            raw = 1;    /* keep this one's address and action for the messages */
            snprintf(raw_addr, sizeof(raw_addr), "%s", addr);
            snprintf(raw_action, sizeof(raw_action), "%s", action);
        }
    }
    if (!found && raw) {
        snprintf(addr, sizeof(addr), "%s", raw_addr);
        snprintf(action, sizeof(action), "%s", raw_action);
    }
    if (found || raw) {
        /* Whatever the path: the action Postfix takes when the milter is down. */
        const char *eff = action[0] ? action : d->milter_default_action ? d->milter_default_action : "tempfail";
        if (strcmp(eff, "accept") != 0)
            doctor_add(d, DOC_CRITICAL, "milter", "%s = %s: while mxdetourd's milter is down Postfix %s every "
                       "message; set milter_default_action = accept (or { %s, default_action=accept } in "
                       "smtpd_milters)", action[0] ? "its default_action" : "milter_default_action", eff,
                       strcmp(eff, "reject") == 0 ? "rejects" : "defers", addr);
        else if (found)
            doctor_add(d, DOC_OK, "milter", "smtpd_milters names mxdetour's milter, with default action accept");
    }
    if (!found && raw && smtpd) {
        doctor_add(d, DOC_CRITICAL, "milter", "smtpd runs chrooted in %s (master.cf %s/%s, column 5 = y), so it "
                   "looks for unix:%s at %s%s: put the socket under %s (milter.socket = \"unix:%s/mxdetour/"
                   "milter.sock\", smtpd_milters = unix:/mxdetour/milter.sock) or use inet:127.0.0.1:PORT",
                   q, smtpd->service, smtpd->type, path, q, path, q, q);
        return;
    }
    if (!found && smtpd && path[0] && strncmp(path, q, strlen(q)) != 0) {
        doctor_add(d, DOC_CRITICAL, "milter", "milter.socket %s is outside %s, where smtpd runs chrooted (master.cf "
                   "%s/%s): use milter.socket = \"unix:%s/mxdetour/milter.sock\" and smtpd_milters = "
                   "unix:/mxdetour/milter.sock", path, q, smtpd->service, smtpd->type, q);
        return;
    }
    if (!found) {
        const char *seen = path[0] && smtpd ? path + strlen(q) : path;
        doctor_add(d, DOC_WARNING, "milter", "smtpd_milters does not name mxdetour's milter: add %s%s%s", path[0]
                   ? "unix:" : "inet:127.0.0.1:", path[0] ? seen : port,
                   d->smtpd_milters && *d->smtpd_milters ? " to it" : "");
        return;
    }
    /* Mail from sendmail(1) meets the milter in cleanup(8), which may be
     * chrooted where smtpd is not, or the other way round. */
    int local = 0;
    for (const char *p = d->non_smtpd_milters; p && (p = doctor_list_next(p, member, sizeof(member), &bad));) {
        char a2[DOCTOR_FIELD_MAX * 4], b2[64];
        doctor_milter_member(member, a2, sizeof(a2), b2, sizeof(b2));
        local |= is_mxdetour(a2, cleanup ? q : NULL, path, port);
    }
    size_t qlen = strlen(q);
    if (!local && cleanup && path[0] && strncmp(path, q, qlen) != 0)
        doctor_add(d, DOC_WARNING, "milter", "cleanup runs chrooted in %s (master.cf %s/%s), so locally submitted "
                   "mail cannot reach milter.socket %s: put the socket under %s, or use inet:127.0.0.1:PORT", q,
                   cleanup->service, cleanup->type, path, q);
    else if (!local)
        doctor_add(d, DOC_WARNING, "milter", "non_smtpd_milters does not reach mxdetour's milter from cleanup%s, "
                   "so locally submitted mail skips it: set non_smtpd_milters = %s%s", cleanup ? " (chrooted)" : "",
                   path[0] ? "unix:" : "inet:127.0.0.1:", path[0] ? (cleanup ? path + qlen : path) : port);
    if (path[0])
        check_socket(d, path);
    else
        check_inet(d, sock, port);
}

void doctor_postfix_check(struct doctor *d)
{
    if (!d->postconf_ok)
        return;
    check_transport_maps(d);
    check_relays(d);
    check_milter(d);
}

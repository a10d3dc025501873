/* SPDX-License-Identifier: GPL-2.0-or-later */
/* setupcheck - see setupcheck.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "netaddr.h"
#include "setupcheck.h"

void setupcheck_user_lookup(struct setupcheck_user *u, const char *name)
{
    struct passwd *pw = getpwnam(name);
    int n = SETUPCHECK_MAX_GROUPS;

    memset(u, 0, sizeof(*u));
    u->name = name;
    if (pw == NULL)
        return;
    u->exists = 1;
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    if (getgrouplist(name, pw->pw_gid, u->groups, &n) < 0)
        n = SETUPCHECK_MAX_GROUPS;  /* the first ones are filled in */
    u->ngroups = (size_t)n;
}

int setupcheck_may(const struct stat *st, uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
                   int want)
{
    mode_t m = st->st_mode;

    if (uid == 0) {
        /* root: anything, except executing/searching what has no x bit at all */
        return !(want & 1) || S_ISDIR(m) || (m & (S_IXUSR | S_IXGRP | S_IXOTH));
    }
    if (st->st_uid == uid)
        return (((m >> 6) & 7) & (mode_t)want) == (mode_t)want;
    int in_group = st->st_gid == gid;
    for (size_t i = 0; i < ngroups && !in_group; i++)
        in_group = groups[i] == st->st_gid;
    if (in_group)
        return (((m >> 3) & 7) & (mode_t)want) == (mode_t)want;
    return ((m & 7) & (mode_t)want) == (mode_t)want;
}

static const char *owner_text(const struct stat *st, char *buf, size_t size)
{
    struct passwd *pw = getpwuid(st->st_uid);
    struct group *gr = getgrgid(st->st_gid);
    char u[32], g[32];
    snprintf(u, sizeof(u), "%u", (unsigned)st->st_uid);
    snprintf(g, sizeof(g), "%u", (unsigned)st->st_gid);
    snprintf(buf, size, "mode %04o %s:%s", (unsigned)(st->st_mode & 07777), pw ? pw->pw_name : u,
             gr ? gr->gr_name : g);
    return buf;
}

int setupcheck_user_may(const struct setupcheck_user *u, const char *path, int want, char *why,
                        size_t size)
{
    char dir[4096], own[128];
    struct stat st;
    size_t len = strlen(path);

    if (len >= sizeof(dir) || path[0] != '/') {
        snprintf(why, size, "not an absolute path of at most %zu bytes", sizeof(dir) - 1);
        return -1;
    }
    /* Every directory above path must let the user search it. */
    for (size_t i = 1; i < len; i++) {
        if (path[i] != '/')
            continue;
        memcpy(dir, path, i);
        dir[i] = 0;
        if (stat(dir, &st) < 0) {
            snprintf(why, size, "%s: %s", dir, strerror(errno));
            return -1;
        }
        if (!setupcheck_may(&st, u->uid, u->gid, u->groups, u->ngroups, 1)) {
            snprintf(why, size, "%s is %s, which %s may not enter", dir, owner_text(&st, own, sizeof(own)),
                     u->name);
            return -1;
        }
    }
    if (stat(path, &st) < 0) {
        snprintf(why, size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!setupcheck_may(&st, u->uid, u->gid, u->groups, u->ngroups, want)) {
        snprintf(why, size, "%s is %s", path, owner_text(&st, own, sizeof(own)));
        return -1;
    }
    return 0;
}

enum setupcheck_log setupcheck_log_file(const char *path, const char *user, char *why,
                                        size_t whylen)
{
    struct setupcheck_user u = {.name = "root", .exists = 1};
    struct stat st;
    char reason[512];

    if (stat(path, &st) < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? SETUPCHECK_LOG_MISSING : SETUPCHECK_LOG_UNREADABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", path);
        return SETUPCHECK_LOG_UNREADABLE;
    }
    if (user)
        setupcheck_user_lookup(&u, user);
    if (!u.exists) {
        snprintf(why, whylen, "user %s does not exist", user);
        return SETUPCHECK_LOG_UNREADABLE;
    }
    if (path[0] == '/' ? setupcheck_user_may(&u, path, 4, reason, sizeof(reason)) == 0
                       : setupcheck_may(&st, u.uid, u.gid, u.groups, u.ngroups, 4))
        return SETUPCHECK_LOG_OK;       /* a relative path: by the file's own bits */
    if (path[0] != '/')
        snprintf(reason, sizeof(reason), "its mode is %04o", (unsigned)(st.st_mode & 07777));
    snprintf(why, whylen, "user %s cannot read %s (%s)", u.name, path, reason);
    return SETUPCHECK_LOG_UNREADABLE;
}

int setupcheck_local_address(const char *addr, char *why, size_t whylen)
{
    struct netaddr a;
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;

    if (netaddr_parse(addr, &a) < 0) {
        snprintf(why, whylen, "\"%s\" is not an IP address", addr);
        return -1;
    }
    (void)netaddr_sockaddr(&a, 0, &ss, &len);     /* parsed: AF_INET or AF_INET6 */
    if ((fd = socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    int r = bind(fd, (struct sockaddr *)&ss, len);
    int e = errno;
    close(fd);
    if (r == 0)
        return 0;
    snprintf(why, whylen, "%s is not an address of this host (%s)", addr, strerror(e));
    return -1;
}

int setupcheck_warnings(const struct cfg *cfg, FILE *out)
{
    char why[512];
    int n = 0;

    for (size_t i = 0; i < cfg->nlogs; i++) {
        if (cfg->logs[i].path == NULL)
            continue;
        enum setupcheck_log r = setupcheck_log_file(cfg->logs[i].path, cfg->user, why, sizeof(why));
        if (r == SETUPCHECK_LOG_MISSING)
            fprintf(out, "%s: warning: logs: %s does not exist, so the log gives no evidence: "
                    "without rsyslog set Postfix's maillog_file to it, or follow the journal "
                    "with logs = ( { command = \"journalctl -f -o short-iso -u postfix@-\"; } ) "
                    "(docs/operations.md)\n", cfg->file, cfg->logs[i].path);
        else if (r == SETUPCHECK_LOG_UNREADABLE)
            fprintf(out, "%s: warning: logs: %s: give the log's group to the user (e.g. adm) "
                    "or the user to the log's group\n", cfg->file, why);
        n += r != SETUPCHECK_LOG_OK;
    }
    if (cfg->probe.source_address
        && setupcheck_local_address(cfg->probe.source_address, why, sizeof(why)) < 0) {
        fprintf(out, "%s: warning: probe.source_address: %s: probes would fail\n", cfg->file, why);
        n++;
    }
    for (size_t i = 0; i < cfg->nrelays; i++) {
        const struct cfg_relay *rl = &cfg->relays[i];
        if (rl->source_address && setupcheck_local_address(rl->source_address, why, sizeof(why)) < 0) {
            fprintf(out, "%s:%d: warning: relay %s: source_address: %s\n", cfg->file, rl->line,
                    rl->name, why);
            n++;
        }
    }
    return n;
}

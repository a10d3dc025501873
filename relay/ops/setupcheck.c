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

#define MAX_GROUPS 256

/* Whether the user (or the caller) is in group gid. */
static int in_group(const struct passwd *pw, gid_t gid)
{
    gid_t groups[MAX_GROUPS];
    int n = MAX_GROUPS;

    if (pw == NULL) {
        if (getegid() == gid)
            return 1;
        n = getgroups(MAX_GROUPS, groups);
    } else if (pw->pw_gid == gid) {
        return 1;
    } else if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
        n = 0;                      /* more than MAX_GROUPS: say it cannot */
    }
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return 1;
    return 0;
}

enum setupcheck_log setupcheck_log_file(const char *path, const char *user, char *why,
                                        size_t whylen)
{
    struct passwd *pw = user ? getpwnam(user) : NULL;
    struct stat st;

    if (stat(path, &st) < 0) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? SETUPCHECK_LOG_MISSING : SETUPCHECK_LOG_UNREADABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s is not a regular file", path);
        return SETUPCHECK_LOG_UNREADABLE;
    }
    uid_t uid = pw ? pw->pw_uid : geteuid();
    if (uid == 0 || (st.st_uid == uid && (st.st_mode & S_IRUSR))
        || (st.st_uid != uid && in_group(pw, st.st_gid) && (st.st_mode & S_IRGRP))
        || (st.st_uid != uid && !in_group(pw, st.st_gid) && (st.st_mode & S_IROTH)))
        return SETUPCHECK_LOG_OK;
    struct group *gr = getgrgid(st.st_gid);
    snprintf(why, whylen, "%s (mode %03o, group %s) cannot be read by user %s", path,
             (unsigned)(st.st_mode & 0777), gr ? gr->gr_name : "?", user ? user : "(this one)");
    return SETUPCHECK_LOG_UNREADABLE;
}

int setupcheck_local_address(const char *addr, char *why, size_t whylen)
{
    struct netaddr a;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    int fd;

    if (netaddr_parse(addr, &a) < 0) {
        snprintf(why, whylen, "\"%s\" is not an IP address", addr);
        return -1;
    }
    if (a.family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a.bytes, 4);
        len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a.bytes, 16);
        len = sizeof(*sin6);
    }
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_daemon - does mxdetourd run here, as which pid, and since when?  For
 * `status` and `doctor`.
 *
 * The pid file's lock, not its content, says whether the daemon runs
 * (relay/core/pidfile.h): a dead daemon leaves a file nobody locks.  The
 * lock is read from /proc/locks, never taken: taking it, even shared and
 * for a moment, could make a daemon starting right then fail to start.
 * Where /proc/locks cannot be read, the pid is asked with kill(pid, 0).
 * Without a pid file, a fresh health file (relay/ops/health.h) whose pid is
 * alive also counts.  "Since" is when the pid file was written, at start.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "clock.h"
#include "ctl.h"
#include "health.h"

#define LOCKS_LINE_MAX 256

/* The pid holding a flock(2) on (dev, ino): >0, 0 when nobody, -1 when
 * /proc/locks cannot be read. */
static long flock_holder(dev_t dev, ino_t ino)
{
    char line[LOCKS_LINE_MAX];
    FILE *fp = fopen("/proc/locks", "re");
    long holder = 0;

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp)) {
        long pid;
        unsigned maj, min;
        unsigned long long inode;
        /* "1: FLOCK  ADVISORY  WRITE 4711 fd:01:131090 0 EOF"; waiters
         * ("1: -> FLOCK ...") do not hold it. */
        if (sscanf(line, "%*d: FLOCK %*s %*s %ld %x:%x:%llu", &pid, &maj, &min, &inode) == 4
            && maj == major(dev) && min == minor(dev) && inode == (unsigned long long)ino && pid > 0) {
            holder = pid;
            break;
        }
    }
    fclose(fp);
    return holder;
}

static int pid_alive(long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Without a pid file: the health file's pid, when the file is fresh. */
static void from_health(const struct cfg *cfg, struct ctl_daemon *d)
{
    char path[4096], line[128];
    long pid = 0;
    uint64_t written = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, HEALTH_FILE);
    if ((fp = fopen(path, "re")) == NULL)
        return;
    for (int i = 0; i < 8 && fgets(line, sizeof(line), fp); i++)    /* both come first */
        if (sscanf(line, "pid %ld", &pid) != 1)
            sscanf(line, "written %" SCNu64, &written);
    fclose(fp);
    if (pid > 0 && written + HEALTH_STALE_MS >= clock_now_ms() && pid_alive(pid)) {
        d->running = 1;
        d->pid = pid;
        snprintf(d->why, sizeof(d->why), "no pid file %.200s, but %.300s is fresh", cfg->pid_file, path);
    }
}

void ctl_daemon_state(const struct cfg *cfg, struct ctl_daemon *d)
{
    char buf[32];
    struct stat st;
    ssize_t n;
    int fd = open(cfg->pid_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

    memset(d, 0, sizeof(*d));
    if (fd < 0) {
        snprintf(d->why, sizeof(d->why), "%s %s: %s", errno == ENOENT ? "no pid file" : "cannot read",
                 cfg->pid_file, strerror(errno));
        if (errno != ENOENT)
            d->running = -1;
        from_health(cfg, d);
        return;
    }
    n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof(buf) - 1) : -1;
    close(fd);
    if (n < 0) {
        snprintf(d->why, sizeof(d->why), "%s is not a pid file", cfg->pid_file);
        d->running = -1;
        return;
    }
    buf[n] = 0;
    d->pid = strtol(buf, NULL, 10);
    d->since_ms = (uint64_t)st.st_mtim.tv_sec * 1000 + (uint64_t)st.st_mtim.tv_nsec / 1000000;
    long holder = flock_holder(st.st_dev, st.st_ino);
    if (holder > 0) {
        d->running = 1;
        if (d->pid <= 0)
            d->pid = holder;
    } else if (holder == 0 || !pid_alive(d->pid)) {
        /* An empty file is what a daemon that stopped unprivileged leaves. */
        if (d->pid > 0)
            snprintf(d->why, sizeof(d->why), "pid %ld of %s is gone", d->pid, cfg->pid_file);
        else
            snprintf(d->why, sizeof(d->why), "%s is empty: the last one stopped", cfg->pid_file);
        d->pid = 0;
        d->since_ms = 0;
    } else {
        d->running = 1;
    }
}

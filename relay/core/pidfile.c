/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pidfile - see pidfile.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

#define PIDFILE_TRIES 10        /* lost races with an exiting holder */

/* The process id a pid file holds, or 0 when it holds none. */
static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    char *end;

    if (n <= 0)
        return 0;
    buf[n] = 0;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    if (errno != 0 || end == buf || (*end != '\n' && *end != 0) || pid <= 0)
        return 0;
    return pid;
}

/* True when fd is still the file named path (not unlinked or replaced). */
static int still_named(int fd, const char *path)
{
    struct stat fs, ps;

    return fstat(fd, &fs) == 0 && stat(path, &ps) == 0
           && fs.st_dev == ps.st_dev && fs.st_ino == ps.st_ino;
}

int pidfile_open(struct pidfile *pf, const char *path, long *previous)
{
    struct stat st;

    pf->fd = -1;
    pf->path = NULL;
    *previous = 0;
    for (int tries = 0; tries < PIDFILE_TRIES; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0) {
            if (errno == ELOOP)
                errno = EINVAL;         /* a symbolic link */
            return -1;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            errno = EINVAL;
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int saved = errno;
            *previous = read_pid(fd);
            close(fd);
            errno = saved == EAGAIN ? EWOULDBLOCK : saved;
            return -1;
        }
        if (!still_named(fd, path)) {
            close(fd);                  /* its holder removed it: start over */
            continue;
        }
        *previous = read_pid(fd);
        if ((pf->path = strdup(path)) == NULL) {
            close(fd);
            return -1;
        }
        pf->fd = fd;
        return 0;
    }
    errno = EAGAIN;
    return -1;
}

int pidfile_write(struct pidfile *pf, pid_t pid)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);

    if (ftruncate(pf->fd, 0) < 0)
        return -1;
    errno = 0;
    if (pwrite(pf->fd, buf, (size_t)len, 0) != len) {
        if (errno == 0)
            errno = ENOSPC;
        return -1;
    }
    return 0;
}

void pidfile_close(struct pidfile *pf)
{
    if (pf->fd >= 0)
        close(pf->fd);
    pf->fd = -1;
    free(pf->path);
    pf->path = NULL;
}

int pidfile_remove(struct pidfile *pf)
{
    int status = 0, saved = 0;

    if (pf->fd < 0)
        return 0;
    /* Unlink while the lock is held: see pidfile.h. */
    if (unlink(pf->path) < 0) {
        saved = errno;
        status = -1;
        if (ftruncate(pf->fd, 0) < 0)
            saved = errno;
    }
    pidfile_close(pf);
    errno = saved;
    return status;
}

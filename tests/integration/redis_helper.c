/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "redis_helper.h"

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int launch(struct redis_helper *h)
{
    h->pid = fork();
    if (h->pid < 0)
        return -1;
    if (h->pid == 0) {
        /* No persistence: a restart must start empty unless a test says so. */
        char logfile[400];
        snprintf(logfile, sizeof(logfile), "%s/redis.log", h->dir);
        execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", h->socket,
               "--unixsocketperm", "700", "--dir", h->dir, "--save", "", "--appendonly", "no",
               "--loglevel", "warning", "--logfile", logfile, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {        /* up to 10 s */
        struct stat st;
        if (stat(h->socket, &st) == 0)
            return 0;
        if (waitpid(h->pid, NULL, WNOHANG) == h->pid)
            return -1;
        pause_ms(50);
    }
    return -1;
}

int redis_helper_start(struct redis_helper *h)
{
    snprintf(h->dir, sizeof(h->dir), "%s/mxd-redis-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(h->dir) == NULL)
        return -1;
    snprintf(h->socket, sizeof(h->socket), "%s/redis.sock", h->dir);
    return launch(h);
}

int redis_helper_restart(struct redis_helper *h)
{
    return launch(h);
}

void redis_helper_stop(struct redis_helper *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGTERM);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
    }
    unlink(h->socket);
}

void redis_helper_destroy(struct redis_helper *h)
{
    redis_helper_stop(h);
    char path[400];
    snprintf(path, sizeof(path), "%s/dump.rdb", h->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/redis.log", h->dir);
    unlink(path);
    rmdir(h->dir);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * redis_helper - start and stop a private redis-server on a Unix socket in a
 * temporary directory, for integration tests.  Nothing is shared with other
 * runs: the directory name is unique and removed by redis_helper_destroy().
 */
#ifndef MXD_REDIS_HELPER_H
#define MXD_REDIS_HELPER_H

#include <sys/types.h>

struct redis_helper {
    char dir[256];
    char socket[300];
    pid_t pid;
};

/* Creates the directory and starts the server; returns 0 when it answers. */
int redis_helper_start(struct redis_helper *h);
/* Starts the server again in the same directory (same socket). */
int redis_helper_restart(struct redis_helper *h);
void redis_helper_stop(struct redis_helper *h);
void redis_helper_destroy(struct redis_helper *h);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * follower_int - what follower.c (reading, rotation, position, commands)
 * and follower_health.c (whether a file is being read, and saying so)
 * share, and nothing else should use.
 */
#ifndef MXD_FOLLOWER_INT_H
#define MXD_FOLLOWER_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "follower.h"

#define MOD "follower"

struct event;
struct event_base;
struct dirwatch;

struct follower {
    struct event_base *base;
    struct follower_config cfg;
    char *path, *state_path, *state_tmp, *command;
    int fd;                     /* current input, or -1 */
    dev_t dev;                  /* FOLLOW_FILE: identity of fd */
    ino_t ino;
    off_t offset;               /* just after the last newline */
    off_t read_pos;             /* bytes read from the stream */
    char *line;                 /* partial line, max_line + 1 bytes */
    size_t line_len;
    int discarding;             /* dropping bytes up to the next newline */
    char *chunk;                /* CHUNK + 1 bytes */
    struct event *timer;        /* file: poll (persistent); command: restart */
    struct event *rd;           /* fd, command: readable */
    struct dirwatch *watch;     /* file: read at once when it changes (the timer stays) */
    pid_t child;                /* command: running child, or 0 */
    uint64_t child_ms;          /* when it started (monotonic) */
    uint64_t backoff_ms;        /* next restart delay */
    int dirty;                  /* offset moved since the last save */
    uint64_t saved_ms;
    enum follower_state state;  /* FOLLOW_FILE: see follower_health() */
    uint64_t state_ms;          /* wall clock: when state began */
    int state_warned;           /* the problem lasted the grace time and was logged */
    char reason[256];
    struct follower_stats stats;
};

/* FOLLOW_FILE: records what keeps the file from being read (reason: the
 * open error, or NULL); logging waits for the grace time. */
void follower_set_state(struct follower *f, enum follower_state st, const char *reason);
/* Logs the problem once it has lasted FOLLOWER_GRACE_MS. */
void follower_warn_if_lasting(struct follower *f);

#endif

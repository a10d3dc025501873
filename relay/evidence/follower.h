/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * follower - follows a log as "tail -F" does and hands over complete lines.
 *
 * Sources (one per follower):
 *   FOLLOW_FILE     a file, read when inotify says it changed (dirwatch.h)
 *                   and checked every poll_ms on a timer.  It survives
 *                   rotation by rename (a new inode at the path: the old file
 *                   is read to its end first, then the new one from 0) and
 *                   truncation (the file shrank below what was read: start
 *                   again at 0).  A file that does not exist yet is waited
 *                   for and read from 0 when it appears.  Truncation that is
 *                   followed by growth past the old size within one poll
 *                   cannot be seen (as with tail -F).
 *   FOLLOW_FD       a pipe or stdin, read when readable.  The follower owns
 *                   the descriptor (made non-blocking, closed at its end).
 *   FOLLOW_COMMAND  "/bin/sh -c COMMAND" in its own process group, stdin
 *                   /dev/null, stdout read like FOLLOW_FD.  When it exits it
 *                   is started again after restart_min_ms, doubling up to
 *                   restart_max_ms while it keeps dying young.
 *
 * Lines: on_line gets each complete line without its "\n"; line[len] is a
 * NUL, and the line may hold other NUL bytes (the parser rejects them).  A
 * partial line is kept until its newline arrives; a line longer than
 * max_line is dropped whole and counted.  At the end of a stream (a rotated
 * file, EOF of a pipe or command) a final line without "\n" is delivered.
 *
 * Position (FOLLOW_FILE with a state_path): the inode, a hash of the file's
 * first bytes and the offset after the last delivered line are written
 * atomically (temporary file, fsync, rename) at most every save_ms while
 * lines flow, and by follower_save() and follower_free().  On start:
 *   - no state file: start at the END of the file (history is not replayed;
 *     a partial last line is skipped);
 *   - same file (inode and first bytes) and size >= offset: resume at offset;
 *   - another file (rotated while we were stopped) or a shorter one: start
 *     at 0.  The unread rest of the rotated file is lost.
 * Across a clean stop lines are delivered exactly once; after a crash up to
 * save_ms worth of lines may be delivered again.
 *
 * Runs on the caller's event_base, single-threaded.  The callbacks must not
 * free the follower, except on_end, which is its last call.  The follower
 * reaps its own child by pid: the program must not reap children it did not
 * start (waitpid(-1, ...)), or the pid could be reused before it is signalled.
 * FOLLOW_FD takes pipes, sockets and terminals; a regular file is followed by
 * its path.
 */
#ifndef MXD_FOLLOWER_H
#define MXD_FOLLOWER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

enum follower_source { FOLLOW_FILE = 0, FOLLOW_FD, FOLLOW_COMMAND };

typedef void (*follower_line_fn)(const char *line, size_t len, void *arg);

struct follower_config {
    enum follower_source source;
    const char *path;           /* FOLLOW_FILE: the log file */
    const char *state_path;     /* FOLLOW_FILE: position file, or NULL */
    int fd;                     /* FOLLOW_FD: e.g. 0 for stdin */
    const char *command;        /* FOLLOW_COMMAND: shell command */
    unsigned poll_ms;           /* 0: 250 */
    unsigned save_ms;           /* 0: 1000 */
    size_t max_line;            /* 0: 8192 */
    unsigned restart_min_ms;    /* 0: 1000 */
    unsigned restart_max_ms;    /* 0: 60000 */
    follower_line_fn on_line;   /* required */
    void (*on_end)(void *arg);  /* FOLLOW_FD: the input ended; may be NULL */
    void *arg;
};

struct follower_stats {
    uint64_t lines;             /* delivered */
    uint64_t bytes;             /* read */
    uint64_t overlong;          /* lines dropped for length */
    uint64_t rotations;         /* new file at the path */
    uint64_t truncations;       /* file shrank: restarted at 0 */
    uint64_t restarts;          /* command started again */
    uint64_t read_errors;
};

/*
 * Starts following; strings in cfg are copied.  Returns NULL with the reason
 * in err (an incomplete configuration, a command that cannot be started).
 * A file that is missing or cannot be opened is no error: it is read when it
 * can be, and reported meanwhile (follower_health); nor is a bad state
 * file: it is reported with msg_warn and ignored.
 */
struct follower *follower_create(struct event_base *base, const struct follower_config *cfg,
                                 char *err, size_t errlen);

/* Saves the position, stops and reaps the command, closes everything. */
void follower_free(struct follower *f);

/* FOLLOW_FILE: read what is new now (the timer calls this every poll_ms). */
void follower_poll(struct follower *f);

/* Writes the state file now; 0, or -1 (reason logged with msg_warn). */
int follower_save(struct follower *f);

const struct follower_stats *follower_stats(const struct follower *f);

/*
 * FOLLOW_FILE: whether the file is being read.  A file that is missing or
 * cannot be opened for FOLLOWER_GRACE_MS (a rotation's moment between the
 * rename and the new file does not count) is logged once with msg_warn and
 * reported here until it is read again, which is logged with msg_info.
 * Other sources are always FOLLOWER_READING.
 */
#define FOLLOWER_GRACE_MS 5000

enum follower_state { FOLLOWER_READING = 0, FOLLOWER_MISSING, FOLLOWER_UNREADABLE };

struct follower_health {
    enum follower_state state;
    uint64_t since_ms;          /* wall clock: when the state began */
    char reason[256];           /* FOLLOWER_UNREADABLE: e.g. "open ...: Permission denied" */
};

void follower_health(const struct follower *f, struct follower_health *out);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spawn - starting other programs, for every mxdetour program: the log
 * follower's command, postmap, postqueue, `postfix reload` in the root
 * helper, and the helper itself.  One way to fork and exec, so the rules
 * that matter after fork() in a threaded process hold everywhere.
 *
 * spawn_start() forks and execs argv[0] (an absolute path; execv, no
 * shell; a caller that wants a shell passes "/bin/sh", "-c", CMD) with
 * stdin on /dev/null, stdout on a pipe or left as the caller's
 * (SPAWN_KEEP_STDOUT), and stderr on a pipe of its own, merged into
 * stdout, or left as the caller's (SPAWN_KEEP_STDERR).  Extra
 * descriptors may be passed at fixed numbers from 3 up (keep[]); every
 * other descriptor is closed in the child.  The child leads its own
 * process group, so kill(-pid, sig) reaches what it starts, and starts
 * with default signal dispositions and an empty signal mask.  Between fork
 * and exec the child calls only async-signal-safe functions: the milter
 * runs threads in the same process.
 *
 * spawn_run() starts argv like spawn_start() and waits for it, at most a
 * time limit, then kills its process group.  It BLOCKS the calling thread.
 * spawn_stop() ends a child: SIGTERM to its group, SIGKILL after a grace
 * period, and reaps it.
 *
 * Children are reaped by pid, never with waitpid(-1): other modules run
 * children of their own.  Times here are real monotonic milliseconds even
 * when a test fakes clock.h's clock.
 */
#ifndef MXD_SPAWN_H
#define MXD_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPAWN_KEEP_STDERR 0x1   /* the child's stderr stays the caller's */
#define SPAWN_KEEP_STDOUT 0x2   /* its stdout too; outfd is not used */
#define SPAWN_MAX_KEEP 4        /* descriptors passed on as 3, 4, ... */

/*
 * Starts argv.  stdout goes to *outfd (the caller's stdout with
 * SPAWN_KEEP_STDOUT: outfd may be NULL then); stderr to *errfd when errfd is not
 * NULL, else to the caller's stderr with SPAWN_KEEP_STDERR, else also to
 * *outfd.  keep[0..nkeep-1] (nkeep <= SPAWN_MAX_KEEP) become descriptors
 * 3, 4, ... in the child.  The descriptors returned are close-on-exec and
 * blocking; the caller owns them and must reap *pid.  0, or -1 with the
 * reason in err.
 */
int spawn_start(const char *const argv[], int flags, const int *keep, size_t nkeep,
                pid_t *pid, int *outfd, int *errfd, char *err, size_t errlen);

/*
 * Runs argv (stdout and stderr together) and waits, at most timeout_ms.
 * Returns 0 when the program exited with status 0; otherwise -1 and err
 * says why: "exit status N: FIRST LINE OF ITS OUTPUT", "killed by signal
 * N", "ARGV0: no answer within N ms, killed", or the system error.
 */
int spawn_run(const char *const argv[], uint64_t timeout_ms, char *err, size_t errlen);

/* Sends SIGTERM to pid's process group, SIGKILL after grace_ms, and reaps
 * pid; its wait status, or -1 when it was not our child. */
int spawn_stop(pid_t pid, uint64_t grace_ms);

/* Real monotonic milliseconds. */
uint64_t spawn_real_ms(void);

#endif

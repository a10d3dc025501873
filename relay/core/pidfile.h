/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pidfile - the process id file of mxdetourd, and the lock that keeps a
 * second mxdetourd from starting.
 *
 * The lock, not the file, says whether mxdetourd runs: pidfile_open() takes
 * an exclusive flock(2) on the file without waiting.  When another process
 * holds it, the open fails; when nobody does, a file left behind by a dead
 * process is taken over.  flock() belongs to the open file description, so
 * the lock survives fork(2) and is held for as long as any copy of the
 * descriptor is open; the descriptor is close-on-exec, so commands the daemon
 * runs never inherit the lock.
 *
 * A process that removes its pid file unlinks it while still holding the
 * lock.  A second process may have opened the old file just before, and would
 * then lock a file that no longer has a name; pidfile_open() detects this by
 * comparing the locked descriptor with the path, and starts over.
 *
 * Ownership: struct pidfile is the caller's (on the stack or embedded);
 * pidfile_open() fills it, pidfile_close() or pidfile_remove() releases what
 * it holds.  Errors are returned with errno set; the caller logs them.
 */
#ifndef MXD_PIDFILE_H
#define MXD_PIDFILE_H

#include <sys/types.h>

struct pidfile {
    char *path;                 /* malloc'd copy of the path */
    int fd;                     /* locked descriptor, -1 when closed */
};

#define PIDFILE_INIT {NULL, -1}

/*
 * Opens path, creating it with mode 0644 if needed, and locks it.  Returns 0,
 * or -1 with errno set: EWOULDBLOCK when another process holds the lock,
 * EINVAL when path is not a regular file (symbolic links are refused), or the
 * error of open(2).  In both cases *previous is the process id the file held
 * (0 when none): the running holder, or a dead process whose file is taken
 * over.
 */
int pidfile_open(struct pidfile *pf, const char *path, long *previous);

/* Replaces the file's content with "pid\n".  Returns 0 or -1 with errno. */
int pidfile_write(struct pidfile *pf, pid_t pid);

/* Closes the descriptor without removing the file: for a parent process
 * whose child keeps the lock.  Safe on a closed pidfile. */
void pidfile_close(struct pidfile *pf);

/*
 * Removes the file, then closes it.  When the directory does not allow the
 * unlink (privileges were dropped and the directory belongs to root), the
 * file is emptied instead; the next start takes it over.  Returns 0 when the
 * file was removed, -1 with errno otherwise.  Safe on a closed pidfile.
 */
int pidfile_remove(struct pidfile *pf);

#endif

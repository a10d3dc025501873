/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kick_proc - a child process of kick on the event loop: its stdout goes to
 * a callback (or, like stderr, into a short diagnostic), it is killed at a
 * deadline, and reaped by pid.  Internal to kick.c.
 *
 * Ownership: the caller owns struct proc (a slot: pid 0 when free); the
 * events and descriptors in it belong to this module until on_exit runs.
 */
#ifndef MXD_KICK_PROC_H
#define MXD_KICK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event;
struct event_base;

struct proc {
    pid_t pid;                  /* 0: slot free */
    int fd[2];                  /* stdout, stderr; -1 when closed or shared */
    struct event *ev[2];
    struct event *timer;        /* the deadline, then reap retries */
    int reap_tries;
    bool killed;
    char diag[256];             /* first bytes of stderr (or of all output) */
    size_t ndiag;
    void (*on_out)(const char *data, size_t len);   /* stdout; NULL: into diag */
    void (*on_exit)(struct proc *p, int status);    /* wait status, or -1 */
};

/* Starts argv in p on base; with on_out NULL, stdout and stderr both go to
 * p->diag.  0, or -1 after a warning (p->pid is 0). */
int proc_start(struct event_base *base, struct proc *p, const char *const argv[],
               uint64_t timeout_ms, void (*on_out)(const char *, size_t),
               void (*on_exit)(struct proc *, int));

/* Kills p's process group (once); its pipes close, then it is reaped. */
void proc_kill(struct proc *p);

/* Stops a child for good (module stop): no callback. */
void proc_abort(struct proc *p);

/* "exit status N: its first line", for a log line. */
const char *proc_why(const struct proc *p, int status, char *buf, size_t size);

#endif

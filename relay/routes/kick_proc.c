/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kick_proc - child processes of kick (postqueue -j, postqueue -i) read on
 * the event loop without blocking; see kick_proc.h.
 *
 * Children are reaped by pid, never with waitpid(-1): other modules run
 * children of their own.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "kick_proc.h"
#include "msg.h"
#include "spawn.h"

#define MOD "kick"
#define REAP_RETRY_US 5000
#define REAP_TRIES 200          /* then the child is killed */

static void proc_reap(struct proc *p);

void proc_kill(struct proc *p)
{
    if (p->pid > 0 && !p->killed) {
        p->killed = true;
        if (kill(-p->pid, SIGKILL) < 0)
            (void)kill(p->pid, SIGKILL);
    }
}

static void proc_close(struct proc *p, int i)
{
    if (p->ev[i])
        event_free(p->ev[i]);
    if (p->fd[i] >= 0)
        close(p->fd[i]);
    p->ev[i] = NULL;
    p->fd[i] = -1;
}

static void proc_readable(evutil_socket_t fd, short what, void *arg)
{
    struct proc *p = arg;
    int i = fd == p->fd[0] ? 0 : 1;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf));
    size_t take;

    (void)what;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n > 0 && i == 0 && p->on_out) {
        p->on_out(buf, (size_t)n);
    } else if (n > 0) {
        take = sizeof(p->diag) - 1 - p->ndiag;
        take = (size_t)n < take ? (size_t)n : take;
        memcpy(p->diag + p->ndiag, buf, take);
        p->diag[p->ndiag += take] = 0;
    } else {
        proc_close(p, i);
        if (p->fd[0] < 0 && p->fd[1] < 0) {
            evtimer_del(p->timer);
            proc_reap(p);
        }
    }
}

static void proc_timer(evutil_socket_t fd, short what, void *arg)
{
    struct proc *p = arg;

    (void)fd;
    (void)what;
    if (p->fd[0] >= 0 || p->fd[1] >= 0)
        proc_kill(p);           /* the deadline: its pipes close, then reap */
    else
        proc_reap(p);
}

static void proc_reap(struct proc *p)
{
    struct timeval tv = {0, REAP_RETRY_US};
    int status = 0;
    pid_t w = waitpid(p->pid, &status, WNOHANG);

    if (w == 0 || (w < 0 && errno == EINTR)) {
        if (++p->reap_tries == REAP_TRIES)
            proc_kill(p);       /* closed its output but does not end */
        evtimer_add(p->timer, &tv);
        return;
    }
    event_free(p->timer);
    p->timer = NULL;
    p->pid = 0;
    p->on_exit(p, w < 0 ? -1 : status);
}

/* Starts argv in p; with on_out NULL, stdout and stderr both go to p->diag. */
int proc_start(struct event_base *base, struct proc *p, const char *const argv[], uint64_t timeout_ms,
                      void (*on_out)(const char *, size_t), void (*on_exit)(struct proc *, int))
{
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    char err[256];

    memset(p, 0, sizeof(*p));
    p->on_out = on_out;
    p->on_exit = on_exit;
    p->fd[0] = p->fd[1] = -1;
    if (spawn_start(argv, 0, NULL, 0, &p->pid, &p->fd[0], on_out ? &p->fd[1] : NULL, err, sizeof(err)) < 0) {
        msg_warn(MOD, "%s", err);
        p->pid = 0;
        return -1;
    }
    p->timer = evtimer_new(base, proc_timer, p);
    for (int i = 0; i < 2; i++)
        if (p->fd[i] >= 0) {
            (void)fcntl(p->fd[i], F_SETFL, O_NONBLOCK);
            p->ev[i] = event_new(base, p->fd[i], EV_READ | EV_PERSIST, proc_readable, p);
            if (p->ev[i] == NULL || event_add(p->ev[i], NULL) < 0)
                msg_fatal(MOD, "cannot watch a child's output");
        }
    if (p->timer == NULL || evtimer_add(p->timer, &tv) < 0)
        msg_fatal(MOD, "cannot add a timer");
    return 0;
}

/* Stops a child for good (module stop): no callback. */
void proc_abort(struct proc *p)
{
    int status;

    if (p->pid <= 0)
        return;
    proc_kill(p);
    proc_close(p, 0);
    proc_close(p, 1);
    if (p->timer)
        event_free(p->timer);
    p->timer = NULL;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        continue;
    p->pid = 0;
}

/* "exit status N: its first line", for a log line. */
const char *proc_why(const struct proc *p, int status, char *buf, size_t size)
{
    int n = (int)strcspn(p->diag, "\n");

    if (status >= 0 && !WIFEXITED(status))
        snprintf(buf, size, "%s by signal %d", p->killed ? "stopped" : "killed", WTERMSIG(status));
    else
        snprintf(buf, size, "exit status %d%s%.*s", status < 0 ? -1 : WEXITSTATUS(status),
                 n ? ": " : "", n, p->diag);
    return buf;
}

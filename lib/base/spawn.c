/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spawn - starting other programs; see spawn.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

/* Where the child parks its descriptors before it puts them in place:
 * above every target (0, 1, 2, 3 .. 3 + SPAWN_MAX_KEEP). */
#define PARK_FD 16

uint64_t spawn_real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Child side of a failed execv(): async-signal-safe only. */
static void exec_failed(const char *path, int err)
{
    char num[16];
    size_t n = sizeof(num);

    num[--n] = '\n';
    do {
        num[--n] = (char)('0' + err % 10);
        err /= 10;
    } while (err > 0 && n > 0);
    (void)!write(STDERR_FILENO, "cannot execute ", 15);
    (void)!write(STDERR_FILENO, path, strlen(path));
    (void)!write(STDERR_FILENO, ": errno ", 8);
    (void)!write(STDERR_FILENO, num + n, sizeof(num) - n);
}

static void close_from(int lowfd)
{
    if (close_range((unsigned)lowfd, ~0U, 0) < 0)
        for (int fd = lowfd; fd < 4096; fd++)
            (void)close(fd);
}

/*
 * The child, from fork to exec: async-signal-safe calls only.  Every
 * source descriptor is first copied above the targets, so no dup2() can
 * overwrite a source that another target still needs, whatever numbers
 * the caller's descriptors happen to have.
 */
static _Noreturn void child(const char *const argv[], const int *keep, size_t nkeep,
                            int null, int out, int errout)
{
    int src[3 + SPAWN_MAX_KEEP], nsrc = 0;
    struct sigaction sa;
    sigset_t none;

    /* Every signal is blocked (spawn_start): none can run one of the
     * parent's handlers in this copy of it.  Reset them all, then unblock:
     * a signal sent meanwhile now has its default effect. */
    (void)setpgid(0, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);

    src[nsrc++] = null;
    src[nsrc++] = out;              /* -1: keep the caller's stdout */
    src[nsrc++] = errout;           /* -1: keep the caller's stderr */
    for (size_t i = 0; i < nkeep; i++)
        src[nsrc++] = keep[i];
    for (int i = 0; i < nsrc; i++)
        if (src[i] >= 0 && (src[i] = fcntl(src[i], F_DUPFD, PARK_FD)) < 0)
            _exit(127);
    for (int i = 0; i < nsrc; i++)      /* src[i] becomes descriptor i */
        if (src[i] >= 0 && dup2(src[i], i) < 0)
            _exit(127);
    close_from(3 + (int)nkeep);
    execv(argv[0], (char *const *)argv);
    exec_failed(argv[0], errno);
    _exit(127);
}

int spawn_start(const char *const argv[], int flags, const int *keep, size_t nkeep,
                pid_t *pid, int *outfd, int *errfd, char *err, size_t errlen)
{
    int out[2] = {-1, -1}, ep[2] = {-1, -1}, null = -1;
    int keep_out = (flags & SPAWN_KEEP_STDOUT) != 0, saved_errno;
    pid_t pid_child = -1;

    if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
        snprintf(err, errlen, "\"%s\" is not an absolute path", argv && argv[0] ? argv[0] : "");
        return -1;
    }
    if (nkeep > SPAWN_MAX_KEEP) {
        snprintf(err, errlen, "cannot pass %zu descriptors to %s (at most %d)", nkeep, argv[0],
                 SPAWN_MAX_KEEP);
        return -1;
    }
    if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || (!keep_out && pipe2(out, O_CLOEXEC) < 0)
        || (errfd != NULL && pipe2(ep, O_CLOEXEC) < 0)) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
        pid_child = -1;
    } else {
        /* Between fork and exec the child must not run a handler of ours
         * (a test framework's SIGTERM handler kills its process group):
         * every signal stays blocked in this thread until fork returns. */
        sigset_t all, old;

        sigfillset(&all);
        (void)pthread_sigmask(SIG_SETMASK, &all, &old);
        pid_child = fork();
        saved_errno = errno;
        if (pid_child != 0)
            (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (pid_child < 0)
            snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(saved_errno));
    }
    if (pid_child < 0) {
        for (int i = 0; i < 2; i++) {
            if (out[i] >= 0)
                close(out[i]);
            if (ep[i] >= 0)
                close(ep[i]);
        }
        if (null >= 0)
            close(null);
        return -1;
    }
    if (pid_child == 0)
        child(argv, keep, nkeep, null, out[1],
              errfd != NULL ? ep[1] : (flags & SPAWN_KEEP_STDERR) ? -1 : out[1]);
    (void)setpgid(pid_child, pid_child);        /* also here: no race with kill(-pid) */
    close(null);
    if (!keep_out) {
        close(out[1]);
        *outfd = out[0];
    }
    if (errfd != NULL) {
        close(ep[1]);
        *errfd = ep[0];
    }
    *pid = pid_child;
    return 0;
}

/* The first line of out, made printable, into err after prefix. */
static void describe(char *err, size_t errlen, const char *prefix, const char *out)
{
    size_t len = strcspn(out, "\n");
    char line[256];

    if (len >= sizeof(line))
        len = sizeof(line) - 1;
    for (size_t i = 0; i < len; i++)
        line[i] = (unsigned char)out[i] < 0x20 || (unsigned char)out[i] > 0x7e ? '?' : out[i];
    line[len] = 0;
    snprintf(err, errlen, "%s%s%s", prefix, len ? ": " : "", line);
}

int spawn_run(const char *const argv[], uint64_t timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = spawn_real_ms() + timeout_ms;
    char out[512], buf[4096], what[64];
    size_t nout = 0;
    bool timedout = false;
    int fd, status = 0;
    pid_t pid, w;

    if (spawn_start(argv, 0, NULL, 0, &pid, &fd, NULL, err, errlen) < 0)
        return -1;
    for (;;) {                  /* read its output until EOF or the deadline */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = spawn_real_ms();
        ssize_t n;

        if (now >= deadline) {
            timedout = true;
            break;
        }
        if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
            continue;
        if ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (nout < sizeof(out) - 1) {
            size_t take = (size_t)n < sizeof(out) - 1 - nout ? (size_t)n : sizeof(out) - 1 - nout;
            memcpy(out + nout, buf, take);
            nout += take;
        }
    }
    close(fd);
    out[nout] = 0;
    while (!timedout) {         /* it closed its output: it is ending */
        if ((w = waitpid(pid, &status, WNOHANG)) == pid)
            break;
        if (w < 0 && errno != EINTR) {
            snprintf(err, errlen, "waitpid %s: %s", argv[0], strerror(errno));
            return -1;
        }
        if (spawn_real_ms() >= deadline)
            timedout = true;
        else
            usleep(1000);
    }
    if (timedout) {
        (void)kill(-pid, SIGKILL);
        (void)kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            continue;
        snprintf(err, errlen, "%s: no answer within %llu ms, killed", argv[0],
                 (unsigned long long)timeout_ms);
        return -1;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(what, sizeof(what), "exit status %d", WEXITSTATUS(status));
    else
        snprintf(what, sizeof(what), "killed by signal %d", WTERMSIG(status));
    describe(err, errlen, what, out);
    return -1;
}

int spawn_stop(pid_t pid, uint64_t grace_ms)
{
    uint64_t deadline = spawn_real_ms() + grace_ms;
    int status = 0;
    pid_t w;

    if (pid <= 0)
        return -1;
    if (kill(-pid, SIGTERM) < 0)
        (void)kill(pid, SIGTERM);
    for (;;) {
        if ((w = waitpid(pid, &status, WNOHANG)) == pid)
            return status;
        if (w < 0 && errno != EINTR)
            return -1;
        if (spawn_real_ms() >= deadline)
            break;
        usleep(5000);
    }
    if (kill(-pid, SIGKILL) < 0)
        (void)kill(pid, SIGKILL);
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        continue;
    return w == pid ? status : -1;
}

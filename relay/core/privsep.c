/*
 * privsep - the privileged helper and the program runner; see privsep.h.
 *
 * Layout: the runner (spawn, run) first, then the helper (runs as root in
 * its own process, never returns), then the daemon's side (event loop).
 *
 * The helper is forked from an open hook, before any module starts a thread
 * (every open hook runs before every start hook), so it may go on running
 * ordinary C code after fork().  It closes every descriptor it inherited but
 * the socket and the standard streams, and keeps no libevent state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "msg.h"
#include "privsep.h"

#define MOD "privsep"

/* ------------------------------------------------------------ the runner */

/* Real monotonic milliseconds: these waits are real even when a test fakes
 * clock.h's clock. */
static uint64_t real_ms(void)
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

int privsep_spawn(const char *const argv[], pid_t *pid, int *outfd, int *errfd,
                  char *err, size_t errlen)
{
    int out[2] = {-1, -1}, ep[2] = {-1, -1}, null;
    pid_t child;

    if (argv == NULL || argv[0] == NULL || argv[0][0] != '/') {
        snprintf(err, errlen, "\"%s\" is not an absolute path", argv && argv[0] ? argv[0] : "");
        return -1;
    }
    if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 || pipe2(out, O_CLOEXEC) < 0
        || (errfd != NULL && pipe2(ep, O_CLOEXEC) < 0) || (child = fork()) < 0) {
        snprintf(err, errlen, "cannot start %s: %s", argv[0], strerror(errno));
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
    if (child == 0) {           /* async-signal-safe calls only from here */
        static const int sigs[] = {SIGPIPE, SIGHUP, SIGTERM, SIGINT, SIGCHLD, SIGALRM};
        struct sigaction sa;
        sigset_t none;

        (void)setpgid(0, 0);
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            (void)sigaction(sigs[i], &sa, NULL);
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(null, STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0
            || dup2(errfd != NULL ? ep[1] : out[1], STDERR_FILENO) < 0)
            _exit(127);
        close_from(3);
        execv(argv[0], (char *const *)argv);
        exec_failed(argv[0], errno);
        _exit(127);
    }
    (void)setpgid(child, child);        /* also here: no race with kill(-pid) */
    close(null);
    close(out[1]);
    *outfd = out[0];
    if (errfd != NULL) {
        close(ep[1]);
        *errfd = ep[0];
    }
    *pid = child;
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

int privsep_run(const char *const argv[], uint64_t timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = real_ms() + timeout_ms;
    char out[512], buf[4096], what[64];
    size_t nout = 0;
    bool timedout = false;
    int fd, status = 0;
    pid_t pid, w;

    if (privsep_spawn(argv, &pid, &fd, NULL, err, errlen) < 0)
        return -1;
    for (;;) {                  /* read its output until EOF or the deadline */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = real_ms();
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
        if (real_ms() >= deadline)
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

/* ------------------------------------------------------------ the helper */

static _Noreturn void helper_main(int fd, const char *postfix, const char *config_dir)
{
    const char *const argv[] = {postfix, "-c", config_dir, "reload", NULL};
    struct sigaction sa;
    sigset_t none;
    uint64_t last = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGHUP, &sa, NULL);
    (void)sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    closelog();                 /* msg opens it again on the next line */
    if (fd != 3) {              /* keep only the socket (as 3) and 0, 1, 2 */
        if (dup2(fd, 3) < 0)
            _exit(1);
        fd = 3;
    }
    close_from(4);
    msg_debug(MOD, "helper running, pid %ld", (long)getpid());

    for (;;) {
        struct privsep_msg m, r;
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;
        char err[PRIVSEP_TEXT_MAX];
        bool zero = true;

        memset(&m, 0, sizeof(m));
        if ((n = recvmsg(fd, &mh, MSG_TRUNC)) < 0) {       /* n: the real length */
            if (errno == EINTR)
                continue;
            msg_warn(MOD, "helper: cannot read a request: %s; exiting", strerror(errno));
            _exit(1);
        }
        if (n == 0)
            _exit(0);           /* mxdetourd closed its end: stopped or died */
        memset(&r, 0, sizeof(r));
        r.magic = PRIVSEP_MAGIC;
        r.id = (size_t)n >= offsetof(struct privsep_msg, status) ? m.id : 0;
        r.type = ((size_t)n >= offsetof(struct privsep_msg, id) ? m.type : 0) | PRIVSEP_REPLY;
        r.status = -1;
        for (size_t i = 0; i < sizeof(m.text); i++)
            zero = zero && m.text[i] == 0;
        if ((size_t)n != sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
            snprintf(r.text, sizeof(r.text), "refused: a message of %zd bytes%s", n,
                     (mh.msg_flags & MSG_CTRUNC) ? " with ancillary data" : "");
        else if (m.magic != PRIVSEP_MAGIC)
            snprintf(r.text, sizeof(r.text), "refused: bad magic 0x%08x", m.magic);
        else if (m.type == PRIVSEP_KERNEL_ENSURE || m.type == PRIVSEP_KERNEL_STAGE
                 || m.type == PRIVSEP_KERNEL_COMMIT) {
            if (m.status != 0)
                snprintf(r.text, sizeof(r.text), "refused: a request carries no status");
            else if (privsep_kernel_handle(&m, r.text, sizeof(r.text)) == 0)
                r.status = 0;
        } else if (m.type != PRIVSEP_RELOAD)
            snprintf(r.text, sizeof(r.text), "refused: unknown request type %u", m.type);
        else if (m.status != 0 || !zero)
            snprintf(r.text, sizeof(r.text), "refused: a reload request carries no data");
        else {
            uint64_t now = real_ms(), t0;
            if (last != 0 && now - last < PRIVSEP_RELOAD_FLOOR_MS)
                usleep((useconds_t)(PRIVSEP_RELOAD_FLOOR_MS - (now - last)) * 1000);
            t0 = real_ms();
            if (privsep_run(argv, PRIVSEP_RELOAD_TIMEOUT_MS, err, sizeof(err)) == 0) {
                r.status = 0;
                msg_info(MOD, "postfix -c %s reload: done in %llu ms", config_dir,
                         (unsigned long long)(real_ms() - t0));
            } else {
                snprintf(r.text, sizeof(r.text), "postfix -c %.60s reload: %.150s", config_dir, err);
                msg_warn(MOD, "%s", r.text);
            }
            last = real_ms();
        }
        if (r.status != 0 && strncmp(r.text, "refused", 7) == 0)
            msg_warn(MOD, "helper %s (request id %u)", r.text, r.id);
        while (send(fd, &r, sizeof(r), MSG_NOSIGNAL) < 0)
            if (errno != EINTR)
                _exit(errno == EPIPE ? 0 : 1);
    }
}

/* ------------------------------------------------------- the daemon side */

struct pending {
    uint32_t id;
    privsep_done_fn done;
    void *arg;
};

static struct {
    int fd;                     /* our end of the socketpair, or -1 */
    pid_t helper;               /* 0: none */
    struct event *ev;
    uint32_t next_id;
    struct pending pending[PRIVSEP_MAX_PENDING];
    size_t npending;
    char gone[160];             /* why there is no helper */
} ps = {.fd = -1, .gone = "no privileged helper was started"};

int privsep_open(const struct cfg_postfix *postfix)
{
    int sv[2];
    pid_t pid;

    if (ps.fd >= 0)
        return 0;
    if (geteuid() != 0) {
        snprintf(ps.gone, sizeof(ps.gone), "no privileged helper: mxdetourd did not start as root");
        msg_info(MOD, "not started as root: no postfix reload; Postfix sees route changes by "
                 "itself within about 10 s");
        return 0;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 || (pid = fork()) < 0) {
        msg_warn(MOD, "cannot start the privileged helper: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        helper_main(sv[1], postfix->postfix, postfix->config_directory);
    }
    close(sv[1]);
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0) {
        msg_warn(MOD, "cannot set up the helper socket: %s", strerror(errno));
        close(sv[0]);
        return -1;
    }
    ps.fd = sv[0];
    ps.helper = pid;
    ps.gone[0] = 0;
    msg_info(MOD, "privileged helper started, pid %ld: runs only \"%s -c %s reload\"%s",
             (long)pid, postfix->postfix, postfix->config_directory,
             privsep_kernel_count() ? " and the nftables and routing changes of kernel-mode tunnels" : "");
    return 0;
}

/* The helper is gone or unusable: fail what waits and everything later. */
static void helper_lost(const char *why)
{
    struct pending failed[PRIVSEP_MAX_PENDING];
    size_t nfailed = ps.npending;
    int status;

    snprintf(ps.gone, sizeof(ps.gone), "privileged helper unavailable: %s", why);
    if (ps.ev) {
        event_free(ps.ev);
        ps.ev = NULL;
    }
    if (ps.fd >= 0)
        close(ps.fd);
    ps.fd = -1;
    if (ps.helper > 0 && waitpid(ps.helper, &status, WNOHANG) == ps.helper)
        ps.helper = 0;
    msg_warn(MOD, "%s; postfix reload is not possible until mxdetourd restarts", ps.gone);
    memcpy(failed, ps.pending, sizeof(failed));
    ps.npending = 0;
    for (size_t i = 0; i < nfailed; i++)
        if (failed[i].done)
            failed[i].done(-1, ps.gone, failed[i].arg);
}

static void on_answer(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    for (;;) {
        struct privsep_msg r;
        struct pending p;
        ssize_t n = recv(fd, &r, sizeof(r), MSG_DONTWAIT | MSG_TRUNC);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            helper_lost(n == 0 ? "it exited" : strerror(errno));
            return;
        }
        if ((size_t)n != sizeof(r) || r.magic != PRIVSEP_MAGIC || !(r.type & PRIVSEP_REPLY)) {
            helper_lost("it sent a malformed answer");
            return;
        }
        r.text[sizeof(r.text) - 1] = 0;
        if (ps.npending == 0 || (r.id != 0 && ps.pending[0].id != r.id)) {
            msg_warn(MOD, "answer %u from the helper matches no request; ignored", r.id);
            continue;
        }
        p = ps.pending[0];
        memmove(ps.pending, ps.pending + 1, --ps.npending * sizeof(ps.pending[0]));
        if (p.done)
            p.done(r.status == 0 ? 0 : -1, r.text, p.arg);
        if (ps.fd < 0)
            return;             /* a callback stopped us */
    }
}

int privsep_start(struct event_base *base)
{
    if (ps.fd < 0 || ps.ev != NULL)
        return 0;
    if ((ps.ev = event_new(base, ps.fd, EV_READ | EV_PERSIST, on_answer, NULL)) == NULL
        || event_add(ps.ev, NULL) < 0) {
        msg_warn(MOD, "cannot watch the helper socket");
        return -1;
    }
    return 0;
}

int privsep_available(void)
{
    return ps.fd >= 0 && ps.ev != NULL;
}

/* Sends len bytes; the answer (the helper answers in order) goes to done. */
static int send_request(const void *msg, size_t len, uint32_t id, privsep_done_fn done,
                        void *arg, char *err, size_t errlen)
{
    if (!privsep_available()) {
        snprintf(err, errlen, "%s", ps.gone[0] ? ps.gone : "privileged helper not running");
        return -1;
    }
    if (ps.npending >= PRIVSEP_MAX_PENDING) {
        snprintf(err, errlen, "%d requests already wait for the helper", PRIVSEP_MAX_PENDING);
        return -1;
    }
    if (send(ps.fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)len) {
        snprintf(err, errlen, "cannot send to the privileged helper: %s", strerror(errno));
        return -1;
    }
    ps.pending[ps.npending++] = (struct pending){.id = id, .done = done, .arg = arg};
    return 0;
}

int privsep_request(enum privsep_type type, privsep_done_fn done, void *arg,
                    char *err, size_t errlen)
{
    struct privsep_msg m;

    if ((unsigned)type == 0 || (unsigned)type >= PRIVSEP_TYPE_MAX) {
        snprintf(err, errlen, "unknown request type %u", (unsigned)type);
        return -1;
    }
    memset(&m, 0, sizeof(m));
    m.magic = PRIVSEP_MAGIC;
    m.type = (uint32_t)type;
    m.id = ++ps.next_id;
    return send_request(&m, sizeof(m), m.id, done, arg, err, errlen);
}

int privsep_request_kernel(enum privsep_type type, const struct privsep_kernel *k,
                           privsep_done_fn done, void *arg, char *err, size_t errlen)
{
    struct privsep_msg m;

    if (type != PRIVSEP_KERNEL_ENSURE && type != PRIVSEP_KERNEL_STAGE && type != PRIVSEP_KERNEL_COMMIT) {
        snprintf(err, errlen, "request type %u is not a kernel request", (unsigned)type);
        return -1;
    }
    memset(&m, 0, sizeof(m));
    m.magic = PRIVSEP_MAGIC;
    m.type = (uint32_t)type;
    m.id = ++ps.next_id;
    m.kernel = *k;
    return send_request(&m, sizeof(m), m.id, done, arg, err, errlen);
}

int privsep_request_raw(const void *msg, size_t len, privsep_done_fn done, void *arg,
                        char *err, size_t errlen)
{
    uint32_t id = 0;

    if (len >= offsetof(struct privsep_msg, status))
        memcpy(&id, (const char *)msg + offsetof(struct privsep_msg, id), sizeof(id));
    return send_request(msg, len, id, done, arg, err, errlen);
}

void privsep_cancel(privsep_done_fn done, void *arg)
{
    for (size_t i = 0; i < ps.npending; i++)
        if (ps.pending[i].done == done && ps.pending[i].arg == arg)
            ps.pending[i].done = NULL;
}

void privsep_stop(void)
{
    int status;

    if (ps.ev)
        event_free(ps.ev);
    ps.ev = NULL;
    if (ps.fd >= 0)
        close(ps.fd);           /* the helper reads EOF and exits */
    ps.fd = -1;
    ps.npending = 0;
    for (int i = 0; ps.helper > 0 && i < 500; i++) {
        pid_t w = waitpid(ps.helper, &status, WNOHANG);
        if (w == ps.helper || (w < 0 && errno != EINTR))
            ps.helper = 0;
        else
            usleep(10000);
    }
    if (ps.helper > 0)
        msg_warn(MOD, "privileged helper pid %ld still busy; it exits when its request ends",
                 (long)ps.helper);
    ps.helper = 0;
    snprintf(ps.gone, sizeof(ps.gone), "privileged helper stopped");
}

/* ------------------------------------------------------------ the module */

static int module_open(struct daemon *d)
{
    if (privsep_kernel_configure(d->cfg) == 0 && d->cfg->routes.reload == RELOAD_NEVER) {
        snprintf(ps.gone, sizeof(ps.gone), "routes.reload is \"never\"");
        msg_info(MOD, "routes.reload is \"never\": no privileged helper");
        return 0;
    }
    return privsep_open(&d->cfg->postfix);
}

static int module_start(struct daemon *d)
{
    return privsep_start(d->base);
}

static void module_reload(struct daemon *d, const struct cfg *old)
{
    const struct cfg_postfix *a = &old->postfix, *b = &d->cfg->postfix;

    if (strcmp(a->postfix, b->postfix) != 0 || strcmp(a->config_directory, b->config_directory) != 0
        || (old->routes.reload == RELOAD_NEVER) != (d->cfg->routes.reload == RELOAD_NEVER))
        msg_warn(MOD, "postfix.postfix, postfix.config_directory or routes.reload changed: "
                 "the privileged helper keeps the old setting until mxdetourd restarts");
}

static void module_stop(struct daemon *d)
{
    (void)d;
    privsep_stop();
}

const struct daemon_module privsep_module = {
    .name = MOD,
    .open = module_open,
    .start = module_start,
    .reload = module_reload,
    .stop = module_stop,
};

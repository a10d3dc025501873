/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privsep - the daemon's side of the root helper; see privsep.h.
 *
 * The helper is started from an open hook, while mxdetourd is still root
 * and before any module starts a thread (every open hook runs before every
 * start hook) or reads outside input.  It is a program of its own
 * (execv), so nothing of the daemon's memory (the configuration, libevent,
 * hiredis, libmilter) reaches the process that keeps root.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "msg.h"
#include "privsep.h"
#include "spawn.h"

#define MOD "privsep"

/* ------------------------------------------------------------ the runner */

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

/* The helper's program: MXDETOUR_HELPER when it names an absolute path,
 * else where make install put it. */
static const char *helper_path(void)
{
    const char *env = getenv("MXDETOUR_HELPER");

    return env && env[0] == '/' ? env : HELPER_PATH;
}

int privsep_open(const struct cfg_postfix *postfix, const struct kernel_tunnel *tunnels, size_t n)
{
    static char tunnel_text[KERNELNFT_MAX_TUNNELS][KERNELNFT_TUNNEL_TEXT_MAX];
    const char *argv[16 + 2 * KERNELNFT_MAX_TUNNELS];
    size_t argc = 0;
    char err[256];
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
    argv[argc++] = helper_path();
    if (msg_sink() == MSG_STDERR)
        argv[argc++] = "-f";
    if (msg_verbose > 0)
        argv[argc++] = "-v";
    argv[argc++] = "-p";
    argv[argc++] = postfix->postfix;
    argv[argc++] = "-c";
    argv[argc++] = postfix->config_directory;
    for (size_t i = 0; i < n && i < KERNELNFT_MAX_TUNNELS; i++) {
        if (kernelnft_tunnel_format(&tunnels[i], tunnel_text[i], sizeof(tunnel_text[i])) < 0) {
            msg_warn(MOD, "tunnel %s cannot be described to the helper", tunnels[i].name);
            return -1;
        }
        argv[argc++] = "-k";
        argv[argc++] = tunnel_text[i];
    }
    argv[argc] = NULL;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        msg_warn(MOD, "cannot start the privileged helper: %s", strerror(errno));
        return -1;
    }
    /* Its stdout and stderr stay ours: with -f it writes there. */
    if (spawn_start(argv, SPAWN_KEEP_STDERR | SPAWN_KEEP_STDOUT, &sv[1], 1, &pid, NULL, NULL,
                    err, sizeof(err)) < 0) {
        msg_warn(MOD, "cannot start the privileged helper: %s", err);
        close(sv[0]);
        close(sv[1]);
        return -1;
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
    msg_info(MOD, "privileged helper started, pid %ld (%s): runs only \"%s -c %s reload\"%s",
             (long)pid, argv[0], postfix->postfix, postfix->config_directory,
             n ? " and the nftables and routing changes of kernel-mode tunnels" : "");
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
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];
    size_t n = privsep_tunnels(d->cfg, t, KERNELNFT_MAX_TUNNELS);

    if (n == 0 && d->cfg->routes.reload == RELOAD_NEVER) {
        snprintf(ps.gone, sizeof(ps.gone), "routes.reload is \"never\"");
        msg_info(MOD, "routes.reload is \"never\": no privileged helper");
        return 0;
    }
    return privsep_open(&d->cfg->postfix, t, n);
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

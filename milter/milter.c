/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter - the module's life: the listening socket, the libmilter thread,
 * and the copy of the configuration that the callbacks read.  See milter.h.
 *
 * The copy (struct snapshot) holds the milter settings and, for the reply
 * texts, the destinations (patterns, policy, reply) in a struct cfg of its
 * own, so that cfg_dest_match() works on it.  It is replaced whole under
 * m.lock at start and reload, and freed at stop; callbacks copy out of it
 * under the same lock and never keep a pointer into it.
 *
 * Stopping libmilter: smfi_stop() only sets a flag and closes the socket,
 * and it waits for the listener, which polls the socket for up to 5 s at a
 * time while holding a lock.  So stop calls smfi_stop() from a short-lived
 * thread and meanwhile connects to the socket now and then, which wakes the
 * listener at once.  Connections in progress are not waited for: their
 * callbacks find no snapshot and let mail pass.
 *
 * libmilter also starts a thread of its own that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and stops the milter when it gets one.  The kernel
 * gives a signal sent to the process to the main thread whenever that thread
 * does not block it, so the daemon's own handlers normally win; should
 * libmilter ever take one, smfi_main() returns unasked, and the module asks
 * the daemon to exit (status DAEMON_EXIT_RUNTIME) rather than run on with
 * no milter and a signal lost.  Postfix goes on meanwhile: see
 * milter_default_action in docs/milter.md.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "clock.h"
#include "milter.h"
#include "milter_int.h"
#include "msg.h"

#define STOP_WAIT_MS 10000          /* for libmilter's thread to end */
#define POKE_EVERY_MS 50

struct snapshot {
    struct milter_settings set;
    struct cfg *dests;              /* only dests and ndests are set */
};

static struct {
    pthread_mutex_t lock;           /* guards snap, running, stopping */
    pthread_cond_t ended;           /* running went to 0 */
    struct snapshot *snap;          /* NULL unless started */
    int running;                    /* smfi_main() has not returned */
    int stopping;                   /* the stop hook asked it to */
    int opened, started;            /* loop thread only */
    char *socket;                   /* the socket libmilter listens on */
    dev_t sock_dev;                 /* a Unix socket's file, to remove at stop */
    ino_t sock_ino;
    int have_sock_file;
    pthread_t thread;
    int notify[2];                  /* libmilter thread -> loop: it ended */
    struct event *notify_ev;
} m = {.lock = PTHREAD_MUTEX_INITIALIZER, .ended = PTHREAD_COND_INITIALIZER, .notify = {-1, -1}};

/* ---- The configuration copy ---- */

static void snapshot_free(struct snapshot *s)
{
    if (s) {
        cfg_free(s->dests);
        free(s);
    }
}

static char *dup_or_null(const char *s, int *failed)
{
    char *d = s ? strdup(s) : NULL;
    if (s && d == NULL)
        *failed = 1;
    return d;
}

static struct snapshot *snapshot_new(const struct cfg *cfg)
{
    struct snapshot *s = calloc(1, sizeof(*s));
    int failed = 0;

    if (s == NULL || (s->dests = calloc(1, sizeof(*s->dests))) == NULL)
        goto fail;
    s->set.route_wait_ms = cfg->milter.route_wait_ms;
    s->set.trace_header = cfg->milter.trace_header;
    s->set.dkim_log_interval_ms = cfg->deliver.dkim_log_interval_ms;
    if (cfg->ndests && (s->dests->dests = calloc(cfg->ndests, sizeof(struct cfg_dest))) == NULL)
        goto fail;
    for (size_t i = 0; i < cfg->ndests; i++) {
        const struct cfg_dest *from = &cfg->dests[i];
        struct cfg_dest *to = &s->dests->dests[i];
        s->dests->ndests++;
        to->policy = from->policy;
        to->name = dup_or_null(from->name, &failed);
        to->reply = dup_or_null(from->reply, &failed);
        if (from->ndomains && (to->domains = calloc(from->ndomains, sizeof(char *))) == NULL)
            goto fail;
        for (size_t k = 0; k < from->ndomains; k++, to->ndomains++)
            to->domains[k] = dup_or_null(from->domains[k], &failed);
    }
    if (!failed)
        return s;
fail:
    snapshot_free(s);
    return NULL;
}

/* Installs s (may be NULL) and frees the one it replaces. */
static void snapshot_swap(struct snapshot *s)
{
    pthread_mutex_lock(&m.lock);
    struct snapshot *old = m.snap;
    m.snap = s;
    pthread_mutex_unlock(&m.lock);
    snapshot_free(old);
}

int milter_settings(struct milter_settings *out)
{
    int ok;

    pthread_mutex_lock(&m.lock);
    if ((ok = m.snap != NULL && !m.stopping))
        *out = m.snap->set;
    pthread_mutex_unlock(&m.lock);
    return ok ? 0 : -1;
}

void milter_reply(const char *domain, char *buf, size_t size)
{
    pthread_mutex_lock(&m.lock);
    const struct cfg_dest *d = m.snap ? cfg_dest_match(m.snap->dests, domain) : NULL;
    snprintf(buf, size, "%s", d && d->reply ? d->reply : "");
    pthread_mutex_unlock(&m.lock);
}

/* ---- The socket ---- */

/* The path of a "unix:" or "local:" socket, else NULL. */
static const char *unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    return NULL;
}

/* A Unix socket belongs to the user the daemon runs as, mode 0660: Postfix
 * connects through a group both share (docs/milter.md).  The mode first:
 * once the socket is the user's, root may change it only with CAP_FOWNER,
 * which the systemd unit does not give (docs/operations.md).  made_as_user:
 * the socket was made under the user's ids and is the user's already. */
static int socket_owner(const struct daemon *d, const char *path, int made_as_user)
{
    if (chmod(path, 0660) < 0) {
        msg_warn(MILTER_MOD, "chmod %s: %s", path, strerror(errno));
        return -1;
    }
    if (made_as_user || geteuid() != 0 || d->cfg->user == NULL)
        return 0;
    struct passwd *pw = getpwnam(d->cfg->user);
    if (pw == NULL) {
        msg_warn(MILTER_MOD, "user \"%s\" does not exist", d->cfg->user);
        return -1;
    }
    if (chown(path, pw->pw_uid, pw->pw_gid) < 0) {
        msg_warn(MILTER_MOD, "chown %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Whether the socket is to be made under the user's ids: its directory is
 * the user's.  Root without CAP_DAC_OVERRIDE (the systemd unit) may not look
 * inside another user's 0750 directory, such as the one under Postfix's
 * queue directory that a chrooted smtpd reaches (docs/milter.md). */
static int make_as_user(const struct daemon *d, const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
    struct stat st;

    if (!d->drop || path == NULL || strlen(path) >= sizeof(dir))
        return 0;
    memcpy(dir, path, strlen(path) + 1);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == d->uid;
}

/* Takes the user's ids for now (to 1) or root's back (to 0). */
static int effective_ids(const struct daemon *d, int to_user)
{
    if (to_user)
        return setegid(d->gid) == 0 && seteuid(d->uid) == 0 ? 0 : -1;
    return seteuid(0) == 0 && setegid(0) == 0 ? 0 : -1;
}

/* Remembers the socket's file so that stop removes this one and no other
 * (a second mxdetourd may have replaced it). */
static void remember_socket_file(const char *path)
{
    struct stat st;

    m.have_sock_file = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    if (m.have_sock_file) {
        m.sock_dev = st.st_dev;
        m.sock_ino = st.st_ino;
    }
}

/* libmilter leaves the file behind when it ran as root; a stale socket would
 * let Postfix connect to nothing but a refusal it cannot tell from ours. */
static void remove_socket_file(void)
{
    const char *path = m.socket ? unix_path(m.socket) : NULL;
    struct stat st;

    if (!m.have_sock_file || path == NULL)
        return;
    m.have_sock_file = 0;
    if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_dev != m.sock_dev
        || st.st_ino != m.sock_ino)
        return;
    if (unlink(path) < 0 && errno != ENOENT)
        msg_debug(MILTER_MOD, "cannot remove %s: %s (the next start replaces it)", path,
                  strerror(errno));
}

/* Connects to our own socket and hangs up, to wake libmilter's listener. */
static void poke(void)
{
    const char *path = unix_path(m.socket);
    int fd = -1;

    if (path) {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (strlen(path) < sizeof(sun.sun_path)
            && (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0) {
            memcpy(sun.sun_path, path, strlen(path) + 1);
            (void)!connect(fd, (struct sockaddr *)&sun, sizeof(sun));
        }
    } else {
        /* inet:PORT@HOST or inet6:PORT@HOST; no host or a wildcard: loopback. */
        int v6 = strncmp(m.socket, "inet6:", 6) == 0;
        char spec[300], *port = spec + (v6 ? 6 : 5), *host;
        struct addrinfo hints = {.ai_family = v6 ? AF_INET6 : AF_INET, .ai_socktype = SOCK_STREAM};
        struct addrinfo *ai = NULL;
        snprintf(spec, sizeof(spec), "%s", m.socket);
        host = strchr(spec, '@');
        if (host)
            *host++ = '\0';
        if (host && *host == '[') {
            host++;
            host[strcspn(host, "]")] = '\0';
        }
        if (host == NULL || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
            host = v6 ? "::1" : "127.0.0.1";
        if (getaddrinfo(host, port, &hints, &ai) == 0 && ai
            && (fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0)
            (void)!connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (ai)
            freeaddrinfo(ai);
    }
    if (fd >= 0)
        close(fd);
}

/* ---- libmilter's thread ---- */

static void *run_milter(void *arg)
{
    (void)arg;
    int r = smfi_main();

    pthread_mutex_lock(&m.lock);
    int asked = m.stopping;
    m.running = 0;
    pthread_cond_broadcast(&m.ended);
    pthread_mutex_unlock(&m.lock);
    if (!asked) {
        if (r != MI_SUCCESS)
            msg_warn(MILTER_MOD, "libmilter failed on %s (details in syslog, as libmilter logs)",
                     m.socket);
        (void)!write(m.notify[1], "x", 1);
    }
    return NULL;
}

static void *call_smfi_stop(void *arg)
{
    (void)arg;
    smfi_stop();
    return NULL;
}

/* Starts fn in a thread that blocks every signal: libmilter's threads (it
 * makes them from this one) must never take the daemon's signals. */
static int thread_start(pthread_t *t, void *(*fn)(void *))
{
    sigset_t all, old;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(t, NULL, fn, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r == 0 ? 0 : -1;
}

/* On the loop: libmilter ended without being asked to. */
static void on_ended(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    char buf[16];
    (void)what;

    (void)!read(fd, buf, sizeof(buf));
    pthread_mutex_lock(&m.lock);
    int asked = m.stopping;
    pthread_mutex_unlock(&m.lock);
    if (asked)
        return;
    msg_warn(MILTER_MOD, "libmilter stopped by itself (it takes SIGHUP, SIGTERM and SIGINT when "
             "it can, or its socket failed); mxdetourd exits so that it can be restarted");
    daemon_exit(d, DAEMON_EXIT_RUNTIME);
}

/* ---- Hooks ---- */

/* A failed open hook gets no stop hook: undo what it did. */
static int open_failed(void)
{
    if (m.opened)
        smfi_stop();
    remove_socket_file();
    free(m.socket);
    m.socket = NULL;
    m.opened = 0;
    return -1;
}

static int milter_open(struct daemon *d)
{
    const struct cfg *cfg = d->cfg;
    const char *path;
    int as_user, failed = 0;

    if (cfg->milter.socket == NULL)
        return 0;
    if ((m.socket = strdup(cfg->milter.socket)) == NULL) {
        msg_warn(MILTER_MOD, "out of memory");
        return -1;
    }
    /* libmilter logs its own errors with syslog(): give them a name. */
    msg_set_foreign_ident("mxdetour/libmilter");
    if (smfi_register(milter_desc) != MI_SUCCESS || smfi_setconn(m.socket) != MI_SUCCESS) {
        msg_warn(MILTER_MOD, "libmilter does not accept the filter or the socket %s", m.socket);
        return open_failed();
    }
    path = unix_path(m.socket);
    as_user = make_as_user(d, path);
    if (as_user && effective_ids(d, 1) < 0) {
        msg_warn(MILTER_MOD, "cannot take user \"%s\"'s ids to make %s: %s", cfg->user, path,
                 strerror(errno));
        (void)effective_ids(d, 0);
        return open_failed();
    }
    errno = 0;
    if (smfi_opensocket(true) != MI_SUCCESS) {
        int e = errno;
        msg_warn(MILTER_MOD, "cannot listen on %s%s%s%s", m.socket, e ? ": " : "",
                 e ? strerror(e) : "", as_user ? " (made as the configured user, who owns "
                 "the directory)" : "");
        failed = 1;
    } else {
        m.opened = 1;
        if (path && socket_owner(d, path, as_user) < 0)
            failed = 1;
        else if (path)
            remember_socket_file(path);
    }
    if (as_user && effective_ids(d, 0) < 0) {
        msg_warn(MILTER_MOD, "cannot take root's ids back after making %s: %s", path,
                 strerror(errno));
        failed = 1;
    }
    return failed ? open_failed() : 0;
}

static int milter_start(struct daemon *d)
{
    const struct cfg *cfg = d->cfg;
    struct snapshot *s;

    if (!m.opened)
        return 0;
    if ((s = snapshot_new(cfg)) == NULL || pipe2(m.notify, O_CLOEXEC | O_NONBLOCK) < 0
        || (m.notify_ev = event_new(d->base, m.notify[0], EV_READ | EV_PERSIST, on_ended, d)) == NULL
        || event_add(m.notify_ev, NULL) < 0) {
        snapshot_free(s);
        msg_warn(MILTER_MOD, "cannot start: out of memory or file descriptors");
        return -1;
    }
    snapshot_swap(s);
    m.running = 1;
    if (thread_start(&m.thread, run_milter) < 0) {
        m.running = 0;
        msg_warn(MILTER_MOD, "cannot start the libmilter thread");
        return -1;
    }
    m.started = 1;
    msg_info(MILTER_MOD, "listening on %s; route wait %llu ms; trace header %s", m.socket,
             (unsigned long long)cfg->milter.route_wait_ms, cfg->milter.trace_header ? "on" : "off");
    return 0;
}

static void milter_reload(struct daemon *d, const struct cfg *old)
{
    const struct cfg *cfg = d->cfg;
    (void)old;

    if (!m.started) {
        if (cfg->milter.socket)
            msg_warn(MILTER_MOD, "milter.socket %s takes effect when mxdetourd restarts",
                     cfg->milter.socket);
        return;
    }
    if (cfg->milter.socket == NULL || strcmp(cfg->milter.socket, m.socket) != 0)
        msg_warn(MILTER_MOD, "milter.socket changed; the milter stays on %s until mxdetourd "
                 "restarts", m.socket);
    struct snapshot *s = snapshot_new(cfg);
    if (s == NULL) {
        msg_warn(MILTER_MOD, "out of memory; the milter keeps its settings");
        return;
    }
    snapshot_swap(s);
}

/* Waits until libmilter's thread has ended or deadline (monotonic ms) has
 * passed, waking its listener meanwhile.  Returns 1 when it has ended. */
static int wait_ended(uint64_t deadline)
{
    pthread_mutex_lock(&m.lock);
    while (m.running && clock_mono_ms() < deadline) {
        pthread_mutex_unlock(&m.lock);
        poke();
        pthread_mutex_lock(&m.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += POKE_EVERY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (m.running)
            pthread_cond_timedwait(&m.ended, &m.lock, &until);
    }
    int ended = !m.running;
    pthread_mutex_unlock(&m.lock);
    return ended;
}

static void milter_stop(struct daemon *d)
{
    (void)d;
    if (m.started) {
        pthread_t stopper;
        pthread_mutex_lock(&m.lock);
        m.stopping = 1;
        pthread_mutex_unlock(&m.lock);
        int have_stopper = thread_start(&stopper, call_smfi_stop) == 0;
        if (!have_stopper)
            smfi_stop();            /* waits out the listener's poll: up to 5 s */
        if (wait_ended(clock_mono_ms() + STOP_WAIT_MS)) {
            pthread_join(m.thread, NULL);
            if (have_stopper)
                pthread_join(stopper, NULL);
        } else {
            msg_warn(MILTER_MOD, "libmilter did not stop within %d s", STOP_WAIT_MS / 1000);
            pthread_detach(m.thread);
            if (have_stopper)
                pthread_detach(stopper);
        }
        msg_info(MILTER_MOD, "stopped");
    } else if (m.opened) {
        smfi_stop();                /* closes the socket opened by the open hook */
    }
    remove_socket_file();
    snapshot_swap(NULL);
    if (m.notify_ev)
        event_free(m.notify_ev);
    for (int i = 0; i < 2; i++)
        if (m.notify[i] >= 0)
            close(m.notify[i]);
    free(m.socket);
    m.notify_ev = NULL;
    m.notify[0] = m.notify[1] = -1;
    m.socket = NULL;
    m.opened = m.started = 0;
    /* m.stopping stays set: libmilter cannot run again in this process, and
     * late callbacks must keep finding the milter stopped. */
}

const struct daemon_module milter_module = {
    .name = "milter",
    .open = milter_open,
    .start = milter_start,
    .reload = milter_reload,
    .stop = milter_stop,
};

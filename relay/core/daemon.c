/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon - see daemon.h for the life of the process and the module hooks.
 *
 * Diagnostics (ident mxdetour/daemon): "started" and "stopped" with the
 * pid; "stopping on SIGTERM"; "configuration FILE reloaded"; on a failed
 * reload each "FILE:LINE: ..." error, then "reload failed, keeping the
 * running configuration"; a held pid file names the process holding it;
 * "cannot notify systemd at SOCKET: ..." when a READY=1 or the like could not
 * be sent (sdnotify.h).
 *
 * A failure to start is logged with msg_warn() and returned as
 * DAEMON_EXIT_RUNTIME: msg_fatal() would exit with 1, the status of a
 * configuration error, and would skip the stop hooks of modules that are
 * already open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "msg.h"
#include "sdnotify.h"

static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP};

static bool same_string(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* A malloc'd absolute form of path, for a process that leaves its working
 * directory; NULL when out of memory or the directory is unknown. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char *cwd = getcwd(NULL, 0);
    if (cwd == NULL)
        return NULL;
    size_t need = strlen(cwd) + strlen(path) + 2;
    char *abs = malloc(need);
    if (abs != NULL)
        snprintf(abs, need, "%s/%s", cwd, path);
    free(cwd);
    return abs;
}

int daemon_init(struct daemon *d, struct cfg *cfg, const char *cfg_file,
                const char *pid_file, int flags)
{
    memset(d, 0, sizeof(*d));
    d->cfg = cfg;
    d->flags = flags;
    d->ready_fd = -1;
    d->pidfile = (struct pidfile) PIDFILE_INIT;
    d->pid_override = pid_file != NULL;
    d->cfg_path = strdup(cfg_file);
    d->pid_path = strdup(pid_file ? pid_file : cfg->pid_file);
    d->cfg_file = d->cfg_path;
    return d->cfg_path && d->pid_path ? 0 : -1;
}

int daemon_register(struct daemon *d, const struct daemon_module *m)
{
    if (d->nmodules >= DAEMON_MAX_MODULES)
        return -1;
    d->modules[d->nmodules++] = m;
    return 0;
}

/* The configured user, looked up while the terminal still shows errors. */
static void lookup_user(struct daemon *d)
{
    const char *user = d->cfg->user;
    struct passwd *pw;

    if (user == NULL)
        return;
    errno = 0;
    if ((pw = getpwnam(user)) == NULL) {
        if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF && errno != EPERM)
            msg_fatal("daemon", "%s: user \"%s\": cannot look it up: %s",
                      d->cfg_file, user, strerror(errno));
        msg_fatal("daemon", "%s: user \"%s\" does not exist", d->cfg_file, user);
    }
    if (pw->pw_uid == 0)
        msg_fatal("daemon", "%s: user \"%s\" has uid 0: name an unprivileged user",
                  d->cfg_file, user);
    if (geteuid() != 0) {
        if (pw->pw_uid != geteuid())
            msg_info("daemon", "not started as root: running as uid %ld, not as user \"%s\"",
                     (long)geteuid(), user);
        return;
    }
    d->uid = pw->pw_uid;
    d->gid = pw->pw_gid;
    d->drop = 1;
}

/* Gives up root for good: groups, then gid, then uid, then proves it. */
static int drop_privileges(struct daemon *d)
{
    const char *user = d->cfg->user;
    uid_t ruid, euid, suid;

    if (!d->drop)
        return 0;
    if (initgroups(user, d->gid) < 0 || setresgid(d->gid, d->gid, d->gid) < 0
        || setresuid(d->uid, d->uid, d->uid) < 0) {
        msg_warn("daemon", "cannot change to user \"%s\" (uid %ld, gid %ld): %s",
                 user, (long)d->uid, (long)d->gid, strerror(errno));
        return -1;
    }
    if (getresuid(&ruid, &euid, &suid) < 0 || ruid != d->uid || euid != d->uid
        || suid != d->uid || setuid(0) == 0 || setgid(0) == 0) {
        msg_warn("daemon", "after changing to user \"%s\", root can still be regained", user);
        return -1;
    }
    msg_debug("daemon", "running as user %s (uid %ld, gid %ld)", user, (long)d->uid, (long)d->gid);
    return 0;
}

/*
 * The parent's side of detaching: wait until the child says it runs, or
 * exits.  The write end of the pipe is close-on-exec, so commands the child
 * runs do not keep the parent waiting.
 */
static int wait_for_child(pid_t child, int fd)
{
    char byte;
    ssize_t n;
    int wstatus;

    while ((n = read(fd, &byte, 1)) < 0 && errno == EINTR)
        continue;
    close(fd);
    if (n == 1)
        return DAEMON_EXIT_OK;
    while (waitpid(child, &wstatus, 0) < 0)
        if (errno != EINTR)
            return DAEMON_EXIT_RUNTIME;
    int status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : DAEMON_EXIT_RUNTIME;
    if (status == DAEMON_EXIT_OK)
        status = DAEMON_EXIT_RUNTIME;
    msg_warn("daemon", "not started (exit status %d); the reason is in the mail log", status);
    return status;
}

/* Standard streams on /dev/null; standard input stays when a log reads it. */
static int redirect_stdio(const struct cfg *cfg)
{
    bool keep_stdin = false;
    int fd;

    for (size_t i = 0; i < cfg->nlogs; i++)
        if (cfg->logs[i].type == CFG_LOG_STDIN)
            keep_stdin = true;
    if ((fd = open("/dev/null", O_RDWR)) < 0)
        return -1;
    for (int target = keep_stdin ? 1 : 0; target <= 2; target++)
        if (fd != target && dup2(fd, target) < 0) {
            close(fd);
            return -1;
        }
    if (fd > 2)
        close(fd);
    return 0;
}

/* Forks; returns DAEMON_CONTINUE in the child, an exit status in the parent. */
static int detach(struct daemon *d)
{
    int pipefd[2];
    pid_t child;

    if (pipe2(pipefd, O_CLOEXEC) < 0 || (child = fork()) < 0) {
        msg_warn("daemon", "cannot detach: %s", strerror(errno));
        return DAEMON_EXIT_RUNTIME;
    }
    if (child > 0) {
        close(pipefd[1]);
        pidfile_close(&d->pidfile);     /* the child keeps the lock */
        return wait_for_child(child, pipefd[0]);
    }
    close(pipefd[0]);
    d->ready_fd = pipefd[1];
    msg_open("mxdetourd", MSG_SYSLOG, LOG_MAIL);
    if (setsid() < 0 || chdir("/") < 0 || redirect_stdio(d->cfg) < 0) {
        msg_warn("daemon", "cannot detach: %s", strerror(errno));
        return DAEMON_EXIT_RUNTIME;
    }
    return DAEMON_CONTINUE;
}

int daemon_prepare(struct daemon *d)
{
    long previous;
    int status = DAEMON_CONTINUE;

    lookup_user(d);
    if (!(d->flags & DAEMON_FOREGROUND)) {
        char *cfg_abs = absolute(d->cfg_path), *pid_abs = absolute(d->pid_path);
        if (cfg_abs == NULL || pid_abs == NULL) {
            msg_warn("daemon", "cannot make %s and %s absolute: %s", d->cfg_path, d->pid_path,
                     strerror(errno));
            free(cfg_abs);
            free(pid_abs);
            return DAEMON_EXIT_RUNTIME;
        }
        free(d->cfg_path);
        free(d->pid_path);
        d->cfg_file = d->cfg_path = cfg_abs;
        d->pid_path = pid_abs;
    }
    if (pidfile_open(&d->pidfile, d->pid_path, &previous) < 0) {
        if (errno == EWOULDBLOCK && previous > 0)
            msg_warn("daemon", "pid file %s is locked by process %ld: mxdetourd is running "
                     "already; not started", d->pid_path, previous);
        else if (errno == EWOULDBLOCK)
            msg_warn("daemon", "pid file %s is locked by another process: mxdetourd is "
                     "running already; not started", d->pid_path);
        else
            msg_warn("daemon", "cannot open pid file %s: %s; not started", d->pid_path,
                     errno == EINVAL ? "not a regular file" : strerror(errno));
        return DAEMON_EXIT_RUNTIME;
    }
    if (previous > 0 && previous != (long)getpid())
        msg_info("daemon", "pid file %s: process %ld is gone, taking the file over",
                 d->pid_path, previous);
    if (!(d->flags & DAEMON_FOREGROUND) && (status = detach(d)) != DAEMON_CONTINUE)
        return status;
    if (pidfile_write(&d->pidfile, getpid()) < 0) {
        msg_warn("daemon", "cannot write pid file %s: %s", d->pid_path, strerror(errno));
        return DAEMON_EXIT_RUNTIME;
    }
    return DAEMON_CONTINUE;
}

int daemon_reload(struct daemon *d)
{
    struct cfg_errors errors = {0};
    struct cfg *fresh = cfg_load(d->cfg_file, &errors), *old = d->cfg;

    if (fresh == NULL) {
        for (size_t i = 0; i < errors.count; i++)
            msg_warn("daemon", "%s", errors.text[i]);
        cfg_errors_clear(&errors);
        msg_warn("daemon", "reload failed, keeping the running configuration");
        return -1;
    }
    /* Settings used once at start, as root: new values wait for a restart. */
    if (!same_string(old->user, fresh->user))
        msg_warn("daemon", "%s: user: a change takes effect at the next start", d->cfg_file);
    if (!d->pid_override && !same_string(old->pid_file, fresh->pid_file))
        msg_warn("daemon", "%s: pid_file: a change takes effect at the next start", d->cfg_file);
    d->cfg = fresh;
    for (size_t i = 0; i < d->nmodules; i++)
        if (d->modules[i]->reload)
            d->modules[i]->reload(d, old);
    cfg_free(old);
    msg_info("daemon", "configuration %s reloaded", d->cfg_file);
    return 0;
}

void daemon_exit(struct daemon *d, int status)
{
    if (d->status == DAEMON_EXIT_OK)
        d->status = status;
    event_base_loopexit(d->base, NULL);
}

/* Tells systemd (Type=notify) how the daemon is doing; see sdnotify.h.
 * Without NOTIFY_SOCKET this does nothing. */
static void notify_systemd(const char *state)
{
    if (sdnotify(state) < 0)
        msg_warn("daemon", "cannot notify systemd at %s: %s", getenv("NOTIFY_SOCKET"),
                 strerror(errno));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;

    (void) what;
    if (sig == SIGHUP) {
        msg_debug("daemon", "SIGHUP: reloading %s", d->cfg_file);
        notify_systemd("RELOADING=1");
        notify_systemd(daemon_reload(d) == 0 ? "READY=1\nSTATUS=running; configuration reloaded"
                       : "READY=1\nSTATUS=running; reload failed, the running configuration is kept");
        return;
    }
    msg_info("daemon", "stopping on %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopexit(d->base, NULL);
}

static int add_signals(struct daemon *d)
{
    struct sigaction sa;

    /* Writes to a closed peer are errors to handle, not a reason to die. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGPIPE, &sa, NULL) < 0) {
        msg_warn("daemon", "cannot ignore SIGPIPE: %s", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++) {
        d->signals[i] = evsignal_new(d->base, handled_signals[i], on_signal, d);
        if (d->signals[i] == NULL || evsignal_add(d->signals[i], NULL) < 0) {
            msg_warn("daemon", "cannot handle signal %d", handled_signals[i]);
            return -1;
        }
    }
    return 0;
}

/* Opens, drops privileges, starts; -1 when startup failed (logged). */
static int start_modules(struct daemon *d)
{
    for (size_t i = 0; i < d->nmodules; i++) {
        const struct daemon_module *m = d->modules[i];
        if (m->open && m->open(d) < 0) {
            msg_warn("daemon", "module %s failed to open; not started", m->name);
            return -1;
        }
        d->nopened = i + 1;
    }
    if (drop_privileges(d) < 0)
        return -1;
    for (size_t i = 0; i < d->nmodules; i++) {
        const struct daemon_module *m = d->modules[i];
        if (m->start && m->start(d) < 0) {
            msg_warn("daemon", "module %s failed to start; not started", m->name);
            return -1;
        }
        msg_debug("daemon", "module %s started", m->name);
    }
    return 0;
}

/* Tells a waiting parent that startup is complete; it exits 0. */
static void tell_parent(struct daemon *d)
{
    if (d->ready_fd < 0)
        return;
    if (write(d->ready_fd, "", 1) != 1)
        msg_warn("daemon", "cannot notify the parent process: %s", strerror(errno));
    close(d->ready_fd);
    d->ready_fd = -1;
}

int daemon_run(struct daemon *d)
{
    if (add_signals(d) < 0 || start_modules(d) < 0) {
        d->status = DAEMON_EXIT_RUNTIME;
    } else {
        tell_parent(d);
        notify_systemd("READY=1\nSTATUS=running");
        msg_info("daemon", "started: version %s, pid %ld, site %s, configuration %s",
                 PACKAGE_VERSION, (long)getpid(), d->cfg->site, d->cfg_file);
        if (event_base_dispatch(d->base) < 0) {
            msg_warn("daemon", "event loop failed");
            d->status = DAEMON_EXIT_RUNTIME;
        }
        notify_systemd("STOPPING=1");
    }
    while (d->nopened > 0) {
        const struct daemon_module *m = d->modules[--d->nopened];
        if (m->stop)
            m->stop(d);
    }
    for (size_t i = 0; i < sizeof(d->signals) / sizeof(d->signals[0]); i++) {
        if (d->signals[i])
            event_free(d->signals[i]);
        d->signals[i] = NULL;
    }
    if (d->pidfile.fd >= 0 && pidfile_remove(&d->pidfile) < 0)
        msg_info("daemon", "cannot remove pid file %s: %s; emptied it instead",
                 d->pid_path, strerror(errno));
    msg_info("daemon", "stopped, pid %ld, exit status %d", (long)getpid(), d->status);
    return d->status;
}

void daemon_free(struct daemon *d)
{
    pidfile_remove(&d->pidfile);        /* still held: startup failed early */
    if (d->ready_fd >= 0)
        close(d->ready_fd);
    d->ready_fd = -1;
    cfg_free(d->cfg);
    d->cfg = NULL;
    free(d->cfg_path);
    free(d->pid_path);
    d->cfg_path = d->pid_path = NULL;
    d->cfg_file = NULL;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon - the life of the mxdetourd process, and the modules that live in it.
 *
 * mxdetourd is one process, one thread of its own and one libevent loop.
 * main() (mxdetourd.c) parses the options, loads the configuration, and then:
 *
 *     daemon_init()       takes the configuration
 *     daemon_register()   once per module, in start order
 *     daemon_prepare()    locks the pid file; detaches unless DAEMON_FOREGROUND
 *     event_base_new()    main creates the one event_base, puts it in d->base
 *     daemon_run()        open hooks (still root)
 *                         drop privileges to the configured user
 *                         start hooks
 *                         READY=1 to systemd (sdnotify.h), when started by it
 *                         the loop, until SIGTERM, SIGINT or daemon_exit()
 *                         STOPPING=1; stop hooks, in reverse order; the pid
 *                         file is removed
 *     daemon_free()       frees the configuration; main frees the event_base
 *
 * SIGHUP reloads: the file is loaded anew with cfg_load().  When it loads
 * cleanly, d->cfg is replaced and every reload hook runs, in start order,
 * with the old configuration, which is freed once they have all run.  When it
 * does not, each error is logged with "reload failed, keeping the running
 * configuration" and nothing changes.  Module state is kept either way.
 * systemd hears RELOADING=1 before and READY=1 after.
 *
 * Modules.  A module (state store, log follower, prober, route publisher,
 * queue kicker, milter) is a static struct daemon_module; any hook may be
 * NULL.  Modules keep their own state, file-static like Postfix's, and reach
 * each other through their own headers, never through this one.
 *
 *   open    Runs as root, before privileges are dropped: open the sockets and
 *           files that need root.  Schedule nothing yet.
 *   start   Runs unprivileged: add events to d->base, connect to servers.
 *   reload  d->cfg is the new configuration, old the one it replaces (valid
 *           during the call only).  Runs unprivileged: a change that needs
 *           root (a privileged socket) is logged as needing a restart.
 *   stop    The loop has ended: free every event and byte the module holds.
 *           Called, in reverse order, for every module whose open hook
 *           succeeded (or that has none), even if it was never started.
 *
 * open and start return 0, or -1 after logging why: startup then stops, the
 * modules opened so far are stopped, and mxdetourd exits with
 * DAEMON_EXIT_RUNTIME.  A module that cannot go on while running calls
 * daemon_exit().
 *
 * Threads and loops: every hook, signal and event runs on d->base in the main
 * thread, one at a time.  d->cfg may be read there at any time, but never
 * kept across a return to the loop: a reload frees it.  A module that runs
 * threads of its own (the milter) copies what those threads need.
 *
 * Ownership: the daemon owns d->cfg and frees it; main owns d->base.
 * Modules own what they allocate and release it in their stop hook.
 */
#ifndef MXD_DAEMON_H
#define MXD_DAEMON_H

#include <stddef.h>
#include <sys/types.h>

#include "cfg.h"
#include "pidfile.h"

struct event;
struct event_base;
struct daemon;

/* Exit statuses of mxdetourd (mxdetourd(8), EXIT STATUS). */
#define DAEMON_EXIT_OK 0
#define DAEMON_EXIT_CONFIG 1    /* the configuration has errors */
#define DAEMON_EXIT_USAGE 2     /* bad command line */
#define DAEMON_EXIT_RUNTIME 3   /* could not start, or failed while running */

#define DAEMON_MAX_MODULES 16

/* daemon_init() flags. */
#define DAEMON_FOREGROUND 0x1   /* -f: no fork, log to stderr */

struct daemon_module {
    const char *name;           /* "store": logged as mxdetour/store */
    int (*open)(struct daemon *d);
    int (*start)(struct daemon *d);
    void (*reload)(struct daemon *d, const struct cfg *old);
    void (*stop)(struct daemon *d);
};

struct daemon {
    struct event_base *base;    /* the loop; set by main before daemon_run() */
    struct cfg *cfg;            /* running configuration; replaced on reload */
    const char *cfg_file;       /* the file reloads read (absolute once detached) */
    int flags;                  /* DAEMON_FOREGROUND */

    /* Private to daemon.c. */
    char *cfg_path;             /* owned copy behind cfg_file */
    char *pid_path;             /* -p, else cfg->pid_file at start */
    int pid_override;           /* pid_path came from -p */
    struct pidfile pidfile;
    const struct daemon_module *modules[DAEMON_MAX_MODULES];
    size_t nmodules;
    size_t nopened;             /* modules [0, nopened) get their stop hook */
    struct event *signals[3];   /* TERM, INT, HUP */
    int ready_fd;               /* detached child: tells the parent it runs */
    int status;                 /* exit status once the loop ends */
    uid_t uid;                  /* the configured user, when running as root */
    gid_t gid;
    int drop;                   /* uid and gid are valid: drop to them */
};

/*
 * Takes ownership of cfg, loaded from cfg_file.  pid_file overrides
 * cfg->pid_file when not NULL.  Returns 0, or -1 when out of memory.
 */
int daemon_init(struct daemon *d, struct cfg *cfg, const char *cfg_file,
                const char *pid_file, int flags);

/* Adds a module; start order is registration order.  Returns 0, or -1 when
 * DAEMON_MAX_MODULES are registered already. */
int daemon_register(struct daemon *d, const struct daemon_module *m);

/*
 * Looks up the configured user, locks the pid file, and detaches from the
 * terminal unless DAEMON_FOREGROUND: fork, new session, working directory
 * "/", standard streams on /dev/null, log to syslog.  The parent waits until
 * the child has started (or failed) and returns the exit status to give.
 *
 * Returns DAEMON_CONTINUE in the process that goes on to daemon_run(), else
 * the status main() should exit with after daemon_free().  A user that does
 * not exist is a configuration error: msg_fatal().
 */
#define DAEMON_CONTINUE (-1)
int daemon_prepare(struct daemon *d);

/* Runs the daemon on d->base, as drawn above; returns the exit status. */
int daemon_run(struct daemon *d);

/* Reloads the configuration now, as on SIGHUP.  Returns 0 when the new
 * configuration is in force, -1 when the running one was kept. */
int daemon_reload(struct daemon *d);

/* Ends the loop (from a hook or an event, while daemon_run() runs);
 * mxdetourd then stops its modules and exits with status (the first
 * non-zero status asked for wins). */
void daemon_exit(struct daemon *d, int status);

/* Frees the configuration and what daemon_init() allocated. */
void daemon_free(struct daemon *d);

#endif

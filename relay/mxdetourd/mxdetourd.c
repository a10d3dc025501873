/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mxdetourd - the mxdetour daemon: options, configuration check, and the
 * list of modules; the life of the process is in daemon.c.
 *
 * usage: mxdetourd [-fhstv] [-c file] [-p pidfile]
 *
 *   -c file     configuration file (default CFG_DEFAULT_FILE)
 *   -t          check the configuration and exit: every error as one
 *               "FILE:LINE: what is wrong" line on stderr
 *   -f          stay in the foreground and log to stderr
 *   -s          with -f, log to syslog all the same (systemd: the idents
 *               mxdetour/<module> and facility mail stay as when detached)
 *   -p pidfile  overrides pid_file
 *   -v          more logging (repeatable)
 *   -h          this help
 *
 * Exit status: DAEMON_EXIT_* in daemon.h, documented in mxdetourd(8).
 * The event_base is created here, after the process has detached, and is
 * the only one: every module runs on it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "daemon.h"
#include "deliverability.h"
#include "engine.h"
#include "health.h"
#include "kernelpub.h"
#include "kick.h"
#include "metrics_http.h"
#include "milter.h"
#include "privsep.h"
#include "routes.h"
#include "msg.h"
#include "setupcheck.h"

/*
 * The modules, in start order: a module comes after the modules it calls,
 * so the root helper starts first (while the process is still root and has
 * read nothing from outside) and the milter last; stop runs backwards.
 * The engine opens the Redis link, the log followers and the probes.
 */
static const struct daemon_module *const modules[] = {
    &privsep_module,            /* the root helper: postfix reload and kernel-mode nftables/routes */
    &kick_module,               /* reschedules deferred mail after a route change */
    &routes_module,             /* the transport table Postfix reads */
    &kernelpub_module,          /* blocked addresses into kernel-mode tunnels' nftables sets */
    &engine_module,             /* Redis link, log followers, rules, probes, route view */
    &health_module,             /* STATE_DIR/health for mxdetourctl status --check */
    &metrics_http_module,       /* GET /metrics on metrics.listen; off by default */
    &deliverability_module,     /* SPF, PTR and HELO of the relays' exits, at start and on HUP */
    &milter_module,             /* libmilter on its own threads; reads the route view */
    NULL
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mxdetourd [-fhstv] [-c file] [-p pidfile]\n"
            "  -c file     configuration file (default %s)\n"
            "  -t          check the configuration and exit\n"
            "  -f          run in the foreground, log to stderr\n"
            "  -s          log to syslog even with -f (for systemd)\n"
            "  -p pidfile  pid file (overrides pid_file)\n"
            "  -v          verbose logging (repeat for more)\n"
            "  -h          show this help\n", CFG_DEFAULT_FILE);
}

/* Loads file; on errors prints them, one per line, and returns NULL. */
static struct cfg *load(const char *file)
{
    struct cfg_errors errors = {0};
    struct cfg *cfg = cfg_load(file, &errors);

    for (size_t i = 0; i < errors.count; i++)
        fprintf(stderr, "%s\n", errors.text[i]);
    fflush(stderr);
    cfg_errors_clear(&errors);
    return cfg;
}

int main(int argc, char **argv)
{
    const char *file = CFG_DEFAULT_FILE, *pid_file = NULL;
    int check = 0, flags = 0, use_syslog = 0, ch, status;
    struct daemon d;
    struct cfg *cfg;

    msg_open("mxdetourd", MSG_STDERR, LOG_MAIL);
    while ((ch = getopt(argc, argv, "c:fhp:stv")) != -1) {
        switch (ch) {
        case 'c':
            file = optarg;
            break;
        case 'f':
            flags |= DAEMON_FOREGROUND;
            break;
        case 'h':
            usage(stdout);
            return DAEMON_EXIT_OK;
        case 'p':
            pid_file = optarg;
            break;
        case 's':
            use_syslog = 1;
            break;
        case 't':
            check = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage(stderr);
            return DAEMON_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mxdetourd: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return DAEMON_EXIT_USAGE;
    }

    /* Errors in the file still go to stderr (load()), which systemd keeps. */
    if (use_syslog && !check)
        msg_open("mxdetourd", MSG_SYSLOG, LOG_MAIL);
    if ((cfg = load(file)) == NULL) {
        if (check)
            return DAEMON_EXIT_CONFIG;
        msg_fatal("daemon", "configuration %s has errors; not started", file);
    }
    if (check && kernelpub_check(cfg, stderr) > 0) {
        cfg_free(cfg);
        return DAEMON_EXIT_CONFIG;
    }
    if (check) {
        /* The file is valid; what it names may still not work here
         * (warnings on stderr, the exit status stays 0). */
        (void)setupcheck_warnings(cfg, stderr);
        printf("mxdetourd: configuration %s is valid\n", file);
        cfg_free(cfg);
        return DAEMON_EXIT_OK;
    }

    if (daemon_init(&d, cfg, file, pid_file, flags) < 0) {
        daemon_free(&d);
        msg_warn("daemon", "out of memory");
        return DAEMON_EXIT_RUNTIME;
    }
    for (size_t i = 0; modules[i] != NULL; i++)
        if (daemon_register(&d, modules[i]) < 0)
            msg_fatal("daemon", "too many modules (at most %d)", DAEMON_MAX_MODULES);
    if ((status = daemon_prepare(&d)) == DAEMON_CONTINUE) {
        if ((d.base = event_base_new()) == NULL) {
            msg_warn("daemon", "cannot create the event loop");
            status = DAEMON_EXIT_RUNTIME;
        } else {
            status = daemon_run(&d);
            event_base_free(d.base);
            d.base = NULL;
        }
    }
    daemon_free(&d);
    libevent_global_shutdown();
    return status;
}

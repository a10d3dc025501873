/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes_cli - drives the route modules by hand, for the integration test
 * on the netns bed (tests/integration/routes_postfix.sh).  Not installed.
 *
 * usage: routes_cli [options] publish DOMAIN=NEXTHOP...   routetable_publish()
 *        routes_cli [options] reload                      privsep: postfix reload
 *        routes_cli [options] kick DOMAIN...              kick: postqueue -j, -i
 *        routes_cli [options] serve                       the three modules, as
 *                                                         mxdetourd runs them
 * options:
 *   -c DIR    Postfix configuration directory (default /etc/postfix)
 *   -t TABLE  the table's source file (required for publish and serve)
 *   -T TYPE   table type (default hash)
 *   -m PATH   postmap (default /usr/sbin/postmap)
 *   -q PATH   postqueue (default /usr/sbin/postqueue)
 *   -P PATH   postfix (default /usr/sbin/postfix)
 *   -r MODE   reload: auto or never (default auto)
 *   -i MS     reload interval (default 10000)
 *   -k N      kick rate per second (default 50)
 *   -u USER   serve: drop to USER after the helper is forked (as mxdetourd)
 *   -v        verbose logging
 *
 * serve reads commands, one a line, on standard input: "set DOMAIN NEXTHOP"
 * ("direct" as NEXTHOP removes the route), "flush", "show DOMAIN", "quit";
 * it prints "ready" once started and one answer line per command.  Module
 * logs go to standard error.  Exit status: 0, or 1 on failure, 2 on usage.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "daemon.h"
#include "kick.h"
#include "msg.h"
#include "privsep.h"
#include "routes.h"
#include "routetable.h"

static struct cfg cfg;
static struct event_base *base;
static int status;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int usage(void)
{
    fprintf(stderr, "usage: routes_cli [-c dir] [-t table] [-T type] [-m postmap] [-q postqueue]"
            " [-P postfix] [-r auto|never] [-i ms] [-k rate] [-u user] [-v]\n"
            "       publish DOMAIN=NEXTHOP... | reload | kick DOMAIN... | serve\n");
    return 2;
}

static int cmd_publish(int argc, char **argv)
{
    struct route *v = calloc((size_t)argc + 1, sizeof(*v));
    char err[768];
    int flags = 0;
    uint64_t t0 = now_ms();

    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof(v[i].domain)
            || strlen(eq + 1) >= sizeof(v[i].nexthop)) {
            fprintf(stderr, "routes_cli: \"%s\" is not DOMAIN=NEXTHOP\n", argv[i]);
            free(v);
            return 2;
        }
        memcpy(v[i].domain, argv[i], (size_t)(eq - argv[i]));
        strcpy(v[i].nexthop, eq + 1);
    }
    if (routetable_publish(&cfg.routes, cfg.postfix.config_directory, v, (size_t)argc, &flags,
                           err, sizeof(err)) < 0) {
        fprintf(stderr, "routes_cli: publish: %s\n", err);
        free(v);
        return 1;
    }
    printf("%s %d route%s in %llu ms\n", flags & ROUTETABLE_UNCHANGED ? "unchanged" : "published",
           argc, argc == 1 ? "" : "s", (unsigned long long)(now_ms() - t0));
    free(v);
    return 0;
}

static void reloaded(int st, const char *text, void *arg)
{
    uint64_t *t0 = arg;

    if (st == 0)
        printf("reloaded in %llu ms\n", (unsigned long long)(now_ms() - *t0));
    else
        fprintf(stderr, "routes_cli: reload: %s\n", text);
    status = st == 0 ? 0 : 1;
    event_base_loopbreak(base);
}

static int cmd_reload(void)
{
    char err[256];
    uint64_t t0 = now_ms();

    status = 1;
    if (privsep_open(&cfg.postfix, NULL, 0) < 0 || privsep_start(base) < 0)
        return 1;
    if (privsep_request(PRIVSEP_RELOAD, reloaded, &t0, err, sizeof(err)) < 0) {
        fprintf(stderr, "routes_cli: reload: %s\n", err);
        privsep_stop();
        return 1;
    }
    event_base_dispatch(base);
    privsep_stop();
    return status;
}

static void kicked(void *arg)
{
    (void)arg;
    event_base_loopbreak(base);
}

static int cmd_kick(int argc, char **argv)
{
    const struct kick_stats *st;
    uint64_t t0 = now_ms();

    if (kick_init(base, &cfg.postfix) < 0)
        return 1;
    kick_on_idle(kicked, NULL);
    if (kick_domains((const char *const *)argv, (size_t)argc) < 0) {
        kick_free();
        return 1;
    }
    event_base_dispatch(base);
    st = kick_stats();
    printf("kicked %llu of %llu deferred messages (%llu listed, %llu malformed, %llu failed) "
           "in %llu ms\n", (unsigned long long)st->kicked, (unsigned long long)st->matched,
           (unsigned long long)st->listed, (unsigned long long)st->malformed,
           (unsigned long long)st->failed, (unsigned long long)(now_ms() - t0));
    status = st->failed ? 1 : 0;
    kick_free();
    return status;
}

/* ---------------------------------------------------------------- serve */

static void command(char *line)
{
    char *verb = strtok(line, " \t"), *a = strtok(NULL, " \t"), *b = strtok(NULL, " \t");
    const char *h;

    if (verb == NULL)
        return;
    if (strcmp(verb, "set") == 0 && a && b)
        printf("%s\n", routes_set(a, strcmp(b, "direct") == 0 ? NULL : b) == 0 ? "ok" : "error");
    else if (strcmp(verb, "flush") == 0)
        printf("%s\n", routes_flush() == 0 ? "ok" : "error");
    else if (strcmp(verb, "show") == 0 && a)
        printf("%s %s\n", a, (h = routes_get(a)) ? h : "direct");
    else if (strcmp(verb, "quit") == 0)
        event_base_loopexit(base, NULL);
    else
        printf("error: unknown command\n");
    fflush(stdout);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
    static char buf[4096];
    static size_t len;
    ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
    char *nl;

    (void)what;
    (void)arg;
    if (n <= 0) {
        if (n < 0 && errno == EINTR)
            return;
        event_base_loopexit(base, NULL);
        return;
    }
    len += (size_t)n;
    buf[len] = 0;
    while ((nl = strchr(buf, '\n')) != NULL) {
        *nl = 0;
        command(buf);
        len -= (size_t)(nl + 1 - buf);
        memmove(buf, nl + 1, len + 1);
    }
    if (len == sizeof(buf) - 1)
        len = 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopexit(base, NULL);
}

static int drop_to(const char *user)
{
    struct passwd *pw = getpwnam(user);

    if (pw == NULL || initgroups(user, pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0
        || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
        fprintf(stderr, "routes_cli: cannot become %s\n", user);
        return -1;
    }
    return 0;
}

static int cmd_serve(const char *user)
{
    struct daemon d;
    struct event *in, *term, *intr;

    memset(&d, 0, sizeof(d));
    d.base = base;
    d.cfg = &cfg;
    if (privsep_module.open(&d) < 0)
        return 1;
    if ((user && drop_to(user) < 0) || privsep_module.start(&d) < 0
        || kick_module.start(&d) < 0) {
        privsep_module.stop(&d);
        return 1;
    }
    if (routes_module.start(&d) < 0) {
        kick_module.stop(&d);
        privsep_module.stop(&d);
        return 1;
    }
    in = event_new(base, 0, EV_READ | EV_PERSIST, on_stdin, NULL);
    term = evsignal_new(base, SIGTERM, on_signal, NULL);
    intr = evsignal_new(base, SIGINT, on_signal, NULL);
    event_add(in, NULL);
    event_add(term, NULL);
    event_add(intr, NULL);
    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(base);
    routes_module.stop(&d);
    kick_module.stop(&d);
    privsep_module.stop(&d);
    event_free(in);
    event_free(term);
    event_free(intr);
    return 0;
}

int main(int argc, char **argv)
{
    const char *user = NULL;
    int ch, rc;

    msg_open("routes_cli", MSG_STDERR, LOG_MAIL);
    cfg.routes.mode = ROUTES_TABLE;
    cfg.routes.table_type = (char *)"hash";
    cfg.routes.postmap = (char *)"/usr/sbin/postmap";
    cfg.routes.reload = RELOAD_AUTO;
    cfg.routes.reload_interval_ms = 10000;
    cfg.postfix.config_directory = (char *)"/etc/postfix";
    cfg.postfix.postqueue = (char *)"/usr/sbin/postqueue";
    cfg.postfix.postfix = (char *)"/usr/sbin/postfix";
    cfg.postfix.kick_rate = 50;
    while ((ch = getopt(argc, argv, "+c:t:T:m:q:P:r:i:k:u:v")) != -1) {
        switch (ch) {
        case 'c': cfg.postfix.config_directory = optarg; break;
        case 't': cfg.routes.table = optarg; break;
        case 'T': cfg.routes.table_type = optarg; break;
        case 'm': cfg.routes.postmap = optarg; break;
        case 'q': cfg.postfix.postqueue = optarg; break;
        case 'P': cfg.postfix.postfix = optarg; break;
        case 'r': cfg.routes.reload = strcmp(optarg, "never") == 0 ? RELOAD_NEVER : RELOAD_AUTO; break;
        case 'i': cfg.routes.reload_interval_ms = strtoull(optarg, NULL, 10); break;
        case 'k': cfg.postfix.kick_rate = (unsigned)atoi(optarg); break;
        case 'u': user = optarg; break;
        case 'v': msg_verbose++; break;
        default: return usage();
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1)
        return usage();
    if ((strcmp(argv[0], "publish") == 0 || strcmp(argv[0], "serve") == 0) && !cfg.routes.table)
        return usage();
    if ((base = event_base_new()) == NULL)
        return 1;
    if (strcmp(argv[0], "publish") == 0)
        rc = cmd_publish(argc - 1, argv + 1);
    else if (strcmp(argv[0], "reload") == 0 && argc == 1)
        rc = cmd_reload();
    else if (strcmp(argv[0], "kick") == 0 && argc > 1)
        rc = cmd_kick(argc - 1, argv + 1);
    else if (strcmp(argv[0], "serve") == 0 && argc == 1)
        rc = cmd_serve(user);
    else
        rc = usage();
    event_base_free(base);
    libevent_global_shutdown();
    return rc;
}

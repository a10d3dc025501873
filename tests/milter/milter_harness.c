/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter_harness - the milter without the daemon, for miltertest, the
 * Postfix integration test and the benchmark: an event loop (the main
 * thread), the route view and milter_module, with routing answers read from
 * a file where mxdetourd has the engine.
 *
 * usage: milter_harness -c CONF -a ANSWERS [-s SOCKET] [-d MS] [-w MS]
 *                       [-t | -T] [-n] [-v]
 *
 *   -c CONF     mxdetour.conf: the milter settings and destinations' replies
 *   -a ANSWERS  the routing answers (below)
 *   -s SOCKET   listen here instead of on milter.socket
 *   -d MS       answer a request this long after it arrives (default 0)
 *   -w MS       milter.route_wait
 *   -t, -T      trace header on, off
 *   -n          no route view at all: every lookup misses, every request fails
 *   -v          debug logging (the milter's decisions) on stderr
 *
 * ANSWERS: one per line, "#" starts a comment:
 *
 *   [?] DOMAIN direct
 *   [?] DOMAIN detour RELAY [REASON...]
 *   [?] DOMAIN policy hold|tempfail|reject|pass [REASON...]
 *
 * Answers are in the view from the start, except those marked "?", which are
 * given only when the milter asks for the domain (after -d).  A domain that
 * is not in the file is never answered.  REASON defaults to "every MX
 * address blocked".
 *
 * Signals: SIGTERM and SIGINT stop it (exit 0, or 3 when the milter failed);
 * SIGHUP loads CONF again (with the same -s -w -t -T) and runs the milter's
 * reload hook.  It logs "ready" on stderr once listening, and "request
 * DOMAIN" for each request.  Ownership: everything is freed before exit, so
 * that LeakSanitizer checks the milter too.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "milter.h"
#include "msg.h"
#include "netaddr.h"
#include "routeview.h"

#define MOD "harness"

struct answer {
    char domain[DOMAIN_MAXLEN + 1];
    struct routeview_entry e;
    int ask_only;
};

struct pending {
    struct event *ev;
    const struct answer *a;
    struct pending *prev, *next;
};

static struct {
    struct answer *answers;
    size_t nanswers;
    struct pending *pending;
    struct event_base *base;
    struct daemon d;
    uint64_t delay_ms;
    const char *socket;             /* -s */
    long wait_ms;                   /* -w, or -1 */
    int trace;                      /* -t 1, -T 0, else -1 */
} h = {.wait_ms = -1, .trace = -1};

/* ---- The answers file ---- */

/* The next blank-separated word of *p, NUL-terminated; NULL at the end. */
static char *word(char **p)
{
    char *s = *p, *w;

    while (isspace((unsigned char)*s))
        s++;
    if (*s == '\0')
        return NULL;
    w = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = '\0';
    *p = s;
    return w;
}

static int parse_line(char *line, struct answer *a)
{
    char *p = line, *w = word(&p), *kind;

    memset(a, 0, sizeof(*a));
    if (w && strcmp(w, "?") == 0) {
        a->ask_only = 1;
        w = word(&p);
    }
    if (w == NULL || domain_normalize(w, strlen(w), a->domain, sizeof(a->domain)) < 0
        || (kind = word(&p)) == NULL)
        return -1;
    if (strcmp(kind, "direct") == 0) {
        a->e.kind = RV_DIRECT;
    } else if (strcmp(kind, "detour") == 0) {
        if ((w = word(&p)) == NULL)
            return -1;
        a->e.kind = RV_DETOUR;
        snprintf(a->e.relay, sizeof(a->e.relay), "%s", w);
    } else if (strcmp(kind, "policy") == 0) {
        enum policy pol = POLICY_DETOUR;
        if ((w = word(&p)) == NULL)
            return -1;
        while (strcmp(policy_name(pol), w) != 0)
            if (pol++ == POLICY_PASS)
                return -1;
        a->e.kind = RV_POLICY;
        a->e.policy = pol;
    } else {
        return -1;
    }
    while (isspace((unsigned char)*p))
        p++;
    p[strcspn(p, "\n")] = '\0';
    snprintf(a->e.reason, sizeof(a->e.reason), "%s", *p ? p : "every MX address blocked");
    return 0;
}

static int load_answers(const char *file)
{
    FILE *fp = fopen(file, "r");
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, status = 0;

    if (fp == NULL) {
        fprintf(stderr, "milter_harness: %s: %s\n", file, strerror(errno));
        return -1;
    }
    while (getline(&line, &cap, fp) > 0) {
        lineno++;
        line[strcspn(line, "#\n")] = '\0';
        if (line[strspn(line, " \t")] == '\0')
            continue;
        struct answer *more = realloc(h.answers, (h.nanswers + 1) * sizeof(*more));
        if (more == NULL) {
            status = -1;
            break;
        }
        h.answers = more;
        if (parse_line(line, &h.answers[h.nanswers]) < 0) {
            fprintf(stderr, "milter_harness: %s:%d: not \"[?] DOMAIN direct|detour RELAY|"
                    "policy POLICY [REASON]\"\n", file, lineno);
            status = -1;
            break;
        }
        h.nanswers++;
    }
    free(line);
    fclose(fp);
    return status;
}

/* ---- The loop: requests, answers, signals ---- */

static void answer_now(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    (void)fd;
    (void)what;

    routeview_set(p->a->domain, &p->a->e);
    if (p->prev)
        p->prev->next = p->next;
    else
        h.pending = p->next;
    if (p->next)
        p->next->prev = p->prev;
    event_free(p->ev);
    free(p);
}

static void on_request(const char *domain, void *arg)
{
    (void)arg;
    msg_info(MOD, "request %s", domain);
    for (size_t i = 0; i < h.nanswers; i++) {
        if (strcmp(h.answers[i].domain, domain) != 0)
            continue;
        struct pending *p = calloc(1, sizeof(*p));
        struct timeval tv = {(time_t)(h.delay_ms / 1000), (suseconds_t)(h.delay_ms % 1000) * 1000};
        if (p == NULL || (p->ev = evtimer_new(h.base, answer_now, p)) == NULL) {
            free(p);
            return;
        }
        p->a = &h.answers[i];
        p->next = h.pending;
        if (h.pending)
            h.pending->prev = p;
        h.pending = p;
        evtimer_add(p->ev, &tv);
        return;
    }
}

/* Loads CONF with the command line's overrides; NULL after printing why. */
static struct cfg *load_cfg(const char *file)
{
    struct cfg_errors errors = {0};
    struct cfg *cfg = cfg_load(file, &errors);

    for (size_t i = 0; i < errors.count; i++)
        fprintf(stderr, "%s\n", errors.text[i]);
    cfg_errors_clear(&errors);
    if (cfg == NULL)
        return NULL;
    if (h.socket) {
        free(cfg->milter.socket);
        if ((cfg->milter.socket = strdup(h.socket)) == NULL) {
            cfg_free(cfg);
            return NULL;
        }
    }
    if (h.wait_ms >= 0)
        cfg->milter.route_wait_ms = (uint64_t)h.wait_ms;
    if (h.trace >= 0)
        cfg->milter.trace_header = h.trace;
    return cfg;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGHUP) {
        struct cfg *cfg = load_cfg(h.d.cfg_file), *old = h.d.cfg;
        if (cfg == NULL) {
            msg_warn(MOD, "reload failed, keeping the running configuration");
            return;
        }
        h.d.cfg = cfg;
        milter_module.reload(&h.d, old);
        cfg_free(old);
        msg_info(MOD, "reloaded");
        return;
    }
    event_base_loopexit(h.base, NULL);
}

static void usage(void)
{
    fprintf(stderr, "usage: milter_harness -c CONF -a ANSWERS [-s SOCKET] [-d MS] [-w MS] "
            "[-t|-T] [-n] [-v]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *answers = NULL;
    int ch, no_view = 0, opened = 0;
    struct event *sigs[3] = {NULL, NULL, NULL};
    const int signos[3] = {SIGTERM, SIGINT, SIGHUP};

    msg_open("milter_harness", MSG_STDERR, LOG_MAIL);
    while ((ch = getopt(argc, argv, "a:c:d:ns:tTvw:")) != -1) {
        switch (ch) {
        case 'a': answers = optarg; break;
        case 'c': conf = optarg; break;
        case 'd': h.delay_ms = strtoull(optarg, NULL, 10); break;
        case 'n': no_view = 1; break;
        case 's': h.socket = optarg; break;
        case 't': h.trace = 1; break;
        case 'T': h.trace = 0; break;
        case 'v': msg_verbose++; break;
        case 'w': h.wait_ms = strtol(optarg, NULL, 10); break;
        default: usage();
        }
    }
    if (conf == NULL || answers == NULL || optind != argc)
        usage();
    if ((h.d.cfg = load_cfg(conf)) == NULL)
        return 1;
    h.d.cfg_file = conf;
    h.d.flags = DAEMON_FOREGROUND;
    if (h.d.cfg->milter.socket == NULL) {
        fprintf(stderr, "milter_harness: no milter.socket in %s and no -s\n", conf);
        cfg_free(h.d.cfg);
        return 1;
    }
    if (load_answers(answers) < 0 || (h.base = event_base_new()) == NULL) {
        free(h.answers);
        cfg_free(h.d.cfg);
        return 1;
    }
    h.d.base = h.base;
    if (!no_view) {
        if (routeview_start(h.base, on_request, NULL) < 0)
            msg_fatal(MOD, "cannot start the route view");
        for (size_t i = 0; i < h.nanswers; i++)
            if (!h.answers[i].ask_only)
                routeview_set(h.answers[i].domain, &h.answers[i].e);
    }
    for (int i = 0; i < 3; i++)
        if ((sigs[i] = evsignal_new(h.base, signos[i], on_signal, NULL)) == NULL
            || event_add(sigs[i], NULL) < 0)
            msg_fatal(MOD, "cannot handle signals");

    if (milter_module.open(&h.d) < 0 || (opened = 1, milter_module.start(&h.d) < 0)) {
        h.d.status = DAEMON_EXIT_RUNTIME;
    } else {
        msg_info(MOD, "ready: %zu answers, %s", h.nanswers, no_view ? "no route view" : "route view");
        event_base_dispatch(h.base);
    }
    if (opened)
        milter_module.stop(&h.d);

    while (h.pending) {
        struct pending *p = h.pending;
        h.pending = p->next;
        event_free(p->ev);
        free(p);
    }
    routeview_stop();
    for (int i = 0; i < 3; i++)
        if (sigs[i])
            event_free(sigs[i]);
    event_base_free(h.base);
    libevent_global_shutdown();
    free(h.answers);
    cfg_free(h.d.cfg);
    return h.d.status;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_check - `mxdetourctl status --check`: one line and an exit code for
 * Nagios, Icinga and other monitoring-plugin runners.
 *
 *     MXDETOUR OK - mxdetourd running (pid 4711), redis up, 2 relays up, ... | perfdata
 *     MXDETOUR WARNING - relay relay-de down | ...
 *     MXDETOUR CRITICAL - redis unreachable (...); ... | ...
 *     MXDETOUR UNKNOWN - cannot read /var/lib/mxdetour/health: ... | ...
 *
 * What it looks at: Redis, which it asks itself (as `status` does), and the
 * daemon's health file (relay/ops/health.h), which says whether mxdetourd runs
 * and what it sees: its Redis link, the local-outage guard, its relays.
 *
 *   CRITICAL  Redis unreachable, from here or from the daemon (no state is
 *             shared, and the other MTAs learn nothing from this one);
 *             mxdetourd not running (no health file, a stale one, or its pid
 *             gone); a local outage (this MTA reaches no one: detection is
 *             frozen and mail waits); every relay of a destination down
 *             (its mail cannot be detoured).
 *   WARNING   a relay down while each destination keeps another; a
 *             block-list feed whose file could never be read; a log that
 *             gives no evidence (missing, unreadable, or silent while
 *             Postfix runs: detection from the log is off).
 *   UNKNOWN   the check cannot tell: a health file that cannot be read or
 *             makes no sense.  (A configuration that does not load is
 *             UNKNOWN too, from mxdetourctl.c.)
 *   OK        none of these.
 *
 * Several problems: the worst decides the code (CRITICAL, then UNKNOWN,
 * then WARNING), and all are listed, worst first, the list cut at about
 * CHECK_SUMMARY_MAX bytes.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "duration.h"
#include "health.h"

#define CHECK_SUMMARY_MAX 400
#define CHECK_FILE_MAX (256 * 1024)     /* a health file is a few hundred bytes */
#define CHECK_LINE_MAX 512

enum severity { SEV_OK = 0, SEV_WARNING = 1, SEV_CRITICAL = 2, SEV_UNKNOWN = 3 };

struct problems {
    enum severity worst;
    char text[4][CHECK_SUMMARY_MAX + 1];    /* by severity: OK unused */
};

static int rank(enum severity s)   /* CRITICAL > UNKNOWN > WARNING > OK */
{
    static const int r[] = {0, 1, 3, 2};
    return r[s];
}

static void problem(struct problems *p, enum severity s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct problems *p, enum severity s, const char *fmt, ...)
{
    char one[CHECK_SUMMARY_MAX + 1];
    va_list ap;
    char *t = p->text[s];
    size_t len = strlen(t);

    if (rank(s) > rank(p->worst))
        p->worst = s;
    va_start(ap, fmt);
    vsnprintf(one, sizeof(one), fmt, ap);
    va_end(ap);
    if (len + strlen(one) + 2 < sizeof(p->text[s]))
        snprintf(t + len, sizeof(p->text[s]) - len, "%s%s", len ? "; " : "", one);
}

/* What the health file says. */
struct health {
    long pid;
    uint64_t written_ms;
    char redis[16];
    int outage;
    char outage_reason[200];
    long long addrs, addrs_detoured, doms, doms_detoured;
    unsigned relays, relays_down;
    struct problems seen;           /* relays and destinations: counted only
                                       when the daemon is alive */
};

/* 0, or -1 after reporting what is wrong with the file. */
static int read_health(const char *path, struct health *h, struct problems *p)
{
    char line[CHECK_LINE_MAX];
    FILE *fp = fopen(path, "r");
    size_t total = 0;
    int magic = 0, have_written = 0, n;
    struct problems seen = {0};

    memset(h, 0, sizeof(*h));
    if (fp == NULL && errno == ENOENT) {
        problem(p, SEV_CRITICAL, "mxdetourd is not running (no %s)", path);
        return -1;
    }
    if (fp == NULL) {
        problem(p, SEV_UNKNOWN, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), fp)) {
        size_t len = strlen(line);
        total += len;
        if (total > CHECK_FILE_MAX || len == 0 || line[len - 1] != '\n') {
            magic = -1;     /* overlong, or cut: not a file the daemon wrote */
            break;
        }
        line[len - 1] = '\0';
        if (!magic) {
            magic = strcmp(line, HEALTH_MAGIC) == 0 ? 1 : -1;
            if (magic < 0)
                break;
        } else if (sscanf(line, "pid %ld", &h->pid) == 1) {
        } else if (sscanf(line, "written %" SCNu64, &h->written_ms) == 1) {
            have_written = 1;
        } else if (sscanf(line, "redis %15s", h->redis) == 1) {
        } else if (strncmp(line, "outage ", 7) == 0) {
            h->outage = line[7] == '1';
            snprintf(h->outage_reason, sizeof(h->outage_reason), "%.190s",
                     h->outage && line[8] == ' ' ? line + 9 : "");
        } else if (sscanf(line, "addresses %lld %lld", &h->addrs, &h->addrs_detoured) == 2) {
        } else if (sscanf(line, "destinations %lld %lld", &h->doms, &h->doms_detoured) == 2) {
        } else if (strncmp(line, "relay ", 6) == 0) {
            char *state = strrchr(line, ' ');
            h->relays++;
            if (state && strcmp(state, " up") != 0) {
                *state = '\0';
                h->relays_down++;
                problem(&seen, SEV_WARNING, "relay %.64s down", line + 6);
            }
        } else if (strncmp(line, "control ", 8) == 0) {
            char name[65], state[8];
            unsigned long long ms;
            n = 0;
            if (sscanf(line + 8, "%64s %7s %llu%n", name, state, &ms, &n) == 3 && strcmp(state, "up") != 0)
                problem(&seen, SEV_WARNING, "control path %.64s down%.120s: verdicts rest on the breaker "
                        "alone", name, line[8 + n] == ':' ? line + 8 + n : "");
        } else if (strncmp(line, "destination ", 12) == 0) {
            unsigned up, configured;
            n = 0;
            if (sscanf(line + 12, "%u %u %n", &up, &configured, &n) == 2 && n > 0 && up == 0
                && configured > 0)
                problem(&seen, SEV_CRITICAL, "every relay of destination %.64s is down", line + 12 + n);
        } else if (strncmp(line, "feeds ", 6) == 0) {
            unsigned loaded, configured;
            if (sscanf(line + 6, "%u %u", &loaded, &configured) == 2 && loaded < configured)
                problem(&seen, SEV_WARNING, "%u of %u block-list feeds have no version in force",
                        configured - loaded, configured);
        } else if (strncmp(line, "log ", 4) == 0) {
            char state[16];
            unsigned long long secs;
            n = 0;
            if (sscanf(line + 4, "%15s %llu %n", state, &secs, &n) == 2 && n > 0
                && strcmp(state, "ok") != 0) {
                char *source = line + 4 + n, *reason = strstr(source, ": ");
                if (reason)
                    *reason = '\0', reason += 2;
                if (strcmp(state, "silent") == 0)
                    problem(&seen, SEV_WARNING, "log %.120s: no Postfix line for %llu s while "
                            "Postfix runs", source, secs);
                else
                    problem(&seen, SEV_WARNING, "log %.120s %s for %llu s%s%.120s%s: no evidence "
                            "from it", source, state, secs, reason ? " (" : "",
                            reason ? reason : "", reason ? ")" : "");
            }
        }
        /* Other lines: from a newer daemon; ignored. */
    }
    fclose(fp);
    if (magic != 1 || !have_written || h->pid <= 0) {
        problem(p, SEV_UNKNOWN, "%s is not a health file of this mxdetourd", path);
        return -1;
    }
    h->seen = seen;
    return 0;
}

/* The daemon's view: is it alive, and what does it see? */
static void judge_daemon(const struct ctl *c, struct health *h, struct problems *p, int *running)
{
    char path[4096], d[32];
    uint64_t now = clock_now_ms();

    *running = 0;
    snprintf(path, sizeof(path), "%s/%s", c->cfg->state_dir, HEALTH_FILE);
    if (read_health(path, h, p) < 0)
        return;
    if (kill((pid_t)h->pid, 0) < 0 && errno == ESRCH) {
        problem(p, SEV_CRITICAL, "mxdetourd is not running (pid %ld is gone)", h->pid);
        return;
    }
    if (h->written_ms + HEALTH_STALE_MS < now) {
        problem(p, SEV_CRITICAL, "mxdetourd is not running (its health file is %s old)",
                duration_format((now - h->written_ms) / 1000 * 1000, d, sizeof(d)));
        return;
    }
    *running = 1;
    if (strcmp(h->redis, "down") == 0)
        problem(p, SEV_CRITICAL, "mxdetourd has lost redis");
    if (h->outage)
        problem(p, SEV_CRITICAL, "local outage: %s", h->outage_reason[0] ? h->outage_reason : "detection frozen");
    for (int s = SEV_WARNING; s <= SEV_CRITICAL; s++)
        if (h->seen.text[s][0])
            problem(p, (enum severity)s, "%s", h->seen.text[s]);
}

struct counts {
    unsigned addrs_detoured, doms_detoured;
};

static void count_addr(const struct store_addr *a, void *arg)
{
    ((struct counts *)arg)->addrs_detoured += a->b.state == BREAKER_DETOURED;
}

static void count_domain(const struct store_domain *d, void *arg)
{
    ((struct counts *)arg)->doms_detoured += strcmp(d->state, "direct") != 0;
}

int ctl_check(struct ctl *c)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    struct problems p;
    struct health h;
    struct counts n = {0};
    int running, redis_ok = 0;

    memset(&p, 0, sizeof(p));
    if (c->store == NULL)
        problem(&p, SEV_CRITICAL, "redis unreachable (%s)", c->redis_err ? c->redis_err : "no connection");
    else if (store_addr_list(c->store, count_addr, &n) < 0 || store_domain_list(c->store, count_domain, &n) < 0)
        problem(&p, SEV_CRITICAL, "redis unreachable (%s)", store_error(c->store));
    else
        redis_ok = 1;
    judge_daemon(c, &h, &p, &running);

    printf("MXDETOUR %s - ", names[p.worst]);
    if (p.worst == SEV_OK) {
        printf("mxdetourd running (pid %ld), redis up, %u relay%s up, %u address%s and %u "
               "destination%s detoured", h.pid, h.relays, h.relays == 1 ? "" : "s",
               n.addrs_detoured, n.addrs_detoured == 1 ? "" : "es", n.doms_detoured,
               n.doms_detoured == 1 ? "" : "s");
    } else {
        static const enum severity order[] = {SEV_CRITICAL, SEV_UNKNOWN, SEV_WARNING};
        const char *sep = "";
        for (size_t i = 0; i < 3; i++)
            if (p.text[order[i]][0]) {
                printf("%s%s", sep, p.text[order[i]]);
                sep = "; ";
            }
    }
    /* Performance data: what a plugin runner graphs. */
    printf(" |");
    if (redis_ok)
        printf(" addresses_detoured=%u destinations_detoured=%u", n.addrs_detoured, n.doms_detoured);
    if (running)
        printf(" relays=%u relays_down=%u local_outage=%d", h.relays, h.relays_down, h.outage != 0);
    printf("\n");
    return (int)p.worst;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * health - see health.h.
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "feedset.h"
#include "health.h"
#include "metrics.h"
#include "msg.h"
#include "outage.h"
#include "relayhealth.h"
#include "rules.h"
#include "store_async.h"

#define MOD "health"

static struct {
    struct daemon *d;
    struct event *timer;
    char path[4096];
    int warned;                     /* a failed write was logged */
    char outage_reason[OUTAGE_REASON_MAX];
    uint64_t started_ms;            /* clock_mono_ms() at start */
    struct {
        char source[256];
        enum health_log_state state;
        uint64_t since_ms;
        char reason[256];
    } logs[HEALTH_MAX_LOGS];
    size_t nlogs;
    char control[2048];             /* "control ..." lines, each ending in '\n' */
} hl;

static const char *const log_state_names[] = {"ok", "missing", "unreadable", "silent"};

void health_note_logs(const struct health_log *logs, size_t n)
{
    int64_t count[4] = {0};

    hl.nlogs = n < HEALTH_MAX_LOGS ? n : HEALTH_MAX_LOGS;
    for (size_t i = 0; i < hl.nlogs; i++) {
        unsigned st = (unsigned)logs[i].state < 4 ? (unsigned)logs[i].state : HEALTH_LOG_OK;
        snprintf(hl.logs[i].source, sizeof(hl.logs[i].source), "%s",
                 logs[i].source ? logs[i].source : "-");
        snprintf(hl.logs[i].reason, sizeof(hl.logs[i].reason), "%s",
                 logs[i].reason ? logs[i].reason : "");
        hl.logs[i].state = (enum health_log_state)st;
        hl.logs[i].since_ms = logs[i].since_ms;
        count[st]++;
    }
    for (unsigned st = HEALTH_LOG_MISSING; st <= HEALTH_LOG_SILENT; st++)
        metrics_set(MET_LOGS_NOT_READ, st - 1, count[st]);
}

void health_note_rules(const struct rules *r)
{
    struct rules_stats st;
    const struct outage *o = rules_outage(r);
    struct outage_status os = {0};

    rules_stats(r, &st);
    metrics_set(MET_ADDRESSES, 0, (int64_t)st.addrs);
    metrics_set(MET_ADDRESSES_DETOURED, 0, (int64_t)st.detoured_addrs);
    metrics_set(MET_DESTINATIONS, 0, (int64_t)st.domains);
    metrics_set(MET_DESTINATIONS_DETOURED, 0, (int64_t)st.detoured_domains);
    if (o)
        outage_status(o, &os);
    metrics_set(MET_LOCAL_OUTAGE, 0, os.active != 0);
    snprintf(hl.outage_reason, sizeof(hl.outage_reason), "%s", os.active && os.reason ? os.reason : "");
}

void health_note_control(const char *lines)
{
    size_t n = 0;
    /* Whole lines only, printable: the file is read by a parser of lines. */
    for (const char *p = lines ? lines : ""; *p && n + 1 < sizeof(hl.control); p++)
        hl.control[n++] = (*p == '\n' || (*p >= ' ' && *p < 0x7f)) ? *p : '?';
    while (n > 0 && hl.control[n - 1] != '\n')
        n--;
    hl.control[n] = 0;
}

unsigned health_relays_up(const struct cfg *cfg, const struct cfg_dest *d)
{
    unsigned up = 0;
    for (size_t i = 0; i < d->nrelays; i++)
        up += relayhealth_is_up(cfg->relays[d->relays[i]].name) != 0;
    return up;
}

const char *health_dest_name(const struct cfg_dest *d)
{
    return d->name && *d->name ? d->name : d->ndomains ? d->domains[0] : "-";
}

/* One line of text from the configuration, kept on one line. */
static void put_text(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
}

/* "connecting" only for the first connection's own time limits: a daemon
 * that has never reached Redis after that is "down" like one that lost it. */
static const char *redis_state(void)
{
    struct store_async_stats st;
    const struct cfg_redis *rc = &hl.d->cfg->redis;
    if (store_async_is_up())
        return "up";
    store_async_get_stats(&st);
    if (st.reconnects == 0
        && clock_mono_ms() - hl.started_ms < rc->connect_timeout_ms + rc->command_timeout_ms + 5000)
        return "connecting";
    return "down";
}

/* unlink() that keeps errno for the caller's message. */
static int discard(const char *path)
{
    int e = errno;
    unlink(path);
    errno = e;
    return -1;
}

/* Writes PATH.tmp and renames it over PATH, so a reader never sees half. */
static int write_file(void)
{
    const struct cfg *cfg = hl.d->cfg;
    char tmp[sizeof(hl.path) + 8];
    int fd;
    FILE *fp;

    snprintf(tmp, sizeof(tmp), "%s.tmp", hl.path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return -1;
    (void)fchmod(fd, 0644);        /* readable by a monitoring agent, whatever the umask */
    if ((fp = fdopen(fd, "w")) == NULL) {
        close(fd);
        return discard(tmp);
    }
    fprintf(fp, "%s\npid %ld\nwritten %llu\nredis %s\n", HEALTH_MAGIC, (long)getpid(),
            (unsigned long long)clock_now_ms(), redis_state());
    if (metrics_get(MET_LOCAL_OUTAGE, 0)) {
        fputs("outage 1 ", fp);
        put_text(fp, hl.outage_reason[0] ? hl.outage_reason : "local outage");
        fputc('\n', fp);
    } else {
        fputs("outage 0\n", fp);
    }
    fprintf(fp, "addresses %lld %lld\ndestinations %lld %lld\n",
            (long long)metrics_get(MET_ADDRESSES, 0), (long long)metrics_get(MET_ADDRESSES_DETOURED, 0),
            (long long)metrics_get(MET_DESTINATIONS, 0),
            (long long)metrics_get(MET_DESTINATIONS_DETOURED, 0));
    for (size_t i = 0; i < cfg->nrelays; i++) {
        fputs("relay ", fp);
        put_text(fp, cfg->relays[i].name);
        fprintf(fp, " %s\n", relayhealth_is_up(cfg->relays[i].name) ? "up" : "down");
    }
    for (size_t i = 0; i < cfg->ndests; i++) {
        if (cfg->dests[i].nrelays == 0)
            continue;
        fprintf(fp, "destination %u %zu ", health_relays_up(cfg, &cfg->dests[i]), cfg->dests[i].nrelays);
        put_text(fp, health_dest_name(&cfg->dests[i]));
        fputc('\n', fp);
    }
    unsigned feeds, loaded;
    feedset_counts(&feeds, &loaded);
    if (feeds)
        fprintf(fp, "feeds %u %u\n", loaded, feeds);
    fputs(hl.control, fp);
    uint64_t now = clock_now_ms();
    for (size_t i = 0; i < hl.nlogs; i++) {
        uint64_t since = hl.logs[i].since_ms;
        fprintf(fp, "log %s %llu ", log_state_names[hl.logs[i].state],
                (unsigned long long)(since && now > since ? (now - since) / 1000 : 0));
        put_text(fp, hl.logs[i].source);
        if (hl.logs[i].reason[0]) {
            fputs(": ", fp);
            put_text(fp, hl.logs[i].reason);
        }
        fputc('\n', fp);
    }
    if (fclose(fp) != 0 || rename(tmp, hl.path) < 0)
        return discard(tmp);
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (write_file() < 0) {
        if (!hl.warned)
            msg_warn(MOD, "cannot write %s: %s; mxdetourctl status --check will report the daemon "
                     "as not running", hl.path, strerror(errno));
        hl.warned = 1;
    } else if (hl.warned) {
        msg_info(MOD, "%s is written again", hl.path);
        hl.warned = 0;
    }
}

static void set_path(const struct cfg *cfg)
{
    snprintf(hl.path, sizeof(hl.path), "%s/%s", cfg->state_dir, HEALTH_FILE);
}

static int health_start(struct daemon *d)
{
    struct timeval tv = {HEALTH_INTERVAL_MS / 1000, (HEALTH_INTERVAL_MS % 1000) * 1000};

    hl.d = d;
    hl.started_ms = clock_mono_ms();
    set_path(d->cfg);
    if ((hl.timer = event_new(d->base, -1, EV_PERSIST, on_timer, NULL)) == NULL
        || event_add(hl.timer, &tv) < 0) {
        msg_warn(MOD, "cannot set up a timer");
        return -1;
    }
    on_timer(-1, 0, NULL);
    return 0;
}

static void health_reload(struct daemon *d, const struct cfg *old)
{
    if (strcmp(d->cfg->state_dir, old->state_dir) != 0)
        unlink(hl.path);
    set_path(d->cfg);
    on_timer(-1, 0, NULL);
}

static void health_stop(struct daemon *d)
{
    (void)d;
    if (hl.timer)
        event_free(hl.timer);
    if (hl.path[0])
        unlink(hl.path);            /* stopped: the check says so at once */
    memset(&hl, 0, sizeof(hl));
}

const struct daemon_module health_module = {
    .name = MOD,
    .start = health_start,
    .reload = health_reload,
    .stop = health_stop,
};

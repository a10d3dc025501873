/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feedset - see feedset.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "feedset.h"
#include "metrics.h"
#include "msg.h"

#define MOD "feedset"
#define MAX_FEEDS 32

struct slot {
    char name[65];
    char *file;
    enum feed_format fmt;
    enum feed_trust trust;
    double min_share;
    uint64_t recheck_ms;
    struct feed *feed;              /* the version in force, or NULL */
    struct feed_file tried;         /* the last version read, loaded or refused */
    int tried_valid;
    int missing_reported;           /* "cannot read" said once until it reads */
};

/* The one load running on the worker thread. */
struct job {
    char name[65];
    char *file;
    enum feed_format fmt;
    const struct feed *previous;    /* read-only for the worker; freed only after the join */
    double min_share;
    struct feed *result;
    struct feed_report rep;
};

static struct {
    struct event_base *base;
    struct slot slots[MAX_FEEDS];
    size_t n;
    uint64_t check_ms;
    struct event *timer, *done_ev;
    int pipe[2];
    pthread_t worker;
    int busy;
    struct job job;
    unsigned generation;
    feedset_change_fn fn;
    void *arg;
} fs = {.pipe = {-1, -1}};

static void slot_fill(struct slot *s, const struct cfg_feed *cf)
{
    snprintf(s->name, sizeof(s->name), "%s", cf->name);
    s->fmt = (enum feed_format)cf->format;
    s->trust = cf->trust;
    s->min_share = cf->min_share;
    s->recheck_ms = cf->recheck_ms;
}

static void changed(void)
{
    fs.generation++;
    if (fs.fn)
        fs.fn(fs.arg);
}

/* A version freed: glibc keeps freed blocks below its (self-raising) mmap
 * threshold, and the worker's arena, for the next malloc; a feed is tens
 * of megabytes the daemon will not need until the next reload, so its
 * pages go back to the kernel now. */
static void give_back(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* Takes a load's outcome: the new version replaces the old one, or the old
 * one stays and the report says why. */
static void take(struct slot *s, struct feed *loaded, const struct feed_report *rep)
{
    feed_report_log(rep, s->name, s->file);
    metrics_inc(MET_FEED_LOADS, rep->status);
    if (rep->status != FEED_UNREADABLE) {
        s->tried = rep->file;
        s->tried_valid = 1;
        s->missing_reported = 0;
    } else {
        s->missing_reported = 1;
    }
    if (loaded == NULL) {
        if (s->feed == NULL)
            msg_warn(MOD, "feed %s: no listing in force until %s can be read", s->name, s->file);
        return;
    }
    feed_free(s->feed);
    s->feed = loaded;
    give_back();
    changed();
}

static void *work(void *arg)
{
    struct job *j = arg;
    char byte = 1;
    j->result = feed_load(j->name, j->file, j->fmt, j->previous, j->min_share, &j->rep);
    while (write(fs.pipe[1], &byte, 1) < 0 && errno == EINTR)
        ;
    return NULL;
}

static struct slot *slot_find(const char *name, const char *file)
{
    for (size_t i = 0; i < fs.n; i++)
        if (strcmp(fs.slots[i].name, name) == 0 && strcmp(fs.slots[i].file, file) == 0)
            return &fs.slots[i];
    return NULL;
}

/* Joins the worker; its result goes to its slot when that still exists and
 * still holds the version the load was measured against. */
static void finish_job(int keep)
{
    if (!fs.busy)
        return;
    pthread_join(fs.worker, NULL);
    fs.busy = 0;
    struct slot *s = slot_find(fs.job.name, fs.job.file);
    if (keep && s && s->feed == fs.job.previous)
        take(s, fs.job.result, &fs.job.rep);
    else if (fs.job.result) {
        feed_free(fs.job.result);
        give_back();
    }
    free(fs.job.file);
    memset(&fs.job, 0, sizeof(fs.job));
}

static void start_job(struct slot *s)
{
    memset(&fs.job, 0, sizeof(fs.job));
    snprintf(fs.job.name, sizeof(fs.job.name), "%s", s->name);
    fs.job.file = strdup(s->file);
    fs.job.fmt = s->fmt;
    fs.job.previous = s->feed;
    fs.job.min_share = s->min_share;
    if (fs.job.file == NULL || pthread_create(&fs.worker, NULL, work, &fs.job) != 0) {
        msg_warn(MOD, "feed %s: cannot start reading %s; trying again later", s->name, s->file);
        free(fs.job.file);
        fs.job.file = NULL;
        return;
    }
    fs.busy = 1;
}

/* One file a turn: the first whose identity differs from the last version
 * read.  A file that cannot be stat'ed keeps what is in force. */
static void check(void)
{
    for (size_t i = 0; i < fs.n && !fs.busy; i++) {
        struct slot *s = &fs.slots[i];
        struct feed_file id;
        if (feed_file_stat(s->file, &id) < 0) {
            if (!s->missing_reported)
                msg_warn(MOD, "feed %s: cannot read %s: %s; %s", s->name, s->file, strerror(errno),
                         s->feed ? "the previous version stays in force" : "no listing in force");
            s->missing_reported = 1;
            continue;
        }
        if (s->tried_valid && feed_file_same(&s->tried, &id))
            continue;
        start_job(s);
    }
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    check();
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    char buf[16];
    (void)what;
    (void)arg;
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    finish_job(1);
    check();
}

static void slots_clear(void)
{
    for (size_t i = 0; i < fs.n; i++) {
        feed_free(fs.slots[i].feed);
        free(fs.slots[i].file);
    }
    memset(fs.slots, 0, sizeof(fs.slots));
    fs.n = 0;
}

int feedset_start(struct event_base *base, const struct cfg *cfg, feedset_change_fn fn, void *arg)
{
    fs.base = base;
    fs.fn = fn;
    fs.arg = arg;
    fs.check_ms = cfg->feed_check_ms ? cfg->feed_check_ms : 10000;
    if (pipe(fs.pipe) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fs.pipe[i], F_SETFL, fcntl(fs.pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(fs.pipe[i], F_SETFD, FD_CLOEXEC);
    }
    fs.timer = event_new(base, -1, EV_PERSIST, timer_cb, NULL);
    fs.done_ev = event_new(base, fs.pipe[0], EV_READ | EV_PERSIST, done_cb, NULL);
    struct timeval tv = {(time_t)(fs.check_ms / 1000), (suseconds_t)(fs.check_ms % 1000) * 1000};
    if (fs.timer == NULL || fs.done_ev == NULL || event_add(fs.timer, &tv) < 0
        || event_add(fs.done_ev, NULL) < 0)
        return -1;
    /* At start the feeds are read here, before any evidence or milter
     * question, so that the first answers know every listing. */
    for (size_t i = 0; i < cfg->nfeeds && fs.n < MAX_FEEDS; i++) {
        struct slot *s = &fs.slots[fs.n];
        slot_fill(s, &cfg->feeds[i]);
        if ((s->file = strdup(cfg->feeds[i].file)) == NULL)
            return -1;
        fs.n++;
        struct feed_report rep;
        struct feed *f = feed_load(s->name, s->file, s->fmt, NULL, s->min_share, &rep);
        take(s, f, &rep);
    }
    return 0;
}

void feedset_configure(const struct cfg *cfg)
{
    struct slot old[MAX_FEEDS];
    size_t nold = fs.n;

    finish_job(0);      /* at most one load's wait; its file is read again */
    memcpy(old, fs.slots, sizeof(old));
    memset(fs.slots, 0, sizeof(fs.slots));
    fs.n = 0;
    for (size_t i = 0; i < cfg->nfeeds && fs.n < MAX_FEEDS; i++) {
        struct slot *s = &fs.slots[fs.n];
        for (size_t j = 0; j < nold; j++)
            if (old[j].file && strcmp(old[j].name, cfg->feeds[i].name) == 0
                && strcmp(old[j].file, cfg->feeds[i].file) == 0) {
                *s = old[j];                /* keeps its version in force */
                old[j].file = NULL;
                old[j].feed = NULL;
                break;
            }
        if (s->file == NULL && (s->file = strdup(cfg->feeds[i].file)) == NULL)
            continue;
        if (s->fmt != (enum feed_format)cfg->feeds[i].format)
            s->tried_valid = 0;             /* read it again in the new format */
        slot_fill(s, &cfg->feeds[i]);
        fs.n++;
    }
    for (size_t j = 0; j < nold; j++) {
        if (old[j].file)
            msg_info(MOD, "feed %s: no longer configured; its listing is dropped", old[j].name);
        feed_free(old[j].feed);
        free(old[j].file);
    }
    fs.check_ms = cfg->feed_check_ms ? cfg->feed_check_ms : 10000;
    if (fs.timer) {
        struct timeval tv = {(time_t)(fs.check_ms / 1000), (suseconds_t)(fs.check_ms % 1000) * 1000};
        event_add(fs.timer, &tv);
        event_active(fs.timer, EV_TIMEOUT, 0);
    }
    changed();          /* trusts may differ now */
}

void feedset_stop(void)
{
    finish_job(0);
    if (fs.timer)
        event_free(fs.timer);
    if (fs.done_ev)
        event_free(fs.done_ev);
    for (int i = 0; i < 2; i++)
        if (fs.pipe[i] >= 0)
            close(fs.pipe[i]);
    slots_clear();
    memset(&fs, 0, sizeof(fs));
    fs.pipe[0] = fs.pipe[1] = -1;
}

static int match_in(const struct slot *s, const struct netaddr *addr, struct feedset_match *m)
{
    if (s->feed == NULL || !feed_lookup(s->feed, addr, &m->hit))
        return 0;
    m->trust = s->trust;
    m->recheck_ms = s->recheck_ms;
    m->generation = fs.generation;
    return 1;
}

int feedset_lookup(const struct netaddr *addr, struct feedset_match *m)
{
    for (size_t i = 0; i < fs.n; i++)
        if (fs.slots[i].trust == FEED_TRUST_ALLOW && match_in(&fs.slots[i], addr, m))
            return 1;
    for (size_t i = 0; i < fs.n; i++)
        if (fs.slots[i].trust != FEED_TRUST_ALLOW && match_in(&fs.slots[i], addr, m))
            return 1;
    return 0;
}

void feedset_counts(unsigned *configured, unsigned *loaded)
{
    *configured = (unsigned)fs.n;
    *loaded = 0;
    for (size_t i = 0; i < fs.n; i++)
        *loaded += fs.slots[i].feed != NULL;
}

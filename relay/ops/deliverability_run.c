/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deliverability_run - mxdetourd's own `check relays`: at start and on
 * every reload, on a worker thread (the check waits for DNS and postconf),
 * with the configured sender_domains plus the ones the milter learned from
 * detoured mail (metrics_deliver_senders).  Each finding is logged once per
 * run (WARNING and CRITICAL as warnings, the rest as info) and the report
 * is kept for GET /metrics until the next run replaces it.
 *
 * The worker reads the configuration file itself (cfg_load), because the
 * loop's struct cfg is freed by a reload while the check may still run; it
 * is the file the daemon has just loaded cleanly.  One worker at a time: a
 * reload during a run asks for one more run when it ends.  The thread is
 * detached and owns everything it allocates; stop only tells it to throw
 * its report away, so a check stuck in DNS never holds up the shutdown.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "deliverability.h"
#include "metrics_deliver.h"
#include "msg.h"

#define MOD "deliverability"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int running;                    /* a worker runs */
    int again;                      /* a reload came meanwhile: run once more */
    int stopped;
    char *file;                     /* the configuration the next run reads */
    struct cfg *cfg;                /* the last report's configuration (names) */
    struct deliver_report report;   /* the last one; nrelays 0 before the first */
    int have;
    uint64_t when_ms;
} dv;

static void log_report(const struct cfg *cfg, const struct deliver_report *r)
{
    char line[1024];
    enum deliver_code c;

    for (size_t i = 0; i < r->nexits; i++) {
        deliver_exit_text(cfg, &r->exits[i], line, sizeof(line), &c);
        (c == DELIVER_OK ? msg_info : msg_warn)(MOD, "%s", line);
    }
    for (size_t i = 0; i < r->npairs; i++) {
        deliver_pair_text(cfg, &r->pairs[i], line, sizeof(line), &c);
        (c == DELIVER_OK ? msg_info : msg_warn)(MOD, "%s", line);
    }
    for (size_t i = 0; i < r->nrelays; i++)
        if (r->relays[i].nexits == 0)
            msg_warn(MOD, "%s: exit addresses unknown (exit_addresses unset): SPF and reverse DNS "
                     "of its detours not checked", r->relays[i].name);
    msg_info(MOD, "relays checked: %zu relays, %zu exit addresses, %zu sender domains, %zu SPF results",
             r->nrelays, r->nexits, r->ndomains, r->npairs);
}

static void *work(void *arg)
{
    (void)arg;
    for (;;) {
        char learned[DELIVER_MAX_DOMAINS][METRICS_DELIVER_NAMELEN];
        const char *extra[DELIVER_MAX_DOMAINS];
        struct cfg_errors errors = {0};
        struct deliver_report r;

        pthread_mutex_lock(&lock);
        char *file = dv.file ? strdup(dv.file) : NULL;
        dv.again = 0;
        pthread_mutex_unlock(&lock);
        size_t n = metrics_deliver_senders(learned, DELIVER_MAX_DOMAINS);
        for (size_t i = 0; i < n; i++)
            extra[i] = learned[i];
        struct cfg *cfg = file ? cfg_load(file, &errors) : NULL;
        if (cfg == NULL)
            msg_warn(MOD, "relays not checked: %s", errors.count ? errors.text[0] : "out of memory");
        else if (deliver_check(cfg, NULL, extra, n, &r) < 0) {
            msg_warn(MOD, "relays not checked: out of memory");
            cfg_free(cfg);
            cfg = NULL;
        } else
            log_report(cfg, &r);
        cfg_errors_clear(&errors);
        free(file);
        pthread_mutex_lock(&lock);
        if (cfg && !dv.stopped) {
            deliver_report_free(&dv.report);
            if (dv.cfg)
                cfg_free(dv.cfg);
            dv.report = r;
            dv.cfg = cfg;
            dv.have = 1;
            dv.when_ms = clock_now_ms();
            cfg = NULL;
        }
        int again = dv.again && !dv.stopped;
        if (!again)
            dv.running = 0;
        pthread_mutex_unlock(&lock);
        if (cfg) {
            deliver_report_free(&r);
            cfg_free(cfg);
        }
        if (!again)
            return NULL;
    }
}

static void launch(struct daemon *d)
{
    pthread_t t;
    pthread_attr_t attr;

    pthread_mutex_lock(&lock);
    free(dv.file);
    dv.file = strdup(d->cfg_file);
    dv.stopped = 0;
    if (dv.running) {
        dv.again = 1;
        pthread_mutex_unlock(&lock);
        return;
    }
    dv.running = 1;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, work, NULL) != 0) {
        dv.running = 0;
        msg_warn(MOD, "cannot start the relay check's thread; relays not checked");
    }
    pthread_attr_destroy(&attr);
    pthread_mutex_unlock(&lock);
}

static int dv_start(struct daemon *d)
{
    launch(d);
    return 0;
}

static void dv_reload(struct daemon *d, const struct cfg *old)
{
    (void)old;
    launch(d);
}

static void dv_stop(struct daemon *d)
{
    (void)d;
    pthread_mutex_lock(&lock);
    dv.stopped = 1;
    deliver_report_free(&dv.report);
    if (dv.cfg)
        cfg_free(dv.cfg);
    dv.cfg = NULL;
    dv.have = 0;
    if (!dv.running) {          /* a running worker still reads dv.file's copy only */
        free(dv.file);
        dv.file = NULL;
    }
    pthread_mutex_unlock(&lock);
}

const struct daemon_module deliverability_module = {
    .name = MOD,
    .start = dv_start,
    .reload = dv_reload,
    .stop = dv_stop,
};

void deliverability_render(struct metrics_buf *b)
{
    pthread_mutex_lock(&lock);
    const struct deliver_report *r = &dv.report;
    metrics_family(b, "mxdetour_relay_spf", "gauge",
                   "1 for the SPF result of a sender domain at a relay's exit address (libspf2), "
                   "from the last check of the relays.");
    for (size_t i = 0; dv.have && i < r->npairs; i++) {
        const struct deliver_pair *p = &r->pairs[i];
        const char *l[] = {"relay", r->relays[p->relay].name, "exit", p->exit, "domain", p->domain,
                           "result", p->result, NULL};
        metrics_sample_labels(b, "mxdetour_relay_spf", l, 1);
    }
    metrics_family(b, "mxdetour_relay_fcrdns", "gauge",
                   "1 when a relay exit's PTR name resolves back to it, 0 when not or no PTR.");
    for (size_t i = 0; dv.have && i < r->nexits; i++) {
        const struct deliver_exit *e = &r->exits[i];
        const char *l[] = {"relay", r->relays[e->relay].name, "exit", e->exit, NULL};
        metrics_sample_labels(b, "mxdetour_relay_fcrdns", l, e->fcrdns == 1);
    }
    metrics_family(b, "mxdetour_relay_exits_known", "gauge",
                   "1 when a relay's exit addresses are configured, 0 when unknown.");
    for (size_t i = 0; dv.have && i < r->nrelays; i++)
        metrics_sample(b, "mxdetour_relay_exits_known", "relay", r->relays[i].name, r->relays[i].nexits > 0);
    metrics_family(b, "mxdetour_relay_check_status", "gauge",
                   "The last check of the relays: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (not run yet).");
    metrics_sample(b, "mxdetour_relay_check_status", NULL, NULL, dv.have ? r->code : DELIVER_UNKNOWN);
    metrics_family(b, "mxdetour_relay_check_timestamp_seconds", "gauge",
                   "When the last check of the relays ended (0: not yet).");
    metrics_sample(b, "mxdetour_relay_check_timestamp_seconds", NULL, NULL, (double)dv.when_ms / 1000.0);
    pthread_mutex_unlock(&lock);
}

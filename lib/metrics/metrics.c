/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics - see metrics.h.  The families are defined in the table below, in
 * the order they are written out; names and units follow Prometheus's
 * conventions (mxdetour_ prefix, _total for counters, base units).
 */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "clock.h"
#include "metrics.h"

enum type { COUNTER, GAUGE, HISTOGRAM };

struct family {
    const char *name;
    enum type type;
    const char *help;
    const char *label;                  /* NULL: one series */
    const char *const *values;          /* label values, NULL-ended */
    const double *buckets;              /* histograms: upper bounds, ascending, 0-ended */
};

static const char *const kinds[] = {"reply", "timeout", "refused", "unreach", "greeting", "tls", NULL};
static const char *const states[] = {"direct", "detoured", "half_open", NULL};
static const char *const dest_states[] = {"direct", "detoured", NULL};
static const char *const probe_results[] = {"greeting", "reply", "timeout", "refused", "unreach",
                                            "no_greeting", "error", NULL};
static const char *const decisions[] = {"direct", "detour", "hold", "tempfail", "reject", "pass",
                                        "unanswered", NULL};
static const char *const publications[] = {"written", "unchanged", "failed", NULL};
static const char *const reloads[] = {"done", "failed", NULL};
static const char *const feed_statuses[] = {"loaded", "unreadable", "empty", "truncated", "too_big", NULL};
static const char *const log_states[] = {"missing", "unreadable", "silent", NULL};
static const char *const verdicts[] = {"open", "blocked_here", "down_everywhere", "no_control", NULL};
static const char *const path_states[] = {"up", "down", NULL};
static const char *const feed_actions[] = {"detoured", "probed", "probe_failed", "answered", "allowed",
                                           "released", NULL};

/* Probes end within probe.timeout (default 15 s, at most 300 s). */
static const double probe_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15,
                                       30, 60, 0};
/* Debounce 200 ms, postmap, reload, or Postfix's own 10 s table check. */
static const double route_buckets[] = {0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 0};

static const struct family families[MET_COUNT] = {
    [MET_EVIDENCE] = {"mxdetour_evidence_total", COUNTER,
                      "Postfix log lines taken as evidence about an MX address, by kind "
                      "(reply: the path is open; the others: a failed connection).",
                      "kind", kinds, NULL},
    [MET_ADDRESS_CHANGES] = {"mxdetour_address_state_changes_total", COUNTER,
                             "MX address circuit breaker state changes, by the state reached.",
                             "to", states, NULL},
    [MET_DESTINATION_CHANGES] = {"mxdetour_destination_state_changes_total", COUNTER,
                                 "Destinations that became detoured (every MX address blocked) "
                                 "or direct again.", "to", dest_states, NULL},
    [MET_PROBES] = {"mxdetour_probes_total", COUNTER,
                    "Probes of MX addresses on the direct path, by outcome.",
                    "result", probe_results, NULL},
    [MET_RELAY_PROBES] = {"mxdetour_relay_probes_total", COUNTER,
                          "Health probes of relays, by outcome.", "result", probe_results, NULL},
    [MET_MILTER_DECISIONS] = {"mxdetour_milter_decisions_total", COUNTER,
                              "Recipients examined by the milter, by the route view's answer "
                              "(a policy, or unanswered within milter.route_wait).",
                              "decision", decisions, NULL},
    [MET_ROUTE_PUBLICATIONS] = {"mxdetour_route_publications_total", COUNTER,
                                "Publications of the transport table, by result.",
                                "result", publications, NULL},
    [MET_POSTFIX_RELOADS] = {"mxdetour_postfix_reloads_total", COUNTER,
                             "postfix reload runs asked of the privileged helper, by result.",
                             "result", reloads, NULL},
    [MET_FEED_LOADS] = {"mxdetour_feed_loads_total", COUNTER,
                        "Versions of block-list feed files read, by result (anything but "
                        "loaded leaves the version in force).", "result", feed_statuses, NULL},
    [MET_FEED_ACTIONS] = {"mxdetour_feed_actions_total", COUNTER,
                          "What feed listings did to MX addresses: detoured without a probe, "
                          "probed, detoured after a failed probe, answered (stays direct), "
                          "allowed, or released when no longer listed.",
                          "action", feed_actions, NULL},
    [MET_VERDICTS] = {"mxdetour_verdicts_total", COUNTER,
                      "Races of a direct against a control probe, by verdict (no_control: "
                      "the control path failed and the breaker alone decides).",
                      "verdict", verdicts, NULL},
    [MET_ADDRESSES] = {"mxdetour_addresses", GAUGE, "MX addresses the daemon keeps state for.",
                       NULL, NULL, NULL},
    [MET_ADDRESSES_DETOURED] = {"mxdetour_addresses_detoured", GAUGE,
                                "MX addresses detoured now.", NULL, NULL, NULL},
    [MET_DESTINATIONS] = {"mxdetour_destinations", GAUGE,
                          "Destinations (recipient domains) the daemon keeps state for.",
                          NULL, NULL, NULL},
    [MET_DESTINATIONS_DETOURED] = {"mxdetour_destinations_detoured", GAUGE,
                                   "Destinations whose every MX address is detoured now.",
                                   NULL, NULL, NULL},
    [MET_LOCAL_OUTAGE] = {"mxdetour_local_outage", GAUGE,
                          "1 while the local-outage guard holds (detection frozen), else 0.",
                          NULL, NULL, NULL},
    [MET_CONTROL_PATHS] = {"mxdetour_control_paths", GAUGE,
                           "Control paths (a relay's SOCKS5 proxy or tunnel) by health: a down "
                           "one is never taken as evidence about a destination.",
                           "state", path_states, NULL},
    [MET_LOGS_NOT_READ] = {"mxdetour_logs_not_read", GAUGE,
                           "Configured Postfix logs that give no evidence now: missing, "
                           "unreadable, or silent (no Postfix line for log_silence while "
                           "Postfix runs).", "state", log_states, NULL},
    [MET_PROBE_SECONDS] = {"mxdetour_probe_duration_seconds", HISTOGRAM,
                           "Time from connect to result of MX address probes.",
                           NULL, NULL, probe_buckets},
    [MET_DETOUR_ROUTE_SECONDS] = {"mxdetour_detection_to_route_seconds", HISTOGRAM,
                                  "Time from a destination detected blocked to its detour in "
                                  "force in Postfix (published, and reloaded if configured).",
                                  NULL, NULL, route_buckets},
};

/* Counters and gauges use v[]; histograms count[], bucket[] (not
 * cumulative: made so at output) and the sum in microseconds. */
static struct {
    _Atomic int64_t v[METRICS_MAX_SERIES];
    _Atomic uint64_t bucket[METRICS_MAX_BUCKETS + 1];
    _Atomic uint64_t sum_us;
} cells[MET_COUNT];

static unsigned nseries(enum metric m)
{
    unsigned n = 0;
    if (families[m].values == NULL)
        return 1;
    while (families[m].values[n])
        n++;
    return n;
}

static int valid(enum metric m, unsigned series)
{
    return (unsigned)m < MET_COUNT && series < nseries(m) && series < METRICS_MAX_SERIES;
}

void metrics_add(enum metric m, unsigned series, uint64_t n)
{
    if (valid(m, series) && families[m].type == COUNTER)
        atomic_fetch_add_explicit(&cells[m].v[series], (int64_t)n, memory_order_relaxed);
}

void metrics_inc(enum metric m, unsigned series)
{
    metrics_add(m, series, 1);
}

void metrics_set(enum metric m, unsigned series, int64_t v)
{
    if (valid(m, series) && families[m].type == GAUGE)
        atomic_store_explicit(&cells[m].v[series], v, memory_order_relaxed);
}

void metrics_observe_ms(enum metric m, uint64_t ms)
{
    unsigned i = 0;

    if ((unsigned)m >= MET_COUNT || families[m].type != HISTOGRAM)
        return;
    const double *le = families[m].buckets;
    while (i < METRICS_MAX_BUCKETS && le[i] != 0 && (double)ms / 1000.0 > le[i])
        i++;
    if (i >= METRICS_MAX_BUCKETS || le[i] == 0)
        i = METRICS_MAX_BUCKETS;            /* only +Inf holds it */
    atomic_fetch_add_explicit(&cells[m].bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cells[m].sum_us, ms * 1000, memory_order_relaxed);
    atomic_fetch_add_explicit(&cells[m].v[0], 1, memory_order_relaxed);
}

int64_t metrics_get(enum metric m, unsigned series)
{
    if ((unsigned)m >= MET_COUNT || series >= METRICS_MAX_SERIES)
        return 0;
    return atomic_load_explicit(&cells[m].v[series], memory_order_relaxed);
}

void metrics_probe_result(int relay, unsigned kind, uint64_t elapsed_ms)
{
    metrics_inc(relay ? MET_RELAY_PROBES : MET_PROBES, kind);
    if (!relay && kind + 1 < nseries(MET_PROBES))   /* the last result is "error" */
        metrics_observe_ms(MET_PROBE_SECONDS, elapsed_ms);
}

void metrics_milter_policy(int policy)
{
    switch (policy) {
    case POLICY_HOLD: metrics_inc(MET_MILTER_DECISIONS, MD_HOLD); break;
    case POLICY_TEMPFAIL: metrics_inc(MET_MILTER_DECISIONS, MD_TEMPFAIL); break;
    case POLICY_REJECT: metrics_inc(MET_MILTER_DECISIONS, MD_REJECT); break;
    default: metrics_inc(MET_MILTER_DECISIONS, MD_PASS); break;
    }
}

/* ---- Detection to route (event loop only) ---- */

static struct timer {
    char domain[254];
    uint64_t start_ms;              /* clock_mono_ms(); 0: free */
} timers[METRICS_MAX_TIMERS];

static struct timer *timer_find(const char *domain)
{
    for (size_t i = 0; i < METRICS_MAX_TIMERS; i++)
        if (timers[i].start_ms && strcmp(timers[i].domain, domain) == 0)
            return &timers[i];
    return NULL;
}

void metrics_destination_change(const char *domain, int detoured)
{
    struct timer *t;

    metrics_inc(MET_DESTINATION_CHANGES, detoured ? 1 : 0);
    if (domain == NULL || strlen(domain) >= sizeof(timers[0].domain))
        return;
    if ((t = timer_find(domain)) != NULL && !detoured) {
        t->start_ms = 0;            /* direct again before its route was in force */
        return;
    }
    if (t != NULL || !detoured)
        return;                     /* the first detection counts */
    t = &timers[0];
    for (size_t i = 0; i < METRICS_MAX_TIMERS && t->start_ms; i++)
        if (timers[i].start_ms < t->start_ms)
            t = &timers[i];         /* a free one, else the oldest */
    snprintf(t->domain, sizeof(t->domain), "%s", domain);
    t->start_ms = clock_mono_ms();
    if (t->start_ms == 0)
        t->start_ms = 1;
}

void metrics_detour_live(const char *domain)
{
    struct timer *t = domain ? timer_find(domain) : NULL;

    if (t == NULL)
        return;
    metrics_observe_ms(MET_DETOUR_ROUTE_SECONDS, clock_mono_ms() - t->start_ms);
    t->start_ms = 0;
}

void metrics_reset(void)
{
    for (size_t m = 0; m < MET_COUNT; m++) {
        for (size_t i = 0; i < METRICS_MAX_SERIES; i++)
            atomic_store(&cells[m].v[i], 0);
        for (size_t i = 0; i <= METRICS_MAX_BUCKETS; i++)
            atomic_store(&cells[m].bucket[i], 0);
        atomic_store(&cells[m].sum_us, 0);
    }
    memset(timers, 0, sizeof(timers));
}

/* ---- Text output ---- */

static void put(struct metrics_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct metrics_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
}

void metrics_buf_free(struct metrics_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format wants it: \\, \" and \n escaped. */
static void put_escaped(struct metrics_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            put(b, "\\%c", *s);
        else if (*s == '\n')
            put(b, "\\n");
        else
            put(b, "%c", *s);
    }
}

/* Integers (counts up to 2^53) come out without a fraction. */
static void put_value(struct metrics_buf *b, double v)
{
    put(b, " %.17g\n", v);
}

void metrics_sample(struct metrics_buf *b, const char *name, const char *label, const char *value,
                    double v)
{
    put(b, "%s", name);
    if (label) {
        put(b, "{%s=\"", label);
        put_escaped(b, value ? value : "");
        put(b, "\"}");
    }
    put_value(b, v);
}

void metrics_sample_labels(struct metrics_buf *b, const char *name, const char *const *labels, double v)
{
    put(b, "%s", name);
    for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
        put(b, "%s%s=\"", i ? "," : "{", labels[i]);
        put_escaped(b, labels[i + 1]);
        put(b, "\"");
    }
    if (labels && labels[0] && labels[1])
        put(b, "}");
    put_value(b, v);
}

static void render_histogram(struct metrics_buf *b, enum metric m)
{
    const struct family *f = &families[m];
    uint64_t cum = 0;
    size_t i;

    for (i = 0; i < METRICS_MAX_BUCKETS && f->buckets[i] != 0; i++) {
        cum += atomic_load_explicit(&cells[m].bucket[i], memory_order_relaxed);
        put(b, "%s_bucket{le=\"%g\"} %llu\n", f->name, f->buckets[i], (unsigned long long)cum);
    }
    cum += atomic_load_explicit(&cells[m].bucket[METRICS_MAX_BUCKETS], memory_order_relaxed);
    put(b, "%s_bucket{le=\"+Inf\"} %llu\n", f->name, (unsigned long long)cum);
    put(b, "%s_sum %.6f\n", f->name,
        (double)atomic_load_explicit(&cells[m].sum_us, memory_order_relaxed) / 1e6);
    /* The count is the +Inf bucket, read once, so the two always agree. */
    put(b, "%s_count %llu\n", f->name, (unsigned long long)cum);
}

void metrics_render(struct metrics_buf *b)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};

    for (size_t m = 0; m < MET_COUNT; m++) {
        const struct family *f = &families[m];
        metrics_family(b, f->name, type_names[f->type], f->help);
        if (f->type == HISTOGRAM) {
            render_histogram(b, (enum metric)m);
            continue;
        }
        for (unsigned s = 0; s < nseries((enum metric)m); s++)
            metrics_sample(b, f->name, f->label, f->label ? f->values[s] : NULL,
                           (double)atomic_load_explicit(&cells[m].v[s], memory_order_relaxed));
    }
}

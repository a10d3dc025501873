/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics - mxdetourd's counters, gauges and histograms, and their
 * Prometheus text form (exposition format 0.0.4).
 *
 * The registry is static: every family is defined once in metrics.c, with
 * its name, help, type and at most one label whose values come from a small
 * fixed list (an enum of the caller's: enum fail_kind, enum breaker_state,
 * enum probe_kind, ...).  So the number of series is known at compile time
 * and no event can grow it.  Series that depend on the configuration (one
 * per relay, one per destination) are not kept here: the daemon writes them
 * at scrape time with metrics_family() and metrics_sample(), from the
 * modules' own state (relay/ops/metrics_http.c).
 *
 * Threads: counters, gauges and histograms are C11 atomics (relaxed), so
 * milter threads count as safely as the event loop.  The detour timer
 * (metrics_destination_change, metrics_detour_live) is for the event loop
 * only.  Recording never fails and never allocates.
 *
 * docs/metrics.md lists every name, unit and label.
 */
#ifndef MXD_METRICS_H
#define MXD_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric {
    /* counters */
    MET_EVIDENCE,               /* series: enum fail_kind; FAIL_NONE is a reply */
    MET_ADDRESS_CHANGES,        /* series: enum breaker_state reached */
    MET_DESTINATION_CHANGES,    /* series: 0 direct, 1 detoured */
    MET_PROBES,                 /* MX probes; series: enum probe_kind */
    MET_RELAY_PROBES,           /* relay health probes; series: enum probe_kind */
    MET_MILTER_DECISIONS,       /* series: enum metrics_decision */
    MET_ROUTE_PUBLICATIONS,     /* series: enum metrics_publication */
    MET_POSTFIX_RELOADS,        /* series: 0 done, 1 failed */
    MET_FEED_LOADS,             /* feed versions read; series: enum feed_status */
    MET_FEED_ACTIONS,           /* what listings did; series: enum metrics_feed_action */
    MET_VERDICTS,               /* races concluded; series: 0 open, 1 blocked here,
                                   2 down everywhere, 3 no control (the path failed) */
    /* gauges */
    MET_ADDRESSES,              /* MX addresses the daemon knows */
    MET_ADDRESSES_DETOURED,
    MET_DESTINATIONS,
    MET_DESTINATIONS_DETOURED,
    MET_LOCAL_OUTAGE,           /* 1 while the outage guard holds */
    MET_LOGS_NOT_READ,          /* logs by state; series: 0 missing, 1 unreadable, 2 silent */
    MET_CONTROL_PATHS,          /* control paths by health; series: 0 up, 1 down */
    /* histograms (no label) */
    MET_PROBE_SECONDS,          /* an MX probe, connect to result */
    MET_DETOUR_ROUTE_SECONDS,   /* a destination detected blocked -> its route in force */
    MET_COUNT
};

enum metrics_decision {         /* what the milter's route view said of a recipient */
    MD_DIRECT, MD_DETOUR, MD_HOLD, MD_TEMPFAIL, MD_REJECT, MD_PASS,
    MD_UNANSWERED,              /* no answer within milter.route_wait */
    MD_COUNT
};

enum metrics_feed_action { MF_DETOURED, MF_PROBED, MF_PROBE_FAILED, MF_ANSWERED, MF_ALLOWED,
                           MF_RELEASED, MF_COUNT };
enum metrics_publication { MP_WRITTEN, MP_UNCHANGED, MP_FAILED, MP_COUNT };

#define METRICS_MAX_SERIES 8
#define METRICS_MAX_BUCKETS 16

/* Counters: adds to series (out of range series are ignored). */
void metrics_inc(enum metric m, unsigned series);
void metrics_add(enum metric m, unsigned series, uint64_t n);
/* Gauges. */
void metrics_set(enum metric m, unsigned series, int64_t v);
/* Histograms: one observation of ms milliseconds. */
void metrics_observe_ms(enum metric m, uint64_t ms);

/* The value of a counter or gauge series; a histogram's count. */
int64_t metrics_get(enum metric m, unsigned series);

/* A probe's result (enum probe_kind) counted in MET_PROBES, or
 * MET_RELAY_PROBES when relay is set; an MX probe that got a result (not a
 * local error) also observes MET_PROBE_SECONDS. */
void metrics_probe_result(int relay, unsigned kind, uint64_t elapsed_ms);

/* The milter's decision for one recipient: the policy of a RV_POLICY
 * answer (enum policy) mapped onto enum metrics_decision. */
void metrics_milter_policy(int policy);

/*
 * Detection-to-route: the engine reports every destination change
 * (counted in MET_DESTINATION_CHANGES); a destination that became detoured
 * starts a timer, which metrics_detour_live() stops when its route is in
 * force in Postfix, observing MET_DETOUR_ROUTE_SECONDS.  At most
 * METRICS_MAX_TIMERS run; beyond that the oldest is dropped.
 */
#define METRICS_MAX_TIMERS 64
void metrics_destination_change(const char *domain, int detoured);
void metrics_detour_live(const char *domain);

/* Back to zero (tests). */
void metrics_reset(void);

/*
 * Text output: a growable buffer.  After a failed allocation the buffer
 * stops growing and `failed` is set; the caller answers with an error.
 */
struct metrics_buf {
    char *data;
    size_t len, cap;
    int failed;
};

void metrics_buf_free(struct metrics_buf *b);
/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);
/* "name{label="value"} v", or "name v" when label is NULL; the value is
 * escaped as the format requires. */
void metrics_sample(struct metrics_buf *b, const char *name, const char *label,
                    const char *value, double v);
/* A sample with several labels: labels is name, value, name, value, ...,
 * NULL (values escaped like metrics_sample's). */
void metrics_sample_labels(struct metrics_buf *b, const char *name, const char *const *labels, double v);
/* Every family of the registry. */
void metrics_render(struct metrics_buf *b);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics_deliver - see metrics_deliver.h.
 *
 * Two fixed tables under one mutex: rows (relay, domain) -> counts per DKIM
 * state, and learned sender domains -> messages seen and when the domain
 * was last logged.  A relay's total is the sum of its rows plus what did
 * not fit (kept per relay in the first METRICS_DELIVER_RELAYS relays seen).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_deliver.h"

#define METRICS_DELIVER_RELAYS 64
#define RELAYLEN 65

struct row {
    char relay[RELAYLEN];
    char domain[METRICS_DELIVER_NAMELEN];
    uint64_t count[DKIM_COUNT];
};

struct relay_total {
    char relay[RELAYLEN];
    uint64_t count[DKIM_COUNT];
};

struct sender {
    char domain[METRICS_DELIVER_NAMELEN];
    uint64_t messages;
    uint64_t logged_ms;         /* 0: never logged */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct row rows[METRICS_DELIVER_ROWS];
static size_t nrows;
static struct relay_total relays[METRICS_DELIVER_RELAYS];
static size_t nrelays;
static struct sender senders[METRICS_DELIVER_SENDERS];
static size_t nsenders;
static uint64_t untracked;      /* notes, or parts of them, that found no room */

const char *deliver_dkim_name(enum deliver_dkim d)
{
    static const char *const names[] = {"aligned", "unaligned", "none"};
    return (unsigned)d < DKIM_COUNT ? names[d] : "none";
}

static struct sender *sender_get(const char *domain)
{
    for (size_t i = 0; i < nsenders; i++)
        if (strcmp(senders[i].domain, domain) == 0)
            return &senders[i];
    if (nsenders == METRICS_DELIVER_SENDERS)
        return NULL;
    struct sender *s = &senders[nsenders++];
    snprintf(s->domain, sizeof(s->domain), "%s", domain);
    return s;
}

int metrics_deliver_note(const char *relay, const char *from_domain, const char *mailfrom,
                         enum deliver_dkim dkim, uint64_t now_ms, uint64_t interval_ms)
{
    struct row *r = NULL;
    struct relay_total *t = NULL;
    int log = 0;

    if ((unsigned)dkim >= DKIM_COUNT)
        dkim = DKIM_NONE;
    if (relay == NULL || strlen(relay) >= RELAYLEN)
        relay = "?";
    from_domain = from_domain && strlen(from_domain) < METRICS_DELIVER_NAMELEN ? from_domain : "";
    mailfrom = mailfrom && strlen(mailfrom) < METRICS_DELIVER_NAMELEN ? mailfrom : "";
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrelays && t == NULL; i++)
        if (strcmp(relays[i].relay, relay) == 0)
            t = &relays[i];
    if (t == NULL && nrelays < METRICS_DELIVER_RELAYS) {
        t = &relays[nrelays++];
        snprintf(t->relay, sizeof(t->relay), "%s", relay);
    }
    if (t)
        t->count[dkim]++;
    for (size_t i = 0; i < nrows && r == NULL; i++)
        if (strcmp(rows[i].relay, relay) == 0 && strcmp(rows[i].domain, from_domain) == 0)
            r = &rows[i];
    if (r == NULL && nrows < METRICS_DELIVER_ROWS) {
        r = &rows[nrows++];
        snprintf(r->relay, sizeof(r->relay), "%s", relay);
        snprintf(r->domain, sizeof(r->domain), "%s", from_domain);
    }
    if (r)
        r->count[dkim]++;
    if (t == NULL || r == NULL)
        untracked++;
    struct sender *s = from_domain[0] ? sender_get(from_domain) : NULL;
    if (s) {
        s->messages++;
        if (dkim != DKIM_ALIGNED && (s->logged_ms == 0 || now_ms - s->logged_ms >= interval_ms)) {
            s->logged_ms = now_ms ? now_ms : 1;
            log = 1;
        }
    } else if (from_domain[0]) {
        untracked++;            /* no From: domain at all: counted, never logged per domain */
    }
    if (mailfrom[0] && strcmp(mailfrom, from_domain) != 0) {
        struct sender *m = sender_get(mailfrom);
        if (m)
            m->messages++;
        else
            untracked++;
    }
    pthread_mutex_unlock(&lock);
    return log;
}

static int by_messages(const void *a, const void *b)
{
    const struct sender *x = a, *y = b;
    return x->messages < y->messages ? 1 : x->messages > y->messages ? -1 : strcmp(x->domain, y->domain);
}

size_t metrics_deliver_senders(char (*out)[METRICS_DELIVER_NAMELEN], size_t max)
{
    static struct sender copy[METRICS_DELIVER_SENDERS];   /* under the lock */
    size_t n;

    pthread_mutex_lock(&lock);
    memcpy(copy, senders, nsenders * sizeof(*copy));
    n = nsenders;
    qsort(copy, n, sizeof(*copy), by_messages);
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++)
        memcpy(out[i], copy[i].domain, METRICS_DELIVER_NAMELEN);
    pthread_mutex_unlock(&lock);
    return n;
}

void metrics_deliver_render(struct metrics_buf *b)
{
    pthread_mutex_lock(&lock);
    metrics_family(b, "mxdetour_detoured_messages_total", "counter",
                   "Messages the milter saw detoured, by relay and DKIM signature (aligned with From:, "
                   "unaligned, none).");
    for (size_t i = 0; i < nrelays; i++)
        for (int d = 0; d < DKIM_COUNT; d++) {
            const char *l[] = {"relay", relays[i].relay, "dkim", deliver_dkim_name(d), NULL};
            metrics_sample_labels(b, "mxdetour_detoured_messages_total", l, (double)relays[i].count[d]);
        }
    metrics_family(b, "mxdetour_detoured_sender_messages_total", "counter",
                   "Detoured messages by relay, From: domain and DKIM signature.");
    for (size_t i = 0; i < nrows; i++)
        for (int d = 0; d < DKIM_COUNT; d++) {
            const char *l[] = {"relay", rows[i].relay, "domain", rows[i].domain,
                               "dkim", deliver_dkim_name(d), NULL};
            metrics_sample_labels(b, "mxdetour_detoured_sender_messages_total", l, (double)rows[i].count[d]);
        }
    metrics_family(b, "mxdetour_learned_sender_domains", "gauge",
                   "Sender domains (MAIL FROM, From:) learned from detoured mail.");
    metrics_sample(b, "mxdetour_learned_sender_domains", NULL, NULL, (double)nsenders);
    metrics_family(b, "mxdetour_detoured_untracked_total", "counter",
                   "Detoured messages, or their sender domains, that found no room in the bounded tables.");
    metrics_sample(b, "mxdetour_detoured_untracked_total", NULL, NULL, (double)untracked);
    pthread_mutex_unlock(&lock);
}

void metrics_deliver_reset(void)
{
    pthread_mutex_lock(&lock);
    nrows = nrelays = nsenders = 0;
    untracked = 0;
    memset(rows, 0, sizeof(rows));
    memset(relays, 0, sizeof(relays));
    memset(senders, 0, sizeof(senders));
    pthread_mutex_unlock(&lock);
}

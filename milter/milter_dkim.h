/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter_dkim - what a detoured message's headers say about DMARC: its
 * From: domain and the d= of its DKIM-Signature headers, and whether one
 * of them aligns (docs/deliverability.md).  Presence and alignment only: no
 * signature is verified, nothing in the message is changed.
 *
 * Alignment is relaxed and without a public suffix list: d= aligns with the
 * From: domain when they are equal or one ends with "." and the other (so
 * d=example.ru aligns with From: news.example.ru and the other way round).
 * A d= of one label never aligns.  This errs towards "aligned" for
 * registries' second-level suffixes (d=co.uk), which no signer uses.
 *
 * Bounds: MILTER_DKIM_MAX_SIGS signatures per message looked at (further
 * ones count as present but unexamined), the first From: header only,
 * header values looked at up to their first MILTER_DKIM_MAX_VALUE bytes.
 * Private to milter/: milter_cb.c owns the struct in its message context.
 */
#ifndef MXD_MILTER_DKIM_H
#define MXD_MILTER_DKIM_H

#include <stddef.h>
#include <stdint.h>

#include "metrics_deliver.h"
#include "netaddr.h"

#define MILTER_DKIM_MAX_SIGS 8
#define MILTER_DKIM_MAX_VALUE 8192

struct milter_dkim {
    char from[DOMAIN_MAXLEN + 1];               /* "" until a From: with a domain */
    int from_seen;                              /* a From: header was seen */
    char sig[MILTER_DKIM_MAX_SIGS][DOMAIN_MAXLEN + 1];   /* d= values, normalised */
    size_t nsigs;
    unsigned sigs_seen;                         /* DKIM-Signature headers, all */
};

/* One header of the message (name and value as libmilter gives them). */
void milter_dkim_header(struct milter_dkim *m, const char *name, const char *value);

/* aligned, unaligned (signed, no d= aligns) or none (no DKIM-Signature). */
enum deliver_dkim milter_dkim_result(const struct milter_dkim *m);

/* At end of a message detoured through relay: counts it
 * (metrics_deliver_note) and logs it when that says so.  The message's
 * sender domain mailfrom is "" for the null sender. */
void milter_dkim_count(const struct milter_dkim *m, const char *relay, const char *mailfrom,
                       uint64_t interval_ms);

/* Whether signing domain d aligns with from (relaxed, as above). */
int milter_dkim_aligned(const char *d, const char *from);

#endif

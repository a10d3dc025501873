/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics_deliver - what the milter saw of detoured mail, for the
 * deliverability guard (docs/deliverability.md): per relay and sender
 * domain, how many detoured messages carried a DKIM signature aligned with
 * their From: domain, an unaligned one, or none; and the sender domains
 * learned that way (MAIL FROM and From: domains), with counts, which
 * mxdetourd's own `check relays` adds to the configured sender_domains.
 *
 * Bounds: at most METRICS_DELIVER_ROWS (relay, domain) rows and
 * METRICS_DELIVER_SENDERS learned domains, first come first kept; what
 * does not fit is counted (mxdetour_detoured_untracked_total), never grows
 * the table.  Relay and domain names come from the route view and from
 * metrics_deliver_note()'s caller, which normalises them.
 *
 * Threads: any thread may call these; one mutex guards the tables (a
 * milter thread holds it for a few string compares).  Time is an argument.
 */
#ifndef MXD_METRICS_DELIVER_H
#define MXD_METRICS_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define METRICS_DELIVER_ROWS 256
#define METRICS_DELIVER_SENDERS 256
#define METRICS_DELIVER_NAMELEN 254     /* DOMAIN_MAXLEN + 1; relay names are shorter */

enum deliver_dkim { DKIM_ALIGNED, DKIM_UNALIGNED, DKIM_NONE, DKIM_COUNT };

const char *deliver_dkim_name(enum deliver_dkim d);     /* "aligned", "unaligned", "none" */

/*
 * One message detoured through relay, From: domain from_domain (the DMARC
 * domain; "" when the message has none), MAIL FROM domain mailfrom ("" for
 * the null sender), DKIM as dkim.  Returns 1 when the caller should log it:
 * not aligned-signed, and from_domain not logged in the last interval_ms
 * (the first such message always logs).
 */
int metrics_deliver_note(const char *relay, const char *from_domain, const char *mailfrom,
                         enum deliver_dkim dkim, uint64_t now_ms, uint64_t interval_ms);

/* The learned sender domains, most messages first, up to max of them,
 * copied into out; returns how many. */
size_t metrics_deliver_senders(char (*out)[METRICS_DELIVER_NAMELEN], size_t max);

/* mxdetour_detoured_messages_total{relay,dkim},
 * mxdetour_detoured_sender_messages_total{relay,domain,dkim},
 * mxdetour_learned_sender_domains, mxdetour_detoured_untracked_total. */
void metrics_deliver_render(struct metrics_buf *b);

/* Back to empty (tests). */
void metrics_deliver_reset(void);

#endif

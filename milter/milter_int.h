/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter_int - what milter.c (the module's life) and milter_cb.c (the
 * libmilter callbacks) share.  Not for other modules: they see milter.h.
 *
 * The callbacks read the configuration only through milter_settings() and
 * milter_reply(), which copy out of the module's own snapshot under its lock;
 * milter.c replaces the snapshot at start, reload and stop.
 */
#ifndef MXD_MILTER_INT_H
#define MXD_MILTER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>

#define MILTER_MOD "milter"

/* Recipients of one message that the milter looks at; further ones pass
 * unexamined (Postfix's smtpd_recipient_limit defaults to 1000 as well). */
#define MILTER_MAX_RCPTS 1000

/* Replies (docs/milter.md).  RFC 3463: X.4.1 is "no answer from host", what
 * Postfix itself says about a connect timeout; X.7.1 is "delivery not
 * authorized", a refusal by the site's policy. */
#define MILTER_TEMPFAIL_CODE "451"
#define MILTER_TEMPFAIL_XCODE "4.4.1"
#define MILTER_TEMPFAIL_TEXT "destination temporarily unreachable from this network; try again later"
#define MILTER_REJECT_CODE "550"
#define MILTER_REJECT_XCODE "5.7.1"
#define MILTER_REJECT_TEXT "destination unreachable from this network; mail to it is refused by local policy"
#define MILTER_HOLD_TEXT "destination unreachable from this network; held for the postmaster"
#define MILTER_TRACE_HEADER "X-Mxdetour"

/* The settings a recipient is judged with. */
struct milter_settings {
    uint64_t route_wait_ms;
    bool trace_header;
    uint64_t dkim_log_interval_ms;  /* deliverability log lines per sender domain */
};

/* Copies the running settings; 0, or -1 when the milter is not running
 * (stopping, or never started): the caller then lets mail pass. */
int milter_settings(struct milter_settings *out);

/* Copies the reply text configured for the destination matching domain into
 * buf, or "" when it has none. */
void milter_reply(const char *domain, char *buf, size_t size);

/* The filter description milter.c registers (milter_cb.c). */
extern struct smfiDesc milter_desc;

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * follower_health - whether a followed file is being read: missing or
 * unreadable for longer than FOLLOWER_GRACE_MS is logged once and reported
 * by follower_health() until it is read again, which is logged too.  See
 * follower.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "follower_int.h"
#include "msg.h"

static const char *state_name(enum follower_state st)
{
    return st == FOLLOWER_MISSING ? "missing" : st == FOLLOWER_UNREADABLE ? "unreadable" : "read";
}

void follower_set_state(struct follower *f, enum follower_state st, const char *reason)
{
    if (st == f->state && (reason == NULL || strcmp(reason, f->reason) == 0))
        return;
    if (st == FOLLOWER_READING && f->state_warned)
        msg_info(MOD, "reading %s again, after %llu s %s", f->path,
                 (unsigned long long)((clock_now_ms() - f->state_ms) / 1000), state_name(f->state));
    if (st != f->state) {
        f->state = st;
        f->state_ms = clock_now_ms();
        f->state_warned = 0;
    }
    snprintf(f->reason, sizeof(f->reason), "%s", reason ? reason : "");
}

void follower_warn_if_lasting(struct follower *f)
{
    if (f->state == FOLLOWER_READING || f->state_warned
        || clock_now_ms() - f->state_ms < FOLLOWER_GRACE_MS)
        return;
    f->state_warned = 1;
    if (f->state == FOLLOWER_MISSING)
        msg_warn(MOD, "%s does not exist: no evidence from this log until it appears (without "
                 "rsyslog, set Postfix's maillog_file or follow the journal: docs/operations.md)",
                 f->path);
    else
        msg_warn(MOD, "%s: no evidence from this log until mxdetourd can read it (after "
                 "postfix logrotate, see docs/operations.md)", f->reason);
}

void follower_health(const struct follower *f, struct follower_health *out)
{
    memset(out, 0, sizeof(*out));
    /* Reported once logged, so the health file and the log agree. */
    if (f->cfg.source != FOLLOW_FILE || f->state == FOLLOWER_READING || !f->state_warned)
        return;
    out->state = f->state;
    out->since_ms = f->state_ms;
    snprintf(out->reason, sizeof(out->reason), "%s", f->reason);
}

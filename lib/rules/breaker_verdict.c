/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * breaker_verdict - what a race's verdict does to a breaker, see breaker.h.
 * Kept apart from breaker.c's state machine: a verdict is not evidence to
 * count but a conclusion, reached by comparing two paths.
 */
#include "config.h"

#include <string.h>

#include "breaker.h"
#include "breaker_int.h"

static const char *const names[VERDICT_COUNT] = {"none", "open", "blocked-here", "down-everywhere"};

const char *verdict_name(enum verdict v)
{
    return (unsigned)v < VERDICT_COUNT ? names[v] : "unknown";
}

int verdict_parse(const char *name, enum verdict *v)
{
    for (unsigned i = 0; i < VERDICT_COUNT; i++)
        if (strcmp(name, names[i]) == 0) {
            *v = (enum verdict)i;
            return 0;
        }
    return -1;
}

enum verdict breaker_verdict_fresh(const struct breaker *b, const struct breaker_params *p,
                                   uint64_t now_ms)
{
    uint64_t ttl = p->verdict_ttl_ms ? p->verdict_ttl_ms : VERDICT_DEFAULT_TTL_MS;

    if (b->verdict == VERDICT_NONE || (unsigned)b->verdict >= VERDICT_COUNT)
        return VERDICT_NONE;
    return now_ms < b->verdict_ms || now_ms - b->verdict_ms < ttl ? b->verdict : VERDICT_NONE;
}

enum breaker_change breaker_verdict(struct breaker *b, const struct breaker_params *p,
                                    enum verdict v, const char *reason, uint64_t now_ms)
{
    enum breaker_change ch = BREAKER_SAME;

    if (v == VERDICT_NONE || (unsigned)v >= VERDICT_COUNT)
        return BREAKER_SAME;
    ch = breaker_tick(b, p, now_ms);
    b->verdict = v;
    b->verdict_ms = now_ms ? now_ms : 1;
    switch (v) {
    case VERDICT_BLOCKED_HERE:
        if (b->state != BREAKER_DETOURED)
            ch = breaker_trip_now(b, p, reason && *reason ? reason : "blocked here", now_ms);
        break;
    case VERDICT_DOWN_EVERYWHERE:
        /* An administrator's or a feed's detour is theirs to end. */
        if (!p->down_detour && b->state != BREAKER_DIRECT
            && (b->source == SRC_LOG || b->source == SRC_PROBE)) {
            unsigned trips = b->trips;
            ch = breaker_force(b, BREAKER_DIRECT, SRC_PROBE,
                               reason && *reason ? reason : "down everywhere", 0, now_ms);
            b->trips = trips > 0 ? trips - 1 : 0;      /* it was never a block */
        }
        break;
    default:
        break;
    }
    return ch;
}

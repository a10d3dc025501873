/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logtime - timestamps of Postfix log lines; see logtime.h.
 *
 * Zone-less stamps are local time (TZ) and go through mktime(); stamps with
 * a zone through timegm().  Dates that do not exist (Feb 30) are rejected,
 * not normalised.  Called by logparse_line() once per line, on the thread
 * that owns the parser.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "logtime.h"

#define YEAR_SLACK_MS (24LL * 3600 * 1000)      /* lines may lead "now" by this */
#define YEAR_BACK_MS (300LL * 24 * 3600 * 1000) /* older: maybe next year's */

/* ms of a calendar minute, UTC or local; -1 for dates like Feb 30. */
static int64_t civil_minute(int year, int mon, int mday, int hour, int min, int utc)
{
    struct tm tm = {.tm_year = year - 1900, .tm_mon = mon, .tm_mday = mday,
                    .tm_hour = hour, .tm_min = min, .tm_isdst = -1};
    time_t t = utc ? timegm(&tm) : mktime(&tm);

    if (t == (time_t)-1 || t < 0 || tm.tm_mon != mon || tm.tm_mday != mday)
        return -1;
    return (int64_t)t * 1000;
}

static void set_reference(struct logtime *lt, uint64_t now_ms)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;

    lt->now_ms = (int64_t)now_ms;
    lt->now_year = localtime_r(&t, &tm) ? tm.tm_year + 1900 : 1970;
}

static int64_t syslog_minute(struct logtime *lt, int mon, int mday, int hour, int min)
{
    int64_t t, next;

    if (lt->tcache.valid && lt->tcache.mon == mon && lt->tcache.mday == mday
        && lt->tcache.hour == hour && lt->tcache.min == min)
        return lt->tcache.ms;
    if (lt->pinned_ms == 0)
        set_reference(lt, clock_now_ms());      /* once per new minute in the log */
    t = civil_minute(lt->now_year, mon, mday, hour, min, 0);
    if (t < 0 || t > lt->now_ms + YEAR_SLACK_MS) {
        t = civil_minute(lt->now_year - 1, mon, mday, hour, min, 0);    /* Dec in Jan */
    } else if (lt->now_ms - t > YEAR_BACK_MS) {
        next = civil_minute(lt->now_year + 1, mon, mday, hour, min, 0);
        if (next >= 0 && next <= lt->now_ms + YEAR_SLACK_MS)
            t = next;                                                   /* Jan on Dec 31 */
    }
    if (t >= 0) {
        lt->tcache.valid = 1;
        lt->tcache.mon = mon, lt->tcache.mday = mday;
        lt->tcache.hour = hour, lt->tcache.min = min;
        lt->tcache.ms = t;
    }
    return t;
}

/* "HH:MM:SS[.frac]" into seconds and milliseconds. */
static int clock_part(struct cur *c, uint64_t *hh, uint64_t *mm, uint64_t *ss, uint64_t *ms)
{
    const char *frac;

    if (number(c, 2, 2, hh) < 0 || !LIT(c, ":") || number(c, 2, 2, mm) < 0
        || !LIT(c, ":") || number(c, 2, 2, ss) < 0 || *hh > 23 || *mm > 59 || *ss > 60)
        return -1;
    *ms = 0;
    if (!LIT(c, "."))
        return 0;
    frac = c->p;                /* 1..9 digits; the first three are the ms */
    for (unsigned scale = 100; c->p < c->end && c->p - frac < 9 && isdigit((unsigned char)*c->p);
         c->p++, scale /= 10)
        *ms += (uint64_t)(*c->p - '0') * scale;
    return c->p > frac ? 0 : -1;
}

static int syslog_time(struct logtime *lt, struct cur *c, uint64_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    uint64_t mday, hh, mm, ss, ms;
    int64_t minute;
    int mon;

    if (c->end - c->p < 15)
        return -1;
    for (mon = 0; mon < 12 && memcmp(c->p, months + 3 * mon, 3) != 0; mon++)
        ;
    if (mon == 12)
        return -1;
    c->p += 3;
    if (!LIT(c, " "))
        return -1;
    (void)LIT(c, " ");          /* "Nov  3" */
    if (number(c, 1, 2, &mday) < 0 || mday < 1 || mday > 31 || !LIT(c, " ")
        || clock_part(c, &hh, &mm, &ss, &ms) < 0)
        return -1;
    minute = syslog_minute(lt, mon, (int)mday, (int)hh, (int)mm);
    if (minute < 0)
        return -1;
    *out = (uint64_t)minute + ss * 1000 + ms;
    return 0;
}

/* RFC 3339: 2026-11-23T11:02:03[.123456](Z|+hh:mm|+hhmm|nothing: local). */
static int iso_time(struct cur *c, uint64_t *out)
{
    uint64_t y, mo, d, hh, mm, ss, ms, oh = 0, om = 0;
    int64_t t, sign = 0;

    if (number(c, 4, 4, &y) < 0 || y < 1970 || !LIT(c, "-") || number(c, 2, 2, &mo) < 0
        || mo < 1 || mo > 12 || !LIT(c, "-") || number(c, 2, 2, &d) < 0 || d < 1 || d > 31
        || !LIT(c, "T") || clock_part(c, &hh, &mm, &ss, &ms) < 0)
        return -1;
    if (LIT(c, "Z")) {
        sign = 1;
    } else if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
        sign = *c->p++ == '-' ? -1 : 1;
        if (number(c, 4, 4, &oh) == 0)          /* +hhmm */
            om = oh % 100, oh /= 100;
        else if (number(c, 2, 2, &oh) < 0 || !LIT(c, ":") || number(c, 2, 2, &om) < 0)
            return -1;                          /* not +hh:mm either */
        if (oh > 23 || om > 59)
            return -1;
    }
    t = civil_minute((int)y, (int)mo - 1, (int)d, (int)hh, (int)mm, sign != 0);
    if (t < 0)
        return -1;
    t += (int64_t)(ss * 1000 + ms) - sign * (int64_t)(oh * 3600 + om * 60) * 1000;
    if (t < 0)
        return -1;
    *out = (uint64_t)t;
    return 0;
}

void logtime_set_now(struct logtime *lt, uint64_t now_ms)
{
    lt->pinned_ms = now_ms;
    set_reference(lt, now_ms ? now_ms : clock_now_ms());
    lt->tcache.valid = 0;
}

int logtime_parse(struct logtime *lt, struct cur *c, uint64_t *out)
{
    if (c->p == c->end)
        return -1;
    return isdigit((unsigned char)*c->p) ? iso_time(c, out) : syslog_time(lt, c, out);
}

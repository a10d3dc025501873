/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logtime - the timestamp at the start of a Postfix log line, for
 * lib/evidence/logparse.c and nothing else.
 *
 * logtime_parse() reads either form logparse.h lists:
 *   Nov 23 11:02:03[.frac]               traditional syslog, local time
 *   2026-11-23T11:02:03[.frac][Z|+hh:mm|+hhmm]   RFC 3339; no zone: local
 * and returns milliseconds since the epoch.  A syslog stamp has no year: it
 * gets the one that puts the line at most a day after the reference time
 * (so December lines read in January land in the previous year, and January
 * lines read on December 31 in the next).  The reference time is
 * clock_now_ms(), taken again at each new minute of the log, unless
 * logtime_set_now() pins it.  The last syslog minute resolved is cached, so
 * a busy log costs one mktime() a minute.
 *
 * The cursor primitives below are logparse's too: both halves read a line
 * through a bounded struct cur, and each primitive checks the bound before
 * it reads.  They are static inline so that this header adds no symbols.
 *
 * Ownership and threads: struct logtime is a member of struct logparse and
 * shares its rules (one thread at a time; no allocation).
 */
#ifndef MXD_LOGTIME_H
#define MXD_LOGTIME_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cur {
    const char *p, *end;
};

/* Cursor primitives: each checks the bound before it reads. */

static inline int lit(struct cur *c, const char *s, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return 0;
    c->p += n;
    return 1;
}
#define LIT(c, s) lit((c), (s), sizeof(s) - 1)

/* min..max digits, not followed by another; consumes nothing on failure. */
static inline int number(struct cur *c, unsigned min, unsigned max, uint64_t *v)
{
    const char *p = c->p;
    unsigned n = 0;

    *v = 0;
    while (p < c->end && n < max && isdigit((unsigned char)*p)) {
        *v = *v * 10 + (uint64_t)(*p++ - '0');
        n++;
    }
    if (n < min || (p < c->end && isdigit((unsigned char)*p)))
        return -1;
    c->p = p;
    return 0;
}

struct logtime {
    uint64_t pinned_ms;         /* logtime_set_now(); 0: follow the clock */
    int64_t now_ms;             /* the reference time and its local year */
    int now_year;
    struct {                    /* the last syslog minute resolved */
        int valid, mon, mday, hour, min;
        int64_t ms;
    } tcache;
};

/* Pins the reference time (now_ms 0: follow clock_now_ms()) and forgets the
 * cached minute.  Also the initialiser: call it before logtime_parse(). */
void logtime_set_now(struct logtime *lt, uint64_t now_ms);

/* Reads a timestamp at c (syslog or RFC 3339, by its first byte) into *out,
 * ms since the epoch; 0 with c past it, or -1 (c then undefined). */
int logtime_parse(struct logtime *lt, struct cur *c, uint64_t *out);

#endif

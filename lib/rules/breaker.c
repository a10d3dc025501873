/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * breaker - the per-address circuit breaker; the state machine is drawn in
 * breaker.h and its defaults are argued in docs/detection.md.
 *
 * Invariants kept by every function here (and checked by breaker_decode, in
 * breaker_text.c):
 *   - fails_ms[0..nfails) is sorted, oldest first, and holds only failures of
 *     counted kinds seen while DIRECT; unused slots are zero;
 *   - until_ms is 0 unless the state is DETOURED;
 *   - reason is NUL-terminated, zero-padded, and holds printable ASCII or
 *     well-formed UTF-8 only, so the text form can carry it verbatim.
 * Keeping unused bytes zero makes two equal breakers compare equal field by
 * field, which the store relies on to tell a change from a no-op.
 *
 * No I/O, no allocation, no clock: callers pass now_ms.  Any thread, but one
 * breaker is used by one thread at a time (mxdetourd: its event loop).
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "breaker.h"
#include "breaker_int.h"
#include "duration.h"

/* How each failure kind reads in a reason: "3 connect timeouts in 10m". */
static const struct noun {
    const char *one, *many, *article;
} nouns[FAIL_KIND_COUNT] = {
    [FAIL_NONE] = {"failure", "failures", "a"},
    [FAIL_TIMEOUT] = {"connect timeout", "connect timeouts", "a"},
    [FAIL_REFUSED] = {"refused connection", "refused connections", "a"},
    [FAIL_UNREACH] = {"unreachable error", "unreachable errors", "an"},
    [FAIL_GREETING] = {"missing greeting", "missing greetings", "a"},
    [FAIL_TLS] = {"TLS failure", "TLS failures", "a"},
};

static const char *const state_names[] = {"direct", "detoured", "half-open"};

/* A bounded string builder (struct text: breaker_int.h): appends what
 * fits, remembers whether all did. */
void breaker_put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= t->size - t->len) {
        t->overflow = 1;
        t->len = t->size - 1;
    } else {
        t->len += (size_t)n;
    }
}

static uint64_t elapsed(uint64_t from, uint64_t to)
{
    return to > from ? to - from : 0;
}

static unsigned clamp(unsigned v, unsigned lo, unsigned hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int breaker_kind_valid(unsigned k)
{
    return k > FAIL_NONE && k < FAIL_KIND_COUNT;
}

void breaker_params_default(struct breaker_params *p)
{
    p->threshold = 3;
    p->window_ms = 10 * 60000;
    p->cooldown_ms = 5 * 60000;
    p->cooldown_max_ms = 60 * 60000;
    p->decay_ms = 60 * 60000;
    p->kinds = FAIL_DEFAULT_KINDS;
    p->probe_successes = 2;
    p->verdict_ttl_ms = VERDICT_DEFAULT_TTL_MS;
    p->down_detour = 0;
}

int breaker_params_check(const struct breaker_params *p, const char **why)
{
    unsigned all = (FAIL_BIT(FAIL_KIND_COUNT) - 1) & ~FAIL_BIT(FAIL_NONE);
    const char *err = NULL;

    if (p->threshold < 1 || p->threshold > BREAKER_MAX_FAILS)
        err = "threshold must be 1..16";
    else if (p->window_ms == 0)
        err = "window must be longer than 0";
    else if (p->cooldown_ms == 0)
        err = "cooldown must be longer than 0";
    else if (p->cooldown_max_ms < p->cooldown_ms)
        err = "cooldown_max is shorter than cooldown";
    else if (p->decay_ms == 0)
        err = "decay must be longer than 0";
    else if (p->kinds == 0 || (p->kinds & ~all) != 0)
        err = "kinds must name at least one known failure kind";
    else if (p->probe_successes < 1 || p->probe_successes > BREAKER_MAX_FAILS)
        err = "probe_successes must be 1..16";
    if (err && why)
        *why = err;
    return err ? -1 : 0;
}

uint64_t breaker_cooldown(const struct breaker_params *p, unsigned trips)
{
    uint64_t cap = p->cooldown_max_ms > p->cooldown_ms ? p->cooldown_max_ms : p->cooldown_ms;
    uint64_t c = p->cooldown_ms;

    for (unsigned i = 1; i < trips && c < cap; i++)
        c = c > cap / 2 ? cap : c * 2;
    return c < cap ? c : cap;
}

void breaker_init(struct breaker *b, uint64_t now_ms)
{
    memset(b, 0, sizeof(*b));
    b->state = BREAKER_DIRECT;
    b->since_ms = now_ms;
    b->decay_from_ms = now_ms;
    b->source = SRC_LOG;
}

__attribute__((format(printf, 2, 3)))
static void set_reason(struct breaker *b, const char *fmt, ...)
{
    va_list ap;

    memset(b->reason, 0, sizeof(b->reason));
    va_start(ap, fmt);
    vsnprintf(b->reason, sizeof(b->reason), fmt, ap);
    va_end(ap);
}

static void clear_failures(struct breaker *b)
{
    b->nfails = 0;
    memset(b->fails_ms, 0, sizeof(b->fails_ms));
    memset(b->fail_kinds, 0, sizeof(b->fail_kinds));
}

/* Removes fails [from, from + n). */
static void drop_failures(struct breaker *b, unsigned from, unsigned n)
{
    unsigned rest = b->nfails - from - n;

    memmove(b->fails_ms + from, b->fails_ms + from + n, rest * sizeof(b->fails_ms[0]));
    memmove(b->fail_kinds + from, b->fail_kinds + from + n, rest);
    b->nfails -= n;
    memset(b->fails_ms + b->nfails, 0, n * sizeof(b->fails_ms[0]));
    memset(b->fail_kinds + b->nfails, 0, n);
}

static void expire_failures(struct breaker *b, const struct breaker_params *p, uint64_t now)
{
    unsigned n = 0;

    while (n < b->nfails && elapsed(b->fails_ms[n], now) >= p->window_ms)
        n++;
    if (n > 0)
        drop_failures(b, 0, n);
}

/* Inserts in time order (log lines of several processes may interleave);
 * when full, the oldest failure makes room. */
static void record_failure(struct breaker *b, enum fail_kind kind, uint64_t now)
{
    unsigned i;

    if (b->nfails == BREAKER_MAX_FAILS) {
        if (now < b->fails_ms[0])
            return;
        drop_failures(b, 0, 1);
    }
    for (i = b->nfails; i > 0 && b->fails_ms[i - 1] > now; i--) {
        b->fails_ms[i] = b->fails_ms[i - 1];
        b->fail_kinds[i] = b->fail_kinds[i - 1];
    }
    b->fails_ms[i] = now;
    b->fail_kinds[i] = (unsigned char)kind;
    b->nfails++;
}

/* One trip forgiven per decay_ms spent DIRECT since the last decay. */
static void decay_trips(struct breaker *b, const struct breaker_params *p, uint64_t now)
{
    uint64_t n;

    if (b->trips == 0 || p->decay_ms == 0)
        return;
    n = elapsed(b->decay_from_ms, now) / p->decay_ms;
    if (n == 0)
        return;
    b->trips = n >= b->trips ? 0 : b->trips - (unsigned)n;
    b->decay_from_ms += n * p->decay_ms;
}

static enum breaker_change enter(struct breaker *b, enum breaker_state state,
                                 enum evidence_source src, uint64_t now)
{
    b->state = state;
    b->since_ms = now;
    b->until_ms = 0;
    b->probe_ok = 0;
    b->source = src;
    switch (state) {
    case BREAKER_DIRECT:
        clear_failures(b);
        memset(b->kind_counts, 0, sizeof(b->kind_counts));
        b->decay_from_ms = now;
        return BREAKER_RESTORED;
    case BREAKER_DETOURED:
        clear_failures(b);
        return BREAKER_TRIPPED;
    case BREAKER_HALF_OPEN:
        return BREAKER_PROBE_DUE;
    }
    return BREAKER_SAME;
}

/* DIRECT or HALF_OPEN -> DETOURED for the next, longer cool-down. */
static void copy_reason(struct breaker *b, const char *text);

static enum breaker_change trip(struct breaker *b, const struct breaker_params *p,
                                enum evidence_source src, uint64_t now)
{
    uint64_t cd;

    b->trips = b->trips < BREAKER_MAX_TRIPS ? b->trips + 1 : BREAKER_MAX_TRIPS;
    cd = breaker_cooldown(p, b->trips);
    enter(b, BREAKER_DETOURED, src, now);
    b->until_ms = now > UINT64_MAX - cd ? UINT64_MAX : now + cd;
    if (b->until_ms == 0)
        b->until_ms = 1;        /* 0 would mean "no end" */
    return BREAKER_TRIPPED;
}

enum breaker_change breaker_trip_now(struct breaker *b, const struct breaker_params *p,
                                     const char *reason, uint64_t now_ms)
{
    copy_reason(b, reason);
    return trip(b, p, SRC_PROBE, now_ms);
}

/* "3 connect timeouts in 10m", "2 connect timeouts and 1 missing greeting in 10m" */
static void window_reason(struct breaker *b, const struct breaker_params *p)
{
    unsigned count[FAIL_KIND_COUNT] = {0};
    unsigned kinds = 0, done = 0;
    char text[BREAKER_REASON_MAX], d[32];
    struct text t = {text, sizeof(text), 0, 0};

    for (unsigned i = 0; i < b->nfails; i++)
        if (breaker_kind_valid(b->fail_kinds[i]) && count[b->fail_kinds[i]]++ == 0)
            kinds++;
    for (unsigned k = 0; k < FAIL_KIND_COUNT; k++) {
        if (count[k] == 0)
            continue;
        done++;
        breaker_put(&t, "%s%u %s", done == 1 ? "" : done == kinds ? " and " : ", ", count[k],
            count[k] == 1 ? nouns[k].one : nouns[k].many);
    }
    breaker_put(&t, " in %s", duration_format(p->window_ms, d, sizeof(d)));
    set_reason(b, "%s", text);
}

enum breaker_change breaker_tick(struct breaker *b, const struct breaker_params *p,
                                 uint64_t now_ms)
{
    char d[32];

    switch (b->state) {
    case BREAKER_DIRECT:
        expire_failures(b, p, now_ms);
        decay_trips(b, p, now_ms);
        return BREAKER_SAME;
    case BREAKER_DETOURED:
        if (b->until_ms == 0 || now_ms < b->until_ms)
            return BREAKER_SAME;
        set_reason(b, "cool-down of %s over, probing the direct path",
                   duration_format(elapsed(b->since_ms, b->until_ms), d, sizeof(d)));
        return enter(b, BREAKER_HALF_OPEN, b->source, now_ms);
    case BREAKER_HALF_OPEN:
        break;
    }
    return BREAKER_SAME;
}

enum breaker_change breaker_failure(struct breaker *b, const struct breaker_params *p,
                                    enum fail_kind kind, enum evidence_source src,
                                    uint64_t now_ms)
{
    char d[32];
    enum breaker_change ch;

    if (!breaker_kind_valid(kind) || (unsigned)src >= SRC_COUNT)
        return BREAKER_SAME;
    ch = breaker_tick(b, p, now_ms);
    if (b->kind_counts[kind] < UINT_MAX)
        b->kind_counts[kind]++;
    if (now_ms > b->last_failure_ms)
        b->last_failure_ms = now_ms;
    if (b->state == BREAKER_HALF_OPEN)
        b->probe_ok = 0;        /* good probes must come in a row */
    if (!(p->kinds & FAIL_BIT(kind)) || b->state == BREAKER_DETOURED)
        return ch;
    if (b->state == BREAKER_DIRECT && !p->down_detour
        && breaker_verdict_fresh(b, p, now_ms) == VERDICT_DOWN_EVERYWHERE)
        return ch;              /* down for everyone: no reason to detour */

    if (b->state == BREAKER_DIRECT) {
        record_failure(b, kind, now_ms);
        if (b->nfails < clamp(p->threshold, 1, BREAKER_MAX_FAILS))
            return ch;
        window_reason(b, p);
    } else {
        set_reason(b, "%s %s %s (cool-down %s)", nouns[kind].article, nouns[kind].one,
                   src == SRC_PROBE ? "seen by the half-open probe"
                                    : "on the direct path while half-open",
                   duration_format(breaker_cooldown(p, b->trips + 1), d, sizeof(d)));
    }
    return trip(b, p, src, now_ms);
}

enum breaker_change breaker_success(struct breaker *b, const struct breaker_params *p,
                                    enum evidence_source src, uint64_t now_ms)
{
    enum breaker_change ch;
    unsigned need = clamp(p->probe_successes, 1, BREAKER_MAX_FAILS);

    if ((unsigned)src >= SRC_COUNT)
        return BREAKER_SAME;
    ch = breaker_tick(b, p, now_ms);
    if (now_ms > b->last_success_ms)
        b->last_success_ms = now_ms;
    if (b->state == BREAKER_DIRECT) {
        clear_failures(b);
        memset(b->kind_counts, 0, sizeof(b->kind_counts));
        return ch;
    }
    if (src == SRC_PROBE) {
        if (b->probe_ok < BREAKER_MAX_FAILS)
            b->probe_ok++;
        if (b->probe_ok < need) {
            if (b->state == BREAKER_HALF_OPEN)
                return ch;
            /* A probe ("probe now") found the path open before the
             * cool-down ended: go on probing instead of waiting. */
            set_reason(b, "probe saw greeting once before the cool-down ended");
            enter(b, BREAKER_HALF_OPEN, src, now_ms);
            b->probe_ok = 1;
            return BREAKER_PROBE_DUE;
        }
        if (need == 1)
            set_reason(b, "probe saw greeting once");
        else
            set_reason(b, "probe saw greeting %u times", b->probe_ok);
    } else if (src == SRC_LOG) {
        set_reason(b, "the server answered on the direct path");
    } else {
        set_reason(b, "success reported by %s", evidence_source_name(src));
    }
    return enter(b, BREAKER_DIRECT, src, now_ms);
}

/*
 * Length of the well-formed UTF-8 sequence at s (n bytes left), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp, min;
    size_t len;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The length of the character at s that a reason may hold (printable
 * ASCII, well-formed UTF-8), or 0. */
static size_t char_len(const unsigned char *s, size_t n)
{
    return s[0] >= 0x20 && s[0] < 0x7f ? 1 : s[0] >= 0x80 ? utf8_seq(s, n) : 0;
}

int breaker_reason_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n;

    for (size_t i = 0; i < len; i += n)
        if ((n = char_len(s + i, len - i)) == 0)
            return 0;
    return 1;
}

/* Copies text into the reason, turning what breaker_reason_valid() refuses
 * into '?' and cutting between characters when it is too long. */
static void copy_reason(struct breaker *b, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), o = 0;

    memset(b->reason, 0, sizeof(b->reason));
    for (size_t i = 0; i < len && o < sizeof(b->reason) - 1;) {
        size_t n = char_len(s + i, len - i);
        if (n == 0) {
            b->reason[o++] = '?';
            i++;
        } else if (o + n < sizeof(b->reason)) {
            memcpy(b->reason + o, s + i, n);
            o += n;
            i += n;
        } else {
            break;
        }
    }
}

enum breaker_change breaker_force(struct breaker *b, enum breaker_state state,
                                  enum evidence_source src, const char *reason,
                                  uint64_t until_ms, uint64_t now_ms)
{
    enum breaker_change ch = BREAKER_SAME;

    if ((unsigned)state > BREAKER_HALF_OPEN || (unsigned)src >= SRC_COUNT)
        return BREAKER_SAME;
    if (state != b->state) {
        ch = enter(b, state, src, now_ms);
    } else {
        b->source = src;
        if (state == BREAKER_DIRECT) {
            clear_failures(b);
            memset(b->kind_counts, 0, sizeof(b->kind_counts));
        }
    }
    if (state == BREAKER_DETOURED)
        b->until_ms = until_ms;
    if (reason && *reason)
        copy_reason(b, reason);
    else
        set_reason(b, "forced %s by %s", state_names[state], evidence_source_name(src));
    return ch;
}

void breaker_forget(struct breaker *b, uint64_t from_ms)
{
    unsigned i = 0;

    while (i < b->nfails && b->fails_ms[i] < from_ms)
        i++;
    if (i < b->nfails)
        drop_failures(b, i, b->nfails - i);
}

int breaker_is_detoured(const struct breaker *b)
{
    return b->state == BREAKER_DETOURED || b->state == BREAKER_HALF_OPEN;
}

const char *breaker_state_name(enum breaker_state s)
{
    return (unsigned)s <= BREAKER_HALF_OPEN ? state_names[s] : "unknown";
}

int breaker_state_parse(const char *name, enum breaker_state *s)
{
    for (unsigned i = 0; i <= BREAKER_HALF_OPEN; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *s = (enum breaker_state)i;
            return 0;
        }
    return -1;
}

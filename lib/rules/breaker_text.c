/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * breaker_text - the text form of a breaker, the value the state store keeps
 * per address: breaker_encode() and breaker_decode(), see breaker.h.
 *
 *   v1 state=S since=MS until=MS trips=N probe_ok=N src=SRC ok=MS fail=MS
 *   decay=MS counts=KIND:N,...|- fails=MS:KIND,...|- [verdict=V:MS] reason=TEXT
 *
 * Numbers are canonical decimals, names those of breaker_state_name(),
 * fail_kind_name() and evidence_source_name(); the reason runs to the end.
 * Both directions check the invariants listed at the top of breaker.c, so a
 * record that decodes is one the state machine could have made, and decoding
 * an encoded breaker gives it back field for field.
 *
 * No I/O, no allocation.  Any thread; the caller owns the buffers.
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "breaker.h"
#include "breaker_int.h"

/* The invariants of the header comment, for encode and decode alike. */
static int breaker_valid(const struct breaker *b)
{
    size_t rlen = strnlen(b->reason, sizeof(b->reason));

    if ((unsigned)b->state > BREAKER_HALF_OPEN || (unsigned)b->source >= SRC_COUNT
        || b->nfails > BREAKER_MAX_FAILS || b->trips > BREAKER_MAX_TRIPS
        || b->probe_ok > BREAKER_MAX_FAILS || (unsigned)b->verdict >= VERDICT_COUNT
        || (b->verdict == VERDICT_NONE) != (b->verdict_ms == 0))
        return 0;
    if (b->state != BREAKER_DETOURED && b->until_ms != 0)
        return 0;
    for (unsigned i = 0; i < b->nfails; i++)
        if (!breaker_kind_valid(b->fail_kinds[i]) || (i > 0 && b->fails_ms[i] < b->fails_ms[i - 1]))
            return 0;
    return rlen < sizeof(b->reason) && breaker_reason_valid(b->reason, rlen);
}

int breaker_encode(const struct breaker *b, char *buf, size_t size)
{
    struct text t = {buf, size, 0, 0};
    const char *sep = "";

    if (size == 0)
        return -1;
    buf[0] = 0;
    if (!breaker_valid(b))
        return -1;
    breaker_put(&t, "v1 state=%s since=%llu until=%llu trips=%u probe_ok=%u src=%s ok=%llu fail=%llu "
        "decay=%llu counts=", breaker_state_name(b->state), (unsigned long long)b->since_ms,
        (unsigned long long)b->until_ms, b->trips, b->probe_ok, evidence_source_name(b->source),
        (unsigned long long)b->last_success_ms, (unsigned long long)b->last_failure_ms,
        (unsigned long long)b->decay_from_ms);
    for (unsigned k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
        if (b->kind_counts[k]) {
            breaker_put(&t, "%s%s:%u", sep, fail_kind_name((enum fail_kind)k), b->kind_counts[k]);
            sep = ",";
        }
    breaker_put(&t, "%s fails=", *sep ? "" : "-");
    for (unsigned i = 0; i < b->nfails; i++)
        breaker_put(&t, "%s%llu:%s", i ? "," : "", (unsigned long long)b->fails_ms[i],
            fail_kind_name((enum fail_kind)b->fail_kinds[i]));
    breaker_put(&t, "%s", b->nfails ? "" : "-");
    if (b->verdict != VERDICT_NONE)
        breaker_put(&t, " verdict=%s:%llu", verdict_name(b->verdict), (unsigned long long)b->verdict_ms);
    breaker_put(&t, " reason=%s", b->reason);
    if (t.overflow) {
        buf[0] = 0;
        return -1;
    }
    return (int)t.len;
}

/* The decoder's cursor over [p, end). Each step returns 0, or -1. */
struct cursor {
    const char *p, *end;
};

static int lit(struct cursor *c, const char *s)
{
    size_t n = strlen(s);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* After key, a decimal number in canonical form (no sign, no leading
 * zero) of at most max. */
static int num(struct cursor *c, const char *key, uint64_t max, uint64_t *v)
{
    const char *start;
    uint64_t n = 0;

    if (lit(c, key) < 0)
        return -1;
    for (start = c->p; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        unsigned d = (unsigned)(*c->p - '0');
        if (n > (max - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    if (c->p == start || (*start == '0' && c->p - start > 1))
        return -1;
    *v = n;
    return 0;
}

/* After key, one of the names name_of(0 .. count-1); *v is its index. */
static int word(struct cursor *c, const char *key, const char *(*name_of)(unsigned),
                unsigned count, unsigned *v)
{
    const char *start;

    if (lit(c, key) < 0)
        return -1;
    for (start = c->p; c->p < c->end && ((*c->p >= 'a' && *c->p <= 'z') || *c->p == '-'); c->p++)
        ;
    for (unsigned i = 0; i < count; i++) {
        const char *n = name_of(i);
        if (n && strlen(n) == (size_t)(c->p - start) && memcmp(n, start, strlen(n)) == 0) {
            *v = i;
            return 0;
        }
    }
    return -1;
}

static const char *state_of(unsigned i)
{
    return breaker_state_name((enum breaker_state)i);
}

static const char *kind_of(unsigned i)
{
    return fail_kind_name((enum fail_kind)i);       /* NULL for FAIL_NONE */
}

static const char *verdict_of(unsigned i)
{
    return verdict_name((enum verdict)i);
}

static const char *source_of(unsigned i)
{
    return evidence_source_name((enum evidence_source)i);
}

static int decode_counts(struct cursor *c, struct breaker *b)
{
    unsigned kind;
    uint64_t n;

    if (lit(c, " counts=") < 0)
        return -1;
    if (lit(c, "-") == 0)
        return 0;
    do {
        if (word(c, "", kind_of, FAIL_KIND_COUNT, &kind) < 0 || b->kind_counts[kind] != 0
            || num(c, ":", UINT_MAX, &n) < 0 || n == 0)
            return -1;
        b->kind_counts[kind] = (unsigned)n;
    } while (lit(c, ",") == 0);
    return 0;
}

static int decode_fails(struct cursor *c, struct breaker *b)
{
    unsigned kind;

    if (lit(c, " fails=") < 0)
        return -1;
    if (lit(c, "-") == 0)
        return 0;
    do {
        if (b->nfails == BREAKER_MAX_FAILS || num(c, "", UINT64_MAX, &b->fails_ms[b->nfails]) < 0
            || word(c, ":", kind_of, FAIL_KIND_COUNT, &kind) < 0)
            return -1;
        b->fail_kinds[b->nfails++] = (unsigned char)kind;
    } while (lit(c, ",") == 0);
    return 0;
}

int breaker_decode(const char *text, size_t len, struct breaker *out)
{
    struct cursor c;
    struct breaker b;
    uint64_t trips, probe_ok;
    unsigned state, src;
    size_t rlen;

    if (text == NULL)
        return -1;
    c.p = text;
    c.end = text + len;
    memset(&b, 0, sizeof(b));
    if (lit(&c, "v1") < 0
        || word(&c, " state=", state_of, BREAKER_HALF_OPEN + 1, &state) < 0
        || num(&c, " since=", UINT64_MAX, &b.since_ms) < 0
        || num(&c, " until=", UINT64_MAX, &b.until_ms) < 0
        || num(&c, " trips=", BREAKER_MAX_TRIPS, &trips) < 0
        || num(&c, " probe_ok=", BREAKER_MAX_FAILS, &probe_ok) < 0
        || word(&c, " src=", source_of, SRC_COUNT, &src) < 0
        || num(&c, " ok=", UINT64_MAX, &b.last_success_ms) < 0
        || num(&c, " fail=", UINT64_MAX, &b.last_failure_ms) < 0
        || num(&c, " decay=", UINT64_MAX, &b.decay_from_ms) < 0
        || decode_counts(&c, &b) < 0 || decode_fails(&c, &b) < 0)
        return -1;
    if (c.end - c.p > 9 && memcmp(c.p, " verdict=", 9) == 0) {
        unsigned v;
        if (word(&c, " verdict=", verdict_of, VERDICT_COUNT, &v) < 0 || v == VERDICT_NONE
            || num(&c, ":", UINT64_MAX, &b.verdict_ms) < 0 || b.verdict_ms == 0)
            return -1;
        b.verdict = (enum verdict)v;
    }
    if (lit(&c, " reason=") < 0)
        return -1;
    b.state = (enum breaker_state)state;
    b.source = (enum evidence_source)src;
    b.trips = (unsigned)trips;
    b.probe_ok = (unsigned)probe_ok;
    rlen = (size_t)(c.end - c.p);
    if (rlen >= sizeof(b.reason))
        return -1;
    memcpy(b.reason, c.p, rlen);
    if (!breaker_reason_valid(b.reason, rlen) || !breaker_valid(&b))
        return -1;
    *out = b;
    return 0;
}

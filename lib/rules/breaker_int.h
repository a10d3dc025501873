/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * breaker_int - what breaker.c (the state machine) and breaker_text.c (the
 * text form, breaker_encode/breaker_decode) share, and nothing else should
 * use.  Pure functions, like the rest of the module: any thread.
 *
 *   struct text, breaker_put()  a bounded string builder: appends what fits
 *                               (always NUL-terminated) and sets overflow
 *                               when something did not
 *   breaker_kind_valid()        a failure kind a breaker may record
 *                               (FAIL_NONE excluded)
 *   breaker_reason_valid()      len bytes of printable ASCII or well-formed
 *                               UTF-8 only: what a reason may hold
 */
#ifndef MXD_BREAKER_INT_H
#define MXD_BREAKER_INT_H

#include <stddef.h>

struct text {
    char *buf;
    size_t size, len;
    int overflow;
};

__attribute__((format(printf, 2, 3)))
void breaker_put(struct text *t, const char *fmt, ...);
int breaker_kind_valid(unsigned k);
int breaker_reason_valid(const char *text, size_t len);

/* breaker.c's transitions, for breaker_verdict.c: a trip (the growing
 * cool-down) and a forced DIRECT with a reason. */
struct breaker;
struct breaker_params;
enum breaker_change breaker_trip_now(struct breaker *b, const struct breaker_params *p,
                                     const char *reason, uint64_t now_ms);

#endif

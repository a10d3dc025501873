/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * clock - the one source of time.  No module calls time() itself, so rules
 * can be tested with a clock the test controls.
 *
 * clock_now_ms()   wall-clock milliseconds since the epoch (what Redis keeps
 *                  and what log timestamps are compared with)
 * clock_mono_ms()  monotonic milliseconds, for timeouts and rate limits
 * clock_fake()     tests: freeze both clocks at ms; clock_fake(0) undoes it
 */
#ifndef MXD_CLOCK_H
#define MXD_CLOCK_H

#include <stdint.h>

uint64_t clock_now_ms(void);
uint64_t clock_mono_ms(void);
void clock_fake(uint64_t ms);
void clock_advance(uint64_t ms);

#endif

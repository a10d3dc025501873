/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <time.h>

#include "clock.h"

static uint64_t fake_ms;

static uint64_t read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t clock_now_ms(void)
{
    return fake_ms ? fake_ms : read_clock(CLOCK_REALTIME);
}

uint64_t clock_mono_ms(void)
{
    return fake_ms ? fake_ms : read_clock(CLOCK_MONOTONIC);
}

void clock_fake(uint64_t ms)
{
    fake_ms = ms;
}

void clock_advance(uint64_t ms)
{
    fake_ms += ms;
}

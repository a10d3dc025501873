/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_loop.h - for unit tests of modules on the event loop: run a base for
 * a while, then come back.  Header-only, like check_main.h.
 */
#ifndef MXD_CHECK_LOOP_H
#define MXD_CHECK_LOOP_H

#include <stdint.h>
#include <sys/time.h>

#include <event2/event.h>

static void check_loop_break(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

/* Dispatches base for ms milliseconds (or until it has nothing to do). */
static inline void check_run_loop(struct event_base *base, uint64_t ms)
{
    struct event *limit = evtimer_new(base, check_loop_break, base);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    evtimer_add(limit, &tv);
    event_base_dispatch(base);
    event_free(limit);
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msg - diagnostics for every mxdetour program.
 *
 * One log line, one fact.  Lines go to syslog with the ident
 * "mxdetour/<module>" (the module is the first argument), or to stderr when
 * the program runs in the foreground (-f) or is a command-line tool.
 *
 *   msg_fatal   configuration errors and impossible states; exits 1
 *   msg_warn    trouble the program survives
 *   msg_info    events an administrator wants to see
 *   msg_debug   only with msg_verbose > 0
 *
 * Thread-safe: the milter runs callbacks on libmilter's threads.
 * msg_limited() logs at most once per interval per limiter and counts what it
 * suppressed, so a fault seen per message is logged once a minute.
 */
#ifndef MXD_MSG_H
#define MXD_MSG_H

#include <stdarg.h>
#include <stdint.h>

enum msg_sink { MSG_SYSLOG, MSG_STDERR };

extern int msg_verbose;

/* Chooses the sink; prog is "mxdetourd" or "mxdetourctl" for stderr lines.
 * MSG_SYSLOG falls back to stderr, saying so there, when there is no
 * syslog socket (/dev/log): glibc's syslog() would drop every line. */
void msg_open(const char *prog, enum msg_sink sink, int facility);

/* The syslog ident left in force between our lines, for a library that
 * calls syslog() itself (libmilter); "mxdetourd" style prog name until set.
 * ident must live as long as the process. */
void msg_set_foreign_ident(const char *ident);

/* The sink chosen last (MSG_STDERR until msg_open() says otherwise). */
enum msg_sink msg_sink(void);

void msg_info(const char *module, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void msg_warn(const char *module, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void msg_debug(const char *module, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
_Noreturn void msg_fatal(const char *module, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Rate limiter for msg_limited(); zero-initialise it. */
struct msg_limiter {
    uint64_t last_ms;       /* when a line was last written */
    unsigned long dropped;  /* lines suppressed since then */
};

/* Warns at most once per interval_ms; says how many were suppressed. */
void msg_limited(struct msg_limiter *lim, uint64_t interval_ms,
                 const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Test hook: when set, every line is passed here instead of the sink. */
typedef void (*msg_capture_fn)(int priority, const char *module, const char *text);
void msg_set_capture(msg_capture_fn fn);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * msg - see msg.h.  Per-module syslog idents are set with openlog() under a
 * mutex: glibc's openlog() only replaces the tag (the socket stays open), so
 * this is cheap, and the mutex keeps a line and its tag together.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "clock.h"
#include "msg.h"

int msg_verbose;

static enum msg_sink sink = MSG_STDERR;
static const char *progname = "mxdetour";
static int log_facility = LOG_MAIL;
static msg_capture_fn capture;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char ident[64];
static const char *foreign_ident;   /* NULL: progname */

enum msg_sink msg_sink(void)
{
    return sink;
}

#ifndef MSG_SYSLOG_SOCKET
#define MSG_SYSLOG_SOCKET "/dev/log"    /* glibc's _PATH_LOG */
#endif

void msg_open(const char *prog, enum msg_sink s, int facility)
{
    struct stat st;

    progname = prog;
    sink = s;
    log_facility = facility;
    if (s == MSG_SYSLOG && (stat(MSG_SYSLOG_SOCKET, &st) < 0 || !S_ISSOCK(st.st_mode))) {
        sink = MSG_STDERR;
        fprintf(stderr, "%s: warning: no syslog socket at %s (is rsyslog or journald "
                "running?); logging to standard error\n", progname, MSG_SYSLOG_SOCKET);
        fflush(stderr);
    }
}

void msg_set_foreign_ident(const char *id)
{
    pthread_mutex_lock(&lock);
    foreign_ident = id;
    if (sink == MSG_SYSLOG)
        openlog(foreign_ident, LOG_PID | LOG_NDELAY, log_facility);
    pthread_mutex_unlock(&lock);
}

void msg_set_capture(msg_capture_fn fn)
{
    capture = fn;
}

static void emit(int pri, const char *module, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void emit(int pri, const char *module, const char *fmt, va_list ap)
{
    char text[2048];

    vsnprintf(text, sizeof(text), fmt, ap);
    /* Outside text (log lines, replies) can hold control characters. */
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    if (capture) {
        capture(pri, module, text);
        return;
    }
    const char *lvl = pri == LOG_ERR ? "fatal: " : pri == LOG_WARNING ? "warning: "
                      : pri == LOG_DEBUG ? "debug: " : "";
    pthread_mutex_lock(&lock);
    if (sink == MSG_SYSLOG) {
        snprintf(ident, sizeof(ident), "mxdetour/%s", module);
        openlog(ident, LOG_PID | LOG_NDELAY, log_facility);
        syslog(pri, "%s%s", lvl, text);
        /* A library's own syslog() between our lines must not borrow this
         * module's name. */
        openlog(foreign_ident ? foreign_ident : progname, LOG_PID | LOG_NDELAY, log_facility);
    } else {
        fprintf(stderr, "%s: %s%s\n", progname, lvl, text);
        fflush(stderr);
    }
    pthread_mutex_unlock(&lock);
}

#define EMIT(pri) do { va_list ap; va_start(ap, fmt); emit(pri, module, fmt, ap); va_end(ap); } while (0)

void msg_info(const char *module, const char *fmt, ...) { EMIT(LOG_INFO); }
void msg_warn(const char *module, const char *fmt, ...) { EMIT(LOG_WARNING); }

void msg_debug(const char *module, const char *fmt, ...)
{
    if (msg_verbose > 0)
        EMIT(LOG_DEBUG);
}

void msg_fatal(const char *module, const char *fmt, ...)
{
    EMIT(LOG_ERR);
    exit(1);
}

void msg_limited(struct msg_limiter *lim, uint64_t interval_ms,
                 const char *module, const char *fmt, ...)
{
    uint64_t now = clock_now_ms();
    unsigned long dropped;

    pthread_mutex_lock(&lock);
    if (lim->last_ms != 0 && now - lim->last_ms < interval_ms) {
        lim->dropped++;
        pthread_mutex_unlock(&lock);
        return;
    }
    dropped = lim->dropped;
    lim->dropped = 0;
    lim->last_ms = now;
    pthread_mutex_unlock(&lock);

    char text[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (dropped)
        msg_warn(module, "%s (%lu similar messages suppressed)", text, dropped);
    else
        msg_warn(module, "%s", text);
}

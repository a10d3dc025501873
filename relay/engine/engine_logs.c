/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * engine_logs - whether the logs still give evidence.  Detection from the
 * log fails silently otherwise: a log that does not exist (no rsyslog), one
 * that became unreadable (postfix logrotate made a new file mode 0600), or a
 * log that Postfix no longer writes (maillog_file changed, another
 * syslog_name).  Each tick takes the followers' states and the time since
 * the last Postfix line into the health file and the gauge
 * mxdetour_logs_not_read; silence counts only while Postfix runs (its
 * master.pid names a live process) and only after log_silence.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cfg.h"
#include "clock.h"
#include "daemon.h"
#include "engine_int.h"
#include "follower.h"
#include "health.h"
#include "logparse.h"
#include "msg.h"

#define MOD "engine"
#define QUEUE_DIRECTORY_DEFAULT "/var/spool/postfix"

static struct {
    char master_pid[PATH_MAX];      /* QUEUE/pid/master.pid */
    uint64_t postfix_lines;         /* the parser's count at the last tick */
    uint64_t last_line_ms;          /* wall: the last Postfix line, or the start */
    int silence_warned;
    char source[ENGINE_MAX_LOGS][256];  /* as at start: a reload keeps the followers */
} el;

/* queue_directory from CONFIG_DIR/main.cf when it is a plain path; Postfix's
 * default otherwise.  Read once at start, so a lookup costs no process. */
static void find_master_pid(const struct cfg *cfg)
{
    char main_cf[PATH_MAX], line[1024], queue[PATH_MAX] = QUEUE_DIRECTORY_DEFAULT;
    FILE *fp = NULL;

    if (cfg->postfix.config_directory
        && snprintf(main_cf, sizeof(main_cf), "%s/main.cf", cfg->postfix.config_directory)
               < (int)sizeof(main_cf))
        fp = fopen(main_cf, "re");
    while (fp && fgets(line, sizeof(line), fp)) {
        char value[PATH_MAX];
        if (sscanf(line, " queue_directory = %4095s", value) == 1 && value[0] == '/'
            && strchr(value, '$') == NULL)
            snprintf(queue, sizeof(queue), "%s", value);
    }
    if (fp)
        fclose(fp);
    if (snprintf(el.master_pid, sizeof(el.master_pid), "%s/pid/master.pid", queue)
        >= (int)sizeof(el.master_pid))
        el.master_pid[0] = '\0';
}

/* Whether Postfix's master runs: its pid file names a live process (EPERM:
 * it lives, as root's, while we are not). */
static int postfix_runs(void)
{
    FILE *fp = el.master_pid[0] ? fopen(el.master_pid, "re") : NULL;
    long pid = 0;

    if (fp == NULL)
        return 0;
    int n = fscanf(fp, "%ld", &pid);
    fclose(fp);
    return n == 1 && pid > 1 && pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

void engine_logs_start(const struct cfg *cfg)
{
    memset(&el, 0, sizeof(el));
    find_master_pid(cfg);
    el.last_line_ms = clock_now_ms();
    for (size_t i = 0; i < cfg->nlogs && i < ENGINE_MAX_LOGS; i++) {
        const struct cfg_log *lg = &cfg->logs[i];
        snprintf(el.source[i], sizeof(el.source[i]), "%s",
                 lg->path ? lg->path : lg->command ? lg->command : "stdin");
    }
}

/* Lines of the configured Postfix instances, whatever their program. */
static uint64_t postfix_lines(void)
{
    return logparse_stats(eng.parser)->instance;
}

static int silent_now(const struct cfg *cfg, uint64_t now)
{
    uint64_t lines = postfix_lines();

    if (lines != el.postfix_lines) {
        el.postfix_lines = lines;
        if (el.silence_warned)
            msg_info(MOD, "Postfix lines arrive again, after %llu s of silence",
                     (unsigned long long)((now - el.last_line_ms) / 1000));
        el.last_line_ms = now;
        el.silence_warned = 0;
        return 0;
    }
    if (cfg->log_silence_ms == 0 || eng.nlogs == 0 || now - el.last_line_ms < cfg->log_silence_ms
        || !postfix_runs())
        return 0;
    if (!el.silence_warned)
        msg_warn(MOD, "no Postfix line in %llu s while Postfix runs: is this the log Postfix "
                 "writes (maillog_file, syslog_name, postfix.syslog_names)?",
                 (unsigned long long)((now - el.last_line_ms) / 1000));
    el.silence_warned = 1;
    return 1;
}

void engine_logs_tick(const struct cfg *cfg, uint64_t now)
{
    struct health_log v[HEALTH_MAX_LOGS];
    struct follower_health fh[HEALTH_MAX_LOGS];
    size_t n = 0;
    int silent = silent_now(cfg, now);

    for (size_t i = 0; i < eng.nlogs && n < HEALTH_MAX_LOGS; i++, n++) {
        follower_health(eng.logs[i], &fh[n]);
        v[n].source = el.source[i];
        v[n].reason = fh[n].reason[0] ? fh[n].reason : NULL;
        v[n].since_ms = fh[n].since_ms;
        v[n].state = fh[n].state == FOLLOWER_MISSING ? HEALTH_LOG_MISSING
                   : fh[n].state == FOLLOWER_UNREADABLE ? HEALTH_LOG_UNREADABLE
                   : silent ? HEALTH_LOG_SILENT : HEALTH_LOG_OK;
        if (v[n].state == HEALTH_LOG_SILENT || v[n].state == HEALTH_LOG_OK)
            v[n].since_ms = el.last_line_ms;
    }
    health_note_logs(v, n);
}

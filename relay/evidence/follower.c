/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * follower - see follower.h for the sources, the position file and the
 * guarantees.
 *
 * Bytes flow read() -> split() -> on_line.  split() delivers a line that lies
 * whole in the read chunk without copying it (its "\n" becomes the NUL) and
 * assembles the others in f->line, which holds at most max_line bytes; a
 * longer line sets "discarding" until its newline.  f->offset is the stream
 * offset just after the last newline seen: what the position file records.
 *
 * One read callback takes at most READ_BUDGET bytes and then yields to the
 * loop (the timer or the level-triggered read event brings it back), so a
 * large backlog does not starve the daemon's other events.
 *
 * Diagnostics: msg_warn for read errors, unreadable files, bad position
 * files and dying commands; msg_debug for rotations and truncations.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "dirwatch.h"
#include "follower.h"
#include "follower_int.h"
#include "msg.h"
#include "spawn.h"

#define CHUNK 65536
#define READ_BUDGET (4u << 20)
#define HEAD_LEN 256            /* first bytes that identify a file */
#define MAX_LINE_LIMIT (16u << 20)
#define STATE_MAGIC "mxdetour-follower 1"


struct saved_pos {
    uintmax_t ino;
    intmax_t off;
    unsigned head_len;
    uint64_t head;
};

/* Lines. */

static void deliver(struct follower *f, char *s, size_t n)
{
    s[n] = 0;
    f->stats.lines++;
    f->cfg.on_line(s, n, f->cfg.arg);
}

/* Splits data (with one spare byte at data[n]); base: offset of data[0]. */
static void split(struct follower *f, char *data, size_t n, off_t base)
{
    char *p = data, *end = data + n;

    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t seg = (size_t)((nl ? nl : end) - p);

        if (!f->discarding && f->line_len + seg > f->cfg.max_line) {
            f->discarding = 1;
            f->line_len = 0;
            f->stats.overlong++;
        }
        if (!f->discarding) {
            if (nl && f->line_len == 0) {
                deliver(f, p, seg);
            } else {
                memcpy(f->line + f->line_len, p, seg);
                f->line_len += seg;
                if (nl) {
                    deliver(f, f->line, f->line_len);
                    f->line_len = 0;
                }
            }
        }
        if (nl == NULL)
            break;
        f->discarding = 0;
        f->offset = base + (off_t)(nl + 1 - data);
        f->dirty = 1;
        p = nl + 1;
    }
}

/* End of a stream: its last line has no newline but is complete. */
static void flush_partial(struct follower *f)
{
    if (!f->discarding && f->line_len > 0)
        deliver(f, f->line, f->line_len);
    f->line_len = 0;
    f->discarding = 0;
}

static const char *source_name(const struct follower *f)
{
    return f->path ? f->path : f->command ? f->command : "input";
}

/* Reads until EOF (*eof = 1), EAGAIN or the budget (returns 1: more may wait);
 * -1 on a read error. */
static int drain(struct follower *f, int *eof)
{
    size_t total = 0;

    *eof = 0;
    for (;;) {
        ssize_t n = read(f->fd, f->chunk, CHUNK);
        if (n > 0) {
            off_t base = f->read_pos;
            f->read_pos += n;
            f->stats.bytes += (uint64_t)n;
            split(f, f->chunk, (size_t)n, base);
            if ((total += (size_t)n) >= READ_BUDGET)
                return 1;
        } else if (n == 0) {
            *eof = 1;
            return 0;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        } else if (errno != EINTR) {
            f->stats.read_errors++;
            msg_warn(MOD, "read %s: %s", source_name(f), strerror(errno));
            return -1;
        }
    }
}

/* The position file. */

static int file_head(int fd, unsigned max, unsigned *len, uint64_t *hash)
{
    char buf[HEAD_LEN];
    ssize_t n = pread(fd, buf, max < sizeof(buf) ? max : sizeof(buf), 0);
    uint64_t h = 1469598103934665603ULL;

    if (n < 0)
        return -1;
    for (ssize_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
    *len = (unsigned)n;
    *hash = h;
    return 0;
}

/* 1: read; 0: no file; -1: unreadable or malformed. */
static int state_read(const char *path, struct saved_pos *sp)
{
    char buf[256];
    FILE *fp = fopen(path, "re");
    int ok;

    if (fp == NULL)
        return errno == ENOENT ? 0 : -1;
    ok = fgets(buf, sizeof(buf), fp) != NULL
         && sscanf(buf, STATE_MAGIC " ino=%ju off=%jd head=%u:%" SCNx64, &sp->ino, &sp->off,
                   &sp->head_len, &sp->head) == 4
         && sp->off >= 0 && sp->head_len <= HEAD_LEN;
    fclose(fp);
    return ok ? 1 : -1;
}

int follower_save(struct follower *f)
{
    char buf[160];
    unsigned head_len;
    uint64_t head;
    int fd, len, rc = 0;

    if (f->cfg.source != FOLLOW_FILE || f->state_path == NULL || f->fd < 0)
        return 0;
    if (file_head(f->fd, HEAD_LEN, &head_len, &head) < 0)
        goto fail;
    len = snprintf(buf, sizeof(buf), STATE_MAGIC " ino=%ju off=%jd head=%u:%016" PRIx64 "\n",
                   (uintmax_t)f->ino, (intmax_t)f->offset, head_len, head);
    fd = open(f->state_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    if (write(fd, buf, (size_t)len) != len || fsync(fd) < 0)
        rc = -1;
    if (close(fd) < 0 || rc < 0 || rename(f->state_tmp, f->state_path) < 0) {
        (void)unlink(f->state_tmp);
        goto fail;
    }
    f->dirty = 0;
    f->saved_ms = clock_mono_ms();
    return 0;
fail:
    msg_warn(MOD, "save position to %s: %s", f->state_path, strerror(errno));
    return -1;
}

/* Files. */

/* 1: opened at 0; 0: does not exist; -1: error (in err). */
static int file_open(struct follower *f, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "open %s: %s", f->path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "fstat %s: %s", f->path, strerror(errno));
        close(fd);
        return -1;
    }
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->offset = f->read_pos = 0;
    f->line_len = 0;
    f->discarding = 0;
    return 1;
}

static void file_seek(struct follower *f, off_t pos, int skip_partial)
{
    char last;

    if (lseek(f->fd, pos, SEEK_SET) < 0)
        pos = 0;
    f->offset = f->read_pos = pos;
    if (skip_partial && pos > 0 && pread(f->fd, &last, 1, pos - 1) == 1 && last != '\n')
        f->discarding = 1;     /* mid-line: wait for the next line start */
}

/* Chooses where to start reading: see follower.h. */
static int file_start(struct follower *f, char *err, size_t errlen)
{
    struct saved_pos sp;
    struct stat st;
    unsigned head_len;
    uint64_t head;
    int have = 0, rc;

    if (f->state_path && (have = state_read(f->state_path, &sp)) < 0) {
        msg_warn(MOD, "ignoring unreadable position file %s", f->state_path);
        have = 0;
    }
    if ((rc = file_open(f, err, errlen)) <= 0) {
        /* Missing or unreadable (a rotation left it root's): read from 0
         * when it can be, reported meanwhile; never a reason not to start. */
        follower_set_state(f, rc == 0 ? FOLLOWER_MISSING : FOLLOWER_UNREADABLE, rc < 0 ? err : NULL);
        err[0] = '\0';
        return 0;
    }
    if (fstat(f->fd, &st) < 0) {
        snprintf(err, errlen, "fstat %s: %s", f->path, strerror(errno));
        return -1;
    }
    if (!have) {
        file_seek(f, st.st_size, 1);
    } else if (sp.ino == (uintmax_t)f->ino && st.st_size >= sp.off
               && file_head(f->fd, sp.head_len, &head_len, &head) == 0
               && head_len == sp.head_len && head == sp.head) {
        file_seek(f, (off_t)sp.off, 0);
    } else {
        msg_info(MOD, "%s is not the file of the saved position: reading it from the start",
                 f->path);
        f->dirty = 1;
    }
    return 0;
}

/* Reads the file; at its end, looks for rotation and truncation. */
void follower_poll(struct follower *f)
{
    char err[256];
    struct stat st;
    int eof, more;

    if (f->cfg.source != FOLLOW_FILE)
        return;
    if (f->fd < 0) {
        int rc = file_open(f, err, sizeof(err));
        if (rc <= 0) {
            follower_set_state(f, rc < 0 ? FOLLOWER_UNREADABLE : FOLLOWER_MISSING, rc < 0 ? err : NULL);
            follower_warn_if_lasting(f);
            return;
        }
        follower_set_state(f, FOLLOWER_READING, NULL);
        f->dirty = 1;
    }
    more = drain(f, &eof);
    if (more == 0 && stat(f->path, &st) == 0 && (st.st_dev != f->dev || st.st_ino != f->ino)) {
        while (drain(f, &eof) > 0)  /* what was written to the old file last */
            ;
        flush_partial(f);
        close(f->fd);
        f->fd = -1;
        f->stats.rotations++;
        msg_debug(MOD, "%s was rotated: following the new file", f->path);
        if (file_open(f, err, sizeof(err)) > 0) {
            f->dirty = 1;
            more = drain(f, &eof);
        }
    } else if (more == 0 && fstat(f->fd, &st) == 0 && st.st_size < f->read_pos) {
        f->stats.truncations++;
        msg_debug(MOD, "%s was truncated: reading it from the start", f->path);
        file_seek(f, 0, 0);
        f->line_len = 0;
        f->discarding = 0;
        f->dirty = 1;
        more = drain(f, &eof);
    }
    if (more > 0)
        event_active(f->timer, EV_TIMEOUT, 1);
    if (f->dirty && f->state_path && clock_mono_ms() - f->saved_ms >= f->cfg.save_ms)
        (void)follower_save(f);
}

/* Pipes and commands. */

static void schedule_restart(struct follower *f);

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct follower *f = arg;
    int eof, rc;

    (void)fd;
    (void)what;
    rc = drain(f, &eof);
    if (rc > 0 || (rc == 0 && !eof))
        return;                 /* more to read, or nothing more yet */
    flush_partial(f);           /* end of the stream, or a read error */
    event_free(f->rd);
    f->rd = NULL;
    close(f->fd);
    f->fd = -1;
    if (f->cfg.source == FOLLOW_COMMAND)
        schedule_restart(f);
    else if (f->cfg.on_end)
        f->cfg.on_end(f->cfg.arg);      /* last: it may free f */
}

static int watch_fd(struct follower *f, int fd, char *err, size_t errlen)
{
    int flags = fcntl(fd, F_GETFL);
    struct stat st;

    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {  /* epoll refuses files */
        snprintf(err, errlen, "descriptor %d is a regular file: follow it by its path", fd);
        return -1;
    }
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0
        || (f->rd = event_new(f->base, fd, EV_READ | EV_PERSIST, on_readable, f)) == NULL
        || event_add(f->rd, NULL) < 0) {
        snprintf(err, errlen, "cannot watch descriptor %d: %s", fd, strerror(errno));
        return -1;
    }
    f->fd = fd;
    return 0;
}

static int spawn(struct follower *f, char *err, size_t errlen)
{
    const char *const argv[] = {"/bin/sh", "-c", f->command, NULL};
    int fd;
    pid_t pid;

    /* stderr stays the daemon's: a command's complaints reach its log. */
    if (spawn_start(argv, SPAWN_KEEP_STDERR, NULL, 0, &pid, &fd, NULL, err, errlen) < 0)
        return -1;
    f->child = pid;
    f->child_ms = clock_mono_ms();
    if (watch_fd(f, fd, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    return 0;
}

/* Ends the child we started (its process group) and reaps it. */
static void stop_child(struct follower *f)
{
    if (f->child <= 0)
        return;
    (void)spawn_stop(f->child, 1000);
    f->child = 0;
}

static void schedule_restart(struct follower *f)
{
    uint64_t ran = clock_mono_ms() - f->child_ms, delay;
    struct timeval tv;
    int status = 0;

    if (f->child > 0 && waitpid(f->child, &status, WNOHANG) == f->child)
        f->child = 0;
    delay = ran >= f->cfg.restart_max_ms ? f->cfg.restart_min_ms : f->backoff_ms;
    f->backoff_ms = delay * 2 < f->cfg.restart_max_ms ? delay * 2 : f->cfg.restart_max_ms;
    msg_warn(MOD, "command \"%s\" ended (%s %d) after %" PRIu64 " ms; restarting in %" PRIu64 " ms",
             f->command, f->child ? "output closed, pid" : WIFEXITED(status) ? "status" : "signal",
             f->child ? (int)f->child : WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
             ran, delay);
    tv.tv_sec = (time_t)(delay / 1000);
    tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
    evtimer_add(f->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct follower *f = arg;
    char err[256];

    (void)fd;
    (void)what;
    if (f->cfg.source == FOLLOW_FILE) {
        follower_poll(f);
        return;
    }
    stop_child(f);              /* normally long gone: reaps it */
    f->stats.restarts++;
    if (spawn(f, err, sizeof(err)) < 0) {
        msg_warn(MOD, "%s", err);
        f->child_ms = clock_mono_ms();
        schedule_restart(f);
    }
}

static void on_watch(void *arg)
{
    follower_poll(arg);
}

/* Life cycle. */

static char *dup_or_null(const char *s, int *failed)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *failed = 1;
    return d;
}

struct follower *follower_create(struct event_base *base, const struct follower_config *cfg,
                                 char *err, size_t errlen)
{
    struct follower *f;
    int failed = 0;

    if (base == NULL || cfg->on_line == NULL
        || (cfg->source == FOLLOW_FILE && cfg->path == NULL)
        || (cfg->source == FOLLOW_FD && cfg->fd < 0)
        || (cfg->source == FOLLOW_COMMAND && cfg->command == NULL)
        || cfg->max_line > MAX_LINE_LIMIT) {
        snprintf(err, errlen, "follower: incomplete or invalid configuration");
        return NULL;
    }
    if ((f = calloc(1, sizeof(*f))) == NULL)
        goto nomem;
    f->base = base;
    f->cfg = *cfg;
    f->fd = -1;
    if (!f->cfg.poll_ms)
        f->cfg.poll_ms = 250;
    if (!f->cfg.save_ms)
        f->cfg.save_ms = 1000;
    if (!f->cfg.max_line)
        f->cfg.max_line = 8192;
    if (!f->cfg.restart_min_ms)
        f->cfg.restart_min_ms = 1000;
    if (f->cfg.restart_max_ms < f->cfg.restart_min_ms)
        f->cfg.restart_max_ms = f->cfg.restart_min_ms > 60000 ? f->cfg.restart_min_ms : 60000;
    f->backoff_ms = f->cfg.restart_min_ms;
    if (cfg->source == FOLLOW_FILE) {
        f->path = dup_or_null(cfg->path, &failed);
        f->state_path = dup_or_null(cfg->state_path, &failed);
        if (f->state_path && asprintf(&f->state_tmp, "%s.tmp", f->state_path) < 0)
            f->state_tmp = NULL, failed = 1;
    } else if (cfg->source == FOLLOW_COMMAND) {
        f->command = dup_or_null(cfg->command, &failed);
    }
    f->line = malloc(f->cfg.max_line + 1);
    f->chunk = malloc(CHUNK + 1);
    if (failed || !f->line || !f->chunk)
        goto nomem;

    switch (cfg->source) {
    case FOLLOW_FILE: {
        struct timeval tv = {(time_t)(f->cfg.poll_ms / 1000),
                             (suseconds_t)(f->cfg.poll_ms % 1000) * 1000};
        if (file_start(f, err, errlen) < 0)
            goto fail;
        if ((f->timer = event_new(base, -1, EV_PERSIST, on_timer, f)) == NULL
            || event_add(f->timer, &tv) < 0)
            goto nomem;
        if ((f->watch = dirwatch_new(base, f->path, on_watch, f)) == NULL)
            msg_debug(MOD, "%s: no inotify (%s): read every %u ms", f->path, strerror(errno),
                      f->cfg.poll_ms);
        f->saved_ms = clock_mono_ms();
        break;
    }
    case FOLLOW_FD:
        if (watch_fd(f, cfg->fd, err, errlen) < 0)
            goto fail;
        break;
    case FOLLOW_COMMAND:
        if ((f->timer = evtimer_new(base, on_timer, f)) == NULL)
            goto nomem;
        if (spawn(f, err, errlen) < 0)
            goto fail;
        break;
    }
    return f;
nomem:
    snprintf(err, errlen, "follower: out of memory");
fail:
    follower_free(f);
    return NULL;
}

void follower_free(struct follower *f)
{
    if (f == NULL)
        return;
    if (f->dirty)
        (void)follower_save(f);
    if (f->timer)
        event_free(f->timer);
    dirwatch_free(f->watch);
    if (f->rd)
        event_free(f->rd);
    if (f->fd >= 0)
        close(f->fd);
    stop_child(f);
    free(f->path);
    free(f->state_path);
    free(f->state_tmp);
    free(f->command);
    free(f->line);
    free(f->chunk);
    free(f);
}

const struct follower_stats *follower_stats(const struct follower *f)
{
    return &f->stats;
}

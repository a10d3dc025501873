/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/evidence/follower: rotation by rename and by truncation,
 * partial and overlong lines, resuming from the position file without
 * duplicates, a file that appears later, a pipe, and a command that is
 * restarted.  Each test works in its own mkdtemp() directory.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "clock.h"
#include "follower.h"

#define MAXLINES 64

static char lines[MAXLINES][128];
static int nlines, ended;
static char dir[64], logpath[128], statepath[128];

static void on_line(const char *line, size_t len, void *arg)
{
    (void)arg;
    ck_assert_int_eq(line[len], 0);
    if (nlines < MAXLINES)
        snprintf(lines[nlines], sizeof(lines[0]), "%.*s", (int)len, line);
    nlines++;
}

static void on_end(void *arg)
{
    (void)arg;
    ended++;
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mxd-follower-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(logpath, sizeof(logpath), "%s/maillog", dir);
    snprintf(statepath, sizeof(statepath), "%s/maillog.pos", dir);
    nlines = ended = 0;
}

static void teardown(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[sizeof(dir) + 260];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void append(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static struct follower *follow_file(struct event_base *base, const char *state, size_t max_line)
{
    struct follower_config cfg = {0};
    char err[256] = "";
    struct follower *f;

    cfg.source = FOLLOW_FILE;
    cfg.path = logpath;
    cfg.state_path = state;
    cfg.poll_ms = 10;
    cfg.max_line = max_line;
    cfg.on_line = on_line;
    f = follower_create(base, &cfg, err, sizeof(err));
    ck_assert_msg(f != NULL, "follower_create: %s", err);
    return f;
}

static void run_for(struct event_base *base, unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

START_TEST(starts_at_end_and_follows_rename_rotation)
{
    struct event_base *base = event_base_new();
    char old[160];
    struct follower *f;

    append(logpath, "history 1\nhistory 2\n");
    f = follow_file(base, NULL, 0);
    follower_poll(f);
    ck_assert_int_eq(nlines, 0);        /* no state: history is not replayed */
    append(logpath, "line 1\nline 2\n");
    follower_poll(f);
    ck_assert_int_eq(nlines, 2);
    ck_assert_str_eq(lines[1], "line 2");

    /* logrotate: rename, the writer finishes its last lines in the old file,
     * and the new file gets lines before we look. */
    snprintf(old, sizeof(old), "%s.1", logpath);
    ck_assert_int_eq(rename(logpath, old), 0);
    append(old, "line 3\n");
    append(logpath, "new 1\nnew 2\n");
    append(old, "line 4");              /* a last line without its newline */
    run_for(base, 50);                  /* the timer polls */
    ck_assert_int_eq(nlines, 6);
    ck_assert_str_eq(lines[2], "line 3");
    ck_assert_str_eq(lines[3], "line 4");
    ck_assert_str_eq(lines[4], "new 1");
    ck_assert_str_eq(lines[5], "new 2");
    ck_assert_uint_eq(follower_stats(f)->rotations, 1);

    /* Renamed away, nothing at the path yet, then a new file appears. */
    ck_assert_int_eq(rename(logpath, old), 0);
    follower_poll(f);
    append(logpath, "after gap\n");
    follower_poll(f);
    ck_assert_int_eq(nlines, 7);
    ck_assert_str_eq(lines[6], "after gap");
    follower_free(f);
    event_base_free(base);
}
END_TEST

/* With the poll timer a minute away, a new line (and a rotated file) is read
 * at once: inotify on the directory (dirwatch). */
START_TEST(changes_are_read_at_once_without_the_timer)
{
    struct event_base *base = event_base_new();
    struct follower_config cfg = {0};
    char err[256] = "", old[160];
    struct follower *f;

    append(logpath, "history\n");
    cfg.source = FOLLOW_FILE;
    cfg.path = logpath;
    cfg.poll_ms = 60000;
    cfg.on_line = on_line;
    f = follower_create(base, &cfg, err, sizeof(err));
    ck_assert_msg(f != NULL, "follower_create: %s", err);
    append(logpath, "new line\n");
    run_for(base, 100);
    ck_assert_int_eq(nlines, 1);
    ck_assert_str_eq(lines[0], "new line");
    snprintf(old, sizeof(old), "%s.1", logpath);
    ck_assert_int_eq(rename(logpath, old), 0);
    append(logpath, "after rotation\n");
    run_for(base, 100);
    ck_assert_int_eq(nlines, 2);
    ck_assert_str_eq(lines[1], "after rotation");
    follower_free(f);
    event_base_free(base);
}
END_TEST

/* A log that is missing, then unreadable, is reported only after the grace
 * time, and reading again clears it. */
START_TEST(missing_and_unreadable_logs_are_reported_after_grace)
{
    struct event_base *base = event_base_new();
    struct follower_health h;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    char old[160];
    struct follower *f;
    int sock;

    clock_fake(1700000000000ULL);
    f = follow_file(base, NULL, 0);     /* no file yet */
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_READING);     /* within the grace time */
    clock_advance(FOLLOWER_GRACE_MS);
    follower_poll(f);
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_MISSING);
    ck_assert_uint_eq(h.since_ms, 1700000000000ULL);

    append(logpath, "first\n");
    follower_poll(f);
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_READING);
    ck_assert_int_eq(nlines, 1);

    /* Rotated, and what appears at the path cannot be opened (a socket:
     * ENXIO, which holds for root too). */
    snprintf(old, sizeof(old), "%s.1", logpath);
    ck_assert_int_eq(rename(logpath, old), 0);
    sock = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_uint_lt(strlen(logpath), sizeof(sun.sun_path));
    memcpy(sun.sun_path, logpath, strlen(logpath) + 1);
    ck_assert_int_eq(bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
    follower_poll(f);
    follower_poll(f);
    clock_advance(FOLLOWER_GRACE_MS - 1);
    follower_poll(f);
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_READING);     /* not yet */
    clock_advance(1);
    follower_poll(f);
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_UNREADABLE);
    ck_assert_msg(strstr(h.reason, logpath) != NULL, "reason: %s", h.reason);

    close(sock);
    unlink(logpath);
    append(logpath, "second\n");
    follower_poll(f);
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_READING);
    ck_assert_int_eq(nlines, 2);
    ck_assert_str_eq(lines[1], "second");
    follower_free(f);

    /* Unreadable from the start is no reason not to start either. */
    unlink(logpath);
    sock = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0);
    f = follow_file(base, NULL, 0);
    clock_advance(FOLLOWER_GRACE_MS);
    follower_poll(f);
    follower_health(f, &h);
    ck_assert_int_eq(h.state, FOLLOWER_UNREADABLE);
    close(sock);
    unlink(logpath);
    follower_free(f);
    event_base_free(base);
    clock_fake(0);
}
END_TEST

START_TEST(truncation_restarts_at_zero)
{
    struct event_base *base = event_base_new();
    struct follower *f;

    append(logpath, "");
    f = follow_file(base, NULL, 0);
    append(logpath, "a long first line before the truncation\nanother one\n");
    follower_poll(f);
    ck_assert_int_eq(nlines, 2);
    ck_assert_int_eq(truncate(logpath, 0), 0);
    append(logpath, "short\n");
    follower_poll(f);
    ck_assert_int_eq(nlines, 3);
    ck_assert_str_eq(lines[2], "short");
    ck_assert_uint_eq(follower_stats(f)->truncations, 1);
    follower_free(f);
    event_base_free(base);
}
END_TEST

START_TEST(partial_and_overlong_lines)
{
    struct event_base *base = event_base_new();
    struct follower *f;

    append(logpath, "");
    f = follow_file(base, NULL, 16);
    append(logpath, "Nov 23 conn");
    follower_poll(f);
    ck_assert_int_eq(nlines, 0);
    append(logpath, "ect\nnext\n");
    follower_poll(f);
    ck_assert_int_eq(nlines, 2);
    ck_assert_str_eq(lines[0], "Nov 23 connect");
    ck_assert_str_eq(lines[1], "next");

    /* 40 bytes in two writes: dropped whole; the following line survives. */
    append(logpath, "0123456789012345678");
    follower_poll(f);
    append(logpath, "9012345678901234567890\nafter\n1234567890123456\n");
    follower_poll(f);
    ck_assert_int_eq(nlines, 4);
    ck_assert_str_eq(lines[2], "after");
    ck_assert_str_eq(lines[3], "1234567890123456");    /* exactly max_line */
    ck_assert_uint_eq(follower_stats(f)->overlong, 1);
    follower_free(f);
    event_base_free(base);
}
END_TEST

START_TEST(restart_resumes_without_duplicates)
{
    struct event_base *base = event_base_new();
    struct follower *f;
    char moved[160];

    append(logpath, "old history\n");
    f = follow_file(base, statepath, 0);
    append(logpath, "one\ntwo\nthr");
    follower_poll(f);
    ck_assert_int_eq(nlines, 2);
    follower_free(f);                   /* saves: after "two" */
    ck_assert_int_eq(access(statepath, R_OK), 0);

    append(logpath, "ee\nfour\n");
    f = follow_file(base, statepath, 0);
    follower_poll(f);
    ck_assert_int_eq(nlines, 4);
    ck_assert_str_eq(lines[2], "three");
    ck_assert_str_eq(lines[3], "four");
    ck_assert_int_eq(follower_save(f), 0);
    follower_free(f);

    /* Rotated while stopped: the new file is read from its start. */
    snprintf(moved, sizeof(moved), "%s.1", logpath);
    ck_assert_int_eq(rename(logpath, moved), 0);
    append(logpath, "fresh 1\nfresh 2\n");
    f = follow_file(base, statepath, 0);
    follower_poll(f);
    ck_assert_int_eq(nlines, 6);
    ck_assert_str_eq(lines[4], "fresh 1");
    follower_free(f);

    /* Truncated and rewritten under the same inode: from the start too. */
    ck_assert_int_eq(truncate(logpath, 0), 0);
    append(logpath, "FRESH\n");
    f = follow_file(base, statepath, 0);
    follower_poll(f);
    ck_assert_int_eq(nlines, 7);
    ck_assert_str_eq(lines[6], "FRESH");
    follower_free(f);

    /* A damaged position file is ignored: start at the end. */
    ck_assert_int_eq(unlink(statepath), 0);
    append(statepath, "mxdetour-follower 1 ino=garbage\n");
    f = follow_file(base, statepath, 0);
    follower_poll(f);
    ck_assert_int_eq(nlines, 7);
    follower_free(f);
    event_base_free(base);
}
END_TEST

START_TEST(pipe_input_and_its_end)
{
    struct event_base *base = event_base_new();
    struct follower_config cfg = {0};
    char err[256];
    struct follower *f;
    int p[2];

    ck_assert_int_eq(pipe(p), 0);
    cfg.source = FOLLOW_FD;
    cfg.fd = p[0];
    cfg.on_line = on_line;
    cfg.on_end = on_end;
    f = follower_create(base, &cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(write(p[1], "a\nb", 3), 3);
    run_for(base, 20);
    ck_assert_int_eq(nlines, 1);
    ck_assert_int_eq(write(p[1], "c\nlast", 6), 6);
    close(p[1]);
    run_for(base, 20);
    ck_assert_int_eq(nlines, 3);
    ck_assert_str_eq(lines[1], "bc");
    ck_assert_str_eq(lines[2], "last");
    ck_assert_int_eq(ended, 1);
    follower_free(f);
    event_base_free(base);
}
END_TEST

START_TEST(command_is_read_and_restarted)
{
    struct event_base *base = event_base_new();
    struct follower_config cfg = {0};
    char err[256];
    struct follower *f;

    cfg.source = FOLLOW_COMMAND;
    cfg.command = "printf 'x 1\\nx 2\\n'";
    cfg.restart_min_ms = 30;
    cfg.restart_max_ms = 100;
    cfg.on_line = on_line;
    f = follower_create(base, &cfg, err, sizeof(err));
    ck_assert_msg(f != NULL, "%s", err);
    run_for(base, 400);
    ck_assert_int_ge(nlines, 4);
    ck_assert_str_eq(lines[0], "x 1");
    ck_assert_str_eq(lines[1], "x 2");
    ck_assert_str_eq(lines[2], "x 1");
    ck_assert_uint_ge(follower_stats(f)->restarts, 1);
    follower_free(f);

    /* A command that keeps running is stopped by follower_free. */
    nlines = 0;
    cfg.command = "echo started; exec sleep 30";
    f = follower_create(base, &cfg, err, sizeof(err));
    ck_assert_ptr_nonnull(f);
    run_for(base, 100);
    ck_assert_int_eq(nlines, 1);
    ck_assert_uint_eq(follower_stats(f)->restarts, 0);
    follower_free(f);
    event_base_free(base);
}
END_TEST

START_TEST(bad_configurations)
{
    struct event_base *base = event_base_new();
    struct follower_config cfg = {0};
    char err[256] = "";

    cfg.source = FOLLOW_FILE;
    cfg.on_line = on_line;
    ck_assert_ptr_null(follower_create(base, &cfg, err, sizeof(err)));   /* no path */
    ck_assert_str_ne(err, "");
    cfg.source = FOLLOW_COMMAND;
    ck_assert_ptr_null(follower_create(base, &cfg, err, sizeof(err)));   /* no command */
    cfg.source = FOLLOW_FD;
    cfg.fd = -1;
    ck_assert_ptr_null(follower_create(base, &cfg, err, sizeof(err)));
    event_base_free(base);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("follower");
    TCase *tc = tcase_create("follower");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, starts_at_end_and_follows_rename_rotation);
    tcase_add_test(tc, truncation_restarts_at_zero);
    tcase_add_test(tc, missing_and_unreadable_logs_are_reported_after_grace);
    tcase_add_test(tc, changes_are_read_at_once_without_the_timer);
    tcase_add_test(tc, partial_and_overlong_lines);
    tcase_add_test(tc, restart_resumes_without_duplicates);
    tcase_add_test(tc, pipe_input_and_its_end);
    tcase_add_test(tc, command_is_read_and_restarted);
    tcase_add_test(tc, bad_configurations);
    suite_add_tcase(s, tc);
    return s;
}

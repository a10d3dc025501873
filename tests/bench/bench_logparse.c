/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_logparse - how fast lib/evidence/logparse reads a maillog.
 *
 * usage: bench_logparse FILE [SYSLOG_NAMES]
 *
 * Two passes over FILE, each reading it with read() in 1 MiB chunks and
 * splitting lines with memchr (what relay/evidence/follower does): the baseline
 * only splits, the other also gives every line to logparse_line().  Each
 * pass runs three times and the fastest counts, so the page cache and the
 * CPU clock are warm for both.  Prints lines/s of both, their ratio and the
 * events found.  Generate a file with tests/bench/gen_maillog.py.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logparse.h"

#define CHUNK (1u << 20)
#define RUNS 3

static uint64_t events[LOGPARSE_TYPE_COUNT];
static volatile size_t sink;

static void count(const struct logparse_event *ev, void *arg)
{
    (void)arg;
    events[ev->type]++;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass: returns the number of lines; parses them when lp is set. */
static size_t pass(const char *path, struct logparse *lp, char *buf)
{
    size_t have = 0, lines = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        perror(path);
        exit(1);
    }
    while ((n = read(fd, buf + have, CHUNK - have)) > 0) {
        char *p = buf, *end = buf + have + (size_t)n, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (lp)
                logparse_line(lp, p, (size_t)(nl - p));
            else
                sink += (size_t)(nl - p);
            lines++;
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (have == CHUNK)      /* a line longer than the buffer: drop it */
            have = 0;
        memmove(buf, p, have);
    }
    close(fd);
    return lines;
}

int main(int argc, char **argv)
{
    char *buf = malloc(CHUNK);
    double best_split = 1e9, best_parse = 1e9, t;
    size_t lines = 0;
    struct stat st;

    if (argc < 2 || argc > 3 || buf == NULL || stat(argv[1], &st) < 0) {
        fprintf(stderr, "usage: bench_logparse FILE [SYSLOG_NAMES]\n");
        return 2;
    }
    for (int run = 0; run < RUNS; run++) {
        t = now_s();
        lines = pass(argv[1], NULL, buf);
        if ((t = now_s() - t) < best_split)
            best_split = t;
    }
    for (int run = 0; run < RUNS; run++) {
        struct logparse *lp = logparse_create(argc > 2 ? argv[2] : NULL, count, NULL);
        if (lp == NULL) {
            fprintf(stderr, "bench_logparse: bad syslog_names\n");
            return 2;
        }
        logparse_set_now(lp, (uint64_t)st.st_mtime * 1000);    /* a replay */
        memset(events, 0, sizeof(events));
        t = now_s();
        pass(argv[1], lp, buf);
        if ((t = now_s() - t) < best_parse)
            best_parse = t;
        if (run == RUNS - 1)
            printf("rejected %llu (too long %llu), foreign %llu\n",
                   (unsigned long long)(logparse_stats(lp)->malformed + logparse_stats(lp)->too_long),
                   (unsigned long long)logparse_stats(lp)->too_long,
                   (unsigned long long)logparse_stats(lp)->foreign);
        logparse_free(lp);
    }
    printf("lines %zu, %.1f MB\n", lines, (double)st.st_size / 1e6);
    printf("events: connect_fail %llu, reply %llu, status %llu\n",
           (unsigned long long)events[LOGPARSE_CONNECT_FAIL],
           (unsigned long long)events[LOGPARSE_REPLY], (unsigned long long)events[LOGPARSE_STATUS]);
    printf("baseline read+split: %.3f s, %.0f lines/s\n", best_split, (double)lines / best_split);
    printf("read+split+parse:    %.3f s, %.0f lines/s\n", best_parse, (double)lines / best_parse);
    printf("parse costs %.2fx the baseline time (%.0f ns/line over it)\n", best_parse / best_split,
           (best_parse - best_split) / (double)lines * 1e9);
    free(buf);
    return 0;
}

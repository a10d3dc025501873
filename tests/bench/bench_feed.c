/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench_feed - how fast lib/evidence/feed imports a registry dump, how much memory
 * it holds, and how fast it answers lookups.
 *
 * usage: bench_feed FILE [LOOKUPS]        (default 10000000 lookups a kind)
 *
 * In one run: the baseline (read FILE with read() in 1 MiB chunks and split
 * lines with memchr, nothing else), then feed_load() of the same file; each
 * three times, the fastest counts, so the page cache is warm for both.  Peak
 * RSS is getrusage(ru_maxrss) after the first import, next to the process's
 * peak before it, and again after all three (each feed is freed before the
 * next load; glibc's moving mmap threshold puts the later ones on the heap,
 * unless MALLOC_MMAP_THRESHOLD_ is set in the environment).  Lookups: random
 * IPv4 addresses (mostly misses), addresses taken from the file's IPS fields
 * (hits), and random IPv6 addresses.  Generate a file with
 * tests/bench/gen_registry.py.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "feed.h"
#include "netaddr.h"

#define CHUNK (1u << 20)
#define RUNS 3
#define SAMPLE 100000

static volatile unsigned long sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Calls fn(line, len, arg) for each line of path; the number of lines. */
static unsigned long each_line(const char *path, void (*fn)(const char *, size_t, void *), void *arg)
{
    static char buf[CHUNK];
    size_t have = 0;
    unsigned long lines = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        perror(path);
        exit(1);
    }
    while ((n = read(fd, buf + have, CHUNK - have)) > 0) {
        char *p = buf, *end = buf + have + (size_t)n, *nl;
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (fn)
                fn(p, (size_t)(nl - p), arg);
            lines++;
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (have == CHUNK)
            have = 0;                   /* an overlong line: not our concern here */
        memmove(buf, p, have);
    }
    close(fd);
    return lines;
}

struct sample {
    struct netaddr a[SAMPLE];
    size_t n;
    unsigned long line;
};

/* Takes the first address of every fifth line's IPS field. */
static void take_address(const char *line, size_t len, void *arg)
{
    struct sample *s = arg;
    if (s->line++ % 5 != 1 || s->n == SAMPLE)
        return;
    size_t e = 0;
    while (e < len && line[e] != ';' && line[e] != ' ' && line[e] != '/' && line[e] != '|')
        e++;
    if (e > 0 && netaddr_parse_len(line, e, &s->a[s->n]) == 0 && s->a[s->n].family == AF_INET)
        s->n++;
}

static uint64_t rnd_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Looks up n addresses cycling through set; lookups per second. */
static double lookups(const struct feed *f, const struct netaddr *set, size_t nset, unsigned long n,
                      unsigned long *hits)
{
    struct feed_hit h;
    double t0 = now_s();
    *hits = 0;
    for (unsigned long i = 0; i < n; i++)
        if (feed_lookup(f, &set[i % nset], &h)) {
            ++*hits;
            sink += h.line;
        }
    return (double)n / (now_s() - t0);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_feed FILE [LOOKUPS]\n");
        return 2;
    }
    const char *path = argv[1];
    unsigned long nlookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000000UL;
    struct stat st;
    if (stat(path, &st) < 0) {
        perror(path);
        return 1;
    }

    double base = 1e9, imp = 1e9;
    unsigned long lines = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now_s();
        lines = each_line(path, NULL, NULL);
        double t = now_s() - t0;
        base = t < base ? t : base;
    }
    long rss_before = max_rss_kb();

    struct feed_report rep;
    struct feed *f = NULL;
    long rss_first = 0;
    for (int r = 0; r < RUNS; r++) {
        feed_free(f);
        double t0 = now_s();
        f = feed_load("bench", path, FEED_AUTO, NULL, 0, &rep);
        double t = now_s() - t0;
        imp = t < imp ? t : imp;
        if (f == NULL) {
            fprintf(stderr, "bench_feed: %s: %s: %s\n", path, feed_status_name(rep.status), rep.error);
            return 1;
        }
        if (r == 0)
            rss_first = max_rss_kb();
    }
    long rss_peak = max_rss_kb();

    printf("file: %s, %.1f MB, %lu lines, %s format\n", path, (double)st.st_size / 1e6, lines,
           feed_format_name(rep.format));
    printf("baseline, read and split lines:  %.3f s  (%.1f M lines/s)\n", base, (double)lines / base / 1e6);
    printf("import (feed_load):              %.3f s  (%.2f M lines/s, %.1fx the baseline)\n", imp,
           (double)lines / imp / 1e6, imp / base);
    printf("entries: %lu distinct prefixes (%lu listed again) from %lu lines; %lu bad lines\n", rep.entries,
           rep.duplicates, rep.listing_lines, rep.bad);
    printf("feed memory (its own count):     %.1f MB\n", (double)rep.bytes / 1048576);
    printf("peak RSS (ru_maxrss):            %.1f MB after the first import (%.1f MB before it), "
           "%.1f MB after %d\n", (double)rss_first / 1024, (double)rss_before / 1024, (double)rss_peak / 1024, RUNS);

    static struct sample listed;
    each_line(path, take_address, &listed);
    struct netaddr *r4 = calloc(SAMPLE, sizeof(*r4)), *r6 = calloc(SAMPLE, sizeof(*r6));
    for (size_t i = 0; i < SAMPLE; i++) {
        uint64_t x = rnd();
        r4[i].family = AF_INET;
        memcpy(r4[i].bytes, &x, 4);
        r6[i].family = AF_INET6;
        r6[i].bytes[0] = 0x2a;
        memcpy(r6[i].bytes + 1, &x, 8);
        x = rnd();
        memcpy(r6[i].bytes + 9, &x, 7);
    }
    unsigned long hits;
    double l4 = lookups(f, r4, SAMPLE, nlookups, &hits);
    printf("lookups, random IPv4:            %.2f M/s  (%.0f ns each; %.1f%% listed)\n", l4 / 1e6, 1e9 / l4,
           100.0 * (double)hits / (double)nlookups);
    if (listed.n > 0) {
        double lh = lookups(f, listed.a, listed.n, nlookups, &hits);
        printf("lookups, listed IPv4:            %.2f M/s  (%.0f ns each; %.1f%% listed)\n", lh / 1e6, 1e9 / lh,
               100.0 * (double)hits / (double)nlookups);
    }
    double l6 = lookups(f, r6, SAMPLE, nlookups, &hits);
    printf("lookups, random IPv6 in 2a00::/8: %.2f M/s  (%.0f ns each; %.1f%% listed)\n", l6 / 1e6, 1e9 / l6,
           100.0 * (double)hits / (double)nlookups);
    feed_free(f);
    free(r4);
    free(r6);
    return 0;
}

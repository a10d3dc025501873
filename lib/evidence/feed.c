/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feed - see feed.h for the interface and the formats.
 *
 * feed_load() opens the file without blocking (a FIFO put in its place must
 * not hang the daemon; only regular files are read), reads it with read(2)
 * in 1 MiB chunks, splits lines with memchr, and gives each line (its CR
 * dropped) to feed_read_line() (feed_registry.c), which returns the line's
 * prefixes, or says why the line is bad.  A line longer than FEED_LINE_MAX
 * is a bad line; the reader skips to its end without holding it.  A bad line
 * adds nothing.  The file's identity (struct feed_file) is taken from the
 * descriptor read, so it names exactly the version loaded.
 *
 * What a listed prefix keeps: its radix value.  For a plain list that is the
 * line number itself.  For the registry it indexes `recs`, one 8-byte record
 * per line that listed a new prefix: the line number and a tuple, the
 * entry's (org, decision, date) stored once however many lines share it;
 * a tuple holds offsets into `pool`, where each distinct string is stored
 * once.  Decisions, their dates and the bodies that issued them repeat over
 * thousands of lines, so a million-line dump costs about 27 bytes a prefix
 * all told.  The hash indexes of pool and tuples live only while loading.
 *
 * Memory: radix (hash set and trie), records, tuples, pool; bounded by
 * FEED_MAX_BYTES together, and trimmed to size when loading ends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feed.h"
#include "msg.h"
#include "radix.h"

#define CHUNK (1u << 20)
#define UPDATED "Updated:"
#define BOM "\xEF\xBB\xBF"

/* The text of a registry entry: offsets into the pool. */
struct feed_tuple {
    uint32_t org, decision, date;
};

struct feed_rec {
    uint32_t line, tuple;                   /* tuple: index into tuples */
};

struct feed {
    char *name, *path;
    enum feed_format format;
    struct radix *rx;
    struct feed_rec *recs;                  /* registry only */
    size_t nrecs, recs_cap;
    struct feed_tuple *tuples;              /* tuple 0 is ("", "", "") */
    size_t ntuples, tuples_cap;
    char *pool;                             /* offset 0 is "" */
    size_t pool_len, pool_cap;
    size_t entries;
    struct feed_file file;
};

/* A hash index of pool strings or tuples, used while loading: slots of
 * (hash, id), id 0 marking a free slot (string 0 and tuple 0 are never in
 * it: they are the empty ones). */
struct slot {
    uint32_t hash, id;
};

struct index {
    struct slot *s;
    size_t cap, n;
};

struct loader {
    struct feed *f;
    struct feed_report *rep;
    unsigned long lineno;
    struct feed_line line;
    struct index strings, tuples;
    int stop;                               /* a bound was reached */
};

static void bad(struct loader *ld, const char *why)
{
    struct feed_report *rep = ld->rep;

    rep->bad++;
    if (rep->nshown >= FEED_REPORT_BAD)
        return;
    rep->shown[rep->nshown].line = ld->lineno;
    snprintf(rep->shown[rep->nshown].why, sizeof(rep->shown[0].why), "%s", why);
    rep->nshown++;
}

static void too_big(struct loader *ld, const char *what)
{
    if (!ld->stop)
        snprintf(ld->rep->error, sizeof(ld->rep->error),
                 "line %lu: %s: the feed is larger than mxdetour holds", ld->lineno, what);
    ld->stop = 1;
}

size_t feed_bytes(const struct feed *f)
{
    return sizeof(*f) + radix_bytes(f->rx) + f->recs_cap * sizeof(f->recs[0])
           + f->tuples_cap * sizeof(f->tuples[0]) + f->pool_cap;
}

static int reserve(struct loader *ld, void **p, size_t *cap, size_t need, size_t elem, int exact);

/* Grows *p (of *cap elements of size elem) to hold need; -1 past the bound. */
static int grow(struct loader *ld, void **p, size_t *cap, size_t need, size_t elem)
{
    return reserve(ld, p, cap, need, elem, 0);
}

/* Grows *p to exactly need elements (exact) or by doubling. */
static int reserve(struct loader *ld, void **p, size_t *cap, size_t need, size_t elem, int exact)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 1024;
    while (ncap < need)
        ncap *= 2;
    if (exact)
        ncap = need;
    if (feed_bytes(ld->f) + (ncap - *cap) * elem > FEED_MAX_BYTES)
        return -1;
    void *np = realloc(*p, ncap * elem);
    if (np == NULL)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

static uint32_t hash_bytes(uint32_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)        /* FNV-1a */
        h = (h ^ b[i]) * 16777619u;
    return h;
}

/* Makes room for one more id, at most 3/4 full: the index lives only while
 * a version is read, beside the version in force, so it is kept small. */
static int index_reserve(struct index *ix)
{
    if ((ix->n + 1) * 4 <= ix->cap * 3)
        return 0;
    size_t cap = ix->cap ? ix->cap * 2 : 4096;
    struct slot *s = calloc(cap, sizeof(*s));
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        if (ix->s[i].id == 0)
            continue;
        size_t j = ix->s[i].hash & (cap - 1);
        while (s[j].id)
            j = (j + 1) & (cap - 1);
        s[j] = ix->s[i];
    }
    free(ix->s);
    ix->s = s;
    ix->cap = cap;
    return 0;
}

/* The pool offset of s, adding it once; 0 for "" and when a bound stops. */
static uint32_t intern_string(struct loader *ld, const char *s)
{
    struct feed *f = ld->f;
    struct index *ix = &ld->strings;
    size_t len = strlen(s), j;

    if (len == 0)
        return 0;
    if (index_reserve(ix) < 0) {
        too_big(ld, "string index");
        return 0;
    }
    uint32_t h = hash_bytes(2166136261u, s, len);
    for (j = h & (ix->cap - 1); ix->s[j].id; j = (j + 1) & (ix->cap - 1))
        if (ix->s[j].hash == h && strcmp(f->pool + ix->s[j].id, s) == 0)
            return ix->s[j].id;
    if (f->pool_len + len + 1 > UINT32_MAX
        || grow(ld, (void **)&f->pool, &f->pool_cap, f->pool_len + len + 1, 1) < 0) {
        too_big(ld, "string pool");
        return 0;
    }
    uint32_t off = (uint32_t)f->pool_len;
    memcpy(f->pool + off, s, len + 1);
    f->pool_len += len + 1;
    ix->s[j] = (struct slot){h, off};
    ix->n++;
    return off;
}

/* The index of the tuple of the current line's text, adding it once. */
static uint32_t intern_tuple(struct loader *ld)
{
    struct feed *f = ld->f;
    struct index *ix = &ld->tuples;
    struct feed_tuple t = {intern_string(ld, ld->line.org), intern_string(ld, ld->line.decision),
                           intern_string(ld, ld->line.date)};
    size_t j;

    if (t.org == 0 && t.decision == 0 && t.date == 0)
        return 0;
    if (ld->stop || index_reserve(ix) < 0) {
        too_big(ld, "entry index");
        return 0;
    }
    uint32_t h = hash_bytes(2166136261u, &t, sizeof(t));
    for (j = h & (ix->cap - 1); ix->s[j].id; j = (j + 1) & (ix->cap - 1))
        if (ix->s[j].hash == h && memcmp(&f->tuples[ix->s[j].id], &t, sizeof(t)) == 0)
            return ix->s[j].id;
    if (f->ntuples >= UINT32_MAX
        || grow(ld, (void **)&f->tuples, &f->tuples_cap, f->ntuples + 1, sizeof(t)) < 0) {
        too_big(ld, "entries");
        return 0;
    }
    uint32_t id = (uint32_t)f->ntuples++;
    f->tuples[id] = t;
    ix->s[j] = (struct slot){h, id};
    ix->n++;
    return id;
}

/* Inserts the line's items with value; the number of new prefixes. */
static size_t insert_items(struct loader *ld, uint32_t value)
{
    size_t added = 0;

    for (size_t i = 0; i < ld->line.nitems && !ld->stop; i++) {
        const struct feed_item *it = &ld->line.items[i];
        switch (radix_insert(ld->f->rx, &it->addr, it->len, value, NULL)) {
        case RADIX_ADDED: added++; break;
        case RADIX_EXISTS: ld->rep->duplicates++; break;
        case RADIX_ERROR: too_big(ld, "prefix table"); break;
        }
    }
    ld->f->entries += added;
    if (added)
        ld->rep->listing_lines++;
    return added;
}

/* A registry line: one record (line, text) shared by its prefixes. */
static void add_registry(struct loader *ld)
{
    struct feed *f = ld->f;

    if (f->nrecs >= RADIX_VALUE_MAX
        || grow(ld, (void **)&f->recs, &f->recs_cap, f->nrecs + 1, sizeof(f->recs[0])) < 0) {
        too_big(ld, "records");
        return;
    }
    uint32_t tuple = intern_tuple(ld);
    if (ld->stop)
        return;
    f->recs[f->nrecs] = (struct feed_rec){(uint32_t)ld->lineno, tuple};
    if (insert_items(ld, (uint32_t)f->nrecs) > 0)
        f->nrecs++;                         /* else the record is not needed */
}

/* Where the text of an "Updated:" line starts (after a BOM and blanks), or 0. */
static size_t header_text(const char *line, size_t len)
{
    size_t i = len >= 3 && memcmp(line, BOM, 3) == 0 ? 3 : 0, n = strlen(UPDATED);

    if (len - i < n || strncasecmp(line + i, UPDATED, n) != 0)
        return 0;
    for (i += n; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
        ;
    return i;
}

static void on_line(struct loader *ld, const char *line, size_t len)
{
    struct feed_report *rep = ld->rep;
    char why[FEED_WHY_MAX];

    if (++ld->lineno > RADIX_VALUE_MAX) {
        too_big(ld, "lines");
        return;
    }
    rep->lines = ld->lineno;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > FEED_LINE_MAX) {
        snprintf(why, sizeof(why), "longer than %u bytes", FEED_LINE_MAX);
        bad(ld, why);
        return;
    }
    if (ld->lineno == 1) {
        size_t text = header_text(line, len);
        if (rep->format == FEED_AUTO)
            rep->format = text ? FEED_REGISTRY : FEED_PLAIN;
        if (text && rep->format == FEED_REGISTRY) {
            feed_printable(line + text, len - text, rep->updated, sizeof(rep->updated));
            return;
        }
        if (len >= 3 && memcmp(line, BOM, 3) == 0) {
            line += 3;
            len -= 3;
        }
    } else if (rep->format == FEED_REGISTRY && len > 0 && line[0] == 'U' && header_text(line, len)) {
        return;                             /* parts of a dump joined: their headers */
    }
    switch (feed_read_line(rep->format, line, len, &ld->line)) {
    case FEED_LINE_EMPTY:
        break;
    case FEED_LINE_BAD:
        bad(ld, ld->line.why);
        break;
    case FEED_LINE_NOMEM:
        too_big(ld, "addresses of one line");
        break;
    case FEED_LINE_LIST:
        if (rep->format == FEED_REGISTRY)
            add_registry(ld);
        else
            insert_items(ld, (uint32_t)ld->lineno);     /* the value is the line */
        break;
    }
}

/* Reads fd to its end, line by line; -1 with rep->error on a read error. */
static int read_lines(struct loader *ld, int fd)
{
    size_t cap = FEED_LINE_MAX + CHUNK, have = 0;
    char *buf = malloc(cap);
    int skipping = 0;                       /* inside an overlong line */

    if (buf == NULL) {
        snprintf(ld->rep->error, sizeof(ld->rep->error), "out of memory");
        return -1;
    }
    while (!ld->stop) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(ld->rep->error, sizeof(ld->rep->error), "read: %s", strerror(errno));
            free(buf);
            return -1;
        }
        if (n == 0)
            break;
        char *p = buf, *end = buf + have + (size_t)n, *nl;
        while (!ld->stop && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (!skipping)
                on_line(ld, p, (size_t)(nl - p));
            skipping = 0;
            p = nl + 1;
        }
        have = (size_t)(end - p);
        if (skipping) {
            have = 0;
        } else if (have > FEED_LINE_MAX + 1) {
            on_line(ld, p, have);           /* says it is too long */
            skipping = 1;
            have = 0;
        } else {
            memmove(buf, p, have);
        }
    }
    if (have > 0 && !skipping && !ld->stop)
        on_line(ld, buf, have);             /* the last line has no end */
    free(buf);
    return 0;
}

static struct feed *refuse(struct feed *f, struct feed_report *rep, enum feed_status st,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct feed *refuse(struct feed *f, struct feed_report *rep, enum feed_status st,
                           const char *fmt, ...)
{
    va_list ap;

    rep->status = st;
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(rep->error, sizeof(rep->error), fmt, ap);
        va_end(ap);
    }
    feed_free(f);
    return NULL;
}

static void trim(struct feed *f)
{
    void *p;

    radix_compact(f->rx);
    if (f->nrecs == 0) {
        free(f->recs);
        f->recs = NULL;
        f->recs_cap = 0;
    } else if (f->nrecs < f->recs_cap && (p = realloc(f->recs, f->nrecs * sizeof(f->recs[0])))) {
        f->recs = p;
        f->recs_cap = f->nrecs;
    }
    if (f->ntuples < f->tuples_cap && (p = realloc(f->tuples, f->ntuples * sizeof(f->tuples[0])))) {
        f->tuples = p;
        f->tuples_cap = f->ntuples;
    }
    if (f->pool_len < f->pool_cap && (p = realloc(f->pool, f->pool_len))) {
        f->pool = p;
        f->pool_cap = f->pool_len;
    }
}

/* Room for what previous held and 1/16 more (the arrays, the host sets),
 * and an index of its tuples that will not rehash. */
static int presize(struct loader *ld, const struct feed *previous)
{
    struct feed *f = ld->f;
    size_t tuples = previous->ntuples + previous->ntuples / 16;

    if (reserve(ld, (void **)&f->pool, &f->pool_cap, previous->pool_len + previous->pool_len / 16, 1, 1) < 0
        || reserve(ld, (void **)&f->tuples, &f->tuples_cap, tuples, sizeof(f->tuples[0]), 1) < 0
        || (previous->nrecs && reserve(ld, (void **)&f->recs, &f->recs_cap,
                                       previous->nrecs + previous->nrecs / 16, sizeof(f->recs[0]), 1) < 0))
        return -1;
    for (int fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
        size_t hosts = radix_hosts(previous->rx, fam);
        if (radix_reserve_hosts(f->rx, fam, hosts + hosts / 16) < 0)
            return -1;
    }
    size_t cap = 4096;
    while (cap * 3 < tuples * 4)
        cap *= 2;
    if ((ld->tuples.s = calloc(cap, sizeof(*ld->tuples.s))) == NULL)
        return -1;
    ld->tuples.cap = cap;
    return 0;
}

struct feed *feed_load(const char *name, const char *path, enum feed_format fmt,
                       const struct feed *previous, double min_share, struct feed_report *rep)
{
    struct feed *f = calloc(1, sizeof(*f));
    struct loader ld = {.f = f, .rep = rep};
    struct stat st;
    int fd, rc;

    memset(rep, 0, sizeof(*rep));
    rep->format = fmt;
    rep->previous_entries = previous ? previous->entries : 0;
    if (f == NULL || (f->name = strdup(name)) == NULL || (f->path = strdup(path)) == NULL
        || (f->rx = radix_new(FEED_MAX_BYTES)) == NULL)
        return refuse(f, rep, FEED_UNREADABLE, "out of memory");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return refuse(f, rep, FEED_UNREADABLE, "%s", strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(f, rep, FEED_UNREADABLE, "not a regular file");
    }
    rep->file = (struct feed_file){st.st_dev, st.st_ino, st.st_size,
                                   (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
    /* The pool starts with "" at offset 0, the tuples with ("", "", ""). */
    if (grow(&ld, (void **)&f->pool, &f->pool_cap, 1, 1) < 0
        || grow(&ld, (void **)&f->tuples, &f->tuples_cap, 1, sizeof(f->tuples[0])) < 0) {
        close(fd);
        return refuse(f, rep, FEED_UNREADABLE, "out of memory");
    }
    /* A new version is mostly the previous one: sized for it up front, it
     * grows without doubling's spare half or the copies of a realloc, which
     * would stand beside the version in force (docs/benchmarks.md). */
    if (previous && presize(&ld, previous) < 0) {
        close(fd);
        return refuse(f, rep, FEED_UNREADABLE, "out of memory");
    }
    f->pool[0] = 0;
    f->pool_len = 1;
    f->tuples[0] = (struct feed_tuple){0, 0, 0};
    f->ntuples = 1;
    rc = read_lines(&ld, fd);
    close(fd);
    free(ld.strings.s);
    free(ld.tuples.s);
    feed_line_free(&ld.line);
    if (rep->format == FEED_AUTO)
        rep->format = FEED_PLAIN;           /* an empty file */
    f->format = rep->format;
    f->file = rep->file;
    rep->entries = f->entries;
    if (rc < 0)
        return refuse(f, rep, FEED_UNREADABLE, NULL);
    if (ld.stop)
        return refuse(f, rep, FEED_TOO_BIG, NULL);
    if (f->entries == 0 && min_share >= 0)
        return refuse(f, rep, FEED_EMPTY, "no address or prefix in %lu lines (%lu bad)", rep->lines,
                      rep->bad);
    if (previous && min_share > 0 && (double)f->entries < min_share * (double)previous->entries)
        return refuse(f, rep, FEED_TRUNCATED,
                      "%zu entries, fewer than %g%% of the %zu of the version in force", f->entries,
                      min_share * 100, previous->entries);
    trim(f);
    rep->status = FEED_LOADED;
    rep->bytes = feed_bytes(f);
    return f;
}

int feed_lookup(const struct feed *f, const struct netaddr *addr, struct feed_hit *out)
{
    struct radix_match m;

    if (f == NULL || !radix_lookup(f->rx, addr, &m))
        return 0;
    if (out == NULL)
        return 1;
    out->feed = f->name;
    out->prefix = m.prefix;
    out->prefix_len = m.len;
    if (f->format == FEED_REGISTRY) {
        const struct feed_rec *r = &f->recs[m.value];
        const struct feed_tuple *t = &f->tuples[r->tuple];
        out->line = r->line;
        out->org = f->pool + t->org;
        out->decision = f->pool + t->decision;
        out->date = f->pool + t->date;
    } else {
        out->line = m.value;
        out->org = out->decision = out->date = "";
    }
    return 1;
}

void feed_free(struct feed *f)
{
    if (f == NULL)
        return;
    radix_free(f->rx);
    free(f->recs);
    free(f->tuples);
    free(f->pool);
    free(f->name);
    free(f->path);
    free(f);
}

const char *feed_name(const struct feed *f) { return f->name; }
enum feed_format feed_get_format(const struct feed *f) { return f->format; }
size_t feed_entries(const struct feed *f) { return f->entries; }
const struct feed_file *feed_get_file(const struct feed *f) { return &f->file; }

void feed_report_log(const struct feed_report *rep, const char *name, const char *path)
{
    for (size_t i = 0; i < rep->nshown; i++)
        msg_warn("feed", "feed %s: %s:%lu: %s; line skipped", name, path, rep->shown[i].line,
                 rep->shown[i].why);
    if (rep->bad > rep->nshown)
        msg_warn("feed", "feed %s: %s: %lu more bad lines skipped", name, path, rep->bad - rep->nshown);
    if (rep->status == FEED_LOADED) {
        msg_info("feed", "feed %s: %s: loaded, %s format%s%s, %lu entries from %lu lines, %lu bad lines, %zu kB",
                 name, path, feed_format_name(rep->format), rep->updated[0] ? ", updated " : "",
                 rep->updated, rep->entries, rep->lines, rep->bad, rep->bytes / 1024);
    } else if (rep->previous_entries > 0) {
        msg_warn("feed", "feed %s: %s: new version refused (%s: %s); the previous version stays in force with %lu entries",
                 name, path, feed_status_name(rep->status), rep->error, rep->previous_entries);
    } else {
        msg_warn("feed", "feed %s: %s: not loaded (%s: %s)", name, path, feed_status_name(rep->status),
                 rep->error);
    }
}

int feed_format_detect(const char *path)
{
    char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ssize_t n;

    struct stat st;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    do
        n = read(fd, head, sizeof(head));
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return -1;
    return header_text(head, (size_t)n) ? FEED_REGISTRY : FEED_PLAIN;
}

const char *feed_format_name(enum feed_format fmt)
{
    return fmt == FEED_REGISTRY ? "registry" : fmt == FEED_PLAIN ? "plain" : "auto";
}

int feed_format_parse(const char *name, enum feed_format *fmt)
{
    static const enum feed_format all[] = {FEED_AUTO, FEED_REGISTRY, FEED_PLAIN};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, feed_format_name(all[i])) == 0) {
            *fmt = all[i];
            return 0;
        }
    return -1;
}

const char *feed_status_name(enum feed_status st)
{
    static const char *const names[] = {"loaded", "unreadable", "empty", "truncated", "too big"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

int feed_file_stat(const char *path, struct feed_file *id)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    *id = (struct feed_file){st.st_dev, st.st_ino, st.st_size,
                             (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
    return 0;
}

int feed_file_same(const struct feed_file *a, const struct feed_file *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

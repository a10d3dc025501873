/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feed - blocklist feeds: files of IPv4 and IPv6 addresses and prefixes that
 * are (or will be) blocked, read into a longest-prefix-match table.
 *
 * Formats (docs/feeds.md):
 *   FEED_REGISTRY  the national block registry dump: a first line
 *                  "Updated: ...", then "IPS;domain;url;org;decision;date",
 *                  IPS empty or addresses/prefixes joined by " | ".  cp1251,
 *                  CRLF, fields may be "quoted" with "" inside.  org,
 *                  decision and date are kept (converted to UTF-8, bounded).
 *                  Later "Updated:" lines (joined parts of a dump) are skipped.
 *   FEED_PLAIN     one address or prefix a line; "#" or ";" starts a comment;
 *                  blank lines are skipped.
 *   FEED_AUTO      registry when the first line starts with "Updated:".
 *
 * A bad line is skipped and counted; the first FEED_REPORT_BAD are kept in
 * the report with their line numbers; the rest of the feed still loads.  A
 * prefix listed again on a later line keeps its first line.
 *
 * Truncation guard: feed_load() refuses a version that is unreadable, has no
 * entry, or has fewer entries than min_share times the entries of `previous`
 * (a truncated download), and returns NULL: the caller keeps `previous` in
 * force.  min_share 0 checks only for an empty version; min_share < 0 turns
 * the guard off (an administrator's static list or allow list may be
 * empty); an unreadable file is always refused.  feed_report_log() says
 * what happened, and that the previous version stays.
 *
 * Reloading: feed_file_stat() and feed_file_same() against rep.file of the
 * last version tried tell when the file has changed (downloads replace it
 * with rename(2)), so a refused version is not read again.
 *
 * Ownership: feed_load() returns a feed the caller frees with feed_free();
 * it copies name and path.  The strings of a struct feed_hit point into the
 * feed and live as long as it does.
 * Threads: feed_load() touches nothing shared and logs nothing, so it may
 * run on a worker thread (about 1 s for a million-line dump);
 * a loaded feed is read-only, so lookups from many threads need no lock.
 * Replacing a feed that other threads read is the caller's business.
 */
#ifndef MXD_FEED_H
#define MXD_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "netaddr.h"

#define FEED_REPORT_BAD 20             /* bad lines kept in a report */
#define FEED_TEXT_MAX 160              /* bytes kept of org and decision (UTF-8, NUL included) */
#define FEED_DATE_MAX 32               /* bytes kept of a date */
#define FEED_UPDATED_MAX 64            /* bytes kept of the "Updated:" text */
#define FEED_LINE_MAX (1u << 20)       /* longer lines are bad lines */
#define FEED_MAX_BYTES ((size_t)1 << 30)   /* memory bound of one feed */
#define FEED_FIELDS 6                  /* IPS;domain;url;org;decision;date */
#define FEED_WHY_MAX 112               /* bytes of a bad line's reason */

enum feed_format { FEED_AUTO, FEED_REGISTRY, FEED_PLAIN };

enum feed_status {
    FEED_LOADED,        /* the new version is good */
    FEED_UNREADABLE,    /* the file cannot be opened or read */
    FEED_EMPTY,         /* no entry in it */
    FEED_TRUNCATED,     /* fewer entries than min_share of the previous version */
    FEED_TOO_BIG,       /* past FEED_MAX_BYTES or 16M entries */
};

/* Identity of a file version: changed when any member changes.  Download
 * scripts should replace the file with rename(2), never rewrite it. */
struct feed_file {
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
};

struct feed_bad {
    unsigned long line;
    char why[FEED_WHY_MAX];            /* printable ASCII; quotes the bad text */
};

struct feed_report {
    enum feed_status status;
    enum feed_format format;           /* as read: FEED_REGISTRY or FEED_PLAIN */
    char error[256];                   /* why the version was refused */
    char updated[FEED_UPDATED_MAX];    /* registry: text after "Updated:" */
    struct feed_file file;             /* the version read */
    unsigned long lines;               /* lines read, header included */
    unsigned long entries;             /* distinct prefixes */
    unsigned long duplicates;          /* prefixes already listed by an earlier line */
    unsigned long listing_lines;       /* lines that listed at least one prefix */
    unsigned long bad;                 /* bad lines skipped */
    unsigned long previous_entries;    /* entries of `previous`, 0 without one */
    size_t bytes;                      /* memory held by the feed when loaded */
    size_t nshown;                     /* the first bad lines: */
    struct feed_bad shown[FEED_REPORT_BAD];
};

struct feed_hit {
    const char *feed;                  /* the feed's name */
    unsigned long line;                /* line of the file that listed it */
    struct netaddr prefix;             /* the entry that matched, host bits zero */
    unsigned prefix_len;
    const char *org;                   /* registry: UTF-8, "" when empty; */
    const char *decision;              /*   plain lists: "" */
    const char *date;
};

struct feed;

/* Reads path into a new feed named name.  NULL when the version is refused
 * (rep->status, rep->error say why); rep is always filled. */
struct feed *feed_load(const char *name, const char *path, enum feed_format fmt,
                       const struct feed *previous, double min_share, struct feed_report *rep);
/* The longest listed prefix holding addr: 1 and *out filled, or 0. */
int feed_lookup(const struct feed *f, const struct netaddr *addr, struct feed_hit *out);
void feed_free(struct feed *f);

const char *feed_name(const struct feed *f);
enum feed_format feed_get_format(const struct feed *f);
size_t feed_entries(const struct feed *f);
size_t feed_bytes(const struct feed *f);
const struct feed_file *feed_get_file(const struct feed *f);

/* Logs a report: the kept bad lines and the result, as "feed NAME: ..."
 * (msg_warn for trouble, msg_info for a load). */
void feed_report_log(const struct feed_report *rep, const char *name, const char *path);

/* FEED_REGISTRY when the file's first line starts with "Updated:" (a UTF-8
 * byte order mark before it is allowed), FEED_PLAIN otherwise; -1 when the
 * file cannot be read. */
int feed_format_detect(const char *path);
const char *feed_format_name(enum feed_format fmt);     /* "auto", "registry", "plain" */
int feed_format_parse(const char *name, enum feed_format *fmt);   /* 0 or -1 */
const char *feed_status_name(enum feed_status st);      /* "loaded", "empty", ... */

/* The identity of path now; 0, or -1 when it cannot be stat'ed. */
int feed_file_stat(const char *path, struct feed_file *id);
int feed_file_same(const struct feed_file *a, const struct feed_file *b);

/*
 * The line reader, in feed_registry.c: one line of either format into its
 * prefixes and, for the registry, its kept text.  Pure functions over bytes
 * the caller holds; public for the tests and fuzzers.
 */
struct feed_item {
    struct netaddr addr;
    unsigned len;
};

struct feed_line {
    struct feed_item *items;           /* the line's prefixes; grows as needed */
    size_t nitems, cap;
    char org[FEED_TEXT_MAX];           /* registry, UTF-8; set when nitems > 0 */
    char decision[FEED_TEXT_MAX];
    char date[FEED_DATE_MAX];
    char why[FEED_WHY_MAX];            /* FEED_LINE_BAD: what is wrong */
};

enum feed_line_kind {
    FEED_LINE_EMPTY,    /* blank, comment, or a registry entry without addresses */
    FEED_LINE_LIST,     /* items holds one or more prefixes */
    FEED_LINE_BAD,      /* why says what is wrong; items is empty */
    FEED_LINE_NOMEM,
};

/* Reads one line (line end removed) of fmt, FEED_REGISTRY or FEED_PLAIN, into
 * l (zero-initialised before the first call, reused for the next lines, and
 * released with feed_line_free()).  A registry line is good when it has six
 * fields and every address of its IPS field is good. */
enum feed_line_kind feed_read_line(enum feed_format fmt, const char *line, size_t len,
                                   struct feed_line *l);
void feed_line_free(struct feed_line *l);

/* One field of a registry line: the bytes between the separators, without
 * the quotes of a quoted field (whose "" pairs are still doubled). */
struct feed_field {
    const char *p;
    size_t len;
    int quoted;
};

/* Splits a line at ';' outside "quotes".  Returns the number of fields (at
 * most max are stored, the rest only counted), or -1 with a reason in why
 * for a quote that is not closed or is followed by text. */
int feed_split_fields(const char *line, size_t len, struct feed_field *fields, int max,
                      char *why, size_t whysize);

/* Converts cp1251 text to UTF-8 into out (NUL-terminated, whole characters
 * only, cut to fit size); "" becomes " in a quoted field; control characters
 * become spaces; leading and trailing blanks are dropped.  Returns the bytes
 * written, NUL excluded. */
size_t feed_cp1251_to_utf8(const char *in, size_t len, int quoted, char *out, size_t size);

/* Parses "ADDRESS" or "ADDRESS/LEN" (IPv4 or IPv6, nothing else around it).
 * A prefix without /LEN is a host (/32, /128).  0, or -1 with a reason. */
int feed_parse_prefix(const char *text, size_t len, struct netaddr *addr, unsigned *plen,
                      char *why, size_t whysize);

/* Printable ASCII of text for a message: other bytes become '?'; text
 * longer than fits ends with "...". */
void feed_printable(const char *text, size_t len, char *out, size_t size);

#endif

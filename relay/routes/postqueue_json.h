/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * postqueue_json - a strict, bounded parser for one line of `postqueue -j`.
 *
 * postqueue -j prints one JSON object per queued message (postfix-notes.md):
 *
 *   {"queue_name": "deferred", "queue_id": "8A3D8A72178", "arrival_time": ...,
 *    "recipients": [{"address": "u2@blocked.test", "delay_reason": "..."}]}
 *
 * postqueue_json_parse() checks the whole line against RFC 8259 (strings,
 * escapes including \uXXXX and surrogate pairs, numbers, literals, nesting
 * at most POSTQUEUE_DEPTH_MAX deep) and extracts only what the kicker
 * needs: queue_name ([a-z]+, at most POSTQUEUE_NAME_MAX), queue_id
 * ([0-9A-Za-z]+, at most POSTQUEUE_ID_MAX: what `postqueue -i` accepts) and
 * each recipients[].address, decoded (at most POSTQUEUE_ADDR_MAX bytes, no
 * NUL).  Keys it does not know are skipped whatever their value; a known
 * key given twice, a value of the wrong type or size, or anything after the
 * object makes the line malformed.  Bytes >= 0x80 inside strings are passed
 * through (Postfix may print SMTPUTF8 addresses raw).
 *
 * The parser reads exactly len bytes (the line need not be NUL-terminated;
 * it may hold NUL bytes, which make it malformed), allocates nothing, keeps
 * no state between calls and is safe on any thread.
 *
 * postqueue_reader cuts the output of `postqueue -j`, in chunks as a pipe
 * delivers them, into lines and parses each, within limits: a line longer
 * than max_line is skipped and counted malformed; past max_bytes of output
 * or max_messages lines it stops (full) and ignores the rest, so the caller
 * can stop the producer.  It owns one line buffer, grown up to max_line.
 */
#ifndef MXD_POSTQUEUE_JSON_H
#define MXD_POSTQUEUE_JSON_H

#include <stddef.h>

#define POSTQUEUE_NAME_MAX 15
#define POSTQUEUE_ID_MAX 64
#define POSTQUEUE_ADDR_MAX 2048
#define POSTQUEUE_DEPTH_MAX 32

struct postqueue_msg {
    char queue_name[POSTQUEUE_NAME_MAX + 1];   /* "deferred", "active", "hold", ... */
    char queue_id[POSTQUEUE_ID_MAX + 1];
    size_t nrecipients;         /* recipients[] objects with an address */
    const char *error;          /* after -1: what is wrong (static text) */
    size_t error_at;            /* after -1: byte offset in the line */
};

/* Called for each recipient address, NUL-terminated (address[len] == 0),
 * as soon as its object is read: the line may still turn out malformed, so
 * act on what was collected only when the parse returns 0. */
typedef void (*postqueue_rcpt_fn)(const char *address, size_t len, void *arg);

/* Parses line[0..len); 0 with msg filled, or -1 with msg->error set.
 * on_rcpt may be NULL. */
int postqueue_json_parse(const char *line, size_t len, struct postqueue_msg *msg,
                         postqueue_rcpt_fn on_rcpt, void *arg);

/* Called once per non-empty line: ok is 1 and msg filled when the line
 * parsed, 0 (msg->error says why) when it did not. */
typedef void (*postqueue_line_fn)(const struct postqueue_msg *msg, int ok, void *arg);

struct postqueue_reader {
    size_t max_line, max_messages;
    uint64_t max_bytes;
    postqueue_line_fn on_line;
    postqueue_rcpt_fn on_rcpt;
    void *arg;
    /* Results, for the caller to read. */
    uint64_t bytes;             /* output taken in */
    size_t messages;            /* lines seen */
    size_t malformed;           /* lines refused or too long */
    int full;                   /* a limit was reached: the rest is ignored */
    char first_error[128];      /* "line N: why at byte B" of the first refused line */
    /* Private. */
    char *line;
    size_t len, cap;
    int overlong;
};

void postqueue_reader_init(struct postqueue_reader *r, size_t max_line, uint64_t max_bytes,
                           size_t max_messages, postqueue_line_fn on_line,
                           postqueue_rcpt_fn on_rcpt, void *arg);

/* Takes n more bytes of output; 0, or -1 once a limit is reached. */
int postqueue_reader_feed(struct postqueue_reader *r, const char *data, size_t n);

/* The output ended: a last line without its newline is parsed too. */
void postqueue_reader_finish(struct postqueue_reader *r);

/* Frees the line buffer; init again to reuse the reader. */
void postqueue_reader_free(struct postqueue_reader *r);

/* The normalised domain of a recipient address (after its last '@') into
 * buf (DOMAIN_MAXLEN + 1 bytes); -1 when there is none or it is not a
 * plausible domain (an address literal, say). */
int postqueue_rcpt_domain(const char *address, size_t len, char *buf, size_t size);

#endif

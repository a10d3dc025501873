/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logparse - turns Postfix log lines into evidence about MX addresses.
 *
 * A stateful parser: the caller feeds it one log line at a time, and it calls
 * back with zero or more events per line.  It reads the lines that smtp(8)
 * and lmtp(8) write about connections and deliveries, and error(8)'s
 * "delivery temporarily suspended" repeats; every other line is skipped.
 *
 * Accepted line formats (the part before "NAME/PROGRAM[PID]: "):
 *   Nov 23 11:02:03 host           traditional syslog (day " 3" or "03");
 *                                  also what maillog_file (postlogd) writes
 *   2026-11-23T11:02:03.123456+00:00 host   RFC 3339 (Z, +hh:mm or +hhmm)
 * Times without a zone are local time (TZ), as syslog and Postfix write
 * them; their year is the one that puts the line at most a day after the
 * reference time, so December lines read in January land in the previous
 * year.  The reference time is clock_now_ms() unless logparse_set_now()
 * pins it (replaying an old file: its mtime).
 * The service tag is "NAME/smtp", "NAME/lmtp", "NAME/error" or "NAME/retry"
 * where NAME is one of the configured syslog_names or starts with one
 * followed by "/" ("postfix/relay/smtp" matches "postfix"; "postfix-out/smtp"
 * needs "postfix-out").
 *
 * Linking: a failure line carries no queue id; it belongs to the next status
 * line of the same process (host, NAME/PROGRAM and pid).  Status lines of the
 * same queue id within 10 s of each other (one per recipient) are one
 * delivery and share its attempts.
 *
 * Events, in line order (a status line may give up to three, in this order):
 *   LOGPARSE_CONNECT_FAIL  Postfix's own statement that a connection to an
 *        address failed before the server spoke: "connect to H[A]:P: R"
 *        (timeout, refused, unreach), no or lost greeting (greeting), TLS
 *        handshake failure ("SSL_connect error to H[A]:P", tls).  When a
 *        status line states such a failure that no earlier line of the same
 *        process reported (we started mid-session; or a greeting failure at
 *        the last server, which Postfix logs only in the status line), the
 *        failure is reported once, with derived = 1.
 *   LOGPARSE_REPLY  proof that the server at an address answered: "host H[A]
 *        said: ...", "refused to talk to me", a conversation lost after the
 *        greeting, "... TLS connection established to H[A]", or a status line
 *        whose relay=H[A] shows a session (sent, or deferred/bounced for a
 *        reason other than a connect-phase failure).  One per address per
 *        delivery: the status lines of further recipients repeat none.
 *   LOGPARSE_STATUS  a per-recipient status line of smtp/lmtp, with the
 *        connect-phase failures the same process logged since its previous
 *        delivery (attempts[]), or an error(8)/"delivery temporarily
 *        suspended" line with repeat = 1: a repeat of an old failure, never
 *        evidence, and linked to nothing.
 * Text a remote server chose ("host X said: 451 ... connect to ...: Connection
 * timed out") is never read for evidence: only the leading words that Postfix
 * itself writes are matched, and the recipient address is skipped with its
 * quoting (Postfix logs it in external, quoted form) so that it cannot pose as
 * the fields that follow it.
 *
 * Limits: lines longer than LOGPARSE_LINE_MAX, lines holding NUL bytes and
 * lines with a malformed header are rejected; every field has a bound, and a
 * line is never read past len.  Per-process state (the failures awaiting their
 * status line) lives in a fixed table of LOGPARSE_PIDS slots; when it is
 * full the least recently used slot of a set is reused.
 *
 * Ownership and threads: the caller creates and frees the parser; one
 * instance is used by one thread at a time.  An event and everything it
 * points to are valid only during the callback.  Unknown reasons of
 * "connect to" lines (e.g. "Permission denied") give no event and are counted.
 */
#ifndef MXD_LOGPARSE_H
#define MXD_LOGPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "evidence.h"
#include "netaddr.h"

#define LOGPARSE_LINE_MAX 8192      /* longer lines are rejected */
#define LOGPARSE_HOST_MAX 255       /* host names, as logged */
#define LOGPARSE_SERVICE_MAX 64     /* service tag, with its NUL */
#define LOGPARSE_QUEUE_ID_MAX 32    /* queue id, with its NUL */
#define LOGPARSE_DSN_MAX 16         /* "4.4.1", with its NUL */
#define LOGPARSE_MAX_ATTEMPTS 16    /* failures linked to one status line */
#define LOGPARSE_MAX_NAMES 16       /* syslog_name prefixes */
#define LOGPARSE_PIDS 256           /* per-process slots */

enum logparse_type {
    LOGPARSE_CONNECT_FAIL = 1,
    LOGPARSE_REPLY,
    LOGPARSE_STATUS,
    LOGPARSE_TYPE_COUNT
};

enum logparse_status {
    LOGPARSE_SENT = 0,
    LOGPARSE_DEFERRED,
    LOGPARSE_BOUNCED,
    LOGPARSE_DELIVERABLE,       /* address verification probes */
    LOGPARSE_UNDELIVERABLE,
    LOGPARSE_OTHER
};

/* One failed connection attempt, as linked to a status line. */
struct logparse_attempt {
    struct netaddr addr;
    uint16_t port;              /* 0 when the line named none */
    enum fail_kind kind;
    uint64_t time_ms;
};

struct logparse_event {
    enum logparse_type type;
    uint64_t time_ms;           /* the line's timestamp, ms since the epoch */
    uint32_t pid;
    char service[LOGPARSE_SERVICE_MAX];     /* "postfix-out/smtp" */
    char queue_id[LOGPARSE_QUEUE_ID_MAX];   /* "" when the line has none */

    /* CONNECT_FAIL, REPLY: the server; STATUS: the relay (have_addr 0 when
     * relay=none or a unix-domain socket). */
    char host[LOGPARSE_HOST_MAX + 1];
    int have_addr;
    struct netaddr addr;
    uint16_t port;              /* 0 when the line named none */

    /* CONNECT_FAIL: the kind; STATUS: the connect-phase failure its text
     * states, or FAIL_NONE. */
    enum fail_kind kind;
    int derived;                /* CONNECT_FAIL taken from a status line */

    /* STATUS only. */
    enum logparse_status status;
    int repeat;                 /* error(8)/suspended repeat: no evidence */
    char rcpt_domain[DOMAIN_MAXLEN + 1];    /* normalised; "" if unusable */
    char dsn[LOGPARSE_DSN_MAX];
    unsigned nattempts;
    unsigned attempts_lost;     /* failures beyond LOGPARSE_MAX_ATTEMPTS */
    struct logparse_attempt attempts[LOGPARSE_MAX_ATTEMPTS];

    /* The Postfix text the event came from (the reason, or the status text in
     * parentheses); points into the caller's line, not NUL-terminated. */
    const char *text;
    size_t text_len;
};

struct logparse_stats {
    uint64_t lines;             /* lines given to logparse_line() */
    uint64_t too_long;          /* rejected: longer than LOGPARSE_LINE_MAX */
    uint64_t malformed;         /* rejected: NUL bytes, bad header or fields */
    uint64_t foreign;           /* other programs or syslog_names */
    uint64_t instance;          /* of the configured syslog_names, any program */
    uint64_t unclassified;      /* "connect to" with an unknown reason */
    uint64_t evicted;           /* per-process slots reused while in use */
    uint64_t events[LOGPARSE_TYPE_COUNT];
};

typedef void (*logparse_event_fn)(const struct logparse_event *ev, void *arg);

/*
 * syslog_names: the accepted syslog_name prefixes, separated by commas or
 * white space ("postfix, postfix-out"); NULL means "postfix".  Each name is
 * 1..47 characters of [A-Za-z0-9._/-], at most LOGPARSE_MAX_NAMES of them.
 * Returns NULL for an invalid list or when memory is short.
 */
struct logparse *logparse_create(const char *syslog_names,
                                 logparse_event_fn fn, void *arg);
void logparse_free(struct logparse *lp);

/* Pins the reference time for the year of zone-less timestamps (replaying a
 * file: its mtime); 0 returns to following clock_now_ms(), the default. */
void logparse_set_now(struct logparse *lp, uint64_t now_ms);

/*
 * Parses one line (a trailing "\n" or "\r\n" is ignored; NUL termination is
 * neither needed nor read).  Returns the number of events delivered, or -1
 * when the line was rejected (too long, binary, malformed).
 */
int logparse_line(struct logparse *lp, const char *line, size_t len);

const struct logparse_stats *logparse_stats(const struct logparse *lp);

/* "connect_fail", "reply", "status"; "sent", "deferred", ...; never NULL. */
const char *logparse_type_name(enum logparse_type type);
const char *logparse_status_name(enum logparse_status status);

#endif

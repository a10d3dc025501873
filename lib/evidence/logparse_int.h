/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logparse_int - what logparse.c (per-process slots, events) and
 * logparse_fields.c (reading the fields of one Postfix statement) share,
 * and nothing else should use.
 */
#ifndef MXD_LOGPARSE_INT_H
#define MXD_LOGPARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "logparse.h"
#include "logtime.h"

#define RCPT_MAX 512
#define BRACKET_MAX 255         /* inside H[...]: an address or a socket path */

enum verdict { V_NONE = 0, V_UNKNOWN, V_FAIL, V_REPLY, V_REPEAT };

/* What classify() found at the start of a Postfix statement. */
struct finding {
    enum verdict v;
    enum fail_kind kind;
    const char *host;           /* H of H[A]; NULL when the text named none */
    size_t host_len;
    int have_addr;
    struct netaddr addr;
    uint16_t port;
};

struct status_fields {
    const char *rcpt, *relay, *dsn, *text;
    size_t rcpt_len, relay_len, dsn_len, text_len;
    enum logparse_status status;
};

/* Cursor readers; each checks the bound before it reads.  0 (or the
 * length) on success, -1 when the text is not what Postfix writes. */

/* A run of bytes up to stop (or a space), 1..max long; 0 or -1. */
int logparse_token(struct cur *c, char stop, size_t max, const char **s, size_t *n);
/* A queue id into out (LOGPARSE_QUEUE_ID_MAX bytes). */
int logparse_queue_id(struct cur *c, char *out);
/* "H[A]" or "H[A]:P" into f (host, address, port). */
int logparse_namaddr(struct cur *c, struct finding *f);
/* The leading words of a statement: what it says about a connection. */
void logparse_classify(struct cur c, struct finding *f);
/* The fields of a per-recipient status line. */
int logparse_parse_status(struct cur *c, struct status_fields *sf);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logparse_fields - reads the fields of one Postfix statement for
 * logparse.c: tokens, queue ids, "host[address]", the leading words that
 * say what happened to a connection (classify), and the status line's
 * fields.  Matches only text Postfix itself writes, never what follows it.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "logparse_int.h"

/* A run of bytes up to stop (or a space), 1..max long; 0 or -1. */
int logparse_token(struct cur *c, char stop, size_t max, const char **s, size_t *n)
{
    const char *p = c->p;

    while (p < c->end && *p != stop && (unsigned char)*p > ' ' && *p != 0x7f)
        p++;
    if (p == c->p || (size_t)(p - c->p) > max)
        return -1;
    *s = c->p;
    *n = (size_t)(p - c->p);
    c->p = p;
    return 0;
}

int logparse_queue_id(struct cur *c, char *out)
{
    const char *s;
    size_t n;
    int hex = 1, novowel = 1;

    if (logparse_token(c, ':', LOGPARSE_QUEUE_ID_MAX - 1, &s, &n) < 0 || n < 5 || !LIT(c, ": "))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch))
            return -1;
        hex &= isdigit(ch) || (ch >= 'A' && ch <= 'F');
        novowel &= strchr("AEIOUaeiou", ch) == NULL;
    }
    if (!hex && !novowel)
        return -1;
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

/* "HOST[ADDR]" with an optional ":PORT"; have_addr only for an IP address. */
int logparse_namaddr(struct cur *c, struct finding *f)
{
    const char *in;
    size_t in_len;
    uint64_t port;

    if (logparse_token(c, '[', LOGPARSE_HOST_MAX, &f->host, &f->host_len) < 0 || !LIT(c, "[")
        || logparse_token(c, ']', BRACKET_MAX, &in, &in_len) < 0 || !LIT(c, "]"))
        return -1;
    f->have_addr = netaddr_parse_len(in, in_len, &f->addr) == 0;
    if (c->end - c->p >= 2 && c->p[0] == ':' && isdigit((unsigned char)c->p[1])) {
        c->p++;
        if (number(c, 1, 5, &port) < 0 || port == 0 || port > 65535)
            return -1;
        f->port = (uint16_t)port;
    }
    return 0;
}

static enum fail_kind connect_reason(struct cur *c)
{
    static const struct {
        const char *text;
        enum fail_kind kind;
    } reasons[] = {
        {"Connection timed out", FAIL_TIMEOUT},
        {"Operation timed out", FAIL_TIMEOUT},
        {"Connection refused", FAIL_REFUSED},
        {"No route to host", FAIL_UNREACH},
        {"Network is unreachable", FAIL_UNREACH},
        {"Host is unreachable", FAIL_UNREACH},
        {"Host is down", FAIL_UNREACH},
        {"Network is down", FAIL_UNREACH},
        {"read timeout", FAIL_GREETING},        /* Postfix < 2.3 */
        {"server dropped connection without sending the initial SMTP greeting", FAIL_GREETING},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (lit(c, reasons[i].text, strlen(reasons[i].text)))
            return reasons[i].kind;
    return FAIL_NONE;
}

/* Reads the leading words of a Postfix statement; never the text after. */
void logparse_classify(struct cur c, struct finding *f)
{
    memset(f, 0, sizeof(*f));
    if (LIT(&c, "connect to ")) {
        if (logparse_namaddr(&c, f) < 0 || !LIT(&c, ": "))
            return;
        if (LIT(&c, "server refused mail service"))     /* a 4xx greeting */
            f->v = V_REPLY;
        else if ((f->kind = connect_reason(&c)) != FAIL_NONE)
            f->v = V_FAIL;
        else
            f->v = V_UNKNOWN;
    } else if (LIT(&c, "lost connection with ")) {
        if (logparse_namaddr(&c, f) < 0)
            return;
        if (LIT(&c, " while receiving the initial server greeting"))
            f->v = V_FAIL, f->kind = FAIL_GREETING;
        else if (LIT(&c, " while "))
            f->v = V_REPLY;
    } else if (LIT(&c, "conversation with ")) {
        if (logparse_namaddr(&c, f) < 0)
            return;
        if (LIT(&c, " timed out while receiving the initial server greeting"))
            f->v = V_FAIL, f->kind = FAIL_GREETING;
        else if (LIT(&c, " timed out while "))
            f->v = V_REPLY;
    } else if (LIT(&c, "host ")) {
        if (logparse_namaddr(&c, f) == 0 && (LIT(&c, " said: ") || LIT(&c, " refused to talk to me")))
            f->v = V_REPLY;
    } else if (LIT(&c, "SSL_connect error to ")) {
        struct cur save = c;
        if (logparse_namaddr(&c, f) < 0 || !LIT(&c, ": ")) {
            memset(f, 0, sizeof(*f));   /* old form without [ADDR] */
            c = save;
        }
        f->v = V_FAIL, f->kind = FAIL_TLS;
    } else if (LIT(&c, "Cannot start TLS: handshake failure")) {
        f->v = V_FAIL, f->kind = FAIL_TLS;
    } else if (LIT(&c, "delivery temporarily suspended: ")) {
        f->v = V_REPEAT;
    } else if ((LIT(&c, "Verified ") || LIT(&c, "Trusted ") || LIT(&c, "Untrusted ")
                || LIT(&c, "Anonymous ")) && LIT(&c, "TLS connection established to ")) {
        if (logparse_namaddr(&c, f) == 0)
            f->v = V_REPLY;
    }
}

/* "<address>", skipping quoted strings: a '>' inside quotes is not the end. */
static int angle(struct cur *c, const char **s, size_t *n)
{
    int quoted = 0;

    if (!LIT(c, "<"))
        return -1;
    for (const char *p = c->p; p < c->end; p++) {
        if (quoted) {
            if (*p == '\\') {
                if (++p == c->end)
                    break;
            } else if (*p == '"') {
                quoted = 0;
            }
        } else if (*p == '"') {
            quoted = 1;
        } else if (*p == '>') {
            *s = c->p;
            *n = (size_t)(p - c->p);
            c->p = p + 1;
            return 0;
        }
    }
    return -1;
}

/* "to=<R>[, orig_to=<O>], relay=X[, key=value...], status=WORD[ (TEXT)]" */
int logparse_parse_status(struct cur *c, struct status_fields *sf)
{
    static const char *const words[] = {"sent", "deferred", "bounced", "deliverable",
                                        "undeliverable"};
    const char *key, *val, *ignore;
    size_t key_len, val_len, ignore_len;

    memset(sf, 0, sizeof(*sf));
    if (!LIT(c, "to=") || angle(c, &sf->rcpt, &sf->rcpt_len) < 0)
        return -1;
    for (;;) {
        if (!LIT(c, ", ") || logparse_token(c, '=', 16, &key, &key_len) < 0 || !LIT(c, "="))
            return -1;
        if (key_len == 7 && memcmp(key, "orig_to", 7) == 0) {
            if (angle(c, &ignore, &ignore_len) < 0)
                return -1;
            continue;
        }
        if (logparse_token(c, ',', key_len == 6 && memcmp(key, "status", 6) == 0 ? 16 : BRACKET_MAX + 64,
                  &val, &val_len) < 0)
            return -1;
        if (key_len == 5 && memcmp(key, "relay", 5) == 0) {
            sf->relay = val, sf->relay_len = val_len;
        } else if (key_len == 3 && memcmp(key, "dsn", 3) == 0) {
            sf->dsn = val, sf->dsn_len = val_len;
        } else if (key_len == 6 && memcmp(key, "status", 6) == 0) {
            sf->status = LOGPARSE_OTHER;
            for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (strlen(words[i]) == val_len && memcmp(val, words[i], val_len) == 0)
                    sf->status = (enum logparse_status)i;
            break;
        }
    }
    if (sf->relay == NULL)
        return -1;
    sf->text = c->end;
    if (c->p < c->end) {
        if (!LIT(c, " ("))
            return -1;
        sf->text = c->p;
        sf->text_len = (size_t)(c->end - c->p);
        if (sf->text_len > 0 && sf->text[sf->text_len - 1] == ')')
            sf->text_len--;     /* absent when the line was truncated */
    }
    return 0;
}

/* Per-process slots. */

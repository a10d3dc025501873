/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * postqueue_json - one `postqueue -j` line; see postqueue_json.h.
 *
 * A recursive-descent parser over [p, end) with an explicit depth bound.
 * Every read checks p < end first; strings are decoded only into buffers
 * whose size is checked per byte.  The first error found is the one
 * reported.  The reader at the end splits a stream into lines for it.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "postqueue_json.h"

struct parser {
    const char *start, *p, *end;
    int depth;
    const char *error;
    const char *error_pos;
};

static int fail(struct parser *ps, const char *why)
{
    if (ps->error == NULL) {
        ps->error = why;
        ps->error_pos = ps->p;
    }
    return -1;
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(struct parser *ps, uint32_t *v)
{
    *v = 0;
    if (ps->end - ps->p < 4)
        return fail(ps, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (uint32_t)(c - 'A' + 10);
        else
            return fail(ps, "bad hex digit in \\u escape");
    }
    return 0;
}

/* Appends n bytes to out when there is room; sets *over otherwise. */
static void put(char *out, size_t size, size_t *len, bool *over, const char *b, size_t n)
{
    if (out == NULL)
        return;
    if (*len + n >= size) {
        *over = true;
        return;
    }
    memcpy(out + *len, b, n);
    *len += n;
}

/*
 * A string at p (which is at its opening quote).  Decoded into out (size
 * bytes with the NUL) when out is not NULL; *over tells that it did not fit,
 * *nul that it holds an escaped NUL.  Malformed JSON is an error; a long
 * string is not (the caller decides).
 */
static int parse_string(struct parser *ps, char *out, size_t size, size_t *lenp, bool *over,
                        bool *nul)
{
    size_t len = 0;

    *over = *nul = false;
    ps->p++;                    /* the opening quote */
    for (;;) {
        unsigned char c;
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            break;
        }
        if (c < 0x20)
            return fail(ps, "control character in a string");
        if (c != '\\') {
            put(out, size, &len, over, ps->p++, 1);
            continue;
        }
        if (++ps->p >= ps->end)
            return fail(ps, "truncated escape");
        char e = *ps->p++, b[4];
        uint32_t cp, lo;
        switch (e) {
        case '"': case '\\': case '/':
            b[0] = e;
            break;
        case 'b': b[0] = '\b'; break;
        case 'f': b[0] = '\f'; break;
        case 'n': b[0] = '\n'; break;
        case 'r': b[0] = '\r'; break;
        case 't': b[0] = '\t'; break;
        case 'u':
            if (hex4(ps, &cp) < 0)
                return -1;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(ps, "lone low surrogate");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
                    return fail(ps, "high surrogate without its low half");
                ps->p += 2;
                if (hex4(ps, &lo) < 0)
                    return -1;
                if (lo < 0xdc00 || lo > 0xdfff)
                    return fail(ps, "high surrogate without its low half");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0)
                *nul = true;
            if (cp < 0x80) {
                b[0] = (char)cp;
                put(out, size, &len, over, b, 1);
            } else if (cp < 0x800) {
                b[0] = (char)(0xc0 | (cp >> 6));
                b[1] = (char)(0x80 | (cp & 0x3f));
                put(out, size, &len, over, b, 2);
            } else if (cp < 0x10000) {
                b[0] = (char)(0xe0 | (cp >> 12));
                b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[2] = (char)(0x80 | (cp & 0x3f));
                put(out, size, &len, over, b, 3);
            } else {
                b[0] = (char)(0xf0 | (cp >> 18));
                b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[3] = (char)(0x80 | (cp & 0x3f));
                put(out, size, &len, over, b, 4);
            }
            continue;
        default:
            ps->p--;
            return fail(ps, "unknown escape");
        }
        put(out, size, &len, over, b, 1);
    }
    if (out != NULL)
        out[len] = 0;
    if (lenp)
        *lenp = len;
    return 0;
}

static bool digit(struct parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static int parse_number(struct parser *ps)
{
    if (ps->p < ps->end && *ps->p == '-')
        ps->p++;
    if (!digit(ps))
        return fail(ps, "bad number");
    if (*ps->p++ != '0')
        while (digit(ps))
            ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!digit(ps))
            return fail(ps, "bad number");
        while (digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digit(ps))
            return fail(ps, "bad number");
        while (digit(ps))
            ps->p++;
    }
    return 0;
}

static int parse_literal(struct parser *ps, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, "unexpected character");
    ps->p += n;
    return 0;
}

static int skip_value(struct parser *ps);

/* Walks an object ('{' at p) or array ('[' at p), member by member: each
 * member's value is left at p for member() (objects: with its key). */
typedef int (*member_fn)(struct parser *ps, const char *key, bool key_over, void *ctx);

static int walk(struct parser *ps, bool object, member_fn member, void *ctx)
{
    char close = object ? '}' : ']', key[32];
    bool first = true, over = false, nul = false;

    if (++ps->depth > POSTQUEUE_DEPTH_MAX)
        return fail(ps, "nested too deep");
    ps->p++;
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end)
            return fail(ps, object ? "unterminated object" : "unterminated array");
        if (*ps->p == close && first)
            break;
        if (!first) {
            if (*ps->p == close)
                break;
            if (*ps->p != ',')
                return fail(ps, "expected ',' or the end of a list");
            ps->p++;
            skip_ws(ps);
        }
        first = false;
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail(ps, "expected a key");
            if (parse_string(ps, key, sizeof(key), NULL, &over, &nul) < 0)
                return -1;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':')
                return fail(ps, "expected ':'");
            ps->p++;
            skip_ws(ps);
        }
        if (ps->p >= ps->end)
            return fail(ps, "missing value");
        if ((member ? member(ps, object ? key : NULL, over || nul, ctx) : skip_value(ps)) < 0)
            return -1;
    }
    ps->p++;
    ps->depth--;
    return 0;
}

static int skip_value(struct parser *ps)
{
    size_t len;
    bool over, nul;

    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail(ps, "missing value");
    switch (*ps->p) {
    case '{':
        return walk(ps, true, NULL, NULL);
    case '[':
        return walk(ps, false, NULL, NULL);
    case '"':
        return parse_string(ps, NULL, 0, &len, &over, &nul);
    case 't':
        return parse_literal(ps, "true");
    case 'f':
        return parse_literal(ps, "false");
    case 'n':
        return parse_literal(ps, "null");
    default:
        return parse_number(ps);
    }
}

struct ctx {
    struct postqueue_msg *msg;
    postqueue_rcpt_fn on_rcpt;
    void *arg;
    bool have_name, have_id, have_rcpts, have_addr;
    char addr[POSTQUEUE_ADDR_MAX + 1];
    size_t addr_len;
};

/* A string value into buf; too long, a NUL, or not a string: error. */
static int string_value(struct parser *ps, char *buf, size_t size, size_t *len, const char *what)
{
    bool over, nul;

    if (*ps->p != '"')
        return fail(ps, what);
    if (parse_string(ps, buf, size, len, &over, &nul) < 0)
        return -1;
    if (over || nul)
        return fail(ps, what);
    return 0;
}

static int recipient_member(struct parser *ps, const char *key, bool key_over, void *arg)
{
    struct ctx *c = arg;

    if (key_over || strcmp(key, "address") != 0)
        return skip_value(ps);
    if (c->have_addr)
        return fail(ps, "recipient with two addresses");
    c->have_addr = true;
    return string_value(ps, c->addr, sizeof(c->addr), &c->addr_len,
                        "recipient address is not a string of at most 2048 bytes");
}

static int recipient(struct parser *ps, const char *key, bool key_over, void *arg)
{
    struct ctx *c = arg;

    (void)key;
    (void)key_over;
    if (*ps->p != '{')
        return fail(ps, "recipient is not an object");
    c->have_addr = false;
    if (walk(ps, true, recipient_member, c) < 0)
        return -1;
    if (c->have_addr) {
        c->msg->nrecipients++;
        if (c->on_rcpt)
            c->on_rcpt(c->addr, c->addr_len, c->arg);
    }
    return 0;
}

static int top_member(struct parser *ps, const char *key, bool key_over, void *arg)
{
    struct ctx *c = arg;
    struct postqueue_msg *m = c->msg;
    size_t len;

    if (key_over)
        return skip_value(ps);
    if (strcmp(key, "queue_name") == 0) {
        if (c->have_name)
            return fail(ps, "two queue_name keys");
        c->have_name = true;
        if (string_value(ps, m->queue_name, sizeof(m->queue_name), &len,
                         "queue_name is not a short string") < 0)
            return -1;
        for (size_t i = 0; i < len; i++)
            if (m->queue_name[i] < 'a' || m->queue_name[i] > 'z')
                return fail(ps, "queue_name is not [a-z]+");
        return len ? 0 : fail(ps, "empty queue_name");
    }
    if (strcmp(key, "queue_id") == 0) {
        if (c->have_id)
            return fail(ps, "two queue_id keys");
        c->have_id = true;
        if (string_value(ps, m->queue_id, sizeof(m->queue_id), &len,
                         "queue_id is not a string of at most 64 bytes") < 0)
            return -1;
        for (size_t i = 0; i < len; i++) {
            char ch = m->queue_id[i];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
                return fail(ps, "queue_id is not [0-9A-Za-z]+");
        }
        return len ? 0 : fail(ps, "empty queue_id");
    }
    if (strcmp(key, "recipients") == 0) {
        if (c->have_rcpts)
            return fail(ps, "two recipients keys");
        c->have_rcpts = true;
        if (*ps->p != '[')
            return fail(ps, "recipients is not an array");
        return walk(ps, false, recipient, c);
    }
    return skip_value(ps);
}

int postqueue_json_parse(const char *line, size_t len, struct postqueue_msg *msg,
                         postqueue_rcpt_fn on_rcpt, void *arg)
{
    struct parser ps = {.start = line, .p = line, .end = line + len};
    struct ctx c = {.msg = msg, .on_rcpt = on_rcpt, .arg = arg};

    memset(msg, 0, sizeof(*msg));
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p != '{')
        fail(&ps, "not a JSON object");
    else if (walk(&ps, true, top_member, &c) == 0) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            fail(&ps, "text after the object");
        else if (!c.have_name || !c.have_id)
            fail(&ps, "no queue_name or no queue_id");
    }
    if (ps.error) {
        msg->error = ps.error;
        msg->error_at = (size_t)(ps.error_pos - ps.start);
        return -1;
    }
    return 0;
}

int postqueue_rcpt_domain(const char *address, size_t len, char *buf, size_t size)
{
    const char *at = NULL;

    for (size_t i = len; i > 0; i--)
        if (address[i - 1] == '@') {
            at = address + i;
            break;
        }
    if (at == NULL)
        return -1;
    return domain_normalize(at, (size_t)(address + len - at), buf, size);
}

/* ---------------------------------------------------------------- reader */

void postqueue_reader_init(struct postqueue_reader *r, size_t max_line, uint64_t max_bytes,
                           size_t max_messages, postqueue_line_fn on_line,
                           postqueue_rcpt_fn on_rcpt, void *arg)
{
    memset(r, 0, sizeof(*r));
    r->max_line = max_line;
    r->max_bytes = max_bytes;
    r->max_messages = max_messages;
    r->on_line = on_line;
    r->on_rcpt = on_rcpt;
    r->arg = arg;
}

static void refused(struct postqueue_reader *r, const char *why, size_t at)
{
    if (r->malformed++ == 0)
        snprintf(r->first_error, sizeof(r->first_error), "line %zu: %s at byte %zu",
                 r->messages, why, at);
}

static void reader_line(struct postqueue_reader *r)
{
    struct postqueue_msg m;
    int ok;

    if (r->len == 0 && !r->overlong)
        return;
    if (r->messages == r->max_messages) {
        r->full = 1;
        return;
    }
    r->messages++;
    if (r->overlong) {
        memset(&m, 0, sizeof(m));
        m.error = "line too long";
        m.error_at = r->max_line;
        ok = 0;
    } else {
        ok = postqueue_json_parse(r->line, r->len, &m, r->on_rcpt, r->arg) == 0;
    }
    if (!ok)
        refused(r, m.error, m.error_at);
    if (r->on_line)
        r->on_line(&m, ok, r->arg);
}

int postqueue_reader_feed(struct postqueue_reader *r, const char *data, size_t n)
{
    bool cut = false;

    if (r->full)
        return -1;
    if (n > r->max_bytes - r->bytes) {
        n = (size_t)(r->max_bytes - r->bytes);
        cut = true;             /* what fits is still read */
    }
    r->bytes += n;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t chunk = nl ? (size_t)(nl - data) : n;

        if (!r->overlong && r->len + chunk > r->max_line)
            r->overlong = 1;
        if (!r->overlong && chunk > 0) {
            if (r->len + chunk > r->cap) {
                size_t cap = r->cap ? r->cap : 4096;
                char *grown;
                while (cap < r->len + chunk)
                    cap *= 2;
                if ((grown = realloc(r->line, cap)) == NULL)
                    r->overlong = 1;        /* no memory for it: skipped as too long */
                else {
                    r->line = grown;
                    r->cap = cap;
                }
            }
            if (!r->overlong)
                memcpy(r->line + r->len, data, chunk);
            r->len += chunk;
        }
        if (nl == NULL)
            break;
        reader_line(r);
        r->len = 0;
        r->overlong = 0;
        if (r->full)
            return -1;
        data += chunk + 1;
        n -= chunk + 1;
    }
    if (cut)
        r->full = 1;
    return r->full ? -1 : 0;
}

void postqueue_reader_finish(struct postqueue_reader *r)
{
    if (!r->full)
        reader_line(r);
    r->len = 0;
    r->overlong = 0;
}

void postqueue_reader_free(struct postqueue_reader *r)
{
    free(r->line);
    r->line = NULL;
    r->len = r->cap = 0;
}

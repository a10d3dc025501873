/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feed_registry - the line reader of lib/evidence/feed (see feed.h), named for the
 * harder of its two formats: a registry line is split into its fields
 * (quotes honoured), its IPS field into prefixes, and the text it keeps is
 * converted from cp1251 to UTF-8 with a table; a plain line is one prefix
 * and a comment.  Pure functions over a line the caller holds: only the
 * items array of a struct feed_line is allocated here.  Every length is
 * checked before a byte is read, since the lines come from a download;
 * addresses are checked for their characters before inet_pton sees them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "feed.h"

/* Unicode code points of cp1251 bytes 0x80..0xFF (0x98 is unassigned). */
static const uint16_t cp1251_high[128] = {
    0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021,     /* 80 */
    0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F,     /* 88 */
    0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,     /* 90 */
    0xFFFD, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F,     /* 98 */
    0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7,     /* A0 */
    0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407,     /* A8 */
    0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7,     /* B0 */
    0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457,     /* B8 */
    0x0410, 0x0411, 0x0412, 0x0413, 0x0414, 0x0415, 0x0416, 0x0417,     /* C0: А.. */
    0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, 0x041F,
    0x0420, 0x0421, 0x0422, 0x0423, 0x0424, 0x0425, 0x0426, 0x0427,
    0x0428, 0x0429, 0x042A, 0x042B, 0x042C, 0x042D, 0x042E, 0x042F,
    0x0430, 0x0431, 0x0432, 0x0433, 0x0434, 0x0435, 0x0436, 0x0437,     /* E0: а.. */
    0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, 0x043F,
    0x0440, 0x0441, 0x0442, 0x0443, 0x0444, 0x0445, 0x0446, 0x0447,
    0x0448, 0x0449, 0x044A, 0x044B, 0x044C, 0x044D, 0x044E, 0x044F,
};

int feed_split_fields(const char *line, size_t len, struct feed_field *fields, int max,
                      char *why, size_t whysize)
{
    size_t i = 0;
    int n = 0;

    for (;;) {
        struct feed_field f = {line + i, 0, 0};
        if (i < len && line[i] == '"') {
            /* "..." with "" for a quote; the field ends at the closing quote,
             * which a separator or the end of the line must follow. */
            size_t start = ++i;
            for (;;) {
                if (i >= len) {
                    snprintf(why, whysize, "field %d: quote not closed", n + 1);
                    return -1;
                }
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i++;
            }
            f.p = line + start;
            f.len = i - start;
            f.quoted = 1;
            i++;                                    /* the closing quote */
            if (i < len && line[i] != ';') {
                snprintf(why, whysize, "field %d: text after the closing quote", n + 1);
                return -1;
            }
        } else {
            const char *semi = memchr(line + i, ';', len - i);
            size_t end = semi ? (size_t)(semi - line) : len;
            f.len = end - i;
            i = end;
        }
        if (n < max)
            fields[n] = f;
        n++;
        if (i >= len)
            return n;
        i++;                                        /* the ';' */
    }
}

/* Appends code point cp as UTF-8 if it fits before the NUL; 0 if not. */
static size_t put_utf8(unsigned cp, char *out, size_t at, size_t size)
{
    unsigned char b[3];
    size_t n;

    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | cp >> 6);
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else {
        b[0] = (unsigned char)(0xE0 | cp >> 12);
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    if (at + n + 1 > size)
        return 0;
    memcpy(out + at, b, n);
    return n;
}

size_t feed_cp1251_to_utf8(const char *in, size_t len, int quoted, char *out, size_t size)
{
    size_t at = 0, kept = 0;            /* kept: length up to the last non-blank */

    if (size == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        unsigned cp;
        if (c == '"' && quoted && i + 1 < len && in[i + 1] == '"')
            i++;                        /* "" is one quote */
        if (c >= 0x80)
            cp = cp1251_high[c - 0x80];
        else if (c < 0x20 || c == 0x7F)
            cp = ' ';
        else
            cp = c;
        if (cp == ' ' && at == 0)
            continue;                   /* leading blanks */
        size_t n = put_utf8(cp, out, at, size);
        if (n == 0)
            break;
        at += n;
        if (cp != ' ' && cp != 0xA0)
            kept = at;
    }
    out[kept] = 0;
    return kept;
}

void feed_printable(const char *text, size_t len, char *out, size_t size)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n + 1 < size; i++, n++) {
        unsigned char c = (unsigned char)text[i];
        out[n] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    if (len > n && size > 4) {
        memcpy(out + size - 4, "...", 3);
        n = size - 1;
    }
    out[n] = 0;
}

int feed_parse_prefix(const char *text, size_t len, struct netaddr *addr, unsigned *plen,
                      char *why, size_t whysize)
{
    char shown[48];
    const char *slash = memchr(text, '/', len);
    size_t alen = slash ? (size_t)(slash - text) : len;
    int ok = alen > 0 && alen < NETADDR_STRLEN;

    /* Only the characters of an address: inet_pton would stop at a NUL. */
    for (size_t i = 0; ok && i < alen; i++) {
        unsigned char c = (unsigned char)text[i];
        ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
             || c == '.' || c == ':';
    }
    if (!ok || netaddr_parse_len(text, alen, addr) < 0) {
        feed_printable(text, alen, shown, sizeof(shown));
        snprintf(why, whysize, "bad address \"%s\"", shown);
        return -1;
    }
    unsigned bits = addr->family == AF_INET ? 32 : 128;
    if (slash == NULL) {
        *plen = bits;
        return 0;
    }
    const char *d = slash + 1;
    size_t dlen = len - alen - 1;
    unsigned v = 0;
    ok = dlen >= 1 && dlen <= 3;
    for (size_t i = 0; ok && i < dlen; i++) {
        if (d[i] < '0' || d[i] > '9')
            ok = 0;
        else
            v = v * 10 + (unsigned)(d[i] - '0');
    }
    if (!ok || v > bits) {
        feed_printable(text, len, shown, sizeof(shown));
        snprintf(why, whysize, "bad prefix length \"%s\"", shown);
        return -1;
    }
    *plen = v;
    return 0;
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

static enum feed_line_kind bad(struct feed_line *l, const char *why)
{
    snprintf(l->why, sizeof(l->why), "%s", why);
    l->nitems = 0;
    return FEED_LINE_BAD;
}

static int item_add(struct feed_line *l, const struct netaddr *a, unsigned len)
{
    if (l->nitems == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct feed_item *items = realloc(l->items, cap * sizeof(*items));
        if (items == NULL)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->nitems].addr = *a;
    l->items[l->nitems].len = len;
    l->nitems++;
    return 0;
}

/* One address or prefix; "#" or ";" starts a comment. */
static enum feed_line_kind read_plain(const char *line, size_t len, struct feed_line *l)
{
    struct netaddr a;
    unsigned plen;
    char why[FEED_WHY_MAX], shown[48];
    size_t s = 0, e = 0, t;

    while (e < len && line[e] != '#' && line[e] != ';')
        e++;
    while (s < e && blank(line[s]))
        s++;
    while (e > s && blank(line[e - 1]))
        e--;
    if (s == e)
        return FEED_LINE_EMPTY;
    for (t = s; t < e && !blank(line[t]); t++)
        ;
    if (t < e) {
        while (blank(line[t]))
            t++;
        feed_printable(line + t, e - t, shown, sizeof(shown));
        snprintf(why, sizeof(why), "text after the address: \"%s\"", shown);
        return bad(l, why);
    }
    if (feed_parse_prefix(line + s, e - s, &a, &plen, why, sizeof(why)) < 0)
        return bad(l, why);
    return item_add(l, &a, plen) < 0 ? FEED_LINE_NOMEM : FEED_LINE_LIST;
}

/* The IPS field: empty, or prefixes separated by '|' and blanks. */
static enum feed_line_kind read_ips(const char *p, size_t len, struct feed_line *l)
{
    struct netaddr a;
    unsigned plen;
    char why[FEED_WHY_MAX];
    size_t i = 0;

    while (len > 0 && blank(p[len - 1]))
        len--;
    while (i < len && blank(p[i]))
        i++;
    if (i == len)
        return FEED_LINE_EMPTY;             /* blocked by name or URL only */
    for (;;) {
        const char *bar = memchr(p + i, '|', len - i);
        size_t e = bar ? (size_t)(bar - p) : len, s = i;
        while (s < e && blank(p[s]))
            s++;
        while (e > s && blank(p[e - 1]))
            e--;
        if (s == e) {
            snprintf(why, sizeof(why), "address %zu of the list is empty", l->nitems + 1);
            return bad(l, why);
        }
        if (feed_parse_prefix(p + s, e - s, &a, &plen, why, sizeof(why)) < 0)
            return bad(l, why);
        if (item_add(l, &a, plen) < 0)
            return FEED_LINE_NOMEM;
        if (bar == NULL)
            return FEED_LINE_LIST;
        i = (size_t)(bar - p) + 1;
    }
}

static enum feed_line_kind read_registry(const char *line, size_t len, struct feed_line *l)
{
    struct feed_field f[FEED_FIELDS];
    char why[FEED_WHY_MAX];
    int n = feed_split_fields(line, len, f, FEED_FIELDS, why, sizeof(why));

    if (n < 0)
        return bad(l, why);
    if (n != FEED_FIELDS) {
        snprintf(why, sizeof(why), "%d fields, expected %d (IPS;domain;url;org;decision;date)", n,
                 FEED_FIELDS);
        return bad(l, why);
    }
    enum feed_line_kind k = read_ips(f[0].p, f[0].len, l);
    if (k != FEED_LINE_LIST)
        return k;
    feed_cp1251_to_utf8(f[3].p, f[3].len, f[3].quoted, l->org, sizeof(l->org));
    feed_cp1251_to_utf8(f[4].p, f[4].len, f[4].quoted, l->decision, sizeof(l->decision));
    feed_cp1251_to_utf8(f[5].p, f[5].len, f[5].quoted, l->date, sizeof(l->date));
    return FEED_LINE_LIST;
}

enum feed_line_kind feed_read_line(enum feed_format fmt, const char *line, size_t len,
                                   struct feed_line *l)
{
    l->nitems = 0;
    l->why[0] = 0;
    l->org[0] = l->decision[0] = l->date[0] = 0;
    return fmt == FEED_REGISTRY ? read_registry(line, len, l) : read_plain(line, len, l);
}

void feed_line_free(struct feed_line *l)
{
    free(l->items);
    l->items = NULL;
    l->nitems = l->cap = 0;
}

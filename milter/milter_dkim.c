/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter_dkim - see milter_dkim.h.  The parsers take the bytes as they come
 * (RFC 5322 From:, RFC 6376 tag=value lists), bounded, and keep only a
 * domain that domain_normalize() accepts.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "milter_dkim.h"
#include "milter_int.h"
#include "msg.h"

static size_t bounded_len(const char *s)
{
    const char *nul = memchr(s, '\0', MILTER_DKIM_MAX_VALUE);
    return nul ? (size_t)(nul - s) : MILTER_DKIM_MAX_VALUE;
}

/* The domain of the first address in a From: value: after the '@' of the
 * "<...>" part if there is one, else of the first "local@domain" word.
 * Comments and display names with an '@' in quotes are rare enough in
 * From: to be taken as they come; an unusable result is "" (not aligned). */
static void from_domain(const char *v, size_t len, char *out, size_t size)
{
    const char *end = v + len, *lt = memchr(v, '<', len), *p, *at = NULL;

    out[0] = '\0';
    p = lt ? lt + 1 : v;
    for (; p < end && *p != '>' && *p != ',' && *p != ';'; p++)
        if (*p == '@')
            at = p;
        else if (!lt && isspace((unsigned char)*p) && at)
            break;
    if (at == NULL)
        return;
    const char *d = at + 1, *e = d;
    while (e < end && (isalnum((unsigned char)*e) || *e == '.' || *e == '-' || *e == '_'))
        e++;
    if (domain_normalize(d, (size_t)(e - d), out, size) < 0)
        out[0] = '\0';
}

/* The d= tag of a DKIM-Signature value (tags split on ';', whitespace,
 * folding included, allowed around names and values). */
static int sig_domain(const char *v, size_t len, char *out, size_t size)
{
    const char *end = v + len, *p = v;

    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p)), *tend = semi ? semi : end;
        while (p < tend && isspace((unsigned char)*p))
            p++;
        if (p < tend && (*p == 'd' || *p == 'D')) {
            const char *q = p + 1;
            while (q < tend && isspace((unsigned char)*q))
                q++;
            if (q < tend && *q == '=') {
                q++;
                while (q < tend && isspace((unsigned char)*q))
                    q++;
                const char *e = tend;
                while (e > q && isspace((unsigned char)e[-1]))
                    e--;
                return domain_normalize(q, (size_t)(e - q), out, size);
            }
        }
        p = semi ? semi + 1 : end;
    }
    return -1;
}

void milter_dkim_header(struct milter_dkim *m, const char *name, const char *value)
{
    if (m == NULL || name == NULL || value == NULL)
        return;
    size_t len = bounded_len(value);
    if (strcasecmp(name, "From") == 0 && !m->from_seen) {
        m->from_seen = 1;
        from_domain(value, len, m->from, sizeof(m->from));
    } else if (strcasecmp(name, "DKIM-Signature") == 0) {
        m->sigs_seen++;
        if (m->nsigs < MILTER_DKIM_MAX_SIGS
            && sig_domain(value, len, m->sig[m->nsigs], sizeof(m->sig[0])) == 0)
            m->nsigs++;
    }
}

int milter_dkim_aligned(const char *d, const char *from)
{
    size_t dl = strlen(d), fl = strlen(from);

    if (dl == 0 || fl == 0 || strchr(d, '.') == NULL)
        return 0;
    if (dl == fl)
        return strcmp(d, from) == 0;
    if (fl > dl)
        return from[fl - dl - 1] == '.' && strcmp(from + fl - dl, d) == 0;
    return d[dl - fl - 1] == '.' && strcmp(d + dl - fl, from) == 0 && strchr(from, '.') != NULL;
}

enum deliver_dkim milter_dkim_result(const struct milter_dkim *m)
{
    if (m->sigs_seen == 0)
        return DKIM_NONE;
    for (size_t i = 0; i < m->nsigs; i++)
        if (milter_dkim_aligned(m->sig[i], m->from))
            return DKIM_ALIGNED;
    return DKIM_UNALIGNED;
}

void milter_dkim_count(const struct milter_dkim *m, const char *relay, const char *mailfrom,
                       uint64_t interval_ms)
{
    enum deliver_dkim r = milter_dkim_result(m);

    if (metrics_deliver_note(relay, m->from, mailfrom, r, clock_mono_ms(), interval_ms))
        msg_info(MILTER_MOD, "detoured mail from %s (MAIL FROM domain %s) via %s: DKIM %s%s%s; "
                 "unless SPF authorises %s's exit for that domain, it fails DMARC "
                 "(mxdetourctl check relays; logged once per %llus per domain)",
                 m->from[0] ? m->from : "(no From: domain)", mailfrom[0] ? mailfrom : "(null sender)",
                 relay, r == DKIM_NONE ? "none" : "signed by ", r == DKIM_NONE ? "" : m->sig[0],
                 r == DKIM_NONE ? "" : ", not aligned with From:", relay,
                 (unsigned long long)(interval_ms / 1000));
}

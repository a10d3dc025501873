/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelnft_tunnel - a kernel-mode tunnel as one line of text and back;
 * see kernelnft.h.  The helper parses what mxdetourd wrote, so the parser
 * trusts nothing: every key once, every value checked, anything else
 * refused with the reason.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernelnft.h"

void kernelnft_tunnel_ident(const char *name, char ident[KERNELNFT_IDENT_MAX])
{
    size_t k = 0;

    for (; name[k] && k < KERNELNFT_IDENT_MAX - 1; k++) {
        char c = name[k];
        ident[k] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
    }
    ident[k] = 0;
}

int kernelnft_tunnel_format(const struct kernel_tunnel *t, char *buf, size_t len)
{
    char a[3][NETADDR_STRLEN];
    int n;

    for (int g = 0; g < 2; g++)
        if (t->gateway[g].family == AF_UNSPEC || netaddr_format(&t->gateway[g], a[g], sizeof(a[g])) == NULL)
            a[g][0] = 0;
    if (!t->has_source || netaddr_format(&t->source, a[2], sizeof(a[2])) == NULL)
        a[2][0] = 0;
    n = snprintf(buf, len, "name=%s,if=%s,table=%u,mark=%u,prio=%u,uid=%ld%s%s%s%s%s%s",
                 t->name, t->ifname, t->table, t->mark, t->priority, t->uid,
                 a[0][0] ? ",gw4=" : "", a[0], a[1][0] ? ",gw6=" : "", a[1],
                 a[2][0] ? ",src=" : "", a[2]);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Letters, digits and ._- only, 1 to max-1 bytes. */
static int valid_word(const char *s, size_t len, size_t max)
{
    if (len == 0 || len >= max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* A decimal number in [min, max]. */
static int parse_num(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (*s == 0 || (*s == '-' ? s[1] < '0' || s[1] > '9' : *s < '0' || *s > '9'))
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int kernelnft_tunnel_parse(const char *text, struct kernel_tunnel *t, char *err, size_t errlen)
{
    static const char *const keys[] = {"name", "if", "table", "mark", "prio", "uid",
                                       "gw4", "gw6", "src", NULL};
    enum { K_NAME, K_IF, K_TABLE, K_MARK, K_PRIO, K_UID, K_GW4, K_GW6, K_SRC, K_COUNT };
    char copy[KERNELNFT_TUNNEL_TEXT_MAX], *save = NULL;
    unsigned seen = 0;

    memset(t, 0, sizeof(*t));
    if (strlen(text) >= sizeof(copy)) {
        snprintf(err, errlen, "tunnel description longer than %d bytes", KERNELNFT_TUNNEL_TEXT_MAX - 1);
        return -1;
    }
    strcpy(copy, text);
    for (char *field = strtok_r(copy, ",", &save); field; field = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(field, '=');
        const char *v;
        int k;
        long num;

        if (eq == NULL) {
            snprintf(err, errlen, "\"%.40s\" is not KEY=VALUE", field);
            return -1;
        }
        *eq = 0;
        v = eq + 1;
        for (k = 0; keys[k] && strcmp(keys[k], field) != 0; k++)
            continue;
        if (keys[k] == NULL) {
            snprintf(err, errlen, "unknown key \"%.20s\"", field);
            return -1;
        }
        if (seen & (1u << k)) {
            snprintf(err, errlen, "key %s given twice", keys[k]);
            return -1;
        }
        seen |= 1u << k;
        switch (k) {
        case K_NAME:
            if (!valid_word(v, strlen(v), sizeof(t->name)))
                goto bad;
            strcpy(t->name, v);
            kernelnft_tunnel_ident(t->name, t->ident);
            break;
        case K_IF:
            if (!valid_word(v, strlen(v), sizeof(t->ifname)))
                goto bad;
            strcpy(t->ifname, v);
            break;
        case K_TABLE:
        case K_MARK:
        case K_PRIO:
            if (parse_num(v, 1, UINT32_MAX, &num) < 0)
                goto bad;
            *(k == K_TABLE ? &t->table : k == K_MARK ? &t->mark : &t->priority) = (uint32_t)num;
            break;
        case K_UID:
            if (parse_num(v, -1, INT_MAX, &num) < 0)
                goto bad;
            t->uid = num;
            break;
        case K_GW4:
        case K_GW6:
        case K_SRC: {
            struct netaddr a;
            if (netaddr_parse(v, &a) < 0 || (k == K_GW4 && a.family != AF_INET)
                || (k == K_GW6 && a.family != AF_INET6))
                goto bad;
            if (k == K_SRC) {
                t->source = a;
                t->has_source = 1;
            } else {
                t->gateway[k == K_GW6] = a;
            }
            break;
        }
        default:
        bad:
            snprintf(err, errlen, "bad value \"%.60s\" for %s", v, keys[k]);
            return -1;
        }
    }
    for (int k = K_NAME; k <= K_UID; k++)
        if (!(seen & (1u << k))) {
            snprintf(err, errlen, "key %s missing", keys[k]);
            return -1;
        }
    return 0;
}

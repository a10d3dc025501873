/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include "netaddr.h"

int netaddr_parse_len(const char *text, size_t len, struct netaddr *addr)
{
    char buf[NETADDR_STRLEN + 8];

    if (len >= 5 && strncasecmp(text, "IPv6:", 5) == 0) {
        text += 5;
        len -= 5;
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len);
    buf[len] = 0;
    memset(addr, 0, sizeof(*addr));
    if (inet_pton(AF_INET, buf, addr->bytes) == 1) {
        addr->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, addr->bytes) == 1) {
        addr->family = AF_INET6;
        return 0;
    }
    return -1;
}

int netaddr_parse(const char *text, struct netaddr *addr)
{
    return netaddr_parse_len(text, strlen(text), addr);
}

const char *netaddr_format(const struct netaddr *addr, char *buf, size_t size)
{
    if (inet_ntop(addr->family, addr->bytes, buf, (socklen_t)size) == NULL)
        return NULL;
    return buf;
}

const char *netaddr_canon(const char *text, char *buf, size_t size)
{
    struct netaddr a;

    if (netaddr_parse(text, &a) < 0)
        return NULL;
    return netaddr_format(&a, buf, size);
}

int netaddr_equal(const struct netaddr *a, const struct netaddr *b)
{
    return a->family == b->family
           && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

int domain_normalize(const char *text, size_t len, char *buf, size_t size)
{
    size_t label = 0;

    if (len > 0 && text[len - 1] == '.')
        len--;
    if (len == 0 || len > DOMAIN_MAXLEN || len >= size)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '.') {
            if (label == 0)
                return -1;      /* empty label */
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (++label > 63)
                return -1;
        } else {
            return -1;
        }
        buf[i] = (char)tolower(c);
    }
    buf[len] = 0;
    return 0;
}

int domain_of_address(const char *address, char *buf, size_t size)
{
    const char *at = strrchr(address, '@');
    size_t len;

    if (at == NULL)
        return -1;
    at++;
    len = strlen(at);
    if (len > 0 && at[len - 1] == '>')
        len--;
    return domain_normalize(at, len, buf, size);
}

int netaddr_sockaddr(const struct netaddr *a, int port, struct sockaddr_storage *ss,
                     socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        *len = sizeof(*sin);
    } else if (a->family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        *len = sizeof(*sin6);
    } else {
        return -1;
    }
    return 0;
}

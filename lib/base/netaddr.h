/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * netaddr - IPv4 and IPv6 addresses and domain names as mxdetour keys them.
 *
 * Addresses are parsed strictly (inet_pton) and formatted canonically, so
 * "2001:DB8::0:1" and "2001:db8::1" are one Redis key.  Domains are
 * lower-cased, stripped of one trailing dot and checked against RFC 1035
 * lengths and the characters a mail domain may hold.
 */
#ifndef MXD_NETADDR_H
#define MXD_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NETADDR_STRLEN 46      /* INET6_ADDRSTRLEN */
#define DOMAIN_MAXLEN 253

struct netaddr {
    int family;                /* AF_INET or AF_INET6 */
    uint8_t bytes[16];         /* network order; IPv4 uses the first 4 */
};

/* 0 on success; accepts an optional "IPv6:" prefix as Postfix logs it. */
int netaddr_parse(const char *text, struct netaddr *addr);
int netaddr_parse_len(const char *text, size_t len, struct netaddr *addr);
const char *netaddr_format(const struct netaddr *addr, char *buf, size_t size);
/* Canonical text of text into buf (NETADDR_STRLEN); NULL if not an address. */
const char *netaddr_canon(const char *text, char *buf, size_t size);
int netaddr_equal(const struct netaddr *a, const struct netaddr *b);

/* The socket address of a and port in ss, its length in len; 0, or -1 for
 * another family. */
int netaddr_sockaddr(const struct netaddr *a, int port, struct sockaddr_storage *ss,
                     socklen_t *len);

/*
 * Copies a normalised domain into buf (DOMAIN_MAXLEN + 1 bytes).
 * Returns 0, or -1 when text is not a plausible mail domain.
 */
int domain_normalize(const char *text, size_t len, char *buf, size_t size);
/* The domain of "local@domain" (angle brackets allowed), normalised. */
int domain_of_address(const char *address, char *buf, size_t size);

#endif

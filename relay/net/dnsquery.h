/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsquery - relay/net/mxresolve.c's DNS plumbing, and nothing else's: a c-ares
 * channel driven by a libevent event_base, and the parsers of the answers
 * mxresolve asks for (MX, A, AAAA).
 *
 * dnsquery_open() starts a channel on base: its options (timeout per try,
 * tries, EDNS) and servers come from the mxresolve_opts, as mxresolve.h
 * describes.  From then on c-ares's sockets and its timeout are events on
 * base; the caller sends queries with ares_query(dq->channel, ...) and calls
 * dnsquery_reschedule() after every call into c-ares that may have started
 * a query.  dnsquery_close() sets closing (query callbacks that see it must
 * only free their argument), destroys the channel, whose pending queries
 * then complete with ARES_EDESTRUCTION, and frees the events.
 *
 * dnsquery_parse_mx() reads an MX answer into struct mxrec[MX_PARSE_MAX]:
 * normalised names, sorted by preference and name, invalid names left out,
 * "" for the root of a null MX.  dnsquery_parse_addrs() adds the addresses
 * of an A or AAAA answer to a struct hwork.  Both lower *min_ttl to the
 * smallest TTL they read, and return -1 for a malformed answer.
 *
 * Ownership and loop: struct dnsquery is a member of struct mxresolve;
 * everything runs on its event_base, in the thread of the loop.
 */
#ifndef MXD_DNSQUERY_H
#define MXD_DNSQUERY_H

#include <ares.h>
#include <stddef.h>
#include <stdint.h>

#include "mxresolve.h"
#include "netaddr.h"

#define T_A_ 1
#define T_CNAME_ 5
#define T_MX_ 15
#define T_AAAA_ 28
#define C_IN_ 1
#define MX_PARSE_MAX 64             /* MX records read from one answer */

struct event;
struct sockev;

struct dnsquery {
    struct event_base *base;
    ares_channel channel;
    int channel_ok, closing;
    struct event *timer;
    struct sockev *socks;           /* one event per socket c-ares opens */
};

/* What the A and AAAA answers for one MX host gave, so far. */
struct hwork {
    char name[DOMAIN_MAXLEN + 1];
    unsigned pref;
    size_t n4, n6;
    struct netaddr v4[MX_MAX_ADDRS], v6[MX_MAX_ADDRS];
    int tempfail, nxdomain;
};

struct mxrec {
    unsigned pref;
    char name[DOMAIN_MAXLEN + 1];   /* normalised; "" for the root (null MX) */
};

/* 0, or -1 (after msg_warn when c-ares refused); dnsquery_close() cleans up
 * after either.  dq must be zeroed; o may be NULL. */
int dnsquery_open(struct dnsquery *dq, struct event_base *base, const struct mxresolve_opts *o);
void dnsquery_close(struct dnsquery *dq);
void dnsquery_reschedule(struct dnsquery *dq);

/* The number of records in rec, or -1 when the answer is malformed. */
int dnsquery_parse_mx(const unsigned char *abuf, int alen, struct mxrec *rec, uint32_t *min_ttl);
/* 0, or -1 when the answer is malformed. */
int dnsquery_parse_addrs(const unsigned char *abuf, int alen, int type, struct hwork *h,
                         uint32_t *min_ttl);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelnft - the kernel's side of the per-address detour (docs/kernel.md):
 * the nftables table "inet mxdetour" and the policy routing of each tunnel
 * relay in mode "kernel".  Everything here but the tunnels' text form needs
 * CAP_NET_ADMIN: it runs in the root helper, mxdetour-helper (changes), and
 * in mxdetourctl run as root (listing).
 *
 * For a tunnel whose name is made into the identifier ID (letters, digits
 * and '_'; other characters become '_'), the table holds
 *
 *   set d4_ID { type ipv4_addr; }   set d6_ID { type ipv6_addr; }
 *   chain out_ID { type route hook output priority mangle; }
 *       meta skuid UID ip daddr @d4_ID tcp dport 25 meta mark set MARK
 *       meta skuid UID ip6 daddr @d6_ID tcp dport 25 meta mark set MARK
 *
 * The output hook sees only connections this host opens, never forwarded
 * traffic, and UID (mta_user, Postfix's) narrows it to the MTA's own: the
 * probes of mxdetourd, which runs as another user, still go direct and so
 * still tell when a block lifts.  A "route" chain makes the
 * kernel look the route up again after the mark is set, and the policy
 * routing sends marked packets into the tunnel:
 *
 *   ip rule   fwmark MARK lookup TABLE priority PRIO   (IPv4 and IPv6)
 *   ip rule   from SOURCE_ADDRESS lookup TABLE priority PRIO  (health probes)
 *   ip route  default [via GATEWAY] dev INTERFACE table TABLE  (each family)
 *
 * kernelnft_ensure() creates what is missing and rewrites the chain (one
 * nftables transaction: the rules are never absent), and never touches the
 * sets' elements: they outlive mxdetourd.  kernelnft_apply() changes
 * elements in one transaction: additions, and removals of the addresses
 * that are present; or, with a wanted list, whatever makes the sets equal
 * to it.  A failed transaction changes nothing.
 *
 * Ownership: the caller owns every array passed in; kernelnft_list()
 * returns a malloc'd array the caller frees.  Not thread-safe (one nftables
 * context per call).
 */
#ifndef MXD_KERNELNFT_H
#define MXD_KERNELNFT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define KERNELNFT_TABLE "mxdetour"
#define KERNELNFT_MAX_TUNNELS 8
#define KERNELNFT_IDENT_MAX 70

struct kernel_tunnel {
    char name[65];                  /* the relay's name */
    char ident[KERNELNFT_IDENT_MAX];  /* for nftables names, see above */
    char ifname[IF_NAMESIZE];
    uint32_t table, mark, priority;
    long uid;                       /* mta_user's uid; -1: no such user */
    int has_source;
    struct netaddr gateway[2], source;  /* next hops, by family (AF_UNSPEC: none) */
};

/*
 * A tunnel as one line of text, the form in which mxdetourd hands the
 * tunnels to the helper on its command line (kernelnft_tunnel.c):
 *
 *   name=NAME,if=IFNAME,table=N,mark=N,prio=N,uid=N[,gw4=A][,gw6=A][,src=A]
 *
 * The ident is made from the name on both sides.  kernelnft_tunnel_format()
 * returns 0, or -1 when len is too small.  kernelnft_tunnel_parse() checks
 * every field (names of at most their size in [A-Za-z0-9._-], numbers in
 * range, addresses of the family the key says, no key twice, none unknown)
 * and returns 0, or -1 with the reason in err.
 */
#define KERNELNFT_TUNNEL_TEXT_MAX 320
void kernelnft_tunnel_ident(const char *name, char ident[KERNELNFT_IDENT_MAX]);
int kernelnft_tunnel_format(const struct kernel_tunnel *t, char *buf, size_t len);
int kernelnft_tunnel_parse(const char *text, struct kernel_tunnel *t, char *err, size_t errlen);

/* Table, sets, chain, rules, ip rules and routes of t; 0, or -1 with err,
 * or 1 when all but the IPv6 route is done (err says why it is not). */
int kernelnft_ensure(const struct kernel_tunnel *t, char *err, size_t errlen);

/*
 * Changes the elements of t's sets in one transaction.  Without sync:
 * add[] is added and each del[] present is removed.  With sync (add and
 * del unused): the sets become exactly want[] (which may be empty).  *added and
 * *removed say how many changed.  0, or -1 with err (nothing changed).
 */
int kernelnft_apply(const struct kernel_tunnel *t, const struct netaddr *add, size_t nadd,
                    const struct netaddr *del, size_t ndel, int sync, const struct netaddr *want,
                    size_t nwant, size_t *added, size_t *removed, char *err, size_t errlen);

/* The elements of t's sets (both families) into *out (malloc'd, *n of them);
 * 0 (an absent table or set is empty), or -1 with err. */
int kernelnft_list(const struct kernel_tunnel *t, struct netaddr **out, size_t *n,
                   char *err, size_t errlen);

#endif

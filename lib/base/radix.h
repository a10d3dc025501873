/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * radix - longest-prefix match over IPv4 and IPv6 prefixes.
 *
 * A path-compressed binary trie (one per address family, so 10.0.0.0/8 and
 * ::a00:0/104 never meet) that maps prefixes to 24-bit values: the caller
 * keeps its records in an array and stores their indexes here.  Hosts (/32,
 * /128), most of a registry dump, sit in a hash set beside the trie.  A
 * lookup costs one hash probe and at most one trie node per distinct prefix
 * length on its path: a fraction of a microsecond with a million entries.
 *
 *   struct radix *r = radix_new(0);
 *   radix_insert(r, &prefix, 24, 17, NULL);      10.1.2.0/24 -> record 17
 *   if (radix_lookup(r, &addr, &m)) ...          m.value, m.prefix, m.len
 *   radix_free(r);
 *
 * Memory: trie nodes live in one flat array per family (16 bytes a node for
 * IPv4, 28 for IPv6; at most two nodes per prefix), hosts in an open hash
 * table at most 7/8 full (8 bytes a slot for IPv4, 20 for IPv6).
 * radix_new() takes a bound on the bytes all of them may hold; an insert
 * that would pass it fails, and radix_bytes() says what is held now.
 * radix_compact() gives back the trie's spare capacity once loading is done.
 *
 * Ownership: the radix owns its arrays; radix_free() releases them.
 * Threads: inserts need exclusive access; once loading is done the radix is
 * read-only and any number of threads may look up at once.
 */
#ifndef MXD_RADIX_H
#define MXD_RADIX_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

#define RADIX_VALUE_MAX 0xFFFFFEu                   /* values are 24 bits */
#define RADIX_DEFAULT_LIMIT ((size_t)1 << 30)       /* bytes, when 0 is given */

enum radix_status {
    RADIX_ADDED = 0,        /* a new prefix */
    RADIX_EXISTS = 1,       /* already there: its value is kept, *old says it */
    RADIX_ERROR = -1,       /* bad length or value, memory bound, no memory */
};

struct radix;

struct radix_match {
    struct netaddr prefix;  /* the matching prefix, host bits zero */
    unsigned len;           /* its length: 0..32 or 0..128 */
    uint32_t value;
};

/* A new empty radix whose node arrays may hold max_bytes (0: the default).
 * NULL when out of memory. */
struct radix *radix_new(size_t max_bytes);

/* Adds prefix/len -> value.  Bits of prefix beyond len are ignored
 * (10.1.2.3/24 is 10.1.2.0/24).  len is at most 32 for IPv4, 128 for IPv6;
 * value at most RADIX_VALUE_MAX.  The first value given for a prefix stays;
 * a later insert of the same prefix returns RADIX_EXISTS and, when old is not
 * NULL, stores the kept value there. */
enum radix_status radix_insert(struct radix *r, const struct netaddr *prefix, unsigned len,
                               uint32_t value, uint32_t *old);

/* The longest prefix holding addr, of addr's family.  1 and *m filled when
 * there is one, else 0. */
int radix_lookup(const struct radix *r, const struct netaddr *addr, struct radix_match *m);

/* Prefixes held for one family (AF_INET, AF_INET6), or both (0). */
size_t radix_count(const struct radix *r, int family);
/* Hosts (/32, /128) held for one family. */
size_t radix_hosts(const struct radix *r, int family);
/* Room for `hosts` more hosts of family (AF_INET, AF_INET6) without a
 * rehash: a loader that knows about how many it will insert (a new version
 * of a feed) avoids holding the old and the doubled set at once.  0, or -1
 * past the memory bound or out of memory. */
int radix_reserve_hosts(struct radix *r, int family, size_t hosts);
/* Bytes held by the radix, spare capacity included. */
size_t radix_bytes(const struct radix *r);
/* Releases spare capacity; call after the last insert. */
void radix_compact(struct radix *r);
void radix_free(struct radix *r);

#endif

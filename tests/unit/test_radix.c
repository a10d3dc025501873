/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/base/radix: longest-prefix match checked against a brute-force
 * search over random prefixes, /0 defaults, overlaps, family separation,
 * duplicates, bad arguments and the memory bound. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check_main.h"
#include "netaddr.h"
#include "radix.h"

static struct netaddr addr(const char *text)
{
    struct netaddr a;
    ck_assert_msg(netaddr_parse(text, &a) == 0, "bad test address %s", text);
    return a;
}

static void add(struct radix *r, const char *text, unsigned len, uint32_t value)
{
    struct netaddr a = addr(text);
    ck_assert_int_eq(radix_insert(r, &a, len, value, NULL), RADIX_ADDED);
}

/* The value of the longest match of text, or -1. */
static long find(const struct radix *r, const char *text, unsigned *len)
{
    struct netaddr a = addr(text);
    struct radix_match m;
    if (!radix_lookup(r, &a, &m))
        return -1;
    if (len)
        *len = m.len;
    return (long)m.value;
}

START_TEST(overlapping_prefixes)
{
    struct radix *r = radix_new(0);
    unsigned len;
    char buf[NETADDR_STRLEN];
    struct radix_match m;

    /* Inserted out of order: specific before general and back. */
    add(r, "10.1.2.0", 24, 3);
    add(r, "10.0.0.0", 8, 1);
    add(r, "10.1.2.3", 32, 4);
    add(r, "10.1.0.0", 16, 2);
    add(r, "10.1.2.128", 25, 5);
    ck_assert_int_eq(find(r, "10.1.2.3", &len), 4);
    ck_assert_uint_eq(len, 32);
    ck_assert_int_eq(find(r, "10.1.2.4", &len), 3);
    ck_assert_uint_eq(len, 24);
    ck_assert_int_eq(find(r, "10.1.2.200", &len), 5);
    ck_assert_int_eq(find(r, "10.1.3.1", &len), 2);
    ck_assert_int_eq(find(r, "10.200.0.1", &len), 1);
    ck_assert_uint_eq(len, 8);
    ck_assert_int_eq(find(r, "11.0.0.1", NULL), -1);
    ck_assert_int_eq(find(r, "9.255.255.255", NULL), -1);
    ck_assert_uint_eq(radix_count(r, AF_INET), 5);
    ck_assert_uint_eq(radix_count(r, AF_INET6), 0);

    /* The match names the prefix with its host bits cleared. */
    struct netaddr a = addr("10.1.2.77");
    ck_assert_int_eq(radix_lookup(r, &a, &m), 1);
    ck_assert_str_eq(netaddr_format(&m.prefix, buf, sizeof(buf)), "10.1.2.0");
    radix_free(r);
}
END_TEST

START_TEST(default_routes_and_families)
{
    struct radix *r = radix_new(0);
    unsigned len;

    add(r, "0.0.0.0", 0, 40);
    ck_assert_int_eq(find(r, "1.2.3.4", &len), 40);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(find(r, "255.255.255.255", NULL), 40);
    /* An IPv4 default says nothing about IPv6, mapped addresses included. */
    ck_assert_int_eq(find(r, "::ffff:1.2.3.4", NULL), -1);
    ck_assert_int_eq(find(r, "2001:db8::1", NULL), -1);

    add(r, "::", 0, 60);
    add(r, "2001:db8::", 32, 61);
    add(r, "2001:db8::1", 128, 62);
    add(r, "::ffff:10.0.0.0", 104, 63);
    ck_assert_int_eq(find(r, "2001:db8::1", &len), 62);
    ck_assert_uint_eq(len, 128);
    ck_assert_int_eq(find(r, "2001:db8::2", &len), 61);
    ck_assert_int_eq(find(r, "2001:db9::1", &len), 60);
    ck_assert_int_eq(find(r, "::ffff:10.9.9.9", NULL), 63);
    ck_assert_int_eq(find(r, "10.9.9.9", NULL), 40);
    ck_assert_uint_eq(radix_count(r, AF_INET6), 4);
    ck_assert_uint_eq(radix_count(r, 0), 5);
    radix_free(r);
}
END_TEST

START_TEST(host_boundaries)
{
    struct radix *r = radix_new(0);

    add(r, "192.0.2.1", 32, 1);
    add(r, "192.0.2.0", 31, 2);
    add(r, "2001:db8::ffff", 128, 3);
    add(r, "2001:db8::fffe", 127, 4);
    ck_assert_int_eq(find(r, "192.0.2.1", NULL), 1);
    ck_assert_int_eq(find(r, "192.0.2.0", NULL), 2);
    ck_assert_int_eq(find(r, "192.0.2.2", NULL), -1);
    ck_assert_int_eq(find(r, "2001:db8::ffff", NULL), 3);
    ck_assert_int_eq(find(r, "2001:db8::fffe", NULL), 4);
    ck_assert_int_eq(find(r, "2001:db8::fffd", NULL), -1);
    radix_free(r);
}
END_TEST

START_TEST(duplicates_keep_the_first)
{
    struct radix *r = radix_new(0);
    struct netaddr a = addr("10.1.2.3");
    uint32_t old = 0;

    ck_assert_int_eq(radix_insert(r, &a, 24, 7, NULL), RADIX_ADDED);
    ck_assert_int_eq(radix_insert(r, &a, 24, 8, &old), RADIX_EXISTS);
    ck_assert_uint_eq(old, 7);
    a = addr("10.1.2.99");              /* other host bits, same prefix */
    ck_assert_int_eq(radix_insert(r, &a, 24, 9, &old), RADIX_EXISTS);
    ck_assert_int_eq(find(r, "10.1.2.1", NULL), 7);
    ck_assert_uint_eq(radix_count(r, AF_INET), 1);

    /* A branch point made by two prefixes can later become a prefix. */
    add(r, "10.1.3.0", 24, 10);         /* branch at 10.1.2.0/23 */
    ck_assert_int_eq(find(r, "10.1.2.1", NULL), 7);
    add(r, "10.1.2.0", 23, 11);
    ck_assert_int_eq(find(r, "10.1.3.1", NULL), 10);
    ck_assert_int_eq(find(r, "10.1.2.1", NULL), 7);
    ck_assert_uint_eq(radix_count(r, AF_INET), 3);
    radix_free(r);
}
END_TEST

START_TEST(bad_arguments)
{
    struct radix *r = radix_new(0);
    struct netaddr a = addr("10.1.2.3"), b = addr("2001:db8::");

    ck_assert_int_eq(radix_insert(r, &a, 33, 1, NULL), RADIX_ERROR);
    ck_assert_int_eq(radix_insert(r, &b, 129, 1, NULL), RADIX_ERROR);
    ck_assert_int_eq(radix_insert(r, &a, 8, RADIX_VALUE_MAX + 1, NULL), RADIX_ERROR);
    ck_assert_int_eq(radix_insert(r, &a, 8, RADIX_VALUE_MAX, NULL), RADIX_ADDED);
    ck_assert_int_eq(find(r, "10.0.0.0", NULL), (long)RADIX_VALUE_MAX);
    a.family = AF_UNIX;
    ck_assert_int_eq(radix_insert(r, &a, 8, 1, NULL), RADIX_ERROR);
    ck_assert_int_eq(radix_lookup(r, &a, NULL), 0);
    ck_assert_uint_eq(radix_count(r, 0), 1);
    radix_free(r);
    radix_free(NULL);
}
END_TEST

/* xorshift64*: a fixed sequence, so a failure repeats. */
static uint64_t rnd_state;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ULL;
}

struct ref {
    struct netaddr a;       /* host bits cleared */
    unsigned len;
    uint32_t value;
};

static int bits_match(const struct netaddr *a, const struct netaddr *b, unsigned len)
{
    unsigned full = len / 8, rest = len % 8;
    if (memcmp(a->bytes, b->bytes, full) != 0)
        return 0;
    return rest == 0 || ((a->bytes[full] ^ b->bytes[full]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

static void clear_host_bits(struct netaddr *a, unsigned len)
{
    for (unsigned i = len; i < 128; i++)
        a->bytes[i / 8] &= (uint8_t)~(1u << (7 - i % 8));
}

/* Random prefixes near a few bases (so they nest and share paths), then
 * random lookups near the same bases, each checked against a scan of all. */
static void random_against_brute_force(int family, unsigned nprefixes, unsigned nlookups)
{
    unsigned bits = family == AF_INET ? 32 : 128, nbytes = bits / 8;
    struct ref *refs = calloc(nprefixes, sizeof(*refs));
    struct netaddr bases[8];
    struct radix *r = radix_new(0);
    unsigned n = 0;

    rnd_state = 0x9E3779B97F4A7C15ULL ^ (uint64_t)family;
    for (unsigned i = 0; i < 8; i++) {
        memset(&bases[i], 0, sizeof(bases[i]));
        bases[i].family = family;
        for (unsigned k = 0; k < nbytes; k++)
            bases[i].bytes[k] = (uint8_t)rnd();
    }
    for (unsigned i = 0; i < nprefixes; i++) {
        struct netaddr a = bases[rnd() % 8];
        /* keep a random number of the base's leading bits, randomise the rest */
        unsigned keep = (unsigned)(rnd() % (bits + 1));
        for (unsigned k = keep; k < bits; k++)
            if (rnd() & 1)
                a.bytes[k / 8] ^= (uint8_t)(1u << (7 - k % 8));
        /* from bits/4 up: shorter ones would cover every lookup (/0 and
         * friends have their own tests) */
        unsigned len = bits / 4 + (unsigned)(rnd() % (bits - bits / 4 + 1));
        if (rnd() % 4 == 0)
            len = bits;                 /* plenty of hosts */
        clear_host_bits(&a, len);
        uint32_t old;
        enum radix_status st = radix_insert(r, &a, len, i, &old);
        int dup = 0;
        for (unsigned k = 0; k < n && !dup; k++)
            dup = refs[k].len == len && netaddr_equal(&refs[k].a, &a);
        ck_assert_int_eq(st, dup ? RADIX_EXISTS : RADIX_ADDED);
        if (!dup)
            refs[n++] = (struct ref){a, len, i};
    }
    ck_assert_uint_eq(radix_count(r, family), n);
    size_t before = radix_bytes(r);
    radix_compact(r);
    ck_assert_uint_le(radix_bytes(r), before);
    /* at most two nodes a prefix */
    ck_assert_uint_le(radix_bytes(r), 1024 + (size_t)2 * (n + 1) * (family == AF_INET ? 16 : 28));

    unsigned hits = 0;
    for (unsigned i = 0; i < nlookups; i++) {
        struct netaddr q = bases[rnd() % 8];
        unsigned keep = i % 4 == 0 ? 0 : (unsigned)(rnd() % (bits + 1));   /* some anywhere */
        for (unsigned k = keep; k < bits; k++)
            if (rnd() & 1)
                q.bytes[k / 8] ^= (uint8_t)(1u << (7 - k % 8));
        long want = -1;
        unsigned want_len = 0;
        for (unsigned k = 0; k < n; k++)
            if ((want < 0 || refs[k].len > want_len) && bits_match(&refs[k].a, &q, refs[k].len)) {
                want = refs[k].value;
                want_len = refs[k].len;
            }
        struct radix_match m;
        int got = radix_lookup(r, &q, &m);
        ck_assert_int_eq(got, want >= 0);
        if (got) {
            hits++;
            ck_assert_uint_eq(m.value, (uint32_t)want);
            ck_assert_uint_eq(m.len, want_len);
            ck_assert(bits_match(&m.prefix, &q, m.len));
        }
    }
    ck_assert_uint_gt(hits, nlookups / 10);     /* the test does test matches */
    ck_assert_uint_lt(hits, nlookups);          /* and misses */
    radix_free(r);
    free(refs);
}

START_TEST(random_ipv4_against_brute_force)
{
    random_against_brute_force(AF_INET, 3000, 20000);
}
END_TEST

START_TEST(random_ipv6_against_brute_force)
{
    random_against_brute_force(AF_INET6, 3000, 20000);
}
END_TEST

START_TEST(memory_bound)
{
    struct radix *r = radix_new(64 * 1024);
    struct netaddr a = addr("10.0.0.0");
    unsigned added = 0;
    enum radix_status st = RADIX_ADDED;

    for (uint32_t i = 0; i < 100000 && st == RADIX_ADDED; i++) {
        a.bytes[1] = (uint8_t)(i >> 16);
        a.bytes[2] = (uint8_t)(i >> 8);
        a.bytes[3] = (uint8_t)i;
        st = radix_insert(r, &a, 32, i, NULL);
        if (st == RADIX_ADDED)
            added++;
    }
    ck_assert_int_eq(st, RADIX_ERROR);
    ck_assert_uint_gt(added, 1000);
    ck_assert_uint_le(radix_bytes(r), 64 * 1024 + 1024);
    /* What was added stays usable. */
    ck_assert_int_eq(find(r, "10.0.0.5", NULL), 5);
    ck_assert_uint_eq(radix_count(r, AF_INET), added);
    radix_free(r);
}
END_TEST

/* A reserved host set holds what was asked for without growing, and its
 * hosts (added before and after) are all found. */
START_TEST(reserved_hosts_do_not_rehash)
{
    struct radix *r = radix_new(0);
    struct netaddr a = addr("10.0.0.0");

    add(r, "10.9.9.9", 32, 7);
    add(r, "2001:db8::1", 128, 8);
    ck_assert_uint_eq(radix_hosts(r, AF_INET), 1);
    ck_assert_uint_eq(radix_hosts(r, AF_INET6), 1);
    ck_assert_int_eq(radix_reserve_hosts(r, AF_INET, 5000), 0);
    size_t bytes = radix_bytes(r);
    for (uint32_t i = 0; i < 5000; i++) {
        a.bytes[2] = (uint8_t)(i >> 8);
        a.bytes[3] = (uint8_t)i;
        ck_assert_int_eq(radix_insert(r, &a, 32, i, NULL), RADIX_ADDED);
    }
    ck_assert_uint_eq(radix_bytes(r), bytes);
    ck_assert_int_eq(find(r, "10.9.9.9", NULL), 7);
    ck_assert_int_eq(find(r, "10.0.19.135", NULL), 19 * 256 + 135);
    ck_assert_int_eq(find(r, "2001:db8::1", NULL), 8);
    ck_assert_int_eq(radix_reserve_hosts(r, AF_INET, 0), 0);    /* room enough: nothing to do */
    ck_assert_uint_eq(radix_bytes(r), bytes);
    ck_assert_int_eq(radix_reserve_hosts(r, 0, 10), -1);
    radix_free(r);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("radix");
    TCase *tc = tcase_create("radix");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, overlapping_prefixes);
    tcase_add_test(tc, reserved_hosts_do_not_rehash);
    tcase_add_test(tc, default_routes_and_families);
    tcase_add_test(tc, host_boundaries);
    tcase_add_test(tc, duplicates_keep_the_first);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, random_ipv4_against_brute_force);
    tcase_add_test(tc, random_ipv6_against_brute_force);
    tcase_add_test(tc, memory_bound);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/evidence/feed, lib/evidence/feed_registry and relay/ctl/ctl_feed: both feed
 * formats from generated files (cp1251, CRLF, IPv6, every prefix length,
 * empty IPS, quoted fields, malformed lines), the truncation guard, and
 * "mxdetourctl feed test" output. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "ctl.h"
#include "feed.h"
#include "msg.h"
#include "netaddr.h"

int ctl_feed_test(struct ctl *c, const char *file, char **addrs, int naddrs);

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mxd-feed.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes data to a file in the test's directory; the path, in a ring of buffers. */
static const char *write_file(const char *name, const char *data, size_t len)
{
    static char paths[4][128];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 128, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}
#define WRITE(name, lit) write_file(name, lit, sizeof(lit) - 1)

static struct feed *load(const char *path, struct feed_report *rep)
{
    return feed_load("test", path, FEED_AUTO, NULL, 0, rep);
}

/* The line that lists addr, 0 when none; *hit filled. */
static unsigned long listed(const struct feed *f, const char *addr, struct feed_hit *hit)
{
    struct netaddr a;
    struct feed_hit h = {0};
    ck_assert_msg(netaddr_parse(addr, &a) == 0, "bad test address %s", addr);
    if (hit)
        *hit = h;
    return feed_lookup(f, &a, hit ? hit : &h) ? (hit ? hit : &h)->line : 0;
}

static const char *prefix_of(const struct feed_hit *h, char *buf)
{
    char a[NETADDR_STRLEN];
    sprintf(buf, "%s/%u", netaddr_format(&h->prefix, a, sizeof(a)), h->prefix_len);
    return buf;
}

/* cp1251: "Генпрокуратура", "Роскомнадзор", "Решение «№ 1»", "ООО ""Рога""". */
#define GENPROK "\xc3\xe5\xed\xef\xf0\xee\xea\xf3\xf0\xe0\xf2\xf3\xf0\xe0"
#define RKN "\xd0\xee\xf1\xea\xee\xec\xed\xe0\xe4\xe7\xee\xf0"
#define RESHENIE "\xd0\xe5\xf8\xe5\xed\xe8\xe5 \xab\xb9 1\xbb"
#define OOO_ROGA "\"\xce\xce\xce \"\"\xd0\xee\xe3\xe0\"\"\""

static const char registry[] =
    "Updated: 2026-11-20 10:00:00 +0000\r\n"
    "1.2.3.4;example.com;http://example.com/;" GENPROK ";27-31-2020/\xc8\xe4" "2971-20;2020-04-16\r\n"
    "185.70.40.0/24 | 2a02:6b8::/32 | 5.6.7.8;mail.example;;" RKN ";" RESHENIE ";2020-04-17\r\n"
    ";blocked-by-name.example;https://x.example/;\xf1\xf3\xe4;2-1/2019;2019-01-01\r\n"
    "9.9.9.9;q.example;\"http://q.example/a;b=\"\"c\"\";d\";org;dec;2021-01-01\r\n"
    "8.8.8.0/24;x.example;;" OOO_ROGA ";d;2021-02-03\r\n"
    "2001:db8::1 | 2001:db8:1::/48;v6.example;;;;\r\n";

START_TEST(registry_fields_and_encoding)
{
    struct feed_report rep;
    struct feed_hit h;
    char p[64];
    struct feed *f = load(WRITE("dump.csv", registry), &rep);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rep.status, FEED_LOADED);
    ck_assert_int_eq(rep.format, FEED_REGISTRY);
    ck_assert_str_eq(rep.updated, "2026-11-20 10:00:00 +0000");
    ck_assert_uint_eq(rep.lines, 7);
    ck_assert_uint_eq(rep.bad, 0);
    ck_assert_uint_eq(rep.entries, 8);
    ck_assert_uint_eq(rep.listing_lines, 5);

    ck_assert_uint_eq(listed(f, "1.2.3.4", &h), 2);
    ck_assert_str_eq(h.feed, "test");
    ck_assert_str_eq(h.org, "Генпрокуратура");
    ck_assert_str_eq(h.decision, "27-31-2020/Ид2971-20");
    ck_assert_str_eq(h.date, "2020-04-16");
    ck_assert_str_eq(prefix_of(&h, p), "1.2.3.4/32");

    ck_assert_uint_eq(listed(f, "185.70.40.101", &h), 3);
    ck_assert_str_eq(prefix_of(&h, p), "185.70.40.0/24");
    ck_assert_str_eq(h.org, "Роскомнадзор");
    ck_assert_str_eq(h.decision, "Решение «№ 1»");
    ck_assert_uint_eq(listed(f, "2a02:6b8:0:1::25", &h), 3);
    ck_assert_str_eq(prefix_of(&h, p), "2a02:6b8::/32");
    ck_assert_uint_eq(listed(f, "5.6.7.8", NULL), 3);

    /* a quoted URL with ';' and "" inside does not shift the fields */
    ck_assert_uint_eq(listed(f, "9.9.9.9", &h), 5);
    ck_assert_str_eq(h.org, "org");
    ck_assert_str_eq(h.date, "2021-01-01");
    ck_assert_uint_eq(listed(f, "8.8.8.8", &h), 6);
    ck_assert_str_eq(h.org, "ООО \"Рога\"");
    ck_assert_uint_eq(listed(f, "2001:db8:1:ffff::1", &h), 7);
    ck_assert_str_eq(h.decision, "");
    ck_assert_uint_eq(listed(f, "2001:db8::1", NULL), 7);
    ck_assert_uint_eq(listed(f, "2001:db8::2", NULL), 0);
    ck_assert_uint_eq(listed(f, "1.2.3.5", NULL), 0);
    ck_assert_uint_eq(listed(f, "::ffff:1.2.3.4", NULL), 0);
    ck_assert_uint_eq(feed_entries(f), 8);
    ck_assert_int_eq(feed_get_format(f), FEED_REGISTRY);
    ck_assert_str_eq(feed_name(f), "test");
    ck_assert_uint_le(feed_bytes(f), 8192);       /* trimmed to size */
    feed_free(f);
}
END_TEST

START_TEST(cp1251_conversion)
{
    char out[64];
    ck_assert_uint_eq(feed_cp1251_to_utf8("\x80\x98\xa8\xb8\xb9\xc0\xff", 7, 0, out, sizeof(out)), 16);
    ck_assert_str_eq(out, "Ђ\xef\xbf\xbdЁё№Ая");
    /* whole characters only: three 2-byte letters into 6 bytes keep two */
    ck_assert_uint_eq(feed_cp1251_to_utf8("\xe6\xe6\xe6", 3, 0, out, 6), 4);
    ck_assert_str_eq(out, "жж");
    ck_assert_uint_eq(feed_cp1251_to_utf8("\xe6", 1, 0, out, 2), 0);
    ck_assert_str_eq(out, "");
    /* blanks trimmed, controls become spaces, "" unescaped only when quoted */
    feed_cp1251_to_utf8("  a\tb\x01 ", 8, 0, out, sizeof(out));
    ck_assert_str_eq(out, "a b");
    feed_cp1251_to_utf8("x\"\"y", 4, 1, out, sizeof(out));
    ck_assert_str_eq(out, "x\"y");
    feed_cp1251_to_utf8("x\"\"y", 4, 0, out, sizeof(out));
    ck_assert_str_eq(out, "x\"\"y");
}
END_TEST

START_TEST(field_splitting)
{
    struct feed_field f[8];
    char why[96];
    const char *l1 = "a;\"b;c\"\"d\";;e";
    ck_assert_int_eq(feed_split_fields(l1, strlen(l1), f, 8, why, sizeof(why)), 4);
    ck_assert_int_eq(f[1].quoted, 1);
    ck_assert_uint_eq(f[1].len, 6);
    ck_assert(memcmp(f[1].p, "b;c\"\"d", 6) == 0);
    ck_assert_uint_eq(f[2].len, 0);
    ck_assert_uint_eq(f[3].len, 1);
    ck_assert_int_eq(feed_split_fields("", 0, f, 8, why, sizeof(why)), 1);
    ck_assert_int_eq(feed_split_fields(";", 1, f, 8, why, sizeof(why)), 2);
    ck_assert_int_eq(feed_split_fields("a;b;c", 5, f, 2, why, sizeof(why)), 3);  /* counted past max */
    ck_assert_int_eq(feed_split_fields("a;\"b;c", 6, f, 8, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "field 2: quote not closed");
    ck_assert_int_eq(feed_split_fields("\"a\"b;c", 6, f, 8, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "field 1: text after the closing quote");
    ck_assert_int_eq(feed_split_fields("a\"b;c", 5, f, 8, why, sizeof(why)), 2);    /* inner quotes are text */
}
END_TEST

START_TEST(every_prefix_length)
{
    /* Plain list: 203.0.113.77 under every length /1../32, 0.0.0.0/0, and
     * 2001:db8::77 under /1../128.  An address that first differs from
     * 203.0.113.77 at bit k matches the /k entry, whose line we know. */
    char *text = malloc(64 * 200);
    size_t n = 0;
    struct netaddr base, a;
    char buf[NETADDR_STRLEN];
    struct feed_report rep;

    n += (size_t)sprintf(text + n, "# every length\r\n0.0.0.0/0\r\n");          /* line 2 */
    for (unsigned len = 1; len <= 32; len++)                                     /* lines 3..34 */
        n += (size_t)sprintf(text + n, "203.0.113.77/%u\r\n", len);
    for (unsigned len = 1; len <= 128; len++)                                    /* lines 35..162 */
        n += (size_t)sprintf(text + n, "2001:db8::77/%u\n", len);
    struct feed *f = load(write_file("lengths.txt", text, n), &rep);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rep.format, FEED_PLAIN);
    ck_assert_uint_eq(rep.bad, 0);
    ck_assert_uint_eq(rep.entries, 1 + 32 + 128);

    for (int fam = 0; fam < 2; fam++) {
        unsigned bits = fam ? 128 : 32, first = fam ? 35 : 3;
        netaddr_parse(fam ? "2001:db8::77" : "203.0.113.77", &base);
        ck_assert_uint_eq(listed(f, netaddr_format(&base, buf, sizeof(buf)), NULL), first + bits - 1);
        for (unsigned k = 0; k < bits; k++) {
            a = base;
            a.bytes[k / 8] ^= (uint8_t)(0x80 >> (k % 8));
            struct feed_hit h;
            int hit = feed_lookup(f, &a, &h);
            if (fam && k == 0) {
                ck_assert_int_eq(hit, 0);       /* no ::/0 */
                continue;
            }
            ck_assert_int_eq(hit, 1);
            ck_assert_uint_eq(h.prefix_len, k);
            ck_assert_uint_eq(h.line, k == 0 ? 2 : first + k - 1);
            ck_assert_str_eq(h.decision, "");
        }
    }
    feed_free(f);
    free(text);
}
END_TEST

START_TEST(malformed_registry_lines)
{
    static const char text[] =
        "Updated: today\r\n"
        "1.2.3.999;a;;;;\r\n"                           /* 2 bad address */
        "5.5.5.5 | 1.2.3.0/33;a;;;;\r\n"                /* 3 bad length; 5.5.5.5 not kept */
        "2001:db8::/129;a;;;;\r\n"                      /* 4 */
        "1.2.3.4/;a;;;;\r\n"                            /* 5 */
        "1.2.3.4/abc;a;;;;\r\n"                         /* 6 */
        "6.6.6.6;a;b;c;d;e;f\r\n"                       /* 7 too many fields */
        "6.6.6.7;a;b;c;d\r\n"                           /* 8 too few */
        "\x00\x01\xff\xfe junk \x80;;;;;\r\n"           /* 9 binary junk */
        "7.7.7.7\x00" "evil;a;;;;\r\n"                  /* 10 NUL inside the address */
        "7.7.7.8 | ;a;;;;\r\n"                          /* 11 empty list item */
        "7.7.7.9;a;\"http://x;y;;;\r\n"                 /* 12 quote not closed */
        "Updated: again\r\n"                           /* 13 a joined part's header */
        "1.2.3.4 5.6.7.8;a;;;;\r\n"                     /* 14 two addresses without | */
        "10.0.0.2;a;;;;";                               /* 15 good, no line end */
    struct feed_report rep;
    struct feed *f = load(write_file("bad.csv", text, sizeof(text) - 1), &rep);

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(rep.lines, 15);
    ck_assert_uint_eq(rep.bad, 12);
    ck_assert_uint_eq(rep.entries, 1);
    ck_assert_uint_eq(rep.nshown, 12);
    ck_assert_str_eq(rep.updated, "today");
    static const struct { unsigned long line; const char *why; } want[] = {
        {2, "bad address \"1.2.3.999\""},
        {3, "bad prefix length \"1.2.3.0/33\""},
        {4, "bad prefix length \"2001:db8::/129\""},
        {5, "bad prefix length \"1.2.3.4/\""},
        {6, "bad prefix length \"1.2.3.4/abc\""},
        {7, "7 fields, expected 6 (IPS;domain;url;org;decision;date)"},
        {8, "5 fields, expected 6 (IPS;domain;url;org;decision;date)"},
        {9, "bad address \"???? junk ?\""},
        {10, "bad address \"7.7.7.7?evil\""},
        {11, "address 2 of the list is empty"},
        {12, "field 3: quote not closed"},
        {14, "bad address \"1.2.3.4 5.6.7.8\""},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_uint_eq(rep.shown[i].line, want[i].line);
        ck_assert_str_eq(rep.shown[i].why, want[i].why);
    }
    ck_assert_uint_eq(listed(f, "5.5.5.5", NULL), 0);
    ck_assert_uint_eq(listed(f, "7.7.7.7", NULL), 0);
    ck_assert_uint_eq(listed(f, "10.0.0.2", NULL), 15);
    feed_free(f);
}
END_TEST

START_TEST(overlong_lines)
{
    /* One line just past the bound inside a chunk, one far past it (crosses
     * the reader's buffer); the lines after them keep their numbers. */
    size_t big = 3 * (size_t)FEED_LINE_MAX;
    char *text = malloc(big + FEED_LINE_MAX + 4096);
    size_t n = 0;
    n += (size_t)sprintf(text + n, "1.1.1.1\n");                       /* 1 */
    memset(text + n, 'A', FEED_LINE_MAX + 5);                           /* 2 */
    n += FEED_LINE_MAX + 5;
    n += (size_t)sprintf(text + n, "\n2.2.2.2\n");                     /* 3 */
    memset(text + n, '1', big);                                         /* 4 */
    n += big;
    n += (size_t)sprintf(text + n, "\r\n3.3.3.3\r\n");                 /* 5 */
    struct feed_report rep;
    struct feed *f = load(write_file("long.txt", text, n), &rep);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(rep.lines, 5);
    ck_assert_uint_eq(rep.bad, 2);
    ck_assert_uint_eq(rep.shown[0].line, 2);
    ck_assert_uint_eq(rep.shown[1].line, 4);
    ck_assert_str_eq(rep.shown[1].why, "longer than 1048576 bytes");
    ck_assert_uint_eq(listed(f, "1.1.1.1", NULL), 1);
    ck_assert_uint_eq(listed(f, "2.2.2.2", NULL), 3);
    ck_assert_uint_eq(listed(f, "3.3.3.3", NULL), 5);
    feed_free(f);
    free(text);
}
END_TEST

START_TEST(plain_lists)
{
    static const char text[] =
        "\xEF\xBB\xBF# community list\r\n"             /* 1 */
        "\r\n"                                          /* 2 */
        "  192.0.2.0/24   # inline comment\r\n"        /* 3 */
        "198.51.100.7 ; SBL123\r\n"                     /* 4 */
        "\t2001:db8:abcd::/48\r\n"                      /* 5 */
        "; a Spamhaus-style comment\r\n"                /* 6 */
        "203.0.113.9 listed-by-whom\r\n"                /* 7 bad */
        "192.0.2.0/24\r\n"                              /* 8 listed again */
        "2001:db8::1";                                  /* 9 */
    struct feed_report rep;
    struct feed_hit h;
    char p[64];
    struct feed *f = load(write_file("list.txt", text, sizeof(text) - 1), &rep);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(rep.format, FEED_PLAIN);
    ck_assert_uint_eq(rep.lines, 9);
    ck_assert_uint_eq(rep.entries, 4);
    ck_assert_uint_eq(rep.duplicates, 1);
    ck_assert_uint_eq(rep.bad, 1);
    ck_assert_uint_eq(rep.shown[0].line, 7);
    ck_assert_str_eq(rep.shown[0].why, "text after the address: \"listed-by-whom\"");
    ck_assert_uint_eq(listed(f, "192.0.2.200", &h), 3);
    ck_assert_str_eq(prefix_of(&h, p), "192.0.2.0/24");
    ck_assert_str_eq(h.org, "");
    ck_assert_str_eq(h.date, "");
    ck_assert_uint_eq(listed(f, "198.51.100.7", NULL), 4);
    ck_assert_uint_eq(listed(f, "2001:db8:abcd:1::1", NULL), 5);
    ck_assert_uint_eq(listed(f, "2001:db8::1", NULL), 9);
    ck_assert_uint_eq(listed(f, "203.0.113.9", NULL), 0);
    feed_free(f);
}
END_TEST

START_TEST(duplicates_keep_the_first_line)
{
    static const char text[] = "Updated: x\n"
                               "1.1.1.1;a;;first;;\n"
                               "1.1.1.1;b;;second;;\n"
                               "1.1.1.1 | 2.2.2.2;c;;third;;\n";
    struct feed_report rep;
    struct feed_hit h;
    struct feed *f = load(write_file("dup.csv", text, sizeof(text) - 1), &rep);
    ck_assert_uint_eq(rep.entries, 2);
    ck_assert_uint_eq(rep.duplicates, 2);
    ck_assert_uint_eq(rep.listing_lines, 2);
    ck_assert_uint_eq(listed(f, "1.1.1.1", &h), 2);
    ck_assert_str_eq(h.org, "first");
    ck_assert_uint_eq(listed(f, "2.2.2.2", &h), 4);
    ck_assert_str_eq(h.org, "third");
    feed_free(f);
}
END_TEST

static char captured[4096];
static void capture(int priority, const char *module, const char *text)
{
    (void)priority;
    size_t n = strlen(captured);
    snprintf(captured + n, sizeof(captured) - n, "%s: %s\n", module, text);
}

/* n plain lines "10.X.Y.Z". */
static const char *numbered(const char *name, unsigned n)
{
    char *text = malloc((size_t)n * 20 + 1);
    size_t len = 0;
    for (unsigned i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "10.%u.%u.%u\n", i >> 16 & 255, i >> 8 & 255, i & 255);
    const char *path = write_file(name, text, len);
    free(text);
    return path;
}

START_TEST(truncation_guard)
{
    struct feed_report rep;
    struct feed *prev = feed_load("t", numbered("full.txt", 1000), FEED_AUTO, NULL, 0.5, &rep);
    ck_assert_ptr_nonnull(prev);
    ck_assert_uint_eq(rep.previous_entries, 0);

    /* 400 of 1000: a truncated download, refused; the caller keeps prev */
    const char *cut = numbered("cut.txt", 400);
    ck_assert_ptr_null(feed_load("t", cut, FEED_AUTO, prev, 0.5, &rep));
    ck_assert_int_eq(rep.status, FEED_TRUNCATED);
    ck_assert_uint_eq(rep.entries, 400);
    ck_assert_uint_eq(rep.previous_entries, 1000);
    ck_assert_str_eq(rep.error, "400 entries, fewer than 50% of the 1000 of the version in force");
    ck_assert_uint_eq(feed_entries(prev), 1000);
    ck_assert_uint_eq(listed(prev, "10.0.3.200", NULL), 969);
    msg_set_capture(capture);
    feed_report_log(&rep, "t", cut);
    msg_set_capture(NULL);
    ck_assert_ptr_nonnull(strstr(captured, "new version refused (truncated: 400 entries, fewer than 50% of the 1000 "
                                           "of the version in force); the previous version stays in force with 1000 entries"));

    /* 600 of 1000 passes at 0.5; any size passes with the share at 0 */
    struct feed *next = feed_load("t", numbered("most.txt", 600), FEED_AUTO, prev, 0.5, &rep);
    ck_assert_ptr_nonnull(next);
    ck_assert_int_eq(rep.status, FEED_LOADED);
    feed_free(next);
    next = feed_load("t", cut, FEED_AUTO, prev, 0, &rep);
    ck_assert_ptr_nonnull(next);
    feed_free(next);

    /* a truncated registry dump: the header and a cut last line */
    static const char dump[] = "Updated: x\r\n1.1.1.1;a;;;;\r\n2.2.2.2;b;;;;\r\n3.3.3.3;c;;";
    next = feed_load("t", WRITE("dump.csv", dump), FEED_AUTO, prev, 0.5, &rep);
    ck_assert_ptr_null(next);
    ck_assert_int_eq(rep.status, FEED_TRUNCATED);
    ck_assert_uint_eq(rep.bad, 1);
    feed_free(prev);
}
END_TEST

START_TEST(empty_and_unreadable)
{
    struct feed_report rep;
    char path[128];

    ck_assert_ptr_null(load(WRITE("empty.txt", ""), &rep));
    ck_assert_int_eq(rep.status, FEED_EMPTY);
    ck_assert_str_eq(rep.error, "no address or prefix in 0 lines (0 bad)");
    ck_assert_ptr_null(load(WRITE("comments.txt", "# nothing\n\n"), &rep));
    ck_assert_int_eq(rep.status, FEED_EMPTY);
    ck_assert_ptr_null(load(WRITE("header.csv", "Updated: x\r\n"), &rep));
    ck_assert_int_eq(rep.status, FEED_EMPTY);
    ck_assert_int_eq(rep.format, FEED_REGISTRY);
    ck_assert_ptr_null(load(WRITE("allbad.txt", "junk\nmore junk\n"), &rep));
    ck_assert_int_eq(rep.status, FEED_EMPTY);
    ck_assert_uint_eq(rep.bad, 2);

    /* min_share < 0: an allow list may be empty */
    struct feed *f = feed_load("allow", WRITE("allow.txt", "# none yet\n"), FEED_PLAIN, NULL, -1, &rep);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(feed_entries(f), 0);
    ck_assert_uint_eq(listed(f, "1.2.3.4", NULL), 0);
    feed_free(f);

    snprintf(path, sizeof(path), "%s/missing", dir);
    ck_assert_ptr_null(feed_load("t", path, FEED_AUTO, NULL, -1, &rep));
    ck_assert_int_eq(rep.status, FEED_UNREADABLE);
    ck_assert_str_eq(rep.error, "No such file or directory");
    ck_assert_ptr_null(feed_load("t", dir, FEED_AUTO, NULL, -1, &rep));
    ck_assert_int_eq(rep.status, FEED_UNREADABLE);
    ck_assert_int_eq(feed_format_detect(path), -1);
}
END_TEST

START_TEST(formats_and_file_identity)
{
    enum feed_format fmt;
    struct feed_file a, b;
    char moved[160];

    ck_assert_int_eq(feed_format_detect(WRITE("r.csv", "\xEF\xBB\xBFUpdated: x\r\n")), FEED_REGISTRY);
    ck_assert_int_eq(feed_format_detect(WRITE("p.txt", "1.2.3.4\n")), FEED_PLAIN);
    ck_assert_int_eq(feed_format_detect(WRITE("e.txt", "")), FEED_PLAIN);
    ck_assert_int_eq(feed_format_parse("registry", &fmt), 0);
    ck_assert_int_eq(fmt, FEED_REGISTRY);
    ck_assert_int_eq(feed_format_parse("plain", &fmt), 0);
    ck_assert_int_eq(fmt, FEED_PLAIN);
    ck_assert_int_eq(feed_format_parse("csv", &fmt), -1);
    ck_assert_str_eq(feed_status_name(FEED_TRUNCATED), "truncated");

    /* A "Updated:" line in a list read as plain is just a bad line. */
    struct feed_report rep;
    struct feed *f = feed_load("t", WRITE("u.txt", "Updated: x\n1.2.3.4\n"), FEED_PLAIN, NULL, 0, &rep);
    ck_assert_uint_eq(rep.bad, 1);
    ck_assert_int_eq(feed_file_stat(WRITE("u2.txt", "5.6.7.8\n"), &a), 0);
    ck_assert_int_eq(feed_file_same(&a, feed_get_file(f)), 0);
    snprintf(moved, sizeof(moved), "%s/u.txt", dir);
    ck_assert_int_eq(feed_file_stat(moved, &b), 0);
    ck_assert_int_eq(feed_file_same(&b, feed_get_file(f)), 1);
    ck_assert_int_eq(rename(WRITE("u3.txt", "5.6.7.8\n"), moved), 0);   /* a download replaced it */
    ck_assert_int_eq(feed_file_stat(moved, &b), 0);
    ck_assert_int_eq(feed_file_same(&b, feed_get_file(f)), 0);
    feed_free(f);
}
END_TEST

START_TEST(many_lines_round_trip)
{
    /* 40000 registry lines (several 1 MiB chunks) with 1-3 addresses each,
     * repeating decisions and dates; every address maps back to its line. */
    enum { LINES = 40000 };
    char *text = malloc((size_t)LINES * 160);
    size_t n = (size_t)sprintf(text, "Updated: big\r\n");
    for (unsigned i = 0; i < LINES; i++) {
        unsigned k = i % 3;
        n += (size_t)sprintf(text + n, "11.%u.%u.%u", i >> 16, i >> 8 & 255, i & 255);
        if (k >= 1)
            n += (size_t)sprintf(text + n, " | 2001:db8:%x::/48", i);
        if (k >= 2)
            n += (size_t)sprintf(text + n, " | 12.%u.%u.0/24", i >> 8, i & 255);
        n += (size_t)sprintf(text + n, ";d%u.example;\"http://d%u.example/?a=1;b=2\";" GENPROK ";%u-%u/2020;2020-%02u-%02u\r\n",
                             i, i, i / 10, i % 97, i % 12 + 1, i % 28 + 1);
    }
    struct feed_report rep;
    struct feed_hit h;
    char a[64];
    struct feed *f = load(write_file("big.csv", text, n), &rep);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(rep.bad, 0);
    ck_assert_uint_eq(rep.lines, LINES + 1);
    for (unsigned i = 0; i < LINES; i += 7) {
        snprintf(a, sizeof(a), "11.%u.%u.%u", i >> 16, i >> 8 & 255, i & 255);
        ck_assert_uint_eq(listed(f, a, &h), i + 2);
        char want[32];
        snprintf(want, sizeof(want), "%u-%u/2020", i / 10, i % 97);
        ck_assert_str_eq(h.decision, want);
        ck_assert_str_eq(h.org, "Генпрокуратура");
        if (i % 3 >= 1) {
            snprintf(a, sizeof(a), "2001:db8:%x::99", i);
            ck_assert_uint_eq(listed(f, a, NULL), i + 2);
        }
        if (i % 3 == 2) {
            snprintf(a, sizeof(a), "12.%u.%u.77", i >> 8, i & 255);
            ck_assert_uint_eq(listed(f, a, NULL), i + 2);
        }
    }
    feed_free(f);
    free(text);
}
END_TEST

START_TEST(report_log_and_cap)
{
    char *text = malloc(50 * 16 + 16);
    size_t n = 0;
    for (int i = 0; i < 50; i++)
        n += (size_t)sprintf(text + n, "bad%d\n", i);
    n += (size_t)sprintf(text + n, "1.2.3.4\n");
    const char *path = write_file("cap.txt", text, n);
    struct feed_report rep;
    struct feed *f = feed_load("community", path, FEED_AUTO, NULL, 0, &rep);
    ck_assert_uint_eq(rep.bad, 50);
    ck_assert_uint_eq(rep.nshown, FEED_REPORT_BAD);
    ck_assert_uint_eq(rep.shown[FEED_REPORT_BAD - 1].line, FEED_REPORT_BAD);
    msg_set_capture(capture);
    feed_report_log(&rep, "community", path);
    msg_set_capture(NULL);
    char want[256];
    snprintf(want, sizeof(want), "feed community: %s:1: bad address \"bad0\"; line skipped\n", path);
    ck_assert_ptr_nonnull(strstr(captured, want));
    ck_assert_ptr_nonnull(strstr(captured, "30 more bad lines skipped"));
    ck_assert_ptr_nonnull(strstr(captured, "loaded, plain format, 1 entries from 51 lines, 50 bad lines"));
    feed_free(f);
    free(text);
}
END_TEST

/* Runs ctl_feed_test with stdout in a file; its exit code, output in out. */
static int run_ctl(int json, const char *file, char **addrs, int naddrs, char *out, size_t size)
{
    struct ctl c = {.json = json};
    char path[128];
    snprintf(path, sizeof(path), "%s/ctl.out", dir);
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 1);
    close(fd);
    int rc = ctl_feed_test(&c, file, addrs, naddrs);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *fp = fopen(path, "r");
    size_t got = fread(out, 1, size - 1, fp);
    out[got] = 0;
    fclose(fp);
    return rc;
}

START_TEST(ctl_feed_test_output)
{
    static const char text[] = "Updated: 2026-11-20\r\n"
                               "185.70.40.0/24;proton.example;;" GENPROK ";27-31-2020/1;2020-04-16\r\n"
                               "1.2.3.999;bad.example;;;;\r\n";
    const char *file = WRITE("ctl.csv", text);
    char out[4096];
    char *both[] = {"185.70.40.101", "192.0.2.1"};

    int rc = run_ctl(0, file, both, 2, out, sizeof(out));
    ck_assert_int_eq(rc, CTL_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(out, "185.70.40.101: listed by line 2: 185.70.40.0/24; decision 27-31-2020/1; "
                                      "date 2020-04-16; by Генпрокуратура\n"));
    ck_assert_ptr_nonnull(strstr(out, "192.0.2.1: not listed\n"));
    ck_assert_ptr_nonnull(strstr(out, "bad line 3: bad address \"1.2.3.999\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "registry format, updated 2026-11-20; 3 lines, 1 entries (0 listed again), 1 bad lines"));
    ck_assert_int_eq(run_ctl(0, file, both, 1, out, sizeof(out)), CTL_OK);

    rc = run_ctl(1, file, both, 2, out, sizeof(out));
    ck_assert_int_eq(rc, CTL_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(out, "\"format\":\"registry\",\"updated\":\"2026-11-20\",\"status\":\"loaded\""));
    ck_assert_ptr_nonnull(strstr(out, "\"bad_lines\":[{\"line\":3,\"error\":\"bad address \\\"1.2.3.999\\\"\"}]"));
    ck_assert_ptr_nonnull(strstr(out, "{\"address\":\"185.70.40.101\",\"listed\":true,\"line\":2,\"prefix\":\"185.70.40.0/24\","
                                      "\"org\":\"Генпрокуратура\",\"decision\":\"27-31-2020/1\",\"date\":\"2020-04-16\"}"));
    ck_assert_ptr_nonnull(strstr(out, "{\"address\":\"192.0.2.1\",\"listed\":false}]}\n"));

    char *junk[] = {"not-an-address"};
    ck_assert_int_eq(run_ctl(0, file, junk, 1, out, sizeof(out)), CTL_USAGE);
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/none.csv", dir);
    ck_assert_int_eq(run_ctl(0, missing, both, 1, out, sizeof(out)), CTL_CONFIG);
    rc = run_ctl(0, WRITE("empty.csv", "Updated: x\r\n"), both, 1, out, sizeof(out));
    ck_assert_int_eq(rc, CTL_CONFIG);
    ck_assert_ptr_nonnull(strstr(out, "mxdetourd would refuse it: empty"));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("feed");
    TCase *tc = tcase_create("feed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, registry_fields_and_encoding);
    tcase_add_test(tc, cp1251_conversion);
    tcase_add_test(tc, field_splitting);
    tcase_add_test(tc, every_prefix_length);
    tcase_add_test(tc, malformed_registry_lines);
    tcase_add_test(tc, overlong_lines);
    tcase_add_test(tc, plain_lists);
    tcase_add_test(tc, duplicates_keep_the_first_line);
    tcase_add_test(tc, truncation_guard);
    tcase_add_test(tc, empty_and_unreadable);
    tcase_add_test(tc, formats_and_file_identity);
    tcase_add_test(tc, many_lines_round_trip);
    tcase_add_test(tc, report_log_and_cap);
    tcase_add_test(tc, ctl_feed_test_output);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/routes/postqueue_json: real `postqueue -j` lines
 * (postfix-notes.md), escapes and Unicode, every truncation of a real line,
 * malformed JSON, wrong types, limits, and huge fields.  Each input is
 * parsed from a heap copy of its exact length, so AddressSanitizer sees any
 * read past the end.
 *
 * The reader that cuts `postqueue -j` output into lines, in any chunks,
 * within its limits.  Then relay/routes/kick, its one user, against a fake postqueue (a shell script
 * that prints prepared `postqueue -j` output and records each -i): which
 * messages are kicked, once each, at the configured rate, coalescing, the
 * message and line limits, and a failing postqueue.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "check_main.h"
#include "kick.h"
#include "msg.h"
#include "postqueue_json.h"

#define REAL "{\"queue_name\": \"deferred\", \"queue_id\": \"8A3D8A72178\", \"arrival_time\": " \
    "1795417386, \"message_size\": 392, \"forced_expire\": false, \"sender\": \"a@mta.test\", " \
    "\"recipients\": [{\"address\": \"u2@blocked.test\", \"delay_reason\": \"connect to " \
    "198.18.0.2[198.18.0.2]:25: Connection timed out\"}]}"

static char addrs[8][POSTQUEUE_ADDR_MAX + 1];
static size_t naddrs, lens[8];

static void rcpt(const char *address, size_t len, void *arg)
{
    (void)arg;
    ck_assert_uint_eq(strlen(address), len);
    if (naddrs < 8) {
        memcpy(addrs[naddrs], address, len + 1);
        lens[naddrs] = len;
    }
    naddrs++;
}

/* Parses an exact-size heap copy of s[0..len). */
static int parse_n(const char *s, size_t len, struct postqueue_msg *m)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    ck_assert_ptr_nonnull(copy);
    memcpy(copy, s, len);
    naddrs = 0;
    rc = postqueue_json_parse(copy, len, m, rcpt, NULL);
    free(copy);
    return rc;
}

static int parse(const char *s, struct postqueue_msg *m)
{
    return parse_n(s, strlen(s), m);
}

static void bad(const char *s, const char *why)
{
    struct postqueue_msg m;
    ck_assert_msg(parse(s, &m) == -1, "accepted: %s", s);
    ck_assert_ptr_nonnull(m.error);
    if (why)
        ck_assert_msg(strstr(m.error, why) != NULL, "%s: error \"%s\", wanted \"%s\"", s, m.error,
                      why);
}

START_TEST(real_line)
{
    struct postqueue_msg m;

    ck_assert_int_eq(parse(REAL, &m), 0);
    ck_assert_str_eq(m.queue_name, "deferred");
    ck_assert_str_eq(m.queue_id, "8A3D8A72178");
    ck_assert_uint_eq(m.nrecipients, 1);
    ck_assert_uint_eq(naddrs, 1);
    ck_assert_str_eq(addrs[0], "u2@blocked.test");
    ck_assert_ptr_null(m.error);
    /* with the newline and a CR around it, and no callback */
    ck_assert_int_eq(postqueue_json_parse("  " REAL "\r\n", strlen(REAL) + 4, &m, NULL, NULL), 0);
}
END_TEST

START_TEST(several_recipients_any_key_order)
{
    struct postqueue_msg m;
    const char *s = "{\"recipients\":[{\"delay_reason\":\"x\",\"address\":\"a@one.test\"},"
                    "{\"address\":\"b@two.test\",\"extra\":{\"deep\":[1,2,{\"k\":null}]}},"
                    "{\"no_address\":true}],"
                    "\"queue_id\":\"4Jx9Yz2Nq5z9abc\",\"queue_name\":\"active\","
                    "\"numbers\":[0,-1,2.5,1e10,-0.25E-3,3E+2],\"t\":true,\"f\":false,\"n\":null,"
                    "\"empty_obj\":{},\"empty_arr\":[],\"s\":\"\"}";

    ck_assert_int_eq(parse(s, &m), 0);
    ck_assert_str_eq(m.queue_name, "active");
    ck_assert_str_eq(m.queue_id, "4Jx9Yz2Nq5z9abc");
    ck_assert_uint_eq(m.nrecipients, 2);
    ck_assert_str_eq(addrs[0], "a@one.test");
    ck_assert_str_eq(addrs[1], "b@two.test");
    ck_assert_int_eq(parse("{\"queue_name\":\"hold\",\"queue_id\":\"A1\",\"recipients\":[]}", &m), 0);
    ck_assert_uint_eq(m.nrecipients, 0);
    ck_assert_int_eq(parse("{\"queue_name\":\"hold\",\"queue_id\":\"A1\"}", &m), 0);
}
END_TEST

START_TEST(escapes_and_unicode)
{
    struct postqueue_msg m;

    ck_assert_int_eq(parse("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":["
                           "{\"address\":\"\\u0075\\u0032@blocked.test\"},"
                           "{\"address\":\"\\\"odd\\\\ \\/name\\\"@x.test\"},"
                           "{\"address\":\"\\ud83d\\ude00@emoji.test\"},"
                           "{\"address\":\"j\\u00fcrgen@b\\u00FCcher.test\"},"
                           "{\"address\":\"raw-\xc3\xbc@b\xc3\xbc" "cher.test\"},"
                           "{\"address\":\"t\\tn\\nr\\rb\\bf\\f@ctl.test\"}],"
                           "\"k\\u0000ey\":\"v\\u0000alue\"}", &m), 0);
    ck_assert_uint_eq(naddrs, 6);
    ck_assert_str_eq(addrs[0], "u2@blocked.test");
    ck_assert_str_eq(addrs[1], "\"odd\\ /name\"@x.test");
    ck_assert_str_eq(addrs[2], "\xf0\x9f\x98\x80@emoji.test");
    ck_assert_str_eq(addrs[3], "j\xc3\xbcrgen@b\xc3\xbc" "cher.test");
    ck_assert_str_eq(addrs[4], "raw-\xc3\xbc@b\xc3\xbc" "cher.test");
    ck_assert_str_eq(addrs[5], "t\tn\nr\rb\bf\f@ctl.test");
    /* An escaped key is the key it decodes to. */
    ck_assert_int_eq(parse("{\"queue\\u005fname\":\"deferred\",\"queue_id\":\"A1\"}", &m), 0);
    ck_assert_str_eq(m.queue_name, "deferred");
    /* A three-byte character. */
    ck_assert_int_eq(parse("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":"
                           "[{\"address\":\"\\u20ac@x.test\"}]}", &m), 0);
    ck_assert_str_eq(addrs[0], "\xe2\x82\xac@x.test");
}
END_TEST

START_TEST(every_truncation_is_malformed)
{
    struct postqueue_msg m;
    size_t len = strlen(REAL);

    for (size_t i = 0; i < len; i++)
        ck_assert_msg(parse_n(REAL, i, &m) == -1, "prefix of %zu bytes accepted", i);
    ck_assert_int_eq(parse_n(REAL, len, &m), 0);
}
END_TEST

START_TEST(malformed_json)
{
    bad("", "not a JSON object");
    bad("   ", "not a JSON object");
    bad("[]", "not a JSON object");
    bad("postqueue: fatal: Queue report unavailable - mail system is down", "not a JSON object");
    bad("{}", "no queue_name");
    bad("{\"queue_name\":\"deferred\"}", "no queue_name or no queue_id");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\"} x", "text after");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\"}{}", "text after");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",}", "expected a key");
    bad("{\"queue_name\":\"deferred\" \"queue_id\":\"A1\"}", "expected ','");
    bad("{\"queue_name\" \"deferred\"}", "expected ':'");
    bad("{'queue_name':'deferred'}", "expected a key");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":[1,]}", "bad number");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":[1 2]}", "expected ','");
    bad("{\"queue_name\":\"def\terred\",\"queue_id\":\"A1\"}", "control character");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":\"\\x\"}", "unknown escape");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":\"\\ud800\"}", "high surrogate");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":\"\\ud800\\u0041\"}", "high surrogate");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":\"\\udc00\"}", "lone low");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":\"\\u12G4\"}", "bad hex");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":\"\\u12\"}", NULL);
    for (const char *const *n = (const char *const[]){"01", "1.", "-", "1e", "+1", ".5", "1e+",
                                                       "0x10", "NaN", "Infinity", "tru", "nul",
                                                       "True", NULL}; *n; n++) {
        char s[128];
        snprintf(s, sizeof(s), "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":%s}", *n);
        bad(s, NULL);
    }
    /* A NUL byte in the line, outside and inside strings. */
    {
        static const char nul1[] = "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\"\0}";
        static const char nul2[] = "{\"queue_name\":\"defe\0rred\",\"queue_id\":\"A1\"}";
        struct postqueue_msg m;
        ck_assert_int_eq(parse_n(nul1, sizeof(nul1) - 1, &m), -1);
        ck_assert_int_eq(parse_n(nul2, sizeof(nul2) - 1, &m), -1);
        ck_assert_uint_eq(m.error_at, 19);
    }
}
END_TEST

START_TEST(wrong_types_and_values)
{
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"8A3D-8A\"}", "queue_id is not [0-9A-Za-z]+");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"\"}", "empty queue_id");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":12345}", "queue_id is not a string");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"../etc\"}", "queue_id is not");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A\\u00001\"}", "queue_id");
    bad("{\"queue_name\":\"Deferred\",\"queue_id\":\"A1\"}", "queue_name is not [a-z]+");
    bad("{\"queue_name\":\"averyveryverylongqueue\",\"queue_id\":\"A1\"}", "queue_name is not a short");
    bad("{\"queue_name\":null,\"queue_id\":\"A1\"}", "queue_name is not");
    bad("{\"queue_name\":\"\",\"queue_id\":\"A1\"}", "empty queue_name");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"queue_id\":\"B2\"}", "two queue_id");
    bad("{\"queue_name\":\"deferred\",\"queue_name\":\"active\",\"queue_id\":\"A1\"}", "two queue_name");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[],\"recipients\":[]}",
        "two recipients");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":{}}", "not an array");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[\"a@b.test\"]}",
        "not an object");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[{\"address\":1}]}",
        "recipient address");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[{\"address\":\"a@b\","
        "\"address\":\"c@d\"}]}", "two addresses");
    bad("{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[{\"address\":"
        "\"a\\u0000@b.test\"}]}", "recipient address");
}
END_TEST

START_TEST(limits_and_huge_fields)
{
    size_t big = 1u << 20;
    char *s = malloc(big + POSTQUEUE_ADDR_MAX * 2 + 256), id[POSTQUEUE_ID_MAX + 2];
    struct postqueue_msg m;
    int n;

    /* A 1 MiB value of an unknown key is skipped. */
    n = sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"huge\":\"");
    memset(s + n, 'x', big);
    strcpy(s + n + big, "\"}");
    ck_assert_int_eq(parse(s, &m), 0);
    /* An address of exactly POSTQUEUE_ADDR_MAX bytes, then one more. */
    for (int extra = 0; extra <= 1; extra++) {
        n = sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[{\"address\":\"");
        memset(s + n, 'a', POSTQUEUE_ADDR_MAX + (size_t)extra - 7);
        n += POSTQUEUE_ADDR_MAX + extra - 7;
        strcpy(s + n, "@x.test\"}]}");
        ck_assert_int_eq(parse(s, &m), extra ? -1 : 0);
        if (!extra)
            ck_assert_uint_eq(lens[0], POSTQUEUE_ADDR_MAX);
    }
    /* An escaped character that would cross the limit. */
    n = sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[{\"address\":\"");
    memset(s + n, 'a', POSTQUEUE_ADDR_MAX - 1);
    n += POSTQUEUE_ADDR_MAX - 1;
    strcpy(s + n, "\\u00fc\"}]}");
    ck_assert_int_eq(parse(s, &m), -1);
    /* Queue ids of 64 and 65 characters. */
    memset(id, 'Z', sizeof(id));
    id[POSTQUEUE_ID_MAX] = 0;
    sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"%s\"}", id);
    ck_assert_int_eq(parse(s, &m), 0);
    ck_assert_str_eq(m.queue_id, id);
    id[POSTQUEUE_ID_MAX] = 'Z';
    id[POSTQUEUE_ID_MAX + 1] = 0;
    sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"%s\"}", id);
    bad(s, "at most 64");
    /* Ten thousand recipients. */
    free(s);
    s = malloc(10000 * 32 + 256);
    n = sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"recipients\":[");
    for (int i = 0; i < 10000; i++)
        n += sprintf(s + n, "%s{\"address\":\"u%d@d.test\"}", i ? "," : "", i);
    strcpy(s + n, "]}");
    ck_assert_int_eq(parse(s, &m), 0);
    ck_assert_uint_eq(m.nrecipients, 10000);
    ck_assert_uint_eq(naddrs, 10000);
    /* A long key is an unknown key. */
    ck_assert_int_eq(parse("{\"queue_name_but_much_longer_than_thirty_two_bytes\":\"x\","
                           "\"queue_name\":\"deferred\",\"queue_id\":\"A1\"}", &m), 0);
    free(s);
}
END_TEST

START_TEST(nesting_is_bounded)
{
    char s[512];
    struct postqueue_msg m;

    for (int depth = POSTQUEUE_DEPTH_MAX; depth <= POSTQUEUE_DEPTH_MAX + 1; depth++) {
        int n = sprintf(s, "{\"queue_name\":\"deferred\",\"queue_id\":\"A1\",\"x\":");
        for (int i = 1; i < depth; i++)
            s[n++] = '[';
        for (int i = 1; i < depth; i++)
            s[n++] = ']';
        strcpy(s + n, "}");
        ck_assert_int_eq(parse(s, &m), depth <= POSTQUEUE_DEPTH_MAX ? 0 : -1);
    }
    bad("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "nested too deep");
}
END_TEST

START_TEST(recipient_domains)
{
    char buf[254];

    ck_assert_int_eq(postqueue_rcpt_domain("u2@Blocked.Test.", 16, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "blocked.test");
    ck_assert_int_eq(postqueue_rcpt_domain("\"a@b\"@x.test", 12, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "x.test");
    ck_assert_int_eq(postqueue_rcpt_domain("u2@blocked.test-and-more", 15, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "blocked.test");
    ck_assert_int_eq(postqueue_rcpt_domain("noat", 4, buf, sizeof(buf)), -1);
    ck_assert_int_eq(postqueue_rcpt_domain("a@", 2, buf, sizeof(buf)), -1);
    ck_assert_int_eq(postqueue_rcpt_domain("a@[198.18.0.2]", 14, buf, sizeof(buf)), -1);
    ck_assert_int_eq(postqueue_rcpt_domain("a@b c.test", 10, buf, sizeof(buf)), -1);
    ck_assert_int_eq(postqueue_rcpt_domain("", 0, buf, sizeof(buf)), -1);
}
END_TEST


static size_t rd_ok, rd_bad;
static char rd_ids[8][POSTQUEUE_ID_MAX + 1];

static void rd_line(const struct postqueue_msg *m, int ok, void *arg)
{
    (void)arg;
    if (ok && rd_ok < 8)
        strcpy(rd_ids[rd_ok], m->queue_id);
    if (ok)
        rd_ok++;
    else
        rd_bad++;
}

/* Feeds text in pieces of step bytes, each an exact heap copy. */
static int feed(struct postqueue_reader *r, const char *text, size_t step)
{
    size_t len = strlen(text);
    int rc = 0;

    for (size_t i = 0; i < len && rc == 0; i += step) {
        size_t n = len - i < step ? len - i : step;
        char *piece = malloc(n);
        memcpy(piece, text + i, n);
        rc = postqueue_reader_feed(r, piece, n);
        free(piece);
    }
    return rc;
}

START_TEST(reader_splits_lines_in_any_chunks)
{
    const char *text = REAL "\n\n" "garbage\n" REAL "\r\n" "{\"queue_name\":\"hold\",\"queue_id\":\"LAST\"}";
    struct postqueue_reader r;

    for (size_t step = 1; step <= strlen(text); step += step < 8 ? 1 : 37) {
        postqueue_reader_init(&r, 4096, 1 << 20, 100, rd_line, rcpt, NULL);
        rd_ok = rd_bad = 0;
        ck_assert_int_eq(feed(&r, text, step), 0);
        postqueue_reader_finish(&r);
        ck_assert_uint_eq(rd_ok, 3);
        ck_assert_uint_eq(rd_bad, 1);
        ck_assert_uint_eq(r.messages, 4);
        ck_assert_uint_eq(r.malformed, 1);
        ck_assert_str_eq(rd_ids[2], "LAST");
        ck_assert_str_eq(r.first_error, "line 2: not a JSON object at byte 0");
        postqueue_reader_free(&r);
    }
}
END_TEST

START_TEST(reader_limits)
{
    struct postqueue_reader r;
    char big[600];

    /* Lines: the third one is one too many. */
    postqueue_reader_init(&r, 4096, 1 << 20, 2, rd_line, NULL, NULL);
    rd_ok = rd_bad = 0;
    ck_assert_int_eq(feed(&r, REAL "\n" REAL "\n" REAL "\n", 7), -1);
    ck_assert_int_eq(r.full, 1);
    ck_assert_uint_eq(rd_ok, 2);
    ck_assert_int_eq(postqueue_reader_feed(&r, "x", 1), -1);
    postqueue_reader_free(&r);
    /* Bytes: what fits is read, the line cut short is not. */
    postqueue_reader_init(&r, 4096, strlen(REAL) + 10, 100, rd_line, NULL, NULL);
    rd_ok = rd_bad = 0;
    ck_assert_int_eq(feed(&r, REAL "\n" REAL "\n", 1000), -1);
    postqueue_reader_finish(&r);
    ck_assert_uint_eq(rd_ok, 1);
    ck_assert_uint_eq(rd_bad, 0);
    ck_assert_uint_eq(r.bytes, strlen(REAL) + 10);
    postqueue_reader_free(&r);
    /* An overlong line is skipped and counted; the next one is read. */
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    postqueue_reader_init(&r, 500, 1 << 20, 100, rd_line, NULL, NULL);
    rd_ok = rd_bad = 0;
    ck_assert_int_eq(feed(&r, big, 64), 0);
    ck_assert_int_eq(feed(&r, "\n{\"queue_name\":\"hold\",\"queue_id\":\"OK\"}\n", 5), 0);
    ck_assert_uint_eq(rd_ok, 1);
    ck_assert_uint_eq(rd_bad, 1);
    ck_assert_ptr_nonnull(strstr(r.first_error, "line too long"));
    postqueue_reader_free(&r);
}
END_TEST

/* ---------------------------------------------------------------- kick */

static char kdir[64], kjson[128], kicked_log[128];
static struct event_base *kbase;
static int kwarnings;
static char klast_warning[512];

static void kcapture(int pri, const char *module, const char *text)
{
    (void)module;
    if (pri == 4 /* LOG_WARNING */) {
        kwarnings++;
        snprintf(klast_warning, sizeof(klast_warning), "%s", text);
    }
}

static void kick_setup(void)
{
    char script[128];
    FILE *fp;

    snprintf(kdir, sizeof(kdir), "/tmp/mxd-kick-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(kdir));
    snprintf(kjson, sizeof(kjson), "%s/queue.json", kdir);
    snprintf(kicked_log, sizeof(kicked_log), "%s/kicked", kdir);
    snprintf(script, sizeof(script), "%s/postqueue", kdir);
    ck_assert_ptr_nonnull(fp = fopen(script, "w"));
    /* postqueue -c DIR -j | -i ID, as kick runs it */
    fprintf(fp, "#!/bin/sh\n"
            "[ \"$1\" = -c ] && [ \"$2\" = %s ] || exit 64\n"
            "case $3 in\n"
            "-j) [ -f %s/fail ] && { echo 'postqueue: fatal: Queue report unavailable' >&2; exit 69; }\n"
            "    exec cat %s ;;\n"
            "-i) echo \"$4\" >>%s ;;\n"
            "*) exit 64 ;;\n"
            "esac\n", kdir, kdir, kjson, kicked_log);
    fclose(fp);
    chmod(script, 0755);
    ck_assert_ptr_nonnull(kbase = event_base_new());
    kwarnings = 0;
    klast_warning[0] = 0;
    msg_set_capture(kcapture);
}

static void kick_teardown(void)
{
    char cmd[128];

    kick_free();
    event_base_free(kbase);
    msg_set_capture(NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", kdir);
    ck_assert_int_eq(system(cmd), 0);
}

static void stop_loop(void *arg)
{
    (void)arg;
    event_base_loopbreak(kbase);
}

static void start_kick(unsigned rate)
{
    char script[128];
    struct cfg_postfix pf = {.config_directory = kdir, .postqueue = script, .kick_rate = rate};

    snprintf(script, sizeof(script), "%s/postqueue", kdir);
    ck_assert_int_eq(kick_init(kbase, &pf), 0);
    kick_on_idle(stop_loop, NULL);
}

/* Runs the loop until kick is idle; returns the elapsed milliseconds. */
static long run_kick(void)
{
    struct timespec t0, t1;
    struct timeval limit = {60, 0};

    clock_gettime(CLOCK_MONOTONIC, &t0);
    event_base_loopexit(kbase, &limit);
    event_base_dispatch(kbase);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(kick_idle(), "kick did not finish");
    return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/* The ids postqueue -i was run with, sorted (flushers run in parallel). */
static const char *kicked(void)
{
    static char buf[4096];
    char cmd[256];
    FILE *fp;
    size_t n;

    snprintf(cmd, sizeof(cmd), "sort %s 2>/dev/null", kicked_log);
    ck_assert_ptr_nonnull(fp = popen(cmd, "r"));
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    pclose(fp);
    buf[n] = 0;
    return buf;
}

#define LINE(q, id, rcpts) "{\"queue_name\": \"" q "\", \"queue_id\": \"" id "\", \"arrival_time\": " \
    "1795417386, \"sender\": \"a@mta.test\", \"recipients\": [" rcpts "]}\n"
#define RCPT(a) "{\"address\": \"" a "\", \"delay_reason\": \"connect to x: Connection timed out\"}"

static void write_queue(const char *text)
{
    FILE *fp = fopen(kjson, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

START_TEST(kick_picks_deferred_mail_of_the_domains)
{
    const char *const domains[] = {"blocked.test", ".pm.test"};

    write_queue(LINE("deferred", "B0000000002", RCPT("u2@blocked.test"))
                LINE("deferred", "A0000000001", RCPT("x@other.test") "," RCPT("u1@BLOCKED.test."))
                LINE("active", "C0000000003", RCPT("u3@blocked.test"))
                LINE("hold", "D0000000004", RCPT("u4@blocked.test"))
                LINE("deferred", "E0000000005", RCPT("u5@other.test"))
                "{\"queue_name\": \"deferred\", \"queue_id\": \"F000\", \"recipients\": [\n"
                LINE("deferred", "G0000000007", RCPT("u7@mx.sub.pm.test"))
                LINE("deferred", "H0000000008", RCPT("u8@pm.test"))
                LINE("deferred", "I0000000009", RCPT("u9@notblocked.test"))
                LINE("deferred", "B0000000002", RCPT("u2@blocked.test")));
    start_kick(1000);
    ck_assert_int_eq(kick_domains(domains, 2), 0);
    run_kick();
    ck_assert_str_eq(kicked(), "A0000000001\nB0000000002\nG0000000007\n");
    ck_assert_uint_eq(kick_stats()->runs, 1);
    ck_assert_uint_eq(kick_stats()->listed, 10);
    ck_assert_uint_eq(kick_stats()->malformed, 1);
    ck_assert_uint_eq(kick_stats()->kicked, 3);
    ck_assert_uint_eq(kick_stats()->failed, 0);
    ck_assert_ptr_nonnull(strstr(klast_warning, "1 malformed line skipped"));
}
END_TEST

START_TEST(kick_coalesces_and_keeps_the_rate)
{
    const char *const a[] = {"a.test"}, *const b[] = {"b.test"}, *const bad[] = {"no domain"};
    char text[4096] = "";
    long ms;

    for (int i = 0; i < 10; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "{\"queue_name\": \"deferred\","
                 " \"queue_id\": \"Q%d\", \"recipients\": [{\"address\": \"u@%c.test\"}]}\n", i,
                 i % 2 ? 'a' : 'b');
    write_queue(text);
    start_kick(20);
    ck_assert_int_eq(kick_domains(a, 1), 0);
    ck_assert_int_eq(kick_domains(b, 1), 0);
    ck_assert_int_eq(kick_domains(a, 1), 0);       /* given twice: listed once */
    ck_assert_int_eq(kick_domains(bad, 1), -1);
    ms = run_kick();
    ck_assert_uint_eq(kick_stats()->runs, 1);
    ck_assert_uint_eq(kick_stats()->kicked, 10);
    ck_assert_msg(ms >= 450 && ms < 3000, "10 messages at 20/s took %ld ms", ms);
}
END_TEST

START_TEST(kick_stops_at_the_message_limit)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "awk 'BEGIN { for (i = 0; i < %d; i++) printf "
             "\"{\\\"queue_name\\\": \\\"deferred\\\", \\\"queue_id\\\": \\\"Q%%d\\\", "
             "\\\"recipients\\\": [{\\\"address\\\": \\\"u@%%s.test\\\"}]}\\n\", i, "
             "(i == 5 || i == %d) ? \"hit\" : \"miss\" }' > %s", KICK_MAX_MESSAGES + 50,
             KICK_MAX_MESSAGES + 10, kjson);
    ck_assert_int_eq(system(cmd), 0);
    start_kick(1000);
    ck_assert_int_eq(kick_domains((const char *const[]){"hit.test"}, 1), 0);
    run_kick();
    ck_assert_uint_eq(kick_stats()->listed, KICK_MAX_MESSAGES);
    ck_assert_str_eq(kicked(), "Q5\n");
    ck_assert_ptr_nonnull(strstr(klast_warning, "stopped after"));
}
END_TEST

START_TEST(kick_skips_overlong_lines)
{
    size_t big = KICK_MAX_LINE + 100;
    char *text = malloc(big + 512);
    size_t n;

    n = (size_t)sprintf(text, "{\"queue_name\": \"deferred\", \"queue_id\": \"BIG\", \"x\": \"");
    memset(text + n, 'x', big);
    n += big;
    sprintf(text + n, "\", \"recipients\": [{\"address\": \"u@hit.test\"}]}\n"
            "{\"queue_name\": \"deferred\", \"queue_id\": \"SMALL\", \"recipients\": "
            "[{\"address\": \"u@hit.test\"}]}\n");
    write_queue(text);
    free(text);
    start_kick(1000);
    ck_assert_int_eq(kick_domains((const char *const[]){"hit.test"}, 1), 0);
    run_kick();
    ck_assert_str_eq(kicked(), "SMALL\n");
    ck_assert_uint_eq(kick_stats()->malformed, 1);
}
END_TEST

START_TEST(kick_survives_a_failing_postqueue)
{
    char flag[128];
    FILE *fp;

    snprintf(flag, sizeof(flag), "%s/fail", kdir);
    ck_assert_ptr_nonnull(fp = fopen(flag, "w"));
    fclose(fp);
    start_kick(1000);
    ck_assert_int_eq(kick_domains((const char *const[]){"hit.test"}, 1), 0);
    run_kick();
    ck_assert_str_eq(kicked(), "");
    ck_assert_msg(strstr(klast_warning, "exit status 69: postqueue: fatal: Queue report unavailable")
                  != NULL, "warning: %s", klast_warning);
    /* The next change runs again, with a postqueue that works. */
    unlink(flag);
    write_queue(LINE("deferred", "OK1", RCPT("u@hit.test")));
    ck_assert_int_eq(kick_domains((const char *const[]){"hit.test"}, 1), 0);
    run_kick();
    ck_assert_str_eq(kicked(), "OK1\n");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("postqueue_json");
    TCase *tc = tcase_create("postqueue_json"), *tk = tcase_create("kick");

    tcase_add_test(tc, real_line);
    tcase_add_test(tc, several_recipients_any_key_order);
    tcase_add_test(tc, escapes_and_unicode);
    tcase_add_test(tc, every_truncation_is_malformed);
    tcase_add_test(tc, malformed_json);
    tcase_add_test(tc, wrong_types_and_values);
    tcase_add_test(tc, limits_and_huge_fields);
    tcase_add_test(tc, nesting_is_bounded);
    tcase_add_test(tc, recipient_domains);
    tcase_add_test(tc, reader_splits_lines_in_any_chunks);
    tcase_add_test(tc, reader_limits);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tk, kick_setup, kick_teardown);
    tcase_set_timeout(tk, 60);
    tcase_add_test(tk, kick_picks_deferred_mail_of_the_domains);
    tcase_add_test(tk, kick_coalesces_and_keeps_the_rate);
    tcase_add_test(tk, kick_stops_at_the_message_limit);
    tcase_add_test(tk, kick_skips_overlong_lines);
    tcase_add_test(tk, kick_survives_a_failing_postqueue);
    suite_add_tcase(s, tk);
    return s;
}

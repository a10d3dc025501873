/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Sentinel answers and settings: every reply a sentinel or a master gives is
 * decoded only when its type, size and address syntax are right; the redis
 * group's sentinel keys load, and their mistakes are FILE:LINE errors.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "cfg.h"
#include "cfg_redis.h"
#include "sentinel.h"

static redisReply str(const char *s)
{
    redisReply r = {.type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s)};
    return r;
}

/* An array reply of two strings, as get-master-addr-by-name sends. */
static int master_of(const char *ip, const char *port, struct cfg_hostport *out)
{
    redisReply a = str(ip), b = str(port);
    redisReply *el[2] = {&a, &b};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = el};
    return sentinel_decode_master(&arr, out);
}

START_TEST(master_address_is_checked)
{
    struct cfg_hostport m;
    ck_assert_int_eq(master_of("127.0.0.1", "6380", &m), 1);
    ck_assert_str_eq(m.host, "127.0.0.1");
    ck_assert_int_eq(m.port, 6380);
    ck_assert_int_eq(master_of("2001:db8::7", "6379", &m), 1);
    ck_assert_str_eq(m.host, "2001:db8::7");
    ck_assert_int_eq(master_of("redis.example", "6379", &m), -1);  /* no DNS on the loop */
    ck_assert_int_eq(master_of("127.0.0.1", "0", &m), -1);
    ck_assert_int_eq(master_of("127.0.0.1", "65536", &m), -1);
    ck_assert_int_eq(master_of("127.0.0.1", "63 79", &m), -1);
    ck_assert_int_eq(master_of("127.0.0.1 ", "6379", &m), -1);
    ck_assert_int_eq(master_of("", "6379", &m), -1);
    ck_assert_int_eq(master_of("1111:2222:3333:4444:5555:6666:7777:8888:9999", "1", &m), -1);
    redisReply nil = {.type = REDIS_REPLY_NIL};
    ck_assert_int_eq(sentinel_decode_master(&nil, &m), 0);
    redisReply one = str("127.0.0.1");
    ck_assert_int_eq(sentinel_decode_master(&one, &m), -1);
    redisReply a = str("127.0.0.1"), i = {.type = REDIS_REPLY_INTEGER, .integer = 6379};
    redisReply *el[2] = {&a, &i};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = el};
    ck_assert_int_eq(sentinel_decode_master(&arr, &m), -1);
    arr.elements = 1;
    ck_assert_int_eq(sentinel_decode_master(&arr, &m), -1);
    ck_assert_int_eq(sentinel_decode_master(NULL, &m), -1);
}
END_TEST

static int role_of(const char *first, char *role)
{
    redisReply a = str(first);
    redisReply *el[1] = {&a};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 1, .element = el};
    return sentinel_decode_role(&arr, role, 16);
}

START_TEST(role_refuses_replicas)
{
    char role[16];
    ck_assert_int_eq(role_of("master", role), 1);
    ck_assert_int_eq(role_of("slave", role), 0);
    ck_assert_str_eq(role, "slave");
    ck_assert_int_eq(role_of("sentinel", role), 0);
    ck_assert_int_eq(role_of("MASTER", role), -1);
    ck_assert_int_eq(role_of("", role), -1);
    ck_assert_int_eq(role_of("masterandmoremoremore", role), -1);
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 0};
    ck_assert_int_eq(sentinel_decode_role(&arr, role, sizeof(role)), -1);
    redisReply st = {.type = REDIS_REPLY_STATUS, .str = "master", .len = 6};
    ck_assert_int_eq(sentinel_decode_role(&st, role, sizeof(role)), -1);
}
END_TEST

static int switch_of(const char *msg, struct cfg_hostport *out)
{
    return sentinel_decode_switch(msg, strlen(msg), "mxm", out);
}

START_TEST(switch_master_names_the_new_address)
{
    struct cfg_hostport m;
    ck_assert_int_eq(switch_of("mxm 127.0.0.1 6379 127.0.0.2 6380", &m), 1);
    ck_assert_str_eq(m.host, "127.0.0.2");
    ck_assert_int_eq(m.port, 6380);
    ck_assert_int_eq(switch_of("other 127.0.0.1 6379 127.0.0.2 6380", &m), 0);
    ck_assert_int_eq(switch_of("mxmx 127.0.0.1 6379 127.0.0.2 6380", &m), 0);
    ck_assert_int_eq(switch_of("mxm 127.0.0.1 6379 127.0.0.2", &m), -1);
    ck_assert_int_eq(switch_of("mxm 127.0.0.1 6379 127.0.0.2 6380 x", &m), -1);
    ck_assert_int_eq(switch_of("mxm 127.0.0.1  6379 127.0.0.2 6380", &m), -1);
    ck_assert_int_eq(switch_of("mxm 127.0.0.1 6379 127.0.0.2 6380 ", &m), -1);
    ck_assert_int_eq(switch_of("mxm 127.0.0.1 6379 new.example 6380", &m), -1);
    ck_assert_int_eq(switch_of("mxm ::1 6379 ::2 6380", &m), 1);
    ck_assert_str_eq(m.host, "::2");
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    ck_assert_int_eq(switch_of(big, &m), -1);
}
END_TEST

START_TEST(hostport_syntax)
{
    struct cfg_hostport hp;
    char buf[64];
    ck_assert_int_eq(cfg_parse_hostport("192.0.2.1:26379", &hp), 0);
    ck_assert_str_eq(sentinel_hostport(&hp, buf, sizeof(buf)), "192.0.2.1:26379");
    ck_assert_int_eq(cfg_parse_hostport("[2001:db8::1]:26379", &hp), 0);
    ck_assert_str_eq(sentinel_hostport(&hp, buf, sizeof(buf)), "[2001:db8::1]:26379");
    ck_assert_int_eq(cfg_parse_hostport("sentinel.example:26379", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("192.0.2.1", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("192.0.2.1:", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("192.0.2.1:+5", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("192.0.2.1:0", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("2001:db8::1:26379", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("[2001:db8::1]26379", &hp), -1);
    ck_assert_int_eq(cfg_parse_hostport("[192.0.2.1]:1", &hp), -1);
}
END_TEST

/* Loads text as a configuration; returns it, or NULL with the errors
 * joined by newlines in errs. */
static struct cfg *load(const char *text, char *errs, size_t size)
{
    char path[] = "/tmp/mxd-test-sentinel.XXXXXX";
    struct cfg_errors e = {0};
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cfg *c = cfg_load(path, &e);
    size_t len = 0;
    errs[0] = 0;
    for (size_t i = 0; i < e.count; i++) {
        const char *colon = strchr(e.text[i], ':');    /* drop the temp file name */
        len += (size_t)snprintf(errs + len, size - len, "%s\n", colon ? colon + 1 : e.text[i]);
    }
    cfg_errors_clear(&e);
    unlink(path);
    return c;
}

START_TEST(sentinel_settings_load)
{
    char errs[2048];
    struct cfg *c = load("site = \"lab\";\n"
                         "redis = { sentinels = [ \"192.0.2.1:26379\", \"192.0.2.2:26379\", "
                         "\"[2001:db8::3]:26380\" ];\n"
                         "  master_name = \"mxdetour\"; };\n", errs, sizeof(errs));
    ck_assert_msg(c != NULL, "%s", errs);
    ck_assert_uint_eq(c->redis.nsentinels, 3);
    ck_assert_str_eq(c->redis.sentinels[2].host, "2001:db8::3");
    ck_assert_int_eq(c->redis.sentinels[2].port, 26380);
    ck_assert_str_eq(c->redis.master_name, "mxdetour");
    ck_assert_ptr_null(c->redis.sentinel_password);
    cfg_free(c);
}
END_TEST

START_TEST(sentinel_mistakes_are_file_line_errors)
{
    char errs[2048];
    struct cfg *c = load("site = \"lab\";\n"
                         "redis = {\n"
                         "  sentinels = [ \"sentinel.example:26379\", \"192.0.2.2:26379\" ];\n"
                         "  socket = \"/run/redis.sock\";\n"
                         "  master_name = \"a b\";\n"
                         "};\n", errs, sizeof(errs));
    ck_assert_ptr_null(c);
    ck_assert_str_eq(errs,
                     "3: redis.sentinels[0]: \"sentinel.example:26379\" is not ADDRESS:PORT (an IP "
                     "address, IPv6 in brackets; not a host name)\n"
                     "4: redis.socket: not used with redis.sentinels (the sentinels name the master)\n"
                     "5: redis.master_name: use letters, digits, '-', '_' and '.' only\n");
    c = load("site = \"lab\";\nredis = {\n  sentinels = [ \"192.0.2.2:26379\" ];\n};\n", errs, sizeof(errs));
    ck_assert_ptr_null(c);
    ck_assert_str_eq(errs, "2: redis.master_name: required setting is missing\n");
    c = load("site = \"lab\";\nredis = {\n  socket = \"/s\";\n  master_name = \"m\";\n};\n", errs,
             sizeof(errs));
    ck_assert_ptr_null(c);
    ck_assert_str_eq(errs, "4: redis.master_name: only used with redis.sentinels\n");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("sentinel");
    TCase *tc = tcase_create("sentinel");
    tcase_add_test(tc, master_address_is_checked);
    tcase_add_test(tc, role_refuses_replicas);
    tcase_add_test(tc, switch_master_names_the_new_address);
    tcase_add_test(tc, hostport_syntax);
    tcase_add_test(tc, sentinel_settings_load);
    tcase_add_test(tc, sentinel_mistakes_are_file_line_errors);
    suite_add_tcase(s, tc);
    return s;
}

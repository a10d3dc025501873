/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/ctl/ctl_doctor_parse.c: lines of `postconf -M` and
 * `postconf NAME`, Postfix lists with { } groups (smtpd_milters), and a
 * milter member's default_action (the permission bits: test_setupcheck).
 */
#include "config.h"

#include <check.h>
#include <string.h>
#include <sys/stat.h>

#include "check_main.h"
#include "ctl_doctor.h"

START_TEST(master_lines)
{
    struct master_entry e;

    ck_assert_int_eq(doctor_parse_master("smtp      inet  n       -       y       -       -       smtpd", &e), 0);
    ck_assert_str_eq(e.service, "smtp");
    ck_assert_str_eq(e.type, "inet");
    ck_assert_int_eq(e.chroot, 1);
    ck_assert_str_eq(e.command, "smtpd");
    ck_assert_int_eq(doctor_parse_master("smtp-wg unix - - n - - smtp -o smtp_bind_address=10.77.0.2", &e), 0);
    ck_assert_str_eq(e.service, "smtp-wg");
    ck_assert_int_eq(e.chroot, 0);
    ck_assert_str_eq(e.command, "smtp");
    /* "-" is the default, n since Postfix 3.0 */
    ck_assert_int_eq(doctor_parse_master("cleanup unix n - - - 0 cleanup", &e), 0);
    ck_assert_int_eq(e.chroot, 0);
    ck_assert_int_eq(doctor_parse_master("127.0.0.1:10025 inet n - n - - smtpd", &e), 0);
    ck_assert_str_eq(e.service, "127.0.0.1:10025");
}
END_TEST

START_TEST(master_lines_refused)
{
    struct master_entry e;
    char long_name[DOCTOR_FIELD_MAX + 10];

    ck_assert_int_eq(doctor_parse_master("", &e), -1);
    ck_assert_int_eq(doctor_parse_master("# smtp inet n - y - - smtpd", &e), -1);
    ck_assert_int_eq(doctor_parse_master("smtp inet n - y - -", &e), -1);          /* no command */
    ck_assert_int_eq(doctor_parse_master("smtp inet n - maybe - - smtpd", &e), -1); /* chroot column */
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    char line[sizeof(long_name) + 40];
    snprintf(line, sizeof(line), "%s unix - - n - - smtp", long_name);
    ck_assert_int_eq(doctor_parse_master(line, &e), -1);
}
END_TEST

START_TEST(param_lines)
{
    char a[] = "transport_maps = hash:/var/lib/mxdetour/transport, hash:/etc/postfix/transport\n";
    char b[] = "smtpd_milters =";
    char c[] = "postconf: warning: /etc/postfix/main.cf: unused parameter: x=y";
    char d[] = "bad name = x";
    char *name, *value;

    ck_assert_int_eq(doctor_parse_param(a, &name, &value), 0);
    ck_assert_str_eq(name, "transport_maps");
    ck_assert_str_eq(value, "hash:/var/lib/mxdetour/transport, hash:/etc/postfix/transport");
    ck_assert_int_eq(doctor_parse_param(b, &name, &value), 0);
    ck_assert_str_eq(name, "smtpd_milters");
    ck_assert_str_eq(value, "");
    ck_assert_int_eq(doctor_parse_param(c, &name, &value), -1);
    ck_assert_int_eq(doctor_parse_param(d, &name, &value), -1);
}
END_TEST

START_TEST(lists_and_groups)
{
    const char *list = " hash:/a,hash:/b  { unix:/mxdetour/milter.sock, default_action=accept },inet:127.0.0.1:8891";
    char buf[128];
    int bad;
    const char *p = list;

    ck_assert_ptr_nonnull(p = doctor_list_next(p, buf, sizeof(buf), &bad));
    ck_assert_str_eq(buf, "hash:/a");
    ck_assert_ptr_nonnull(p = doctor_list_next(p, buf, sizeof(buf), &bad));
    ck_assert_str_eq(buf, "hash:/b");
    ck_assert_ptr_nonnull(p = doctor_list_next(p, buf, sizeof(buf), &bad));
    ck_assert_str_eq(buf, "unix:/mxdetour/milter.sock, default_action=accept");
    ck_assert_ptr_nonnull(p = doctor_list_next(p, buf, sizeof(buf), &bad));
    ck_assert_str_eq(buf, "inet:127.0.0.1:8891");
    ck_assert_ptr_null(doctor_list_next(p, buf, sizeof(buf), &bad));
    ck_assert_int_eq(bad, 0);

    ck_assert_ptr_null(doctor_list_next("{ unix:/x, default_action=accept", buf, sizeof(buf), &bad));
    ck_assert_int_eq(bad, 1);       /* a brace not closed */
    ck_assert_ptr_null(doctor_list_next("hash:/a-long-name", buf, 8, &bad));
    ck_assert_int_eq(bad, 1);       /* does not fit */
    ck_assert_ptr_null(doctor_list_next("", buf, sizeof(buf), &bad));
    ck_assert_int_eq(bad, 0);
}
END_TEST

START_TEST(milter_members)
{
    char addr[64], action[16];

    doctor_milter_member("unix:/mxdetour/milter.sock", addr, sizeof(addr), action, sizeof(action));
    ck_assert_str_eq(addr, "unix:/mxdetour/milter.sock");
    ck_assert_str_eq(action, "");
    doctor_milter_member("unix:/m.sock, default_action=accept", addr, sizeof(addr), action, sizeof(action));
    ck_assert_str_eq(addr, "unix:/m.sock");
    ck_assert_str_eq(action, "accept");
    doctor_milter_member("inet:127.0.0.1:8893 command_timeout=10s default_action = tempfail", addr, sizeof(addr),
                         action, sizeof(action));
    ck_assert_str_eq(addr, "inet:127.0.0.1:8893");
    ck_assert_str_eq(action, "tempfail");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("ctl_doctor");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, master_lines);
    tcase_add_test(tc, master_lines_refused);
    tcase_add_test(tc, param_lines);
    tcase_add_test(tc, lists_and_groups);
    tcase_add_test(tc, milter_members);
    suite_add_tcase(s, tc);
    return s;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/ops/setupcheck: permission bits for a user, and whether a user may read a log file by
 * its mode, owner and groups (files made with chown, so as root; the
 * ownership cases skip, counted, without root), whether an address is this
 * host's, and the warnings `mxdetourd -t` prints for a configuration.
 */
#include "config.h"

#include <check.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "check_main.h"
#include "setupcheck.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mxd-setupcheck-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    chmod(dir, 0755);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void)!system(cmd);
}

static void make_file(const char *name, mode_t mode, uid_t uid, gid_t gid, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    ck_assert_int_eq(chown(path, uid, gid), 0);
    ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(permission_bits)
{
    struct stat st = {.st_mode = S_IFDIR | 0750, .st_uid = 100, .st_gid = 200};
    gid_t groups[] = {7, 200};

    ck_assert(setupcheck_may(&st, 100, 100, NULL, 0, 7));       /* owner: rwx */
    ck_assert(setupcheck_may(&st, 101, 200, NULL, 0, 5));       /* primary group: r-x */
    ck_assert(!setupcheck_may(&st, 101, 200, NULL, 0, 2));      /* but no w */
    ck_assert(setupcheck_may(&st, 101, 5, groups, 2, 1));       /* supplementary group */
    ck_assert(!setupcheck_may(&st, 101, 5, groups, 1, 1));      /* others: nothing */
    ck_assert(setupcheck_may(&st, 0, 0, NULL, 0, 7));           /* root */
    st.st_mode = S_IFSOCK | 0660;
    ck_assert(setupcheck_may(&st, 101, 200, NULL, 0, 2));       /* connect: w on the socket */
    ck_assert(!setupcheck_may(&st, 101, 201, NULL, 0, 2));
    st.st_mode = S_IFREG | 0640;
    ck_assert(!setupcheck_may(&st, 0, 0, NULL, 0, 1));          /* root cannot execute what has no x */
    /* The owner's bits count even when the group's would allow more. */
    st.st_mode = S_IFREG | 0060;
    ck_assert(!setupcheck_may(&st, 100, 200, NULL, 0, 4));
}
END_TEST

START_TEST(a_missing_log_is_missing)
{
    char path[128], why[256] = "";
    snprintf(path, sizeof(path), "%s/mail.log", dir);
    ck_assert_int_eq(setupcheck_log_file(path, NULL, why, sizeof(why)), SETUPCHECK_LOG_MISSING);
    ck_assert_msg(strstr(why, "No such file") != NULL, "why: %s", why);
    ck_assert_int_eq(setupcheck_log_file(dir, NULL, why, sizeof(why)), SETUPCHECK_LOG_UNREADABLE);
    ck_assert_msg(strstr(why, "not a regular file") != NULL, "why: %s", why);
}
END_TEST

/* As after `postfix logrotate`: a new file 0600 root, which user nobody may
 * not read; 0640 with a group nobody is not in neither; 0644 is readable. */
START_TEST(modes_and_groups_decide_for_the_user)
{
    char path[128], why[256] = "";
    struct passwd *pw = getpwnam("nobody");

    if (geteuid() != 0)
        SKIP_CASE("not root: cannot make files of another owner");
    if (pw == NULL)
        SKIP_CASE("no user nobody");
    make_file("root600", 0600, 0, 0, path, sizeof(path));
    ck_assert_int_eq(setupcheck_log_file(path, "nobody", why, sizeof(why)), SETUPCHECK_LOG_UNREADABLE);
    ck_assert_msg(strstr(why, "mode 0600") && strstr(why, "user nobody"), "why: %s", why);
    ck_assert_int_eq(setupcheck_log_file(path, NULL, why, sizeof(why)), SETUPCHECK_LOG_OK); /* root */
    make_file("root640", 0640, 0, 0, path, sizeof(path));
    ck_assert_int_eq(setupcheck_log_file(path, "nobody", why, sizeof(why)), SETUPCHECK_LOG_UNREADABLE);
    make_file("group640", 0640, 0, pw->pw_gid, path, sizeof(path));
    ck_assert_int_eq(setupcheck_log_file(path, "nobody", why, sizeof(why)), SETUPCHECK_LOG_OK);
    make_file("own400", 0400, pw->pw_uid, 0, path, sizeof(path));
    ck_assert_int_eq(setupcheck_log_file(path, "nobody", why, sizeof(why)), SETUPCHECK_LOG_OK);
    make_file("own044", 0044, pw->pw_uid, 0, path, sizeof(path));   /* the owner's bits decide */
    ck_assert_int_eq(setupcheck_log_file(path, "nobody", why, sizeof(why)), SETUPCHECK_LOG_UNREADABLE);
    make_file("world644", 0644, 0, 0, path, sizeof(path));
    ck_assert_int_eq(setupcheck_log_file(path, "nobody", why, sizeof(why)), SETUPCHECK_LOG_OK);
}
END_TEST

START_TEST(local_and_foreign_addresses)
{
    char why[256] = "";
    ck_assert_int_eq(setupcheck_local_address("127.0.0.1", why, sizeof(why)), 0);
    ck_assert_int_eq(setupcheck_local_address("192.0.2.77", why, sizeof(why)), -1);
    ck_assert_msg(strstr(why, "is not an address of this host") != NULL, "why: %s", why);
    ck_assert_int_eq(setupcheck_local_address("not-an-address", why, sizeof(why)), -1);
    ck_assert_msg(strstr(why, "is not an IP address") != NULL, "why: %s", why);
}
END_TEST

START_TEST(warnings_for_a_configuration)
{
    char log_path[128], conf_path[128], *text = NULL;
    size_t len = 0;
    struct cfg_errors errors = {0};

    snprintf(log_path, sizeof(log_path), "%s/mail.log", dir);
    snprintf(conf_path, sizeof(conf_path), "%s/mxdetour.conf", dir);
    FILE *fp = fopen(conf_path, "w");
    ck_assert_ptr_nonnull(fp);
    fprintf(fp, "site = \"t\"; state_dir = \"%s\";\nlogs = ( { file = \"%s\"; } );\n"
            "probe = { source_address = \"192.0.2.77\"; };\n", dir, log_path);
    fclose(fp);
    struct cfg *cfg = cfg_load(conf_path, &errors);
    ck_assert_msg(cfg != NULL, "%s", errors.count ? errors.text[0] : "?");
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(setupcheck_warnings(cfg, out), 2);
    fclose(out);
    ck_assert_msg(strstr(text, "warning: logs: ") && strstr(text, "does not exist"), "%s", text);
    ck_assert_msg(strstr(text, "warning: probe.source_address: 192.0.2.77"), "%s", text);
    free(text);

    fp = fopen(log_path, "w");         /* the log now exists: one warning left */
    fclose(fp);
    chmod(log_path, 0644);
    out = open_memstream(&text, &len);
    ck_assert_int_eq(setupcheck_warnings(cfg, out), 1);
    fclose(out);
    free(text);
    cfg_free(cfg);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("setupcheck");
    TCase *tc = tcase_create("setupcheck");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, permission_bits);
    tcase_add_test(tc, a_missing_log_is_missing);
    tcase_add_test(tc, modes_and_groups_decide_for_the_user);
    tcase_add_test(tc, local_and_foreign_addresses);
    tcase_add_test(tc, warnings_for_a_configuration);
    suite_add_tcase(s, tc);
    return s;
}

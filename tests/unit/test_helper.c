/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the root helper's checks of what arrives on its socket
 * (relay/helper/helper_request.c), called in-process: a message of the
 * wrong size or with ancillary data, a bad magic, an unknown type, a
 * request with a status or a reload with data are refused with their
 * reason, the answer echoes the id it can read, and a well-formed reload
 * runs the configured program (a fake postfix) with exactly -c DIR reload.
 * Then mxdetour-helper itself (MXDETOUR_HELPER): it refuses to start
 * without its socket on descriptor 3, and with a bad command line.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "helper.h"
#include "spawn.h"

static char dir[64], script[96], calls[96];
static struct helper_env env;

static void setup(void)
{
    FILE *fp;

    snprintf(dir, sizeof(dir), "/tmp/mxd-helper-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/postfix", dir);
    snprintf(calls, sizeof(calls), "%s/calls", dir);
    ck_assert_ptr_nonnull(fp = fopen(script, "w"));
    fprintf(fp, "#!/bin/sh\necho \"$*\" >>%s\n", calls);
    fclose(fp);
    chmod(script, 0755);
    env.postfix = script;
    env.config_dir = dir;
}

static void teardown(void)
{
    unlink(script);
    unlink(calls);
    rmdir(dir);
}

static struct privsep_msg request(uint32_t type, uint32_t id)
{
    struct privsep_msg m;

    memset(&m, 0, sizeof(m));
    m.magic = PRIVSEP_MAGIC;
    m.type = type;
    m.id = id;
    return m;
}

#define REFUSED(msg, n, flags, why) do { \
        struct privsep_msg r_; \
        helper_handle(&env, (msg), (n), (flags), &r_); \
        ck_assert_int_eq(r_.status, -1); \
        ck_assert_uint_eq(r_.magic, PRIVSEP_MAGIC); \
        ck_assert_msg(strstr(r_.text, why) == r_.text, "answer \"%s\", wanted \"%s\"", r_.text, why); \
    } while (0)

START_TEST(malformed_envelopes_are_refused)
{
    struct privsep_msg m = request(PRIVSEP_RELOAD, 7), r;
    char big[sizeof(m) + 8];

    REFUSED(&m, 12, 0, "refused: a message of 12 bytes");
    memset(big, 0, sizeof(big));
    memcpy(big, &m, sizeof(m));
    REFUSED(big, (ssize_t)sizeof(big), MSG_TRUNC, "refused: a message of 264 bytes");
    REFUSED(&m, (ssize_t)sizeof(m), MSG_CTRUNC, "refused: a message of 256 bytes with ancillary data");
    m.magic = 0x41414141;
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: bad magic 0x41414141");
    m = request(99, 7);
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: unknown request type 99");
    m = request(0, 7);
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: unknown request type 0");
    m = request(PRIVSEP_RELOAD, 7);
    m.status = 1;
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: a reload request carries no data");
    m = request(PRIVSEP_RELOAD, 7);
    m.text[PRIVSEP_TEXT_MAX - 1] = 'x';
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: a reload request carries no data");
    m = request(PRIVSEP_KERNEL_ENSURE, 7);
    m.status = -1;
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: a request carries no status");
    /* No tunnels configured: every kernel request names a missing one. */
    helper_kernel_configure(NULL, 0);
    m = request(PRIVSEP_KERNEL_COMMIT, 7);
    REFUSED(&m, (ssize_t)sizeof(m), 0, "refused: no kernel-mode tunnel 0");

    /* The answer echoes the id and the type, marked as a reply. */
    m = request(99, 4242);
    helper_handle(&env, &m, (ssize_t)sizeof(m), 0, &r);
    ck_assert_uint_eq(r.id, 4242);
    ck_assert_uint_eq(r.type, 99 | PRIVSEP_REPLY);
    /* Too short to hold an id: 0. */
    helper_handle(&env, &m, 8, 0, &r);
    ck_assert_uint_eq(r.id, 0);
    ck_assert_int_eq(access(calls, F_OK), -1);          /* nothing ran */
}
END_TEST

START_TEST(a_reload_runs_exactly_postfix_c_dir_reload)
{
    struct privsep_msg m = request(PRIVSEP_RELOAD, 9), r;
    char want[160], got[160] = "";
    FILE *fp;

    helper_handle(&env, &m, (ssize_t)sizeof(m), 0, &r);
    ck_assert_msg(r.status == 0, "%s", r.text);
    ck_assert_uint_eq(r.id, 9);
    ck_assert_ptr_nonnull(fp = fopen(calls, "r"));
    ck_assert_ptr_nonnull(fgets(got, sizeof(got), fp));
    fclose(fp);
    snprintf(want, sizeof(want), "-c %s reload\n", dir);
    ck_assert_str_eq(got, want);

    /* A failing postfix: status -1 and its reason, not "refused". */
    env.postfix = "/bin/false";
    helper_handle(&env, &m, (ssize_t)sizeof(m), 0, &r);
    ck_assert_int_eq(r.status, -1);
    ck_assert_msg(strstr(r.text, "reload: exit status 1") != NULL, "%s", r.text);
}
END_TEST

/* The program refuses to run by hand: no socket on 3, bad options. */
START_TEST(program_refuses_a_bad_start)
{
    const char *path = getenv("MXDETOUR_HELPER");
    char out[512], err[256];
    int fd, status, sv[2];
    pid_t pid;
    ssize_t n;

    ck_assert_msg(path != NULL && path[0] == '/', "MXDETOUR_HELPER is not set (make check sets it)");
    {
        const char *const argv[] = {path, "-p", "/bin/true", "-c", "/tmp", NULL};
        ck_assert_int_eq(spawn_start(argv, 0, NULL, 0, &pid, &fd, NULL, err, sizeof(err)), 0);
        n = read(fd, out, sizeof(out) - 1);
        out[n > 0 ? n : 0] = 0;
        close(fd);
        waitpid(pid, &status, 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
        ck_assert_msg(strstr(out, "descriptor 3 is not the socket") != NULL, "%s", out);
    }
    {
        const char *const argv[] = {path, "-p", "/bin/true", "-c", "/tmp", "-k", "name=x", NULL};
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
        ck_assert_int_eq(spawn_start(argv, 0, &sv[1], 1, &pid, &fd, NULL, err, sizeof(err)), 0);
        n = read(fd, out, sizeof(out) - 1);
        out[n > 0 ? n : 0] = 0;
        close(fd);
        waitpid(pid, &status, 0);
        close(sv[0]);
        close(sv[1]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
        ck_assert_msg(strstr(out, "key if missing") != NULL, "%s", out);
    }
    {
        const char *const argv[] = {path, "-p", "postfix", "-c", "/tmp", NULL};
        ck_assert_int_eq(spawn_start(argv, 0, NULL, 0, &pid, &fd, NULL, err, sizeof(err)), 0);
        n = read(fd, out, sizeof(out) - 1);
        out[n > 0 ? n : 0] = 0;
        close(fd);
        waitpid(pid, &status, 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
        ck_assert_msg(strstr(out, "absolute paths") != NULL, "%s", out);
    }
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("helper");
    TCase *tc = tcase_create("helper");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, malformed_envelopes_are_refused);
    tcase_add_test(tc, a_reload_runs_exactly_postfix_c_dir_reload);
    tcase_add_test(tc, program_refuses_a_bad_start);
    suite_add_tcase(s, tc);
    return s;
}

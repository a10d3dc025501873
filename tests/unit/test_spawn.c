/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for lib/base/spawn: what spawn_run() reports for each way a
 * program ends, the descriptors a child gets (a passed socket as 3, stdout
 * and stderr where asked, nothing else), and spawn_stop() ending a child
 * that ignores SIGTERM.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "spawn.h"

/* Everything fd yields until EOF, NUL-terminated, into buf. */
static size_t read_all(int fd, char *buf, size_t size)
{
    size_t n = 0;
    ssize_t r;

    while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = 0;
    return n;
}

START_TEST(run_reports_status_output_and_timeout)
{
    const char *const ok[] = {"/bin/true", NULL};
    const char *const fail[] = {"/bin/sh", "-c", "echo 'first line'; echo second >&2; exit 3", NULL};
    const char *const sig[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
    const char *const slow[] = {"/bin/sleep", "10", NULL};
    const char *const rel[] = {"sh", NULL};
    const char *const missing[] = {"/nonexistent/program", NULL};
    char err[256];
    uint64_t t0;

    ck_assert_int_eq(spawn_run(ok, 1000, err, sizeof(err)), 0);
    ck_assert_int_eq(spawn_run(fail, 1000, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "exit status 3: first line");
    ck_assert_int_eq(spawn_run(sig, 1000, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "killed by signal 9");
    ck_assert_int_eq(spawn_run(rel, 1000, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "not an absolute path"));
    ck_assert_int_eq(spawn_run(missing, 1000, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "exit status 127: cannot execute /nonexistent/program") != NULL, "%s", err);
    t0 = spawn_real_ms();
    ck_assert_int_eq(spawn_run(slow, 200, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "no answer within 200 ms"));
    ck_assert_uint_lt(spawn_real_ms() - t0, 1000);
}
END_TEST

/* The child sees exactly 0, 1, 2 and the passed descriptor as 3, whatever
 * number it had here, and 3 is the socket. */
START_TEST(passes_one_descriptor_as_3_and_closes_the_rest)
{
    const char *const argv[] = {"/bin/sh", "-c",
        "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; echo hello >&3", NULL};
    int sv[2], decoy, out, fdnum;
    char buf[256], err[256];
    pid_t pid;
    int status;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    /* Move the child's end high, and open a decoy that must not leak. */
    ck_assert_int_ge(fdnum = fcntl(sv[1], F_DUPFD_CLOEXEC, 40), 40);
    close(sv[1]);
    ck_assert_int_ge(decoy = open("/dev/null", O_RDONLY), 0);   /* not close-on-exec */
    ck_assert_int_eq(spawn_start(argv, 0, &fdnum, 1, &pid, &out, NULL, err, sizeof(err)), 0);
    close(fdnum);
    read_all(out, buf, sizeof(buf));
    close(out);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* ls itself opens one directory descriptor: 0 1 2 3 and that one. */
    ck_assert_msg(strncmp(buf, "0 1 2 3 ", 8) == 0 && strlen(buf) <= 11, "descriptors: %s", buf);
    ck_assert_int_eq(read(sv[0], buf, 6), 6);
    ck_assert(memcmp(buf, "hello\n", 6) == 0);
    close(sv[0]);
    close(decoy);
}
END_TEST

START_TEST(stderr_apart_merged_or_kept)
{
    const char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
    char a[64], b[64], err[256];
    int out, errfd, status;
    pid_t pid;

    ck_assert_int_eq(spawn_start(argv, 0, NULL, 0, &pid, &out, &errfd, err, sizeof(err)), 0);
    read_all(out, a, sizeof(a));
    read_all(errfd, b, sizeof(b));
    close(out);
    close(errfd);
    waitpid(pid, &status, 0);
    ck_assert_str_eq(a, "out\n");
    ck_assert_str_eq(b, "err\n");

    ck_assert_int_eq(spawn_start(argv, 0, NULL, 0, &pid, &out, NULL, err, sizeof(err)), 0);
    read_all(out, a, sizeof(a));
    close(out);
    waitpid(pid, &status, 0);
    ck_assert_str_eq(a, "out\nerr\n");

    /* Kept: only stdout comes through the pipe. */
    ck_assert_int_eq(spawn_start(argv, SPAWN_KEEP_STDERR, NULL, 0, &pid, &out, NULL, err, sizeof(err)), 0);
    read_all(out, a, sizeof(a));
    close(out);
    waitpid(pid, &status, 0);
    ck_assert_str_eq(a, "out\n");

    ck_assert_int_eq(spawn_start(argv, 0, NULL, SPAWN_MAX_KEEP + 1, &pid, &out, NULL, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "cannot pass"));
}
END_TEST

START_TEST(stop_ends_a_child_that_ignores_sigterm)
{
    const char *const stubborn[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done", NULL};
    const char *const polite[] = {"/bin/sleep", "30", NULL};
    char buf[16], err[256];
    int out, status;
    pid_t pid;
    uint64_t t0;

    ck_assert_int_eq(spawn_start(stubborn, 0, NULL, 0, &pid, &out, NULL, err, sizeof(err)), 0);
    ck_assert_int_eq(read(out, buf, 6), 6);     /* the trap is set */
    t0 = spawn_real_ms();
    status = spawn_stop(pid, 200);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_uint_ge(spawn_real_ms() - t0, 200);
    close(out);

    ck_assert_int_eq(spawn_start(polite, 0, NULL, 0, &pid, &out, NULL, err, sizeof(err)), 0);
    status = spawn_stop(pid, 5000);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    close(out);
    ck_assert_int_eq(spawn_stop(pid, 10), -1);  /* reaped already: not ours */
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("spawn");
    TCase *tc = tcase_create("spawn");

    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, run_reports_status_output_and_timeout);
    tcase_add_test(tc, passes_one_descriptor_as_3_and_closes_the_rest);
    tcase_add_test(tc, stderr_apart_merged_or_kept);
    tcase_add_test(tc, stop_ends_a_child_that_ignores_sigterm);
    suite_add_tcase(s, tc);
    return s;
}

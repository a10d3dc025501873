/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for relay/core/sdnotify: a real AF_UNIX datagram socket, bound to a
 * path and to an abstract name, receives exactly what systemd would.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check_main.h"
#include "sdnotify.h"

/* A datagram socket standing in for systemd's; addr gets the form
 * NOTIFY_SOCKET holds ("/path" or "@name"). */
struct listener {
    int fd;
    char dir[64];
    char addr[108];
};

static void listen_path(struct listener *l)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    snprintf(l->dir, sizeof(l->dir), "/tmp/mxd-sdnotify.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(l->dir));
    snprintf(l->addr, sizeof(l->addr), "%s/notify", l->dir);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", l->addr);
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(l->fd, 0);
    ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
}

static void listen_abstract(struct listener *l)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len;

    l->dir[0] = '\0';
    snprintf(l->addr, sizeof(l->addr), "@mxd-sdnotify-test/%ld/%d", (long)getpid(), rand());
    len = strlen(l->addr);
    memcpy(sun.sun_path, l->addr, len);
    sun.sun_path[0] = '\0';
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(l->fd, 0);
    ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&sun,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
}

/* The next datagram, NUL-terminated; "" when none is waiting. */
static const char *receive(struct listener *l)
{
    static char buf[SDNOTIFY_MAX + 2];
    ssize_t n = recv(l->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void listener_close(struct listener *l)
{
    close(l->fd);
    if (l->dir[0]) {
        unlink(l->addr);
        rmdir(l->dir);
    }
}

START_TEST(ready_reaches_a_path_socket)
{
    struct listener l;

    listen_path(&l);
    ck_assert_int_eq(setenv("NOTIFY_SOCKET", l.addr, 1), 0);
    ck_assert_int_eq(sdnotify("READY=1"), 1);
    ck_assert_str_eq(receive(&l), "READY=1");
    ck_assert_int_eq(sdnotify("RELOADING=1"), 1);
    ck_assert_int_eq(sdnotify("READY=1\nSTATUS=running; configuration reloaded"), 1);
    ck_assert_str_eq(receive(&l), "RELOADING=1");
    ck_assert_str_eq(receive(&l), "READY=1\nSTATUS=running; configuration reloaded");
    ck_assert_str_eq(receive(&l), "");          /* one datagram per call, no more */
    unsetenv("NOTIFY_SOCKET");
    listener_close(&l);
}
END_TEST

START_TEST(ready_reaches_an_abstract_socket)
{
    struct listener l;

    listen_abstract(&l);
    ck_assert_int_eq(setenv("NOTIFY_SOCKET", l.addr, 1), 0);
    ck_assert_int_eq(sdnotifyf("STOPPING=1\nSTATUS=%s %d", "stopping, pid", 42), 1);
    ck_assert_str_eq(receive(&l), "STOPPING=1\nSTATUS=stopping, pid 42");
    /* The name is exactly the bytes after '@': a longer or shorter one is
     * another socket, which nobody bound. */
    char other[120];
    snprintf(other, sizeof(other), "%s-x", l.addr);
    errno = 0;
    ck_assert_int_eq(sdnotify_to(other, "READY=1"), -1);
    ck_assert_int_eq(errno, ECONNREFUSED);
    ck_assert_str_eq(receive(&l), "");
    unsetenv("NOTIFY_SOCKET");
    listener_close(&l);
}
END_TEST

START_TEST(no_socket_is_not_an_error)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert_int_eq(sdnotify("READY=1"), 0);
    ck_assert_int_eq(setenv("NOTIFY_SOCKET", "", 1), 0);
    ck_assert_int_eq(sdnotify("READY=1"), 0);
    ck_assert_int_eq(sdnotify_to(NULL, "READY=1"), 0);
    unsetenv("NOTIFY_SOCKET");
}
END_TEST

START_TEST(bad_addresses_and_messages_are_refused)
{
    char longname[200];
    struct listener l;

    errno = 0;
    ck_assert_int_eq(sdnotify_to("relative/notify", "READY=1"), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(sdnotify_to("@", "READY=1"), -1);
    ck_assert_int_eq(errno, EINVAL);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    ck_assert_int_eq(sdnotify_to(longname, "READY=1"), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(sdnotify_to("/nonexistent/mxd/notify", "READY=1"), -1);
    ck_assert_int_eq(errno, ENOENT);

    listen_path(&l);
    char big[SDNOTIFY_MAX + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(sdnotify_to(l.addr, big), -1);
    ck_assert_int_eq(errno, EMSGSIZE);
    ck_assert_int_eq(sdnotify_to(l.addr, ""), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_str_eq(receive(&l), "");          /* nothing was sent */
    listener_close(&l);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("sdnotify");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, ready_reaches_a_path_socket);
    tcase_add_test(tc, ready_reaches_an_abstract_socket);
    tcase_add_test(tc, no_socket_is_not_an_error);
    tcase_add_test(tc, bad_addresses_and_messages_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

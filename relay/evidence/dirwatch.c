/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dirwatch - see dirwatch.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <event2/event.h>

#include "dirwatch.h"

#define EVENT_BUF 4096

struct dirwatch {
    int fd;
    struct event *ev;
    char name[NAME_MAX + 1];        /* the file's name in its directory */
    void (*on_change)(void *arg);
    void *arg;
};

/* Reads every queued event; calls on_change once if one named the file. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct dirwatch *w = arg;
    char buf[EVENT_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
    int hit = 0;
    ssize_t n;
    (void)what;

    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        size_t off = 0;
        while (off + sizeof(struct inotify_event) <= (size_t)n) {
            const struct inotify_event *e = (const struct inotify_event *)(const void *)(buf + off);
            size_t len = sizeof(*e) + e->len;
            if (len > (size_t)n - off)
                break;              /* the kernel never splits one; be safe */
            if ((e->mask & IN_Q_OVERFLOW)
                || (e->len > 0 && strncmp(e->name, w->name, e->len) == 0
                    && strnlen(e->name, e->len) == strlen(w->name)))
                hit = 1;
            off += len;
        }
    }
    if (hit)
        w->on_change(w->arg);
}

struct dirwatch *dirwatch_new(struct event_base *base, const char *path,
                              void (*on_change)(void *arg), void *arg)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    struct dirwatch *w;

    if (!*name || strlen(name) > NAME_MAX || strlen(path) >= sizeof(dir)) {
        errno = EINVAL;
        return NULL;
    }
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return NULL;
    w->fd = -1;
    memcpy(w->name, name, strlen(name) + 1);
    w->on_change = on_change;
    w->arg = arg;
    if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
        goto fail;
    if (inotify_add_watch(w->fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM
                                          | IN_DELETE | IN_ATTRIB | IN_CLOSE_WRITE) < 0)
        goto fail;
    if ((w->ev = event_new(base, w->fd, EV_READ | EV_PERSIST, on_readable, w)) == NULL
        || event_add(w->ev, NULL) < 0)
        goto fail;
    return w;
fail:;
    int e = errno;
    dirwatch_free(w);
    errno = e;
    return NULL;
}

void dirwatch_free(struct dirwatch *w)
{
    if (w == NULL)
        return;
    if (w->ev)
        event_free(w->ev);
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

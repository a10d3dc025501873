/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdnotify - see sdnotify.h.  The protocol is systemd's own
 * (sd_notify(3), "NOTIFY_SOCKET"): one datagram, no answer.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

int sdnotify_to(const char *addr, const char *state)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t alen, slen = strlen(state);
    socklen_t socklen;
    int fd, saved;
    ssize_t sent;

    if (addr == NULL || addr[0] == '\0')
        return 0;
    alen = strlen(addr);
    if ((addr[0] != '/' && addr[0] != '@') || alen < 2 || alen >= sizeof(sun.sun_path)) {
        errno = EINVAL;
        return -1;
    }
    if (slen == 0 || slen > SDNOTIFY_MAX) {
        errno = slen ? EMSGSIZE : EINVAL;
        return -1;
    }
    memcpy(sun.sun_path, addr, alen);
    if (addr[0] == '@') {
        /* Abstract: the name is exactly alen bytes, NUL first, no terminator. */
        sun.sun_path[0] = '\0';
        socklen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + alen);
    } else {
        socklen = (socklen_t)sizeof(sun);
    }
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    sent = sendto(fd, state, slen, MSG_NOSIGNAL, (struct sockaddr *)&sun, socklen);
    saved = errno;
    close(fd);
    if (sent < 0 || (size_t)sent != slen) {
        errno = sent < 0 ? saved : EMSGSIZE;
        return -1;
    }
    return 1;
}

int sdnotify(const char *state)
{
    return sdnotify_to(getenv("NOTIFY_SOCKET"), state);
}

int sdnotifyf(const char *fmt, ...)
{
    char state[SDNOTIFY_MAX + 1];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(state, sizeof(state), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n > SDNOTIFY_MAX) {
        errno = EMSGSIZE;
        return -1;
    }
    return sdnotify(state);
}

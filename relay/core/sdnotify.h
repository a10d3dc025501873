/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sdnotify - systemd's readiness notification, without libsystemd.
 *
 * A service of Type=notify tells systemd how it is doing by sending one
 * datagram of "KEY=VALUE" lines to the AF_UNIX socket named in the
 * environment variable NOTIFY_SOCKET (sd_notify(3)):
 *
 *     READY=1              startup is complete: sockets open, modules started
 *     RELOADING=1          a reload began (READY=1 again when it ended)
 *     STOPPING=1           shutting down
 *     STATUS=text          one line shown by `systemctl status`
 *
 * NOTIFY_SOCKET is an absolute path ("/run/systemd/notify") or, when it
 * starts with '@', a name in the abstract namespace (the '@' stands for
 * the leading NUL byte).  Without NOTIFY_SOCKET (not started by systemd,
 * or Type= is not notify) nothing is sent and that is not an error.
 *
 * Every call opens a datagram socket, sends and closes it: a handful of
 * messages in the life of the process do not need a kept descriptor, and
 * nothing is left open across fork and exec.  The variable is left in the
 * environment; systemd (NotifyAccess=main) ignores what children send.
 *
 * Thread-safe (no shared state).  Diagnostics: none; the caller logs.
 */
#ifndef MXD_SDNOTIFY_H
#define MXD_SDNOTIFY_H

#include <stddef.h>

/* The longest message sent; longer ones are refused (EMSGSIZE). */
#define SDNOTIFY_MAX 1024

/*
 * Sends state (e.g. "READY=1\nSTATUS=running") to $NOTIFY_SOCKET.
 * Returns 1 when sent, 0 when NOTIFY_SOCKET is unset or empty, and -1 with
 * errno set when it could not be sent (EINVAL: not an absolute path nor an
 * '@' name, or a name too long for a sockaddr_un).
 */
int sdnotify(const char *state);

/* As sdnotify(), to the socket address addr (the form NOTIFY_SOCKET holds);
 * NULL or "" returns 0. */
int sdnotify_to(const char *addr, const char *state);

/* As sdnotify(), the state made from a printf format. */
int sdnotifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * socks5 - a SOCKS5 client (RFC 1928, CONNECT only) on the event loop, for
 * control probes that reach a destination MX through a proxy outside the
 * censored network (for example `ssh -D 127.0.0.1:1080 user@abroad`).
 *
 * socks5_connect() connects to the proxy (non-blocking), offers no
 * authentication (0x00) and, when a user is given, username/password
 * (0x02, RFC 1929), and asks the proxy to CONNECT to an IPv4 or IPv6
 * address and port.  One deadline covers the whole handshake.  Every reply
 * is read to its exact length and no further, so the socket handed over
 * holds the target's first byte unread; a reply that is short, of the
 * wrong version, of an unknown address type, or followed by bytes nobody
 * asked for yet is an error.
 *
 * What an error means.  socks5_err_is_target() splits the kinds in two:
 *
 *   the control path itself failed (never evidence about the target):
 *     SOCKS5_LOCAL           our side: an event that cannot be added, a
 *                            connect() that fails for a local reason
 *     SOCKS5_PROXY_DOWN      the proxy refused our connection, was
 *                            unreachable, or went silent or hung up before
 *                            its method reply (or its authentication reply)
 *     SOCKS5_PROXY_AUTH      the proxy wants authentication we were not
 *                            given, or refused our user and password
 *     SOCKS5_PROXY_PROTO     the proxy talks no SOCKS5 we accept (garbage,
 *                            too much), or refuses to do the job: general
 *                            failure (REP 1), not allowed by its rules
 *                            (REP 2), command or address type not supported
 *                            (REP 7, 8), an unknown REP
 *
 *   the proxy, alive, reached out and the target failed (evidence about the
 *   destination, as seen through the control path):
 *     SOCKS5_TARGET_REFUSED  REP 5
 *     SOCKS5_TARGET_UNREACH  REP 3 (network), REP 4 (host)
 *     SOCKS5_TARGET_TIMEOUT  REP 6 (TTL expired: microsocks says so when
 *                            its connect timed out), or our deadline ran
 *                            out while the proxy was connecting (it had
 *                            answered the method selection, so it is up)
 *     SOCKS5_TARGET_CLOSED   the proxy hung up after our CONNECT request
 *                            without a reply: OpenSSH's `ssh -D` replies
 *                            only once the far side has connected, and
 *                            hangs up when that fails, so the reason
 *                            (refused, unreachable) is not known
 *
 * Ownership and loop.  The handshake runs on the caller's event_base, in
 * the caller's thread.  done() is called exactly once, from the loop, never
 * from inside socks5_connect(), unless socks5_cancel() comes first; the
 * handle is freed before done() runs, and the result and its text live for
 * the call only.  On success result->fd is a connected, non-blocking
 * socket that belongs to socks5_connect()'s caller from then on (it closes
 * it), positioned at the target's first byte.  The user and password are
 * copied at once.  This module logs nothing: the caller names the probe in
 * its one line.
 */
#ifndef MXD_SOCKS5_H
#define MXD_SOCKS5_H

#include <stdint.h>

#include "netaddr.h"

struct event_base;
struct socks5;

#define SOCKS5_TEXT_MAX 128             /* result.text, NUL included */

struct socks5_proxy {
    struct netaddr addr;                /* the proxy's IPv4 or IPv6 address */
    int port;
    const char *user;                   /* NULL: no authentication offered */
    const char *password;               /* with user; 1..255 bytes each */
};

enum socks5_err {
    SOCKS5_OK = 0,
    SOCKS5_LOCAL,
    SOCKS5_PROXY_DOWN,
    SOCKS5_PROXY_AUTH,
    SOCKS5_PROXY_PROTO,
    SOCKS5_TARGET_REFUSED,
    SOCKS5_TARGET_UNREACH,
    SOCKS5_TARGET_TIMEOUT,
    SOCKS5_TARGET_CLOSED,
    SOCKS5_ERR_COUNT
};

struct socks5_result {
    int fd;                             /* connected (the callee's now), or -1 */
    enum socks5_err err;
    int rep;                            /* the proxy's REP code, or -1 */
    int sys_err;                        /* errno behind a failure, or 0 */
    uint64_t elapsed_ms;                /* from socks5_connect() */
    const char *text;                   /* "connected" or the reason, printable */
};

typedef void (*socks5_done_fn)(const struct socks5_result *result, void *arg);

/*
 * Starts a CONNECT to target:port through proxy, done within timeout_ms
 * (0: 10 s).  Returns the handle, or NULL (errno set, done() never called)
 * when an argument is out of range (a family other than IPv4/IPv6, a port
 * outside 1..65535, a user or password of 0 or more than 255 bytes), out of
 * memory, or no socket can be had.
 */
struct socks5 *socks5_connect(struct event_base *base, const struct socks5_proxy *proxy,
                              const struct netaddr *target, int port, uint64_t timeout_ms,
                              socks5_done_fn done, void *arg);
/* Stops a handshake under way, closes its socket, calls nothing. */
void socks5_cancel(struct socks5 *s);

/* 1 when err is evidence about the target; 0 for SOCKS5_OK and the control
 * path's own failures. */
int socks5_err_is_target(enum socks5_err err);
/* "ok", "local", "proxy-down", "proxy-auth", "proxy-protocol",
 * "target-refused", "target-unreach", "target-timeout", "target-closed". */
const char *socks5_err_name(enum socks5_err err);

#endif

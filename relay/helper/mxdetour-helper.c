/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mxdetour-helper - the root helper of mxdetourd: the one process that
 * keeps root, doing exactly what the typed requests of privsep_msg.h name
 * (OpenSMTPD's privileged parent: a separate image, re-executed, that
 * links no configuration parser, no event loop, no Redis or milter code).
 *
 * usage: mxdetour-helper [-f] [-v] -p POSTFIX -c CONFIG_DIR [-k TUNNEL]...
 *
 *   -p POSTFIX     absolute path of the postfix command (`postfix reload`)
 *   -c CONFIG_DIR  Postfix's configuration directory, as given to postfix -c
 *   -k TUNNEL      a kernel-mode tunnel (kernelnft.h: its one-line form);
 *                  requests name tunnels by their order here
 *   -f             log to stderr (mxdetourd runs in the foreground)
 *   -v             debug logging
 *
 * mxdetourd starts it, as root, before it reads any outside input, with
 * the socket on descriptor PRIVSEP_FD; it refuses to run otherwise.  It
 * answers one request at a time, in order, and exits when mxdetourd's end
 * of the socket closes (mxdetourd stopped or died).  SIGHUP is ignored:
 * mxdetourd re-reads its configuration, the helper keeps what it was
 * started with.  Exit status: 0 when the daemon closed the socket, 1 on a
 * socket error, 2 on a bad command line.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "helper.h"
#include "kernelnft.h"
#include "msg.h"
#include "privsep_msg.h"

#define MOD "helper"

static _Noreturn void usage(const char *why)
{
    fprintf(stderr, "mxdetour-helper: %s\n"
            "usage: mxdetour-helper [-f] [-v] -p POSTFIX -c CONFIG_DIR [-k TUNNEL]...\n"
            "(mxdetourd starts it; it is not a command to run by hand)\n", why);
    exit(2);
}

/* Whether PRIVSEP_FD is a SOCK_SEQPACKET Unix socket. */
static int socket_ok(void)
{
    int type = 0, domain = 0;
    socklen_t len = sizeof(type);

    if (getsockopt(PRIVSEP_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_SEQPACKET)
        return 0;
    len = sizeof(domain);
    return getsockopt(PRIVSEP_FD, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX;
}

int main(int argc, char **argv)
{
    static struct kernel_tunnel tunnels[KERNELNFT_MAX_TUNNELS];
    struct helper_env env = {0};
    struct sigaction sa;
    size_t ntunnels = 0;
    int ch, foreground = 0;
    char err[160];

    while ((ch = getopt(argc, argv, "c:fk:p:v")) != -1) {
        switch (ch) {
        case 'c':
            env.config_dir = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'k':
            if (ntunnels == KERNELNFT_MAX_TUNNELS)
                usage("too many tunnels");
            if (kernelnft_tunnel_parse(optarg, &tunnels[ntunnels++], err, sizeof(err)) < 0)
                usage(err);
            break;
        case 'p':
            env.postfix = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage("unknown option");
        }
    }
    if (optind < argc)
        usage("unexpected argument");
    if (env.postfix == NULL || env.postfix[0] != '/' || env.config_dir == NULL || env.config_dir[0] != '/')
        usage("-p and -c need absolute paths");
    if (!socket_ok())
        usage("descriptor 3 is not the socket mxdetourd passes");
    msg_open("mxdetour-helper", foreground ? MSG_STDERR : MSG_SYSLOG, LOG_MAIL);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGHUP, &sa, NULL);
    (void)sigaction(SIGPIPE, &sa, NULL);
    helper_kernel_configure(tunnels, ntunnels);
    msg_debug(MOD, "running, pid %ld, %zu kernel-mode tunnels", (long)getpid(), ntunnels);

    for (;;) {
        struct privsep_msg m, r;
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        memset(&m, 0, sizeof(m));
        if ((n = recvmsg(PRIVSEP_FD, &mh, MSG_TRUNC)) < 0) {       /* n: the real length */
            if (errno == EINTR)
                continue;
            msg_warn(MOD, "cannot read a request: %s; exiting", strerror(errno));
            return 1;
        }
        if (n == 0)
            return 0;           /* mxdetourd closed its end: stopped or died */
        helper_handle(&env, &m, n, mh.msg_flags, &r);
        while (send(PRIVSEP_FD, &r, sizeof(r), MSG_NOSIGNAL) < 0)
            if (errno != EINTR)
                return errno == EPIPE ? 0 : 1;
    }
}

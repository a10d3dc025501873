/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * helper - the root helper's work, apart from its main loop
 * (mxdetour-helper.c), so tests can call it in-process.
 *
 * helper_handle() takes one received message as the bytes that arrived
 * (n is the real length recvmsg() reported, flags its msg_flags) and
 * fills the answer: it checks the envelope (size, magic, type, that a
 * request carries no status and, for a reload, no data), then carries the
 * request out: a reload runs the configured postfix command (at most once
 * per PRIVSEP_RELOAD_FLOOR_MS, whatever it is asked), a kernel request goes
 * to helper_kernel_handle().  A refusal's text starts with "refused".
 *
 * The kernel part keeps the tunnels it serves (helper_kernel_configure(),
 * from the command line) and the staged addresses, for one tunnel at a
 * time; a refused or failed request drops what was staged.
 *
 * Single-threaded: the helper does one request at a time.
 */
#ifndef MXD_HELPER_H
#define MXD_HELPER_H

#include <stddef.h>
#include <sys/types.h>

#include "kernelnft.h"
#include "privsep_msg.h"

struct helper_env {
    const char *postfix;        /* absolute path of the postfix command */
    const char *config_dir;     /* its -c argument */
};

void helper_handle(const struct helper_env *env, const void *buf, ssize_t n, int flags,
                   struct privsep_msg *answer);

/* The tunnels the helper serves, copied; how many were taken (at most
 * KERNELNFT_MAX_TUNNELS). */
size_t helper_kernel_configure(const struct kernel_tunnel *t, size_t n);
size_t helper_kernel_count(void);

/* Checks and carries out one kernel request; 0 with what was done in text,
 * or -1 with the reason ("refused: ..." for a bad field). */
int helper_kernel_handle(const struct privsep_msg *m, char *text, size_t len);

#endif

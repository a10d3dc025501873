/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privsep - the daemon's side of the root helper, mxdetour-helper.
 *
 * `postfix reload` is reserved for root, and so are the nftables and
 * routing changes of kernel-mode tunnels, while mxdetourd drops its
 * privileges after the open hooks.  So privsep's open hook, still root
 * and before any module has read outside input, starts the helper
 * (relay/helper/mxdetour-helper.c): a separate program, executed afresh,
 * that stays root and does exactly what the typed requests of
 * relay/helper/privsep_msg.h name, and nothing else (OpenSMTPD's
 * parent_imsg() pattern).  What the helper may touch (the postfix
 * command, Postfix's configuration directory, the kernel-mode tunnels) is
 * on its command line; the socket is its descriptor PRIVSEP_FD.  When
 * mxdetourd does not start as root there is no helper: requests fail at
 * once and routes reach Postfix through its own 10 s table check.
 *
 * The helper is found at HELPER_PATH (configure's libexecdir), or at the
 * absolute path in the environment variable MXDETOUR_HELPER (the build
 * tree's tests set it).
 *
 * The daemon's side is non-blocking: privsep_request() sends and returns;
 * the answer comes on the event loop through the callback, in order.  If
 * the helper dies, pending requests fail with its reason and so does every
 * later one (an unprivileged process cannot start it again).
 *
 * Threads and loops: runs on d->base in the main thread.
 * Ownership: privsep owns the socket, its event and the helper's pid.
 */
#ifndef MXD_PRIVSEP_H
#define MXD_PRIVSEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cfg.h"
#include "daemon.h"
#include "kernelnft.h"
#include "privsep_msg.h"

#define PRIVSEP_MAX_PENDING 16

/* The answer to a request: status 0 when done (text may say what was
 * done), -1 with a reason in text. */
typedef void (*privsep_done_fn)(int status, const char *text, void *arg);

/* The module: open starts the helper (root), start watches the socket,
 * stop closes it and reaps the helper.  Register before routes. */
extern const struct daemon_module privsep_module;

/* The kernel-mode tunnels of cfg, in configuration order, as the helper
 * serves them (the index is what requests name); mta_user is looked up
 * here.  Returns how many (at most max).  privsep_tunnels.c. */
size_t privsep_tunnels(const struct cfg *cfg, struct kernel_tunnel *out, size_t max);

/* Hooks without a struct daemon, for tools and tests (privsep_module wraps
 * them).  privsep_open() starts the helper for postfix and the n tunnels;
 * 0, or -1 after logging why (a non-root caller is not an error: 0 and no
 * helper). */
int privsep_open(const struct cfg_postfix *postfix, const struct kernel_tunnel *tunnels, size_t n);
int privsep_start(struct event_base *base);
void privsep_stop(void);

/* True when a helper runs and answers. */
int privsep_available(void);

/*
 * Asks the helper to do type; done is called on the loop with the answer
 * (never from inside this call).  Returns 0, or -1 with the reason in err
 * when the request could not be sent (no helper, too many pending).
 */
int privsep_request(enum privsep_type type, privsep_done_fn done, void *arg,
                    char *err, size_t errlen);

/* Sends a kernel request (type PRIVSEP_KERNEL_*) with payload k, like
 * privsep_request(). */
int privsep_request_kernel(enum privsep_type type, const struct privsep_kernel *k,
                           privsep_done_fn done, void *arg, char *err, size_t errlen);

/* Tests only: sends len bytes (len > 0) of msg as they are, however wrong,
 * to see the helper refuse them; the answer goes to done like any other. */
int privsep_request_raw(const void *msg, size_t len, privsep_done_fn done, void *arg,
                        char *err, size_t errlen);

/* Forgets pending callbacks with this done and arg; their answers are
 * dropped (for a module that stops before privsep). */
void privsep_cancel(privsep_done_fn done, void *arg);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter - the before-queue face of mxdetour: Postfix asks it about every
 * recipient, and it answers from the engine's route view.
 *
 *   Postfix smtpd/cleanup --(milter protocol)--> libmilter threads
 *        per recipient: routeview_get(domain), else routeview_request(domain,
 *        milter.route_wait) so that the engine resolves a domain new to the
 *        site and publishes its route before the RCPT is answered.
 *
 * What each answer does to the recipient (docs/milter.md has the replies):
 *   direct, detour       nothing (the route table does the detour); with
 *                        milter.trace_header, detoured domains are listed in
 *                        an X-Mxdetour header added at end of message
 *   policy hold          the message is quarantined (Postfix hold queue) at
 *                        end of message
 *   policy tempfail      451 4.4.1 for that recipient only
 *   policy reject        550 5.7.1 for that recipient only
 *   policy pass, no answer in time, any internal error
 *                        nothing: the milter fails open
 *
 * The milter is a daemon module (milter_module).  It does nothing when
 * milter.socket is not set.
 *   open    (root) registers with libmilter and opens the listening socket;
 *           a Unix socket is given to the configured user, mode 0660
 *   start   copies what the callbacks need from the configuration and runs
 *           libmilter's smfi_main() in a thread of its own
 *   reload  replaces that copy (a changed socket needs a restart)
 *   stop    smfi_stop(), and waits (bounded) for that thread to end
 *
 * Threads: the hooks run on the daemon's loop.  libmilter runs the callbacks
 * on its own threads; they touch only routeview_* (relay/routes/routeview.h), the
 * module's locked copy of the configuration, and per-connection and
 * per-message contexts hung on the libmilter context (smfi_setpriv), which
 * they alone own.  libmilter can run once per process: after stop, the
 * milter cannot be started again.
 *
 * Diagnostics: problems met per message (a request not answered in time, a
 * refused reply) are logged at most once a minute each (msg_limited).
 * Decisions are logged with msg_debug: Postfix logs its own milter-reject
 * and milter-hold lines.
 */
#ifndef MXD_MILTER_H
#define MXD_MILTER_H

#include "daemon.h"

extern const struct daemon_module milter_module;

#endif

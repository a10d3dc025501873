/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prober - active SMTP greeting probes on the direct path, and control
 * probes through a SOCKS5 proxy.
 *
 * A probe connects to one MX address (non-blocking, bound to a source
 * address when one is given), waits for the complete greeting (a "220"
 * line, with any "220-" continuation lines before it), sends "QUIT" and
 * closes.  Its result is evidence for the rules:
 *
 *   PROBE_GREETING    a 220 greeting                  the path is open
 *   PROBE_REPLY       any other reply (421, 554...)   the path is open
 *   PROBE_TIMEOUT     connect timed out (SYN dropped) FAIL_TIMEOUT
 *   PROBE_REFUSED     connection refused (a reset)    FAIL_REFUSED
 *   PROBE_UNREACH     host or network unreachable     FAIL_UNREACH
 *   PROBE_NO_GREETING connected, but no complete reply within the timeout,
 *                     the connection closed, or garbage   FAIL_GREETING
 *   PROBE_ERROR       a local problem (socket, bind): never evidence
 *
 * probe_fail_kind() maps a result to enum fail_kind (FAIL_NONE for the
 * first two and for PROBE_ERROR: the caller tells them apart by kind).
 *
 * Scheduling.  Each probe first waits a random 0..jitter_ms (so MTAs that
 * learnt of a block at the same moment do not probe in step), then takes one
 * of `concurrency` slots, first come first served.  Connect and greeting
 * together get timeout_ms.  At most PROBER_MAX_PENDING probes wait
 * (jittering or queued) at any time; prober_probe() refuses more and counts
 * them (stats.overflow).  A probe for an address, port and source address
 * already waiting or running joins that probe: every callback gets the one
 * result.  The greeting is read into at most PROBER_MAX_REPLY bytes.
 *
 * Across MTAs: one prober per address per site is the caller's business: it
 * takes the site's probe lock (store_lock_probe() through the daemon's
 * asynchronous store) before calling prober_probe() and drops it in the
 * callback.  This module knows nothing of Redis.
 *
 * Ownership and loop.  The prober runs on the caller's event_base, in the
 * caller's thread; it never creates a base of its own.  Callbacks are always
 * called from the loop, never from inside prober_probe(); the result and the
 * strings it points to live for the call only.  A callback may start new
 * probes, but must not free the prober.  prober_free() (and
 * prober_cancel_all()) drop every probe without calling its callbacks.
 *
 * Control probes.  prober_probe_via() reaches the address through a SOCKS5
 * proxy outside the censored network (socks5.h) and reads the greeting the
 * same way, in the same queue and slots, within the same timeout_ms for
 * handshake and greeting together.  The target's failures seen through the
 * proxy are PROBE_REFUSED, PROBE_UNREACH and PROBE_TIMEOUT (result.proxy
 * names the proxy, result.socks_err says what the proxy said); a failure of
 * the proxy itself is PROBE_ERROR, never evidence about the address.
 *
 * Diagnostics: msg_warn("prober") for local errors and a full queue,
 * msg_debug for each result.
 */
#ifndef MXD_PROBER_H
#define MXD_PROBER_H

#include <stdint.h>

#include "cfg.h"
#include "evidence.h"
#include "netaddr.h"
#include "socks5.h"

struct event_base;
struct prober;

#define PROBER_MAX_PENDING 1024     /* probes waiting for a slot */
#define PROBER_MAX_REPLY 1024       /* bytes of greeting read at most */
#define PROBER_TEXT_MAX 128         /* result.text, NUL included */

enum probe_kind {
    PROBE_GREETING = 0,
    PROBE_REPLY,
    PROBE_TIMEOUT,
    PROBE_REFUSED,
    PROBE_UNREACH,
    PROBE_NO_GREETING,
    PROBE_ERROR,
    PROBE_KIND_COUNT
};

struct probe_result {
    enum probe_kind kind;
    int code;                       /* the SMTP reply code, or 0 */
    int err;                        /* errno behind a failure, or 0 */
    uint64_t elapsed_ms;            /* from the connect to the result */
    const struct netaddr *addr;
    int port;
    const char *source;             /* the bound source address, or NULL */
    const char *text;               /* first reply line or the reason, printable */
    const char *proxy;              /* a control probe's proxy "ADDR:PORT", or NULL */
    enum socks5_err socks_err;      /* its handshake's outcome; SOCKS5_OK if direct */
};

typedef void (*probe_fn)(const struct probe_result *result, void *arg);

struct prober_stats {
    unsigned long requested;        /* prober_probe() calls accepted */
    unsigned long joined;           /* ... that joined a probe under way */
    unsigned long overflow;         /* ... refused: too many waiting */
    unsigned long started;          /* connections attempted */
    unsigned long results[PROBE_KIND_COUNT];
    unsigned long waiting;          /* now: jittering or queued */
    unsigned long running;          /* now: holding a slot */
};

/*
 * A prober with cfg's timeout_ms, concurrency, jitter_ms, port and
 * source_address (copied: cfg may be freed afterwards).  Zero timeout or
 * concurrency take defaults (10 s, 4).  NULL when out of memory.
 */
struct prober *prober_new(struct event_base *base, const struct cfg_probe *cfg);
/* Takes new settings (after a reload); probes under way keep the old ones. */
void prober_configure(struct prober *p, const struct cfg_probe *cfg);
void prober_free(struct prober *p);

/*
 * Queues a probe of addr:port (port 0: the configured port) from source
 * (an address literal; NULL: the configured source_address, if any).
 * Returns 0; -1 when too many probes wait already, or addr is not an
 * IPv4/IPv6 address.  fn(result, arg) is called exactly once after a 0.
 */
int prober_probe(struct prober *p, const struct netaddr *addr, int port, const char *source,
                 probe_fn fn, void *arg);

/*
 * Like prober_probe(), through proxy (copied, user and password included):
 * it joins only a probe of the same address and port through the same
 * proxy, user and password.  No source address: the connection goes to
 * the proxy.
 * -1 also when proxy's address is no IPv4/IPv6 address or its user or
 * password is empty or longer than 255 bytes.
 */
int prober_probe_via(struct prober *p, const struct netaddr *addr, int port,
                     const struct socks5_proxy *proxy, probe_fn fn, void *arg);

/* 1 when a direct probe of addr:port from source (NULL: the configured one)
 * has its TCP connection up and waits for the greeting: the host answers,
 * however slow its banner (a greet pause).  0 otherwise. */
int prober_connected(const struct prober *p, const struct netaddr *addr, int port, const char *source);

/* Drops every callback registered with fn and arg; a probe nobody waits
 * for any more is stopped.  Returns how many were dropped. */
unsigned prober_cancel(struct prober *p, probe_fn fn, void *arg);
/* Stops every probe, calling no callback (shutdown). */
void prober_cancel_all(struct prober *p);

void prober_get_stats(const struct prober *p, struct prober_stats *s);

/* "greeting", "reply", "timeout", "refused", "unreach", "no-greeting", "error". */
const char *probe_kind_name(enum probe_kind kind);
/* The failure a result is evidence of; FAIL_NONE for replies and errors. */
enum fail_kind probe_fail_kind(enum probe_kind kind);
/* 1 when the result proves the direct path open (a greeting or a reply). */
int probe_is_success(enum probe_kind kind);

#endif

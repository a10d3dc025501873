/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * relayhealth - is each configured relay usable right now?
 *
 * Every probe.relay_interval (default 15 s) each relay with a check target (a
 * smarthost's [host]:port, or "check" in its configuration) gets a greeting
 * probe; a tunnel relay with a source_address is probed through the tunnel
 * (bound to that address) at its check target.  A relay is down after
 * RELAYHEALTH_FALL failed probes in a row and up again after RELAYHEALTH_RISE
 * good ones (HAProxy's fall/rise).  Relays without a check target are taken
 * as up.  Changes are logged and reported through on_change, so the engine
 * can move destinations to their next relay.
 *
 * One instance (file-static), on the daemon's loop.
 */
#ifndef MXD_RELAYHEALTH_H
#define MXD_RELAYHEALTH_H

#include "cfg.h"
#include "netaddr.h"

struct event_base;

#define RELAYHEALTH_FALL 2
#define RELAYHEALTH_RISE 1

int relayhealth_start(struct event_base *base, const struct cfg *cfg,
                      void (*on_change)(const char *relay, int up, void *arg), void *arg);
/* After a reload: relays are matched by name; new ones start up. */
void relayhealth_configure(const struct cfg *cfg);
void relayhealth_stop(void);

/* 1 when the named relay is usable (unknown names: 0). */
int relayhealth_is_up(const char *relay);

/* Postfix's own word on a connection to addr (the log): a delivery or any
 * reply (ok), or a connect failure.  Ignored unless addr is a relay's check
 * target. */
void relayhealth_evidence(const struct netaddr *addr, int ok);

#endif

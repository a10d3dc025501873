/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_deliver - the deliverability settings (docs/deliverability.md):
 * what a detour changes for the recipient's SPF, DKIM/DMARC and reverse DNS
 * checks, and what `mxdetourctl check relays` evaluates.
 *
 * On a relay (CFG_DELIVER_RELAY_KEYS):
 *   exit_addresses  the addresses the real MX sees the detoured mail come
 *                   from: the smarthost's outgoing addresses, or the
 *                   tunnel's exit abroad (at most CFG_DELIVER_MAX_EXITS IP
 *                   literals).  Unset: unknown, and said so, never guessed.
 *   helo_name       the HELO name that exit presents, when Postfix does not
 *                   know it (a smarthost's own); for a tunnel's local
 *                   transport it is read from postconf instead.
 * At the top level (CFG_DELIVER_KEYS):
 *   sender_domains     the domains the site sends as (at most
 *                      CFG_DELIVER_MAX_SENDERS); the milter adds the ones it
 *                      sees on detoured mail at run time.
 *   dkim_log_interval  a sender domain's detoured, not aligned-signed mail
 *                      is logged at most once per interval (default 1h).
 *
 * cfg_read_deliver() is called by cfg.c once the relays are read; errors are
 * FILE:LINE entries like the rest.  Ownership: everything belongs to the
 * struct cfg (cfg_free_deliver, from cfg_free).
 */
#ifndef MXD_CFG_DELIVER_H
#define MXD_CFG_DELIVER_H

#include <stddef.h>
#include <stdint.h>

#define CFG_DELIVER_RELAY_KEYS "exit_addresses", "helo_name"
#define CFG_DELIVER_KEYS "sender_domains", "dkim_log_interval"
#define CFG_DELIVER_MAX_EXITS 8
#define CFG_DELIVER_MAX_SENDERS 64
#define CFG_DELIVER_ADDRLEN 46

struct cfg_relay_deliver {
    char exits[CFG_DELIVER_MAX_EXITS][CFG_DELIVER_ADDRLEN];  /* canonical IP literals */
    size_t nexits;               /* 0: unknown */
    char *helo_name;             /* or NULL */
};

struct cfg_deliver {
    char **sender_domains;       /* normalised domains */
    size_t nsender_domains;
    uint64_t dkim_log_interval_ms;
};

struct cfg_reader;
struct cfg;
struct config_setting_t;

void cfg_read_deliver(struct cfg_reader *r, const struct config_setting_t *root, struct cfg *c);
void cfg_free_deliver(struct cfg *c);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rules_int - what the rules engine's files share, and nothing else should
 * use: rules.c (the changing calls), rules_text.c (the explanation
 * sentences), rules_view.c (read-only views, walks and statistics).
 */
#ifndef MXD_RULES_INT_H
#define MXD_RULES_INT_H

#include "addrtable.h"
#include "rules.h"

struct rules {
    struct rules_config cfg;
    struct addrtable t;
    struct outage *outage;
    int busy;                    /* inside a callback */
    int events;                  /* reported since the public call began */
    uint64_t refused;            /* evidence refused with RULES_EFULL */
    uint64_t outage_hold_ms;     /* no outage begins before this (rules_outage_hold) */
};

/* The normalised domain in buf, or NULL. */
const char *rules_norm_domain(const char *domain, char *buf, size_t size);

/* The address whose breaker explains the domain's state: the one that just
 * changed, else the first detoured (then half-open) one; NULL: none does. */
const struct addr_entry *rules_decider(const struct rules *r, const struct dom_entry *d,
                                       const struct addr_entry *trigger);

/* "detour: D (host[addr], ...) <why's phrase, or fallback>" */
void rules_explain_dom(const struct rules *r, const struct dom_entry *d,
                       const struct addr_entry *why, const char *fallback, char *buf, size_t size);
/* "detour: host[addr] blocked after ..." */
void rules_explain_addr(const struct addr_entry *e, char *buf, size_t size);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deliverability - whether mail detoured through each relay can still pass
 * the recipient's SPF, reverse-DNS and DMARC checks (docs/deliverability.md).
 *
 * deliver_check() evaluates, for every (relay exit address, sender domain)
 * pair, SPF with libspf2 (the exit as client address, postmaster@DOMAIN
 * as MAIL FROM), and for each exit address its PTR name and whether that
 * name resolves back to it (FCrDNS), and the HELO name the relay's
 * transport presents (postconf: `-P SERVICE/unix/smtp_helo_name`, else
 * smtp_helo_name; a relay's helo_name setting wins; a smarthost's own HELO
 * is unknown without it).  A relay without exit_addresses is reported as
 * unknown, never guessed.  It blocks on DNS (the system's resolver, as
 * libspf2 uses it: /etc/resolv.conf) and on postconf: run it off the loop.
 *
 * The daemon's side (deliverability_run.c): deliverability_module runs the
 * check on a worker thread at start and on every reload, logs each finding
 * once, and keeps the last report for GET /metrics (deliverability_render:
 * mxdetour_relay_spf{relay,exit,domain,result}, mxdetour_relay_fcrdns,
 * mxdetour_relay_exits_unknown).
 *
 * Ownership: a struct deliver_report is the caller's; deliver_report_free()
 * releases what deliver_check() put in it.
 */
#ifndef MXD_DELIVERABILITY_H
#define MXD_DELIVERABILITY_H

#include <stddef.h>
#include <stdio.h>

#include "cfg.h"
#include "daemon.h"
#include "metrics.h"
#include "netaddr.h"

#define DELIVER_MAX_DOMAINS 128     /* configured + learned, per check */
#define DELIVER_TEXT 256

enum deliver_code { DELIVER_OK = 0, DELIVER_WARNING = 1, DELIVER_CRITICAL = 2, DELIVER_UNKNOWN = 3 };

struct deliver_pair {
    size_t relay;                   /* index into cfg->relays */
    char exit[NETADDR_STRLEN];
    char domain[DOMAIN_MAXLEN + 1];
    char result[16];                /* libspf2's name: pass, fail, softfail, neutral, none, ... */
    char mechanism[DELIVER_TEXT];   /* what decided it, as far as the record shows */
    char detail[DELIVER_TEXT];      /* libspf2's comment or error */
};

struct deliver_exit {
    size_t relay;
    char exit[NETADDR_STRLEN];
    char ptr[DOMAIN_MAXLEN + 1];    /* "" when none */
    int fcrdns;                     /* 1 the PTR name resolves back, 0 not, -1 no PTR */
};

struct deliver_relay {
    char name[65];
    int type;                       /* enum relay_type */
    size_t nexits;                  /* 0: exit addresses unknown */
    char helo[DOMAIN_MAXLEN + 1];   /* "" unknown */
    char helo_from[DELIVER_TEXT];   /* where the HELO name came from, or why unknown */
};

struct deliver_report {
    struct deliver_relay *relays;
    size_t nrelays;
    struct deliver_exit *exits;
    size_t nexits;
    struct deliver_pair *pairs;
    size_t npairs;
    char domains[DELIVER_MAX_DOMAINS][DOMAIN_MAXLEN + 1];
    size_t ndomains;
    enum deliver_code code;
};

/* Checks every relay of cfg against cfg's sender_domains plus extra
 * (learned domains; may be NULL).  postfix_dir may be NULL for
 * cfg->postfix.config_directory.  0, or -1 when out of memory. */
int deliver_check(const struct cfg *cfg, const char *postfix_dir, const char *const *extra,
                  size_t nextra, struct deliver_report *out);
void deliver_report_free(struct deliver_report *r);

/* What a pair, an exit or a relay means, one line each, the way the
 * administrator reads it ("relay-fi 203.0.113.7: SPF fail for example.ru
 * (-all), ..."); the level of each line is returned through *code. */
void deliver_pair_text(const struct cfg *cfg, const struct deliver_pair *p, char *buf, size_t size,
                       enum deliver_code *code);
void deliver_exit_text(const struct cfg *cfg, const struct deliver_exit *e, char *buf, size_t size,
                       enum deliver_code *code);

/* The report as text lines or as JSON, on fp. */
void deliver_print_text(const struct cfg *cfg, const struct deliver_report *r, FILE *fp);
void deliver_print_json(const struct cfg *cfg, const struct deliver_report *r, FILE *fp);

/* The daemon's side (deliverability_run.c). */
extern const struct daemon_module deliverability_module;
void deliverability_render(struct metrics_buf *b);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_check_relays - `mxdetourctl check relays [--json] [-C DIR]`: whether
 * mail detoured through each relay can pass the recipient's SPF, reverse
 * DNS and DMARC checks (relay/ops/deliverability.h does the checking).
 * One line per finding, or --json; monitoring-plugin exit codes.
 *
 * It checks the configured sender_domains.  The domains mxdetourd learns
 * from detoured mail live in the daemon (its own check at start and on HUP
 * includes them, and GET /metrics shows the results); this command, which
 * works while the daemon is down, does not see them.  No Redis.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "deliverability.h"

int ctl_check_relays(struct ctl *c, const char *what)
{
    struct deliver_report r;

    if (strcmp(what, "relays") != 0) {
        fprintf(stderr, "mxdetourctl: check: use \"check relays\"\n");
        return CTL_USAGE;
    }
    if (deliver_check(c->cfg, c->postfix_dir, NULL, 0, &r) < 0) {
        printf("UNKNOWN: out of memory checking the relays\n");
        return CHECK_UNKNOWN;
    }
    if (c->json)
        deliver_print_json(c->cfg, &r, stdout);
    else
        deliver_print_text(c->cfg, &r, stdout);
    int code = (int)r.code;
    deliver_report_free(&r);
    return code;
}

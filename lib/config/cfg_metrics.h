/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_metrics - the metrics section of mxdetour.conf(5):
 *
 *     metrics = { listen = "127.0.0.1:9466"; };
 *
 * cfg.c calls cfg_metrics_read() and cfg_metrics_free(); the daemon's
 * metrics endpoint (relay/ops/metrics_http.c) parses the checked address with
 * cfg_metrics_listen().  Without the section, or without listen, the
 * endpoint is off.
 */
#ifndef MXD_CFG_METRICS_H
#define MXD_CFG_METRICS_H

#include <stddef.h>

#include "cfg.h"
#include "cfg_read.h"

void cfg_metrics_read(struct cfg_reader *r, const config_setting_t *root, struct cfg_metrics *m);
void cfg_metrics_free(struct cfg_metrics *m);

/* "127.0.0.1:9466" or "[::1]:9466" -> host "127.0.0.1" or "::1", and the
 * port.  0, or -1 when listen is not an IP address and port. */
int cfg_metrics_listen(const char *listen, char *host, size_t size, int *port);

#endif

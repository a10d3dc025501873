/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics_http - the Prometheus endpoint of mxdetourd (GET /metrics on
 * metrics.listen; off without it).  See metrics_http.c for its limits and
 * docs/metrics.md for what it serves.  Register it after the engine: a
 * scrape reads the relay health, the Redis link and the routes.
 */
#ifndef MXD_METRICS_HTTP_H
#define MXD_METRICS_HTTP_H

#include "daemon.h"

extern const struct daemon_module metrics_http_module;

#endif

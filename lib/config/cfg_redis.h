/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_redis - the redis group of mxdetour.conf(5): where Redis is (a socket,
 * an address, or the sentinels that know the current master), how to log in
 * to it and to the sentinels, and the site's key prefix.  Used by cfg.c only.
 */
#ifndef MXD_CFG_REDIS_H
#define MXD_CFG_REDIS_H

#include <libconfig.h>

#include "cfg.h"
#include "cfg_read.h"

/* Fills rd from root's "redis" group, with defaults for what is absent;
 * each problem goes to r's error list as FILE:LINE. */
void cfg_read_redis(struct cfg_reader *r, const config_setting_t *root, struct cfg_redis *rd);

/* Frees the strings rd owns (not rd itself). */
void cfg_redis_free(struct cfg_redis *rd);

/* The first line of the file named by g's member name (a secret: a
 * password), malloc'd; NULL when the member is absent or on an error. */
char *cfg_read_secret(struct cfg_reader *r, const config_setting_t *g, const char *name);

/* "192.0.2.1:26379" or "[2001:db8::1]:26379" into out; -1 when it is not an
 * IP address literal with a port from 1 to 65535. */
int cfg_parse_hostport(const char *text, struct cfg_hostport *out);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_tls - TLS to Redis and the sentinels (redis.tls in mxdetour.conf(5)),
 * where hiredis has it (hiredis 1.0 or later with hiredis_ssl; configure
 * defines HAVE_HIREDIS_SSL).  One OpenSSL context per process, made from the
 * configuration once by store_tls_setup; every connection, blocking or
 * asynchronous, is handed to store_tls_wrap right after hiredis made it and
 * before anything is sent.  Without redis.tls both do nothing, so the
 * connect code calls them unconditionally.  Not thread-safe: called from
 * the thread that connects (the loop, or mxdetourctl's main).
 */
#ifndef MXD_STORE_TLS_H
#define MXD_STORE_TLS_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "cfg.h"

/* Makes the process's TLS context from rd->tls (nothing when it is off);
 * 0, or -1 with the reason (a file OpenSSL refused) in err. */
int store_tls_setup(const struct cfg_redis *rd, char *err, size_t errlen);

/* Starts TLS on c with the context of store_tls_setup (nothing when there
 * is none); 0, or -1 with hiredis's reason in err. */
int store_tls_wrap(redisContext *c, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_keys - key names and Lua scripts shared by the blocking store (lib/state/store.c)
 * and the daemon's asynchronous one.  One definition, so the two never drift.
 */
#ifndef MXD_STORE_KEYS_H
#define MXD_STORE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "breaker.h"

enum store_script { SCRIPT_ADDR_CAS, SCRIPT_MANUAL_SET, SCRIPT_MANUAL_DEL, SCRIPT_DOM_PUT,
                    SCRIPT_UNLOCK, SCRIPT_COUNT };

extern const char *const store_script_text[SCRIPT_COUNT];

/* "<prefix>:<site>:<kind>:<name>" (or without ":<name>" when name is NULL)
 * into buf; returns buf, or NULL when it would not fit. */
const char *store_key(char *buf, size_t size, const char *prefix, const char *kind,
                      const char *name);

/* The arguments of SCRIPT_ADDR_CAS (3 keys, 7 values), built in one place. */
struct store_cas_args {
    char key[256], index[200], chan[200], expected[24], text[BREAKER_TEXT_MAX], now[24], ttl[24];
    const char *argv[10];
};

/* Fills a; returns 0, or -1 when a name is too long or the record too big. */
int store_cas_prepare(struct store_cas_args *a, const char *prefix, const char *addr,
                      const char *host, long long expected, const struct breaker *b,
                      int publish, uint64_t now_ms, uint64_t ttl_ms);

#endif

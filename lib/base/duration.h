/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * duration - "90s", "10m", "2h", "1d", "500ms", "1h30m" <-> milliseconds.
 * A bare number is seconds, as in Postfix's time parameters.
 */
#ifndef MXD_DURATION_H
#define MXD_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Returns 0 and stores the value, or -1 on a malformed or overflowing text. */
int duration_parse(const char *text, uint64_t *ms);

/* Writes the shortest exact form ("10m", "1h30m", "250ms") into buf. */
const char *duration_format(uint64_t ms, char *buf, size_t size);

#endif

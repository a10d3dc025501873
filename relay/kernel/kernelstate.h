/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelstate - mxdetourd's last known state of the kernel-mode tunnel
 * sets, STATE_DIR/kernel.state: one line "ADDRESS TUNNEL WHY" per address
 * in a set, '#' comments.  kernelpub writes it after every change (and
 * reads it at start when Redis does not answer); `mxdetourctl kernel` reads
 * it for the reasons.  Lines that do not parse are skipped; lines are at
 * most KERNELSTATE_LINE_MAX bytes.
 */
#ifndef MXD_KERNELSTATE_H
#define MXD_KERNELSTATE_H

#include "netaddr.h"

#define KERNELSTATE_FILE "kernel.state"
#define KERNELSTATE_LINE_MAX 512

typedef void (*kernelstate_fn)(const struct netaddr *addr, const char *tunnel, const char *why,
                               void *arg);

/* Calls fn for each entry of the file at path; returns how many, or -1
 * when it cannot be opened. */
long kernelstate_read(const char *path, kernelstate_fn fn, void *arg);

#endif

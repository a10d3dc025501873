/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * evidence - what the detectors (log parser, prober, feeds, mxdetourctl)
 * report about one MX address, in the form the rules consume.
 *
 * A failure kind names how a direct connection failed.  Only connect-phase
 * failures exist here: any reply from the server proves the path is open and
 * is reported as a success, whatever the reply said.
 */
#ifndef MXD_EVIDENCE_H
#define MXD_EVIDENCE_H

#include <stdint.h>

#include "netaddr.h"

enum fail_kind {
    FAIL_NONE = 0,
    FAIL_TIMEOUT,        /* "Connection timed out": the SYN went unanswered */
    FAIL_REFUSED,        /* "Connection refused": a reset came back */
    FAIL_UNREACH,        /* "No route to host", "Network is unreachable" */
    FAIL_GREETING,       /* connected, but no 220 greeting (timeout or lost) */
    FAIL_TLS,            /* TLS handshake failed */
    FAIL_KIND_COUNT
};

/* Bit for a kind in a mask of kinds that count ("detection.kinds"). */
#define FAIL_BIT(k) (1u << (k))
#define FAIL_DEFAULT_KINDS (FAIL_BIT(FAIL_TIMEOUT) | FAIL_BIT(FAIL_GREETING))

/* "timeout", "refused", "unreach", "greeting", "tls"; NULL for FAIL_NONE. */
const char *fail_kind_name(enum fail_kind kind);
/* The kind for a name, or FAIL_NONE when the name is unknown. */
enum fail_kind fail_kind_parse(const char *name);

/* Where a piece of evidence came from. */
enum evidence_source {
    SRC_LOG = 0,         /* Postfix's own log */
    SRC_PROBE,           /* mxdetour's active probe on the direct path */
    SRC_MANUAL,          /* mxdetourctl block/unblock */
    SRC_FEED,            /* an official block list */
    SRC_COUNT
};

const char *evidence_source_name(enum evidence_source src);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * privsep_msg - the messages between mxdetourd and its root helper,
 * mxdetour-helper (relay/helper/mxdetour-helper.c; the daemon's side is
 * relay/core/privsep.c).
 *
 * Every message is one fixed-size struct privsep_msg over an AF_UNIX
 * SOCK_SEQPACKET socket, the helper's descriptor PRIVSEP_FD.  A request
 * carries no argument a compromised daemon could abuse: the program to
 * run, the Postfix configuration directory and the kernel-mode tunnels
 * were given to the helper on its command line when mxdetourd started it,
 * still as root and before it read any outside input.  The helper checks
 * each message's size, magic, type and that every unused byte is zero,
 * and answers anything else with an error that starts "refused".
 *
 *   RELOAD  runs `postfix -c CONFIG_DIR reload`; no payload
 *   ENSURE  creates a tunnel's nftables table, sets, chain, ip rules and
 *           route (kernelnft_ensure)
 *   STAGE   stages up to PRIVSEP_KERNEL_V4 IPv4 or PRIVSEP_KERNEL_V6 IPv6
 *           addresses to add, remove, or want (at most
 *           PRIVSEP_KERNEL_STAGE_MAX staged, one tunnel at a time)
 *   COMMIT  applies what is staged in one nftables transaction: a delta, or
 *           with `sync` the set becomes exactly the wanted addresses
 *
 * A tunnel is named by its index among the tunnels on the helper's
 * command line, never by a name or an interface the daemon sends.
 * Answers echo the id and carry a short text ("added N, removed M", or
 * why it failed).
 */
#ifndef MXD_PRIVSEP_MSG_H
#define MXD_PRIVSEP_MSG_H

#include <stdint.h>

#define PRIVSEP_FD 3                        /* the helper's end of the socket */
#define PRIVSEP_MAGIC 0x6d786470u           /* "mxdp" */
#define PRIVSEP_TEXT_MAX 240
#define PRIVSEP_RELOAD_TIMEOUT_MS 30000     /* `postfix reload` is killed after this */
#define PRIVSEP_RELOAD_FLOOR_MS 1000        /* the helper's own minimum between reloads */

enum privsep_type {
    PRIVSEP_RELOAD = 1,         /* run `postfix -c CONFIG_DIR reload`; no payload */
    PRIVSEP_KERNEL_ENSURE,      /* struct privsep_kernel: tunnel */
    PRIVSEP_KERNEL_STAGE,       /* struct privsep_kernel: tunnel, op, family, count, addr */
    PRIVSEP_KERNEL_COMMIT,      /* struct privsep_kernel: tunnel, sync */
    PRIVSEP_TYPE_MAX            /* first unused type */
};

enum privsep_kernel_op { PRIVSEP_KOP_ADD = 1, PRIVSEP_KOP_DEL, PRIVSEP_KOP_WANT };
#define PRIVSEP_KERNEL_ADDR_BYTES 224
#define PRIVSEP_KERNEL_V4 (PRIVSEP_KERNEL_ADDR_BYTES / 4)
#define PRIVSEP_KERNEL_V6 (PRIVSEP_KERNEL_ADDR_BYTES / 16)
#define PRIVSEP_KERNEL_STAGE_MAX 65536

/* The payload of the kernel requests; every unused byte must be zero. */
struct privsep_kernel {
    uint32_t tunnel;            /* index among the kernel-mode tunnels */
    uint32_t staged;            /* COMMIT: addresses staged for it (checked:
                                   a mismatch drops them all and is refused) */
    uint8_t op;                 /* STAGE: enum privsep_kernel_op */
    uint8_t family;             /* STAGE: 4 or 6 */
    uint8_t count;              /* STAGE: addresses in addr, 1..V4 or V6 */
    uint8_t sync;               /* COMMIT: 1: the set becomes the WANT list */
    uint8_t addr[PRIVSEP_KERNEL_ADDR_BYTES];  /* network order, packed */
};
#define PRIVSEP_REPLY 0x8000u   /* or'ed into the type of an answer */

/* One message, either way; always exactly sizeof(struct privsep_msg) bytes. */
struct privsep_msg {
    uint32_t magic;             /* PRIVSEP_MAGIC */
    uint32_t type;              /* enum privsep_type, | PRIVSEP_REPLY in answers */
    uint32_t id;                /* chosen by the daemon, echoed in the answer */
    int32_t status;             /* answer: 0 done, else -1 (text says why) */
    union {
        char text[PRIVSEP_TEXT_MAX];   /* answer: NUL-terminated reason; request: zero */
        struct privsep_kernel kernel;  /* PRIVSEP_KERNEL_* requests */
    };
};
_Static_assert(sizeof(struct privsep_kernel) <= PRIVSEP_TEXT_MAX, "kernel payload fits");

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * null_milter - a milter that accepts everything: the baseline of
 * tests/bench/bench_milter.sh, so that the cost of mxdetour's milter can be
 * told from the cost of the milter protocol itself.
 *
 * usage: null_milter SOCKET        (e.g. unix:/tmp/null.sock)
 *
 * It asks for the same protocol steps as mxdetour's milter (connect, MAIL,
 * RCPT, end of message; no HELO, headers or body) and continues at each.
 * libmilter runs it; SIGTERM stops it.  One process, libmilter's threads.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include <libmilter/mfapi.h>

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    (void)ctx;
    (void)host;
    (void)addr;
    return SMFIS_CONTINUE;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)ctx;
    (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
    .xxfi_name = "null",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = on_connect,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_eom = on_eom,
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: null_milter SOCKET\n");
        return 2;
    }
    if (smfi_register(desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS
        || smfi_opensocket(true) != MI_SUCCESS) {
        fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}

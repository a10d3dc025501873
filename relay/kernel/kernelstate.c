/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelstate - see kernelstate.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kernelstate.h"

long kernelstate_read(const char *path, kernelstate_fn fn, void *arg)
{
    FILE *fp = fopen(path, "r");
    char line[KERNELSTATE_LINE_MAX];
    long n = 0;

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp)) {
        char addr[NETADDR_STRLEN], tunnel[65];
        int off = 0;
        struct netaddr a;
        if (line[0] == '#' || sscanf(line, "%45s %64s %n", addr, tunnel, &off) < 2
            || netaddr_parse(addr, &a) < 0)
            continue;
        line[strcspn(line, "\n")] = 0;
        fn(&a, tunnel, off > 0 && (size_t)off <= strlen(line) ? line + off : "", arg);
        n++;
    }
    fclose(fp);
    return n;
}

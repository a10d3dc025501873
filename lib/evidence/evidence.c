/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "evidence.h"

static const char *const kind_names[FAIL_KIND_COUNT] = {
    [FAIL_NONE] = NULL,
    [FAIL_TIMEOUT] = "timeout",
    [FAIL_REFUSED] = "refused",
    [FAIL_UNREACH] = "unreach",
    [FAIL_GREETING] = "greeting",
    [FAIL_TLS] = "tls",
};

const char *fail_kind_name(enum fail_kind kind)
{
    return (unsigned)kind < FAIL_KIND_COUNT ? kind_names[kind] : NULL;
}

enum fail_kind fail_kind_parse(const char *name)
{
    for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return (enum fail_kind)k;
    return FAIL_NONE;
}

const char *evidence_source_name(enum evidence_source src)
{
    static const char *const names[SRC_COUNT] = {"log", "probe", "manual", "feed"};
    return (unsigned)src < SRC_COUNT ? names[src] : "unknown";
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct unit {
    const char *name;
    uint64_t ms;
} units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000},
};

int duration_parse(const char *text, uint64_t *ms)
{
    const char *p = text;
    uint64_t total = 0;

    if (p == NULL || *p == 0)
        return -1;
    while (*p) {
        uint64_t n = 0;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p)) {
            if (n > (UINT64_MAX - 9) / 10)
                return -1;
            n = n * 10 + (uint64_t)(*p++ - '0');
        }
        uint64_t mult = 1000;   /* a bare number is seconds */
        if (*p) {
            const struct unit *u = NULL;
            /* "ms" before "m": try the longer name first. */
            for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strncmp(p, units[i].name, strlen(units[i].name)) == 0
                    && (u == NULL || strlen(units[i].name) > strlen(u->name)))
                    u = &units[i];
            if (u == NULL)
                return -1;
            mult = u->ms;
            p += strlen(u->name);
        } else if (p != text && total != 0) {
            return -1;          /* "1h30" is ambiguous */
        }
        if (n > (UINT64_MAX - total) / mult)
            return -1;
        total += n * mult;
    }
    *ms = total;
    return 0;
}

const char *duration_format(uint64_t ms, char *buf, size_t size)
{
    size_t len = 0;

    if (ms == 0) {
        snprintf(buf, size, "0s");
        return buf;
    }
    buf[0] = 0;
    for (size_t i = sizeof(units) / sizeof(units[0]); i-- > 0 && ms > 0;) {
        if (units[i].ms == 604800000)
            continue;           /* weeks read badly in logs */
        if (ms >= units[i].ms) {
            uint64_t n = ms / units[i].ms;
            ms %= units[i].ms;
            int w = snprintf(buf + len, size > len ? size - len : 0, "%llu%s",
                             (unsigned long long)n, units[i].name);
            if (w < 0 || (size_t)w >= size - len)
                break;
            len += (size_t)w;
        }
    }
    return buf;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_doctor_parse - pure parsers for `mxdetourctl doctor`: lines of
 * `postconf -M` and `postconf NAME`, Postfix lists with { } groups, and
 * the permission test by mode bits.  See ctl_doctor.h.  No I/O, so the
 * unit tests run them on any text; every input is bounded by the buffers
 * given.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ctl_doctor.h"

/* The next whitespace-separated word of *p into buf; -1 when none or it
 * does not fit. */
static int word(const char **p, char *buf, size_t size)
{
    const char *s = *p;
    size_t n = 0;

    while (*s && isspace((unsigned char)*s))
        s++;
    if (*s == 0)
        return -1;
    while (s[n] && !isspace((unsigned char)s[n]))
        n++;
    if (n >= size)
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    *p = s + n;
    return 0;
}

int doctor_parse_master(const char *line, struct master_entry *e)
{
    char col[DOCTOR_FIELD_MAX];
    const char *p = line;

    memset(e, 0, sizeof(*e));
    if (word(&p, e->service, sizeof(e->service)) < 0 || e->service[0] == '#'
        || word(&p, e->type, sizeof(e->type)) < 0)
        return -1;
    for (int i = 3; i <= 7; i++) {      /* private, unpriv, chroot, wakeup, maxproc */
        if (word(&p, col, sizeof(col)) < 0)
            return -1;
        if (i == 5) {
            if (strcmp(col, "y") == 0)
                e->chroot = 1;
            else if (strcmp(col, "n") != 0 && strcmp(col, "-") != 0)
                return -1;
        }
    }
    return word(&p, e->command, sizeof(e->command));
}

int doctor_parse_param(char *line, char **name, char **value)
{
    char *eq = strstr(line, " = ");
    size_t len = strlen(line);

    if (len && line[len - 1] == '\n')
        line[--len] = 0;
    if (eq == NULL) {           /* "name =" : an empty value */
        if (len < 2 || strcmp(line + len - 2, " =") != 0)
            return -1;
        line[len - 2] = 0;
        *value = line + len;    /* the empty string at the end */
    } else {
        *eq = 0;
        *value = eq + 3;
    }
    *name = line;
    for (const char *s = line; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return -1;
    return **name ? 0 : -1;
}

static int separator(char ch)
{
    return ch == ',' || isspace((unsigned char)ch);
}

const char *doctor_list_next(const char *list, char *buf, size_t size, int *bad)
{
    const char *s = list, *end;

    *bad = 0;
    while (*s && separator(*s))
        s++;
    if (*s == 0)
        return NULL;
    if (*s == '{') {
        end = strchr(s, '}');
        if (end == NULL) {
            *bad = 1;
            return NULL;
        }
        s++;
        while (s < end && isspace((unsigned char)*s))
            s++;
        const char *e = end;
        while (e > s && isspace((unsigned char)e[-1]))
            e--;
        if ((size_t)(e - s) >= size) {
            *bad = 1;
            return NULL;
        }
        memcpy(buf, s, (size_t)(e - s));
        buf[e - s] = 0;
        return end + 1;
    }
    end = s;
    while (*end && !separator(*end))
        end++;
    if ((size_t)(end - s) >= size) {
        *bad = 1;
        return NULL;
    }
    memcpy(buf, s, (size_t)(end - s));
    buf[end - s] = 0;
    return end;
}

void doctor_milter_member(const char *member, char *addr, size_t asize, char *action, size_t bsize)
{
    char item[DOCTOR_FIELD_MAX];
    const char *p = member;
    int bad, first = 1;

    addr[0] = action[0] = 0;
    /* Inside braces the separators are commas and spaces too (postconf(5),
     * "{ name, attr=value, ... }"); "attr = value" with spaces is joined. */
    while ((p = doctor_list_next(p, item, sizeof(item), &bad)) != NULL) {
        if (first) {
            snprintf(addr, asize, "%s", item);
            first = 0;
        } else if (strncmp(item, "default_action=", 15) == 0) {
            snprintf(action, bsize, "%s", item + 15);
        } else if (strcmp(item, "default_action") == 0) {
            /* "default_action = accept": the next two words */
            const char *q = doctor_list_next(p, item, sizeof(item), &bad);
            if (q && strcmp(item, "=") == 0 && (q = doctor_list_next(q, item, sizeof(item), &bad)) != NULL) {
                snprintf(action, bsize, "%s", item);
                p = q;
            }
        }
    }
}

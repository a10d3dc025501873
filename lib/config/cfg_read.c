/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_read.h"
#include "duration.h"

void cfg_read_error(struct cfg_reader *r, const config_setting_t *s, const char *fmt, ...)
{
    char text[512];
    const char *file = s ? config_setting_source_file(s) : NULL;
    int line = s ? config_setting_source_line(s) : 0;
    va_list ap;

    if (r->errors->count >= CFG_MAX_ERRORS)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    size_t need = strlen(text) + strlen(file ? file : r->file) + 32;
    char *line_text = malloc(need);
    if (line_text == NULL)
        return;
    snprintf(line_text, need, "%s:%d: %s", file ? file : r->file, line, text);
    r->errors->text[r->errors->count++] = line_text;
}

const char *cfg_read_path(const config_setting_t *s, char *buf, size_t size)
{
    const config_setting_t *chain[32];
    size_t n = 0, len = 0;

    for (; s && !config_setting_is_root(s) && n < 32; s = config_setting_parent(s))
        chain[n++] = s;
    buf[0] = 0;
    while (n-- > 0 && len < size) {
        const char *name = config_setting_name(chain[n]);
        int w = name ? snprintf(buf + len, size - len, "%s%s", len ? "." : "", name)
                     : snprintf(buf + len, size - len, "[%d]", config_setting_index(chain[n]));
        if (w < 0)
            break;
        len += (size_t)w;
    }
    return buf;
}

void cfg_read_check_keys(struct cfg_reader *r, const config_setting_t *group,
                     const char *const *known)
{
    char path[256];

    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(m);
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            if (name && strcmp(name, *k) == 0)
                ok = 1;
        if (!ok)
            cfg_read_error(r, m, "%s: unknown setting", cfg_read_path(m, path, sizeof(path)));
    }
}

static const config_setting_t *typed(struct cfg_reader *r, const config_setting_t *parent,
                                     const char *name, int type, const char *what)
{
    char path[256];
    const config_setting_t *s = config_setting_get_member(parent, name);

    if (s == NULL)
        return NULL;
    if (config_setting_type(s) != type) {
        cfg_read_error(r, s, "%s: must be %s", cfg_read_path(s, path, sizeof(path)), what);
        return NULL;
    }
    return s;
}

const config_setting_t *cfg_read_group(struct cfg_reader *r, const config_setting_t *parent,
                                   const char *name)
{
    return typed(r, parent, name, CONFIG_TYPE_GROUP, "a group { ... }");
}

const config_setting_t *cfg_read_list(struct cfg_reader *r, const config_setting_t *parent,
                                  const char *name)
{
    return typed(r, parent, name, CONFIG_TYPE_LIST, "a list ( { ... }, ... )");
}

char *cfg_read_string(struct cfg_reader *r, const config_setting_t *g, const char *name,
                  const char *dflt, bool required)
{
    char path[256];
    const config_setting_t *s = g ? typed(r, g, name, CONFIG_TYPE_STRING, "a string") : NULL;

    if (s == NULL) {
        if (required && g && config_setting_get_member(g, name) == NULL) {
            cfg_read_path(g, path, sizeof(path));   /* before path[0] is read below */
            cfg_read_error(r, g, "%s%s%s: required setting is missing", path, path[0] ? "." : "", name);
        }
        return dflt ? strdup(dflt) : NULL;
    }
    const char *v = config_setting_get_string(s);
    if (v[0] == 0) {
        cfg_read_error(r, s, "%s: must not be empty", cfg_read_path(s, path, sizeof(path)));
        return dflt ? strdup(dflt) : NULL;
    }
    return strdup(v);
}

long cfg_read_int(struct cfg_reader *r, const config_setting_t *g, const char *name,
              long dflt, long min, long max)
{
    char path[256];
    const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
    long long v;

    if (s == NULL)
        return dflt;
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    else if (config_setting_type(s) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(s);
    else {
        cfg_read_error(r, s, "%s: must be an integer", cfg_read_path(s, path, sizeof(path)));
        return dflt;
    }
    if (v < min || v > max) {
        cfg_read_error(r, s, "%s: %lld is out of range (%ld..%ld)",
                   cfg_read_path(s, path, sizeof(path)), v, min, max);
        return dflt;
    }
    return (long)v;
}

double cfg_read_float(struct cfg_reader *r, const config_setting_t *g, const char *name,
                  double dflt, double min, double max)
{
    char path[256];
    const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
    double v;

    if (s == NULL)
        return dflt;
    if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
        v = config_setting_get_float(s);
    else if (config_setting_type(s) == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    else {
        cfg_read_error(r, s, "%s: must be a number", cfg_read_path(s, path, sizeof(path)));
        return dflt;
    }
    if (!(v >= min && v <= max)) {
        cfg_read_error(r, s, "%s: %g is out of range (%g..%g)",
                   cfg_read_path(s, path, sizeof(path)), v, min, max);
        return dflt;
    }
    return v;
}

bool cfg_read_bool(struct cfg_reader *r, const config_setting_t *g, const char *name, bool dflt)
{
    const config_setting_t *s = g ? typed(r, g, name, CONFIG_TYPE_BOOL, "true or false") : NULL;
    return s ? config_setting_get_bool(s) != 0 : dflt;
}

uint64_t cfg_read_duration(struct cfg_reader *r, const config_setting_t *g, const char *name,
                       uint64_t dflt, uint64_t min, uint64_t max)
{
    char path[256], lo[32], hi[32];
    const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;
    uint64_t ms;

    if (s == NULL)
        return dflt;
    if (config_setting_type(s) == CONFIG_TYPE_INT && config_setting_get_int(s) >= 0)
        ms = (uint64_t)config_setting_get_int(s) * 1000;
    else if (config_setting_type(s) != CONFIG_TYPE_STRING
             || duration_parse(config_setting_get_string(s), &ms) < 0) {
        cfg_read_error(r, s, "%s: must be a duration such as \"30s\", \"10m\" or \"1h\"",
                   cfg_read_path(s, path, sizeof(path)));
        return dflt;
    }
    if (ms < min || ms > max) {
        cfg_read_error(r, s, "%s: out of range (%s..%s)", cfg_read_path(s, path, sizeof(path)),
                   duration_format(min, lo, sizeof(lo)), duration_format(max, hi, sizeof(hi)));
        return dflt;
    }
    return ms;
}

int cfg_read_enum(struct cfg_reader *r, const config_setting_t *g, const char *name,
              const char *const *names, int dflt)
{
    char path[256], choices[256] = "";
    const config_setting_t *s = g ? typed(r, g, name, CONFIG_TYPE_STRING, "a string") : NULL;

    if (s == NULL)
        return dflt;
    const char *v = config_setting_get_string(s);
    for (int i = 0; names[i]; i++) {
        if (strcmp(v, names[i]) == 0)
            return i;
        size_t len = strlen(choices);
        snprintf(choices + len, sizeof(choices) - len, "%s%s", i ? ", " : "", names[i]);
    }
    cfg_read_error(r, s, "%s: \"%s\" is not one of: %s", cfg_read_path(s, path, sizeof(path)), v, choices);
    return dflt;
}

char **cfg_read_strings(struct cfg_reader *r, const config_setting_t *g, const char *name,
                    size_t *count)
{
    char path[256];
    const config_setting_t *s = g ? config_setting_get_member(g, name) : NULL;

    *count = 0;
    if (s == NULL)
        return NULL;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        char **v = calloc(1, sizeof(char *));
        if (v == NULL || (v[0] = strdup(config_setting_get_string(s))) == NULL) {
            free(v);
            return NULL;
        }
        *count = 1;
        return v;
    }
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
        cfg_read_error(r, s, "%s: must be a list of strings [ \"...\", ... ]",
                   cfg_read_path(s, path, sizeof(path)));
        return NULL;
    }
    int n = config_setting_length(s);
    char **v = calloc((size_t)n + 1, sizeof(char *));
    if (v == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING || !config_setting_get_string(e)[0]) {
            cfg_read_error(r, e, "%s: must be a non-empty string", cfg_read_path(e, path, sizeof(path)));
            continue;
        }
        v[(*count)++] = strdup(config_setting_get_string(e));
    }
    return v;
}

void cfg_read_free_strings(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

bool cfg_read_valid_name(const char *s)
{
    if (s == NULL || !*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

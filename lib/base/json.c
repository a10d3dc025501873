/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "json.h"

void json_init(struct json *j, FILE *fp)
{
    j->fp = fp;
    j->depth = 0;
    j->count[0] = 0;
    j->after_key = 0;
}

static void separate(struct json *j)
{
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (j->count[j->depth]++ > 0)
        fputc(',', j->fp);
}

static void open_level(struct json *j, int c)
{
    separate(j);
    fputc(c, j->fp);
    if (j->depth + 1 < JSON_MAX_DEPTH)
        j->count[++j->depth] = 0;
}

static void close_level(struct json *j, int c)
{
    fputc(c, j->fp);
    if (j->depth > 0)
        j->depth--;
    if (j->depth == 0)
        fputc('\n', j->fp);
}

void json_begin_object(struct json *j) { open_level(j, '{'); }
void json_end_object(struct json *j) { close_level(j, '}'); }
void json_begin_array(struct json *j) { open_level(j, '['); }
void json_end_array(struct json *j) { close_level(j, ']'); }

/* Length of a valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
            return 0;           /* overlong, or a surrogate */
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

static void write_string(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;

    fputc('"', fp);
    while (*s) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', fp);
            fputc(*s++, fp);
        } else if (*s < 0x20 || *s == 0x7f) {
            fprintf(fp, "\\u%04x", *s++);
        } else if (*s < 0x80) {
            fputc(*s++, fp);
        } else {
            int n = utf8_len(s);
            if (n == 0) {
                fputs("\\ufffd", fp);
                s++;
            } else {
                fwrite(s, 1, (size_t)n, fp);
                s += n;
            }
        }
    }
    fputc('"', fp);
}

void json_key(struct json *j, const char *key)
{
    separate(j);
    write_string(j->fp, key);
    fputc(':', j->fp);
    j->after_key = 1;
}

void json_string(struct json *j, const char *s)
{
    separate(j);
    if (s)
        write_string(j->fp, s);
    else
        fputs("null", j->fp);
}

void json_uint(struct json *j, uint64_t v)
{
    separate(j);
    fprintf(j->fp, "%llu", (unsigned long long)v);
}

void json_int(struct json *j, int64_t v)
{
    separate(j);
    fprintf(j->fp, "%lld", (long long)v);
}

void json_bool(struct json *j, int v)
{
    separate(j);
    fputs(v ? "true" : "false", j->fp);
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_string(j, s);
}

void json_kv_uint(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_uint(j, v);
}

void json_kv_bool(struct json *j, const char *key, int v)
{
    json_key(j, key);
    json_bool(j, v);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json - a minimal streaming JSON writer for --json output.
 * Strings are escaped per RFC 8259 (control characters as \uXXXX; bytes that
 * are not valid UTF-8 become U+FFFD), so text from logs and Redis is safe.
 * Commas are inserted automatically.  Writes to a FILE; no allocation.
 */
#ifndef MXD_JSON_H
#define MXD_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
    FILE *fp;
    int depth;
    int count[JSON_MAX_DEPTH];   /* members written at each level */
    int after_key;
};

void json_init(struct json *j, FILE *fp);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);   /* NULL writes null */
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, int v);
/* Shorthands for "key": value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, int v);

#endif

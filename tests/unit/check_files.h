/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * check_files.h - small files for unit tests: write one in a test's
 * directory, read one back whole.  Header-only, like check_main.h.
 */
#ifndef MXD_CHECK_FILES_H
#define MXD_CHECK_FILES_H

#include <check.h>
#include <stdio.h>

/* Writes text to DIR/NAME, replacing it. */
static inline void check_put(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    ck_assert_ptr_nonnull(fp = fopen(path, "w"));
    fputs(text, fp);
    fclose(fp);
}

/* The file's first 64 KB as a string ("" when it cannot be read); the
 * buffer is reused by the next call. */
static inline const char *check_slurp(const char *path)
{
    static char buf[65536];
    FILE *fp = fopen(path, "r");
    size_t n = 0;

    if (fp) {
        n = fread(buf, 1, sizeof(buf) - 1, fp);
        fclose(fp);
    }
    buf[n] = 0;
    return buf;
}

#endif

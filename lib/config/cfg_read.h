/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_read - typed, range-checked reads from a libconfig tree, each problem
 * recorded as "FILE:LINE: path: what is wrong".  Used by cfg.c only; knows
 * nothing of mxdetour's settings.
 *
 * Every reader takes the group to read from and a key; a missing optional key
 * yields the default, a present key of the wrong type or range is an error and
 * also yields the default, so loading continues and reports every error.
 */
#ifndef MXD_CFG_READ_H
#define MXD_CFG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"

struct cfg_reader {
    const char *file;
    struct cfg_errors *errors;
};

void cfg_read_error(struct cfg_reader *r, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "detection.kinds[1]" for a setting; buf must hold 256 bytes. */
const char *cfg_read_path(const config_setting_t *s, char *buf, size_t size);

/* Reports every member of group whose name is not in known (NULL-ended). */
void cfg_read_check_keys(struct cfg_reader *r, const config_setting_t *group,
                     const char *const *known);

/* Returns the group member, checking it is a group; NULL when absent. */
const config_setting_t *cfg_read_group(struct cfg_reader *r, const config_setting_t *parent,
                                   const char *name);
const config_setting_t *cfg_read_list(struct cfg_reader *r, const config_setting_t *parent,
                                  const char *name);

/* A malloc'd copy of a string member, or of dflt (may be NULL). */
char *cfg_read_string(struct cfg_reader *r, const config_setting_t *g, const char *name,
                  const char *dflt, bool required);
long cfg_read_int(struct cfg_reader *r, const config_setting_t *g, const char *name,
              long dflt, long min, long max);
double cfg_read_float(struct cfg_reader *r, const config_setting_t *g, const char *name,
                  double dflt, double min, double max);
bool cfg_read_bool(struct cfg_reader *r, const config_setting_t *g, const char *name, bool dflt);
/* A duration: a string such as "10m" or an integer number of seconds. */
uint64_t cfg_read_duration(struct cfg_reader *r, const config_setting_t *g, const char *name,
                       uint64_t dflt, uint64_t min, uint64_t max);
/* One of names[] (NULL-ended); returns its index, or dflt. */
int cfg_read_enum(struct cfg_reader *r, const config_setting_t *g, const char *name,
              const char *const *names, int dflt);
/* An array or list of strings: a malloc'd vector of malloc'd copies. */
char **cfg_read_strings(struct cfg_reader *r, const config_setting_t *g, const char *name,
                    size_t *count);

void cfg_read_free_strings(char **v, size_t n);

/* A name for logs and keys: 1 to 64 letters, digits, '-', '_' or '.'. */
bool cfg_read_valid_name(const char *s);

/* Sections read in files of their own (cfg_feeds.c). */
void cfg_read_feeds(struct cfg_reader *r, const config_setting_t *root, struct cfg *c);
void cfg_free_feeds(struct cfg *c);

#endif

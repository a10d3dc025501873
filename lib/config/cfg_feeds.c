/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_feeds - the `feeds` list of mxdetour.conf(5) (docs/feeds.md):
 *
 *   feeds = ( { name = "registry"; file = "/var/lib/mxdetour/feeds/dump.csv";
 *               format = "auto"; trust = "probe"; min_share = 0.5; } );
 *   feed_check = "10s";
 *
 * Paths are checked when the daemon loads them, not here: a feed file may
 * appear after mxdetourd starts (the first download has not run yet).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cfg_read.h"
#include "feed.h"

#define HOUR_MS (3600ULL * 1000)

static const char *const trust_names[] = {"probe", "detour", "allow", NULL};

const char *feed_trust_name(enum feed_trust t)
{
    return (unsigned)t <= FEED_TRUST_ALLOW ? trust_names[t] : "unknown";
}

static void read_feed(struct cfg_reader *r, const config_setting_t *g, struct cfg *c, size_t i)
{
    static const char *const keys[] = {"name", "file", "format", "trust", "min_share", "guard",
                                       "recheck", NULL};
    static const char *const formats[] = {"auto", "registry", "plain", NULL};
    struct cfg_feed *f = &c->feeds[i];
    char where[256];

    f->line = config_setting_source_line(g);
    cfg_read_check_keys(r, g, keys);
    f->name = cfg_read_string(r, g, "name", NULL, true);
    if (f->name && !cfg_read_valid_name(f->name))
        cfg_read_error(r, g, "%s.name: \"%s\": use letters, digits, '-', '_' and '.'",
                   cfg_read_path(g, where, sizeof(where)), f->name);
    for (size_t j = 0; f->name && j < i; j++)
        if (c->feeds[j].name && strcmp(c->feeds[j].name, f->name) == 0)
            cfg_read_error(r, g, "%s: duplicate feed name \"%s\" (first defined at line %d)",
                       cfg_read_path(g, where, sizeof(where)), f->name, c->feeds[j].line);
    f->file = cfg_read_string(r, g, "file", NULL, true);
    if (f->file && f->file[0] != '/')
        cfg_read_error(r, config_setting_get_member(g, "file"), "%s.file: \"%s\": give an absolute path",
                   cfg_read_path(g, where, sizeof(where)), f->file);
    f->format = cfg_read_enum(r, g, "format", formats, FEED_AUTO);
    f->trust = (enum feed_trust)cfg_read_enum(r, g, "trust", trust_names, FEED_TRUST_PROBE);
    /* An allow list or the administrator's own list may become empty on
     * purpose; a downloaded feed that shrinks is a truncated download. */
    bool guard = cfg_read_bool(r, g, "guard", f->trust != FEED_TRUST_ALLOW);
    f->min_share = cfg_read_float(r, g, "min_share", 0.5, 0.0, 1.0);
    if (!guard)
        f->min_share = -1;
    f->recheck_ms = cfg_read_duration(r, g, "recheck", 6 * HOUR_MS, 60000, 30 * 24 * HOUR_MS);
}

void cfg_read_feeds(struct cfg_reader *r, const config_setting_t *root, struct cfg *c)
{
    const config_setting_t *l = cfg_read_list(r, root, "feeds");
    char where[256];

    c->feed_check_ms = cfg_read_duration(r, root, "feed_check", 10000, 1000, 3600 * 1000);
    if (l == NULL)
        return;
    c->nfeeds = (size_t)config_setting_length(l);
    if (c->nfeeds > 32) {
        cfg_read_error(r, l, "feeds: %zu feeds; at most 32", c->nfeeds);
        c->nfeeds = 0;
        return;
    }
    c->feeds = calloc(c->nfeeds ? c->nfeeds : 1, sizeof(*c->feeds));
    for (size_t i = 0; i < c->nfeeds; i++) {
        const config_setting_t *g = config_setting_get_elem(l, (unsigned)i);
        if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
            cfg_read_error(r, g, "%s: must be a group { name = ...; file = ...; }",
                       cfg_read_path(g, where, sizeof(where)));
            continue;
        }
        read_feed(r, g, c, i);
    }
}

void cfg_free_feeds(struct cfg *c)
{
    for (size_t i = 0; i < c->nfeeds; i++) {
        free(c->feeds[i].name);
        free(c->feeds[i].file);
    }
    free(c->feeds);
    c->feeds = NULL;
    c->nfeeds = 0;
}

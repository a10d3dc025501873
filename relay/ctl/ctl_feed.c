/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_feed - "mxdetourctl [--json] feed test FILE ADDRESS...": reads a feed
 * file exactly as mxdetourd would (lib/evidence/feed; the format is told by its first
 * line), without the daemon, the configuration or Redis, and prints for
 * each address whether the file lists it, by which line and entry (with the
 * decision, date and body for the registry format), then the bad lines found
 * and the totals.  An administrator checks a download before installing it.
 *
 * Exit codes: CTL_OK when every address given is listed (or none is given),
 * CTL_NOT_FOUND when one is not, CTL_USAGE when an argument is not an
 * address, CTL_CONFIG when mxdetourd would refuse the file (unreadable, or
 * no entry in it); the truncation guard needs the version in force and is
 * not applied here.  Output goes to stdout; one process, one thread.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "feed.h"
#include "json.h"
#include "netaddr.h"

/* Declared here too, so this file builds before ctl.h lists it. */

static const char *prefix_text(const struct feed_hit *h, char *buf, size_t size)
{
    char a[NETADDR_STRLEN];

    if (netaddr_format(&h->prefix, a, sizeof(a)) == NULL)
        snprintf(a, sizeof(a), "?");
    snprintf(buf, size, "%s/%u", a, h->prefix_len);
    return buf;
}

static void text_address(const char *addr, const struct feed_hit *h, int listed)
{
    char p[NETADDR_STRLEN + 8];

    if (!listed) {
        printf("%s: not listed\n", addr);
        return;
    }
    printf("%s: listed by line %lu: %s", addr, h->line, prefix_text(h, p, sizeof(p)));
    if (h->decision[0])
        printf("; decision %s", h->decision);
    if (h->date[0])
        printf("; date %s", h->date);
    if (h->org[0])
        printf("; by %s", h->org);
    printf("\n");
}

static void text_report(const char *file, const struct feed_report *rep)
{
    for (size_t i = 0; i < rep->nshown; i++)
        printf("bad line %lu: %s\n", rep->shown[i].line, rep->shown[i].why);
    if (rep->bad > rep->nshown)
        printf("... and %lu more bad lines\n", rep->bad - rep->nshown);
    printf("%s: %s format%s%s; %lu lines, %lu entries (%lu listed again), %lu bad lines", file,
           feed_format_name(rep->format), rep->updated[0] ? ", updated " : "", rep->updated,
           rep->lines, rep->entries, rep->duplicates, rep->bad);
    if (rep->status == FEED_LOADED)
        printf("; %zu kB in memory\n", (rep->bytes + 1023) / 1024);
    else
        printf("\n%s: mxdetourd would refuse it: %s (%s)\n", file, feed_status_name(rep->status),
               rep->error);
}

static void json_address(struct json *j, const char *addr, const struct feed_hit *h, int listed)
{
    char p[NETADDR_STRLEN + 8];

    json_begin_object(j);
    json_kv_string(j, "address", addr);
    json_kv_bool(j, "listed", listed);
    if (listed) {
        json_kv_uint(j, "line", h->line);
        json_kv_string(j, "prefix", prefix_text(h, p, sizeof(p)));
        if (h->decision[0] || h->date[0] || h->org[0]) {
            json_kv_string(j, "org", h->org);
            json_kv_string(j, "decision", h->decision);
            json_kv_string(j, "date", h->date);
        }
    }
    json_end_object(j);
}

static void json_report(struct json *j, const char *file, const struct feed_report *rep)
{
    json_kv_string(j, "file", file);
    json_kv_string(j, "format", feed_format_name(rep->format));
    if (rep->updated[0])
        json_kv_string(j, "updated", rep->updated);
    json_kv_string(j, "status", feed_status_name(rep->status));
    if (rep->status != FEED_LOADED)
        json_kv_string(j, "error", rep->error);
    json_kv_uint(j, "lines", rep->lines);
    json_kv_uint(j, "entries", rep->entries);
    json_kv_uint(j, "duplicates", rep->duplicates);
    json_kv_uint(j, "bad", rep->bad);
    if (rep->status == FEED_LOADED)
        json_kv_uint(j, "bytes", rep->bytes);
    json_key(j, "bad_lines");
    json_begin_array(j);
    for (size_t i = 0; i < rep->nshown; i++) {
        json_begin_object(j);
        json_kv_uint(j, "line", rep->shown[i].line);
        json_kv_string(j, "error", rep->shown[i].why);
        json_end_object(j);
    }
    json_end_array(j);
}

int ctl_feed_test(struct ctl *c, const char *file, char **addrs, int naddrs)
{
    struct netaddr *parsed = calloc(naddrs > 0 ? (size_t)naddrs : 1, sizeof(*parsed));
    struct feed_report *rep = calloc(1, sizeof(*rep));
    struct feed *f = NULL;
    int rc = CTL_OK;
    struct json j;

    if (parsed == NULL || rep == NULL) {
        fprintf(stderr, "mxdetourctl: out of memory\n");
        rc = CTL_CONFIG;
        goto done;
    }
    for (int i = 0; i < naddrs; i++)
        if (netaddr_parse(addrs[i], &parsed[i]) < 0) {
            fprintf(stderr, "mxdetourctl: \"%s\" is not an IPv4 or IPv6 address\n", addrs[i]);
            rc = CTL_USAGE;
            goto done;
        }
    f = feed_load(file, file, FEED_AUTO, NULL, 0, rep);
    if (rep->status == FEED_UNREADABLE) {
        fprintf(stderr, "mxdetourctl: %s: %s\n", file, rep->error);
        rc = CTL_CONFIG;
        goto done;
    }
    if (c->json) {
        json_init(&j, stdout);
        json_begin_object(&j);
        json_report(&j, file, rep);
        json_key(&j, "addresses");
        json_begin_array(&j);
    }
    for (int i = 0; i < naddrs; i++) {
        struct feed_hit h = {0};
        int listed = feed_lookup(f, &parsed[i], &h);
        if (!listed)
            rc = CTL_NOT_FOUND;
        if (c->json)
            json_address(&j, addrs[i], &h, listed);
        else
            text_address(addrs[i], &h, listed);
    }
    if (c->json) {
        json_end_array(&j);
        json_end_object(&j);
    } else {
        text_report(file, rep);
    }
    if (f == NULL)
        rc = CTL_CONFIG;
done:
    feed_free(f);
    free(rep);
    free(parsed);
    return rc;
}

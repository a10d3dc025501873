/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * feedset: the daemon's feeds in force, on a real event loop with its
 * worker thread.  A new version replaces the old one only when it loaded
 * cleanly; a truncated or missing one leaves the old listing in force; a
 * refused version is not read again until the file changes; allow lists
 * answer first; a reconfiguration keeps a feed's version by name and file.
 */
#include "config.h"

#include <check.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "cfg.h"
#include "feedset.h"

static char dir[64];
static int changes;
static struct event_base *base;

static void on_change(void *arg)
{
    (void)arg;
    changes++;
    event_base_loopbreak(base);
}

/* Writes lines to NAME.tmp and renames it over NAME, as a download does. */
static void put(const char *name, const char *text)
{
    char tmp[160], path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
    ck_assert_int_eq(rename(tmp, path), 0);
}

static int listed(const char *addr, struct feedset_match *m)
{
    struct netaddr a;
    ck_assert_int_eq(netaddr_parse(addr, &a), 0);
    return feedset_lookup(&a, m);
}

/* Runs the loop until on_change or seconds pass; 1 when a change came. */
static int run_until_change(int seconds)
{
    int before = changes;
    struct timeval tv = {seconds, 0};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    return changes > before;
}

static struct cfg_feed feeds[2];
static struct cfg cfg;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_feedset.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    base = event_base_new();
    changes = 0;
    static char f1[128], f2[128];
    snprintf(f1, sizeof(f1), "%s/list.txt", dir);
    snprintf(f2, sizeof(f2), "%s/allow.txt", dir);
    memset(feeds, 0, sizeof(feeds));
    feeds[0] = (struct cfg_feed){.name = "list", .file = f1, .format = FEED_PLAIN,
                                 .trust = FEED_TRUST_DETOUR, .min_share = 0.5, .recheck_ms = 60000};
    feeds[1] = (struct cfg_feed){.name = "partners", .file = f2, .format = FEED_PLAIN,
                                 .trust = FEED_TRUST_ALLOW, .min_share = -1, .recheck_ms = 60000};
    memset(&cfg, 0, sizeof(cfg));
    cfg.feeds = feeds;
    cfg.nfeeds = 2;
    cfg.feed_check_ms = 1000;
}

static void teardown(void)
{
    feedset_stop();
    event_base_free(base);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(new_version_replaces_truncated_keeps)
{
    struct feedset_match m;
    put("list.txt", "192.0.2.1\n192.0.2.2\n198.51.100.0/24\n2001:db8::/32\n");
    ck_assert_int_eq(feedset_start(base, &cfg, on_change, NULL), 0);
    ck_assert_int_eq(changes, 1);                       /* read at start */
    ck_assert(listed("198.51.100.7", &m));
    ck_assert_int_eq(m.trust, FEED_TRUST_DETOUR);
    ck_assert_uint_eq(m.hit.line, 3);
    ck_assert_uint_eq(m.hit.prefix_len, 24);
    ck_assert(!listed("192.0.2.3", &m));
    unsigned gen = m.generation;

    /* A truncated download: 1 entry of 4 is under half; refused. */
    put("list.txt", "192.0.2.1\n");
    ck_assert(!run_until_change(3));
    ck_assert(listed("198.51.100.7", &m));
    ck_assert(listed("2001:db8:1::25", &m));

    /* A good new version: swapped in, the generation moves. */
    put("list.txt", "192.0.2.3\n192.0.2.4\n198.51.100.0/25\n");
    ck_assert(run_until_change(5));
    ck_assert(listed("192.0.2.3", &m));
    ck_assert(m.generation != gen);
    ck_assert(!listed("198.51.100.200", &m));
    ck_assert(!listed("2001:db8::1", &m));

    /* The file disappears: the version in force stays. */
    char path[128];
    snprintf(path, sizeof(path), "%s/list.txt", dir);
    unlink(path);
    ck_assert(!run_until_change(2));
    ck_assert(listed("192.0.2.3", &m));
}
END_TEST

START_TEST(allow_list_answers_first_and_may_appear_later)
{
    struct feedset_match m;
    unsigned conf, loaded;
    put("list.txt", "192.0.2.0/24\n");
    ck_assert_int_eq(feedset_start(base, &cfg, on_change, NULL), 0);
    feedset_counts(&conf, &loaded);
    ck_assert_uint_eq(conf, 2);
    ck_assert_uint_eq(loaded, 1);                       /* no allow list yet */
    ck_assert(listed("192.0.2.25", &m));
    ck_assert_int_eq(m.trust, FEED_TRUST_DETOUR);

    put("allow.txt", "# partner\n192.0.2.25\n");
    ck_assert(run_until_change(5));
    ck_assert(listed("192.0.2.25", &m));
    ck_assert_int_eq(m.trust, FEED_TRUST_ALLOW);
    ck_assert_str_eq(m.hit.feed, "partners");
    ck_assert(listed("192.0.2.26", &m));
    ck_assert_int_eq(m.trust, FEED_TRUST_DETOUR);

    /* An allow list is unguarded: emptied on purpose, it is taken. */
    put("allow.txt", "# nobody\n");
    ck_assert(run_until_change(5));
    ck_assert(listed("192.0.2.25", &m));
    ck_assert_int_eq(m.trust, FEED_TRUST_DETOUR);
}
END_TEST

START_TEST(reconfigure_keeps_versions_by_name)
{
    struct feedset_match m;
    put("list.txt", "192.0.2.0/24\n");
    ck_assert_int_eq(feedset_start(base, &cfg, on_change, NULL), 0);
    ck_assert(listed("192.0.2.9", &m));
    /* A reload keeps the feed by name and file with a new trust: the
     * listing in force answers with the new trust, without a new read. */
    cfg.nfeeds = 1;
    feeds[0].trust = FEED_TRUST_PROBE;
    feedset_configure(&cfg);
    ck_assert(listed("192.0.2.9", &m));
    ck_assert_int_eq(m.trust, FEED_TRUST_PROBE);
    unsigned conf, loaded;
    feedset_counts(&conf, &loaded);
    ck_assert_uint_eq(conf, 1);
    /* Dropped from the configuration: no longer answers. */
    cfg.nfeeds = 0;
    feedset_configure(&cfg);
    ck_assert(!listed("192.0.2.9", &m));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("feedset");
    TCase *tc = tcase_create("feedset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, new_version_replaces_truncated_keeps);
    tcase_add_test(tc, allow_list_answers_first_and_may_appear_later);
    tcase_add_test(tc, reconfigure_keeps_versions_by_name);
    suite_add_tcase(s, tc);
    return s;
}

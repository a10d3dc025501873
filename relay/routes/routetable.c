/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routetable - atomic publication of routes as a Postfix table; see
 * routetable.h for the steps and what each failure leaves behind.
 *
 * Runs on the caller's thread and blocks while postmap runs (bounded by
 * ROUTETABLE_POSTMAP_TIMEOUT_MS).  Keeps no state between calls.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "msg.h"
#include "netaddr.h"
#include "routetable.h"
#include "spawn.h"

#define MOD "routetable"
#define MAX_FILE (64u << 20)    /* a table source larger than this is not ours */

static int check_domain(const char *d, char *err, size_t errlen)
{
    size_t len = strnlen(d, ROUTE_DOMAIN_SIZE), label = 0;
    const char *p = d;

    if (len == ROUTE_DOMAIN_SIZE) {
        snprintf(err, errlen, "domain \"%.60s...\" is longer than %d bytes", d, DOMAIN_MAXLEN);
        return -1;
    }
    if (*p == '.')
        p++;
    if (*p == 0) {
        snprintf(err, errlen, "empty domain \"%s\"", d);
        return -1;
    }
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (label == 0 || p[1] == 0) {
                snprintf(err, errlen, "domain \"%.80s\" has an empty label", d);
                return -1;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            if (++label > 63) {
                snprintf(err, errlen, "domain \"%.80s\" has a label longer than 63 bytes", d);
                return -1;
            }
        } else {
            snprintf(err, errlen, "domain \"%.80s\" holds byte 0x%02x (only a-z 0-9 - _ "
                     "and dots, lower case)", d, c);
            return -1;
        }
    }
    return 0;
}

static int check_nexthop(const char *domain, const char *h, char *err, size_t errlen)
{
    size_t len = strnlen(h, ROUTE_NEXTHOP_SIZE);
    const char *colon;

    if (len == 0 || len == ROUTE_NEXTHOP_SIZE) {
        snprintf(err, errlen, "route for %s: next hop is empty or longer than %d bytes",
                 domain, ROUTE_NEXTHOP_SIZE - 1);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] >= 0x7f) {
            snprintf(err, errlen, "route for %s: next hop \"%.80s\" holds whitespace, a control "
                     "or a non-ASCII byte", domain, h);
            return -1;
        }
    if ((colon = strchr(h, ':')) == NULL) {
        snprintf(err, errlen, "route for %s: next hop \"%.80s\" is not transport:nexthop",
                 domain, h);
        return -1;
    }
    for (const char *p = h; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
              || *p == '-' || *p == '_' || *p == '.')) {
            snprintf(err, errlen, "route for %s: \"%.*s\" is not a master.cf service name",
                     domain, (int)(colon - h), h);
            return -1;
        }
    return 0;
}

int routetable_check(const struct route *r, char *err, size_t errlen)
{
    if (check_domain(r->domain, err, errlen) < 0)
        return -1;
    return check_nexthop(r->domain, r->nexthop, err, errlen);
}

const char *routetable_db_suffix(const char *type)
{
    if (strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0)
        return ".db";
    if (strcmp(type, "lmdb") == 0)
        return ".lmdb";
    if (strcmp(type, "cdb") == 0)
        return ".cdb";
    return NULL;
}

static int by_domain(const void *a, const void *b)
{
    return strcmp((*(const struct route *const *)a)->domain,
                  (*(const struct route *const *)b)->domain);
}

/* The table's lines, sorted: a malloc'ed, NUL-terminated string. */
static char *build_body(const struct route *routes, size_t n, size_t *lenp,
                        char *err, size_t errlen)
{
    const struct route **sorted;
    size_t size = 1, len = 0;
    char *body;

    if (n > ROUTETABLE_MAX_ROUTES) {
        snprintf(err, errlen, "%zu routes; at most %d", n, ROUTETABLE_MAX_ROUTES);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (routetable_check(&routes[i], err, errlen) < 0)
            return NULL;
        size += strlen(routes[i].domain) + strlen(routes[i].nexthop) + 2;
    }
    if ((sorted = malloc((n ? n : 1) * sizeof(*sorted))) == NULL || (body = malloc(size)) == NULL) {
        free(sorted);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &routes[i];
    qsort(sorted, n, sizeof(*sorted), by_domain);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(sorted[i - 1]->domain, sorted[i]->domain) == 0) {
            snprintf(err, errlen, "two routes for %s", sorted[i]->domain);
            free(sorted);
            free(body);
            return NULL;
        }
        len += (size_t)snprintf(body + len, size - len, "%s\t%s\n", sorted[i]->domain,
                                sorted[i]->nexthop);
    }
    body[len] = 0;
    free(sorted);
    *lenp = len;
    return body;
}

/* Reads a whole file of at most MAX_FILE bytes; NULL with errno set
 * (ENOENT: no file, EFBIG: too large). */
static char *read_file(const char *path, size_t *lenp, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    size_t len = 0;
    char *buf = NULL;
    ssize_t n;

    if (fd < 0)
        return NULL;
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size > MAX_FILE) {
        close(fd);
        errno = S_ISREG(st->st_mode) ? EFBIG : EINVAL;
        return NULL;
    }
    if ((buf = malloc((size_t)st->st_size + 1)) == NULL) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    while (len < (size_t)st->st_size && (n = read(fd, buf + len, (size_t)st->st_size - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            errno = e;
            return NULL;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    *lenp = len;
    return buf;
}

/* True when the published table holds exactly body and its database is
 * not older than its source (postmap ran after the last write). */
static bool unchanged(const char *table, const char *db, const char *body, size_t len)
{
    struct stat st, dst;
    size_t flen = 0, pos = 0;
    char *text = read_file(table, &flen, &st);
    bool same = true;

    if (text == NULL)
        return false;
    for (char *line = text, *end; same && line < text + flen; line = end + 1) {
        size_t ll;
        if ((end = memchr(line, '\n', (size_t)(text + flen - line))) == NULL)
            end = text + flen;
        ll = (size_t)(end - line);
        if (ll == 0 || line[0] == '#')
            continue;
        same = pos + ll + 1 <= len && memcmp(body + pos, line, ll) == 0 && body[pos + ll] == '\n';
        pos += ll + 1;
    }
    free(text);
    if (!same || pos != len || stat(db, &dst) < 0)
        return false;
    return dst.st_mtim.tv_sec > st.st_mtim.tv_sec
           || (dst.st_mtim.tv_sec == st.st_mtim.tv_sec && dst.st_mtim.tv_nsec >= st.st_mtim.tv_nsec);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int write_source(const char *tmp, const char *body, size_t len, size_t n,
                        char *err, size_t errlen)
{
    time_t now = (time_t)(clock_now_ms() / 1000);
    char head[160], when[32];
    struct tm tm;
    int fd;

    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(head, sizeof(head), "%s\n# written %s, %zu route%s\n", ROUTETABLE_HEADER, when, n,
             n == 1 ? "" : "s");
    (void)unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0644) < 0 || write_all(fd, head, strlen(head)) < 0
        || write_all(fd, body, len) < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int routetable_publish(const struct cfg_routes *rt, const char *config_dir,
                       const struct route *routes, size_t n, int *flags,
                       char *err, size_t errlen)
{
    char tmp[PATH_MAX], tmpdb[PATH_MAX], db[PATH_MAX], map[PATH_MAX + 16], dir[PATH_MAX];
    char why[300];
    const char *suffix = routetable_db_suffix(rt->table_type);
    size_t len;
    char *body, *slash;
    int rc = -1;

    if (flags)
        *flags = 0;
    if (suffix == NULL) {
        snprintf(err, errlen, "table type \"%s\" is not hash, btree, lmdb or cdb", rt->table_type);
        return -1;
    }
    if (rt->table[0] != '/'
        || (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", rt->table, (long)getpid()) >= sizeof(tmp)
        || (size_t)snprintf(tmpdb, sizeof(tmpdb), "%s%s", tmp, suffix) >= sizeof(tmpdb)
        || (size_t)snprintf(db, sizeof(db), "%s%s", rt->table, suffix) >= sizeof(db)
        || (size_t)snprintf(map, sizeof(map), "%s:%s", rt->table_type, tmp) >= sizeof(map)) {
        snprintf(err, errlen, "table path \"%.100s\" is not absolute or too long", rt->table);
        return -1;
    }
    if ((body = build_body(routes, n, &len, err, errlen)) == NULL)
        return -1;
    if (unchanged(rt->table, db, body, len)) {
        free(body);
        if (flags)
            *flags |= ROUTETABLE_UNCHANGED;
        return 0;
    }
    if (write_source(tmp, body, len, n, err, errlen) < 0)
        goto out;
    const char *const argv[] = {rt->postmap, "-c", config_dir, map, NULL};
    if (spawn_run(argv, ROUTETABLE_POSTMAP_TIMEOUT_MS, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s -c %s %s: %s", rt->postmap, config_dir, map, why);
        goto out;
    }
    if (fsync_path(tmpdb, 0) < 0) {
        snprintf(err, errlen, "postmap made no %s: %s", tmpdb, strerror(errno));
        goto out;
    }
    if (rename(tmpdb, db) < 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmpdb, db, strerror(errno));
        goto out;
    }
    if (rename(tmp, rt->table) < 0) {
        /* The new database is in force; the stale source makes the next
         * publication rebuild both. */
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, rt->table, strerror(errno));
        goto out;
    }
    snprintf(dir, sizeof(dir), "%s", rt->table);
    if ((slash = strrchr(dir, '/')) != NULL) {
        *(slash == dir ? slash + 1 : slash) = 0;
        if (fsync_path(dir, O_DIRECTORY) < 0)
            msg_warn(MOD, "cannot fsync directory %s: %s", dir, strerror(errno));
    }
    rc = 0;
out:
    if (rc < 0) {
        (void)unlink(tmp);
        (void)unlink(tmpdb);
    }
    free(body);
    return rc;
}

static int by_route(const void *a, const void *b)
{
    return strcmp(((const struct route *)a)->domain, ((const struct route *)b)->domain);
}

int routetable_load(const char *path, struct route **routes, size_t *n,
                    char *err, size_t errlen)
{
    struct route *out = NULL;
    size_t len = 0, count = 0, cap = 0;
    unsigned lineno = 0;
    struct stat st;
    char *text = read_file(path, &len, &st), why[300];

    *routes = NULL;
    *n = 0;
    if (text == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    for (char *line = text, *end; line < text + len; line = end + 1) {
        struct route r;
        size_t dl, hl;
        char *p, *h;

        if ((end = memchr(line, '\n', (size_t)(text + len - line))) == NULL)
            end = text + len;
        *end = 0;
        lineno++;
        if (end > line && end[-1] == '\r')
            end[-1] = 0;
        for (p = line; *p == ' ' || *p == '\t'; p++)
            continue;
        if (*p == 0 || *p == '#')
            continue;
        dl = strcspn(p, " \t");
        for (h = p + dl; *h == ' ' || *h == '\t'; h++)
            continue;
        hl = strcspn(h, " \t");
        if (dl >= sizeof(r.domain) || hl >= sizeof(r.nexthop) || h[hl + strspn(h + hl, " \t")]) {
            msg_warn(MOD, "%s:%u: not \"domain nexthop\"; line ignored", path, lineno);
            continue;
        }
        memset(&r, 0, sizeof(r));
        memcpy(r.domain, p, dl);
        memcpy(r.nexthop, h, hl);
        if (routetable_check(&r, why, sizeof(why)) < 0) {
            msg_warn(MOD, "%s:%u: %s; line ignored", path, lineno, why);
            continue;
        }
        if (count == cap) {
            struct route *grown;
            if (cap >= ROUTETABLE_MAX_ROUTES) {
                msg_warn(MOD, "%s: more than %d routes; the rest is ignored", path,
                         ROUTETABLE_MAX_ROUTES);
                break;
            }
            cap = cap ? cap * 2 : 64;
            if ((grown = realloc(out, cap * sizeof(*out))) == NULL) {
                free(out);
                free(text);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            out = grown;
        }
        out[count++] = r;
    }
    free(text);
    if (count > 0) {            /* sorted; of two lines for one domain one is kept */
        size_t kept = 1;
        qsort(out, count, sizeof(*out), by_route);
        for (size_t i = 1; i < count; i++) {
            if (strcmp(out[i].domain, out[kept - 1].domain) == 0) {
                msg_warn(MOD, "%s: two routes for %s; one ignored", path, out[i].domain);
                continue;
            }
            out[kept++] = out[i];
        }
        count = kept;
    }
    *routes = out;
    *n = count;
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelnft - see kernelnft.h.
 *
 * nftables changes go through libnftables as command text, built here from
 * checked binary addresses and identifiers that hold only [A-Za-z0-9_]: no
 * outside byte reaches the parser.  One buffer is one transaction.  The
 * policy routing goes through rtnetlink (libmnl): a rule that exists
 * already (EEXIST) is fine, a route is replaced.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <nftables/libnftables.h>

#include "kernelnft.h"

/* ------------------------------------------------------------- nftables */

/* A growable command buffer; on allocation failure it stays failed. */
struct buf {
    char *s;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->s && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Runs cmds as one transaction; 0, or -1 with nft's first error line. */
static int nft_run(const char *cmds, char **output, char *err, size_t errlen)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    int rc;

    if (nft == NULL) {
        snprintf(err, errlen, "cannot create an nftables context");
        return -1;
    }
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_NUMERIC_ALL);
    rc = nft_run_cmd_from_buffer(nft, cmds);
    if (rc != 0) {
        const char *e = nft_ctx_get_error_buffer(nft);
        size_t len = e ? strcspn(e, "\n") : 0;
        snprintf(err, errlen, "nftables: %.*s", (int)(len < 200 ? len : 200), len ? e : "failed");
    } else if (output) {
        *output = strdup(nft_ctx_get_output_buffer(nft));
    }
    nft_ctx_free(nft);
    return rc == 0 ? 0 : -1;
}

static int ensure_nft(const struct kernel_tunnel *t, char *err, size_t errlen)
{
    struct buf b = {0};
    int rc;

    put(&b, "add table inet " KERNELNFT_TABLE "\n");
    put(&b, "add set inet " KERNELNFT_TABLE " d4_%s { type ipv4_addr; }\n", t->ident);
    put(&b, "add set inet " KERNELNFT_TABLE " d6_%s { type ipv6_addr; }\n", t->ident);
    put(&b, "add chain inet " KERNELNFT_TABLE " out_%s { type route hook output priority mangle; "
        "policy accept; }\n", t->ident);
    put(&b, "flush chain inet " KERNELNFT_TABLE " out_%s\n", t->ident);
    if (t->uid < 0) {
        free(b.s);
        snprintf(err, errlen, "mta_user of tunnel %s does not exist", t->name);
        return -1;
    }
    put(&b, "add rule inet " KERNELNFT_TABLE " out_%s meta skuid %ld ip daddr @d4_%s tcp dport 25 "
        "meta mark set 0x%x\n", t->ident, t->uid, t->ident, t->mark);
    put(&b, "add rule inet " KERNELNFT_TABLE " out_%s meta skuid %ld ip6 daddr @d6_%s tcp dport 25 "
        "meta mark set 0x%x\n", t->ident, t->uid, t->ident, t->mark);
    if (b.failed) {
        free(b.s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rc = nft_run(b.s, NULL, err, errlen);
    free(b.s);
    return rc;
}

/* Parses the "elements = { ... }" of a listed set. */
static int parse_elements(const char *text, struct netaddr **out, size_t *n, size_t *cap)
{
    const char *p = strstr(text, "elements = {");

    if (p == NULL)
        return 0;
    p += strlen("elements = {");
    while (*p && *p != '}') {
        size_t len;
        p += strspn(p, " \t\n,");
        len = strcspn(p, " \t\n,}");
        if (len == 0)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 64;
            struct netaddr *a = realloc(*out, nc * sizeof(**out));
            if (a == NULL)
                return -1;
            *out = a;
            *cap = nc;
        }
        if (netaddr_parse_len(p, len, &(*out)[*n]) == 0)
            (*n)++;
        p += len;
    }
    return 0;
}

int kernelnft_list(const struct kernel_tunnel *t, struct netaddr **out, size_t *n,
                   char *err, size_t errlen)
{
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    for (int fam = 4; fam <= 6; fam += 2) {
        char cmd[160], *text = NULL;
        snprintf(cmd, sizeof(cmd), "list set inet " KERNELNFT_TABLE " d%d_%s", fam, t->ident);
        if (nft_run(cmd, &text, err, errlen) < 0) {
            if (strstr(err, "No such file or directory"))
                continue;       /* not created yet: empty */
            free(*out);
            *out = NULL;
            return -1;
        }
        int rc = text ? parse_elements(text, out, n, &cap) : -1;
        free(text);
        if (rc < 0) {
            free(*out);
            *out = NULL;
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int cmp_addr(const void *pa, const void *pb)
{
    const struct netaddr *a = pa, *b = pb;

    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16);
}

/* Whether a is in v[], sorted with cmp_addr. */
static int has(const struct netaddr *v, size_t n, const struct netaddr *a)
{
    return n > 0 && bsearch(a, v, n, sizeof(*v), cmp_addr) != NULL;
}

/* Whether v is of family fam and is in ref[] (ref_has 1), not in it
 * (ref_has 0), or either (ref_has -1). */
static int chosen(const struct netaddr *v, int fam, const struct netaddr *ref, size_t nref, int ref_has)
{
    return v->family == (fam == 4 ? AF_INET : AF_INET6) && (ref_has < 0 || has(ref, nref, v) == ref_has);
}

/* "OP element inet mxdetour dF_ID { a, b }" for the chosen addresses of
 * v[]; adds their number to *count. */
#define KERNELNFT_CHUNK 1000
#define KERNELNFT_ATTEMPTS 3

static void put_elements(struct buf *b, const char *op, const struct kernel_tunnel *t, int fam,
                         const struct netaddr *v, size_t n, const struct netaddr *ref, size_t nref,
                         int ref_has, size_t *count)
{
    size_t k = 0;
    char text[NETADDR_STRLEN];

    for (size_t i = 0; i < n; i++) {
        if (!chosen(&v[i], fam, ref, nref, ref_has))
            continue;
        /* Statements of at most KERNELNFT_CHUNK elements, still one
         * transaction: a single huge statement made the kernel's answers
         * overflow libnftables' netlink buffer (ENOBUFS, seen with 10,000). */
        if (k > 0 && k % KERNELNFT_CHUNK == 0)
            put(b, " }\n");
        if (k++ % KERNELNFT_CHUNK == 0)
            put(b, "%s element inet " KERNELNFT_TABLE " d%d_%s { ", op, fam, t->ident);
        else
            put(b, ", ");
        put(b, "%s", netaddr_format(&v[i], text, sizeof(text)));
    }
    if (k)
        put(b, " }\n");
    *count += k;
}

static int apply_once(const struct kernel_tunnel *t, const struct netaddr *add, size_t nadd,
                      const struct netaddr *del, size_t ndel, int sync, const struct netaddr *want,
                      size_t nwant, size_t *added, size_t *removed, char *err, size_t errlen);

/* A transaction is all or nothing, so a failed one is tried again at once
 * from a fresh listing: under load the kernel now and then answers a large
 * one with ENOBUFS or ENOENT (seen in parallel test runs), and the caller's
 * retry with backoff is for errors that last. */
int kernelnft_apply(const struct kernel_tunnel *t, const struct netaddr *add, size_t nadd,
                    const struct netaddr *del, size_t ndel, int sync, const struct netaddr *want,
                    size_t nwant, size_t *added, size_t *removed, char *err, size_t errlen)
{
    int rc = -1;
    for (int attempt = 0; attempt < KERNELNFT_ATTEMPTS && rc < 0; attempt++)
        rc = apply_once(t, add, nadd, del, ndel, sync, want, nwant, added, removed, err, errlen);
    return rc;
}

static int apply_once(const struct kernel_tunnel *t, const struct netaddr *add, size_t nadd,
                      const struct netaddr *del, size_t ndel, int sync, const struct netaddr *want,
                      size_t nwant, size_t *added, size_t *removed, char *err, size_t errlen)
{
    struct netaddr *cur = NULL, *sorted = NULL;
    size_t ncur = 0;
    struct buf b = {0};
    int rc = 0;

    *added = *removed = 0;
    if ((sync || ndel) && kernelnft_list(t, &cur, &ncur, err, errlen) < 0)
        return -1;
    /* Sorted, so that the sets of tens of thousands compare in n log n. */
    if (ncur)
        qsort(cur, ncur, sizeof(*cur), cmp_addr);
    if (sync && nwant && (sorted = malloc(nwant * sizeof(*sorted))) == NULL) {
        free(cur);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sorted) {
        memcpy(sorted, want, nwant * sizeof(*sorted));
        qsort(sorted, nwant, sizeof(*sorted), cmp_addr);
    }
    for (int fam = 4; fam <= 6; fam += 2) {
        if (sync) {
            put_elements(&b, "add", t, fam, want, nwant, cur, ncur, 0, added);
            put_elements(&b, "delete", t, fam, cur, ncur, sorted, nwant, 0, removed);
        } else {
            put_elements(&b, "add", t, fam, add, nadd, NULL, 0, -1, added);
            put_elements(&b, "delete", t, fam, del, ndel, cur, ncur, 1, removed);
        }
    }
    free(cur);
    free(sorted);
    if (b.failed) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else if (b.len > 0) {
        rc = nft_run(b.s, NULL, err, errlen);
    }
    if (rc < 0)
        *added = *removed = 0;
    free(b.s);
    return rc;
}

/* ------------------------------------------------------------ rtnetlink */

/* Sends one request and reads its acknowledgement: 0 or -errno. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    uint32_t portid = mnl_socket_get_portid(nl);
    ssize_t n;

    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    if ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) < 0)
        return -errno;
    if (mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0)
        return -errno;
    return 0;
}

static int add_rule(struct mnl_socket *nl, const struct kernel_tunnel *t, int family,
                    const struct netaddr *from)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct fib_rule_hdr *fr;
    int rc;

    nlh->nlmsg_type = RTM_NEWRULE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
    fr = mnl_nlmsg_put_extra_header(nlh, sizeof(*fr));
    fr->family = (uint8_t)family;
    fr->action = FR_ACT_TO_TBL;
    fr->table = t->table < 256 ? (uint8_t)t->table : RT_TABLE_UNSPEC;
    mnl_attr_put_u32(nlh, FRA_TABLE, t->table);
    mnl_attr_put_u32(nlh, FRA_PRIORITY, t->priority);
    if (from) {
        fr->src_len = family == AF_INET ? 32 : 128;
        mnl_attr_put(nlh, FRA_SRC, family == AF_INET ? 4 : 16, from->bytes);
    } else {
        mnl_attr_put_u32(nlh, FRA_FWMARK, t->mark);
        mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffu);
    }
    rc = nl_talk(nl, nlh);
    return rc == -EEXIST ? 0 : rc;
}

static int add_route(struct mnl_socket *nl, const struct kernel_tunnel *t, int family, unsigned ifindex)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    struct rtmsg *rt;

    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
    rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
    rt->rtm_family = (uint8_t)family;
    rt->rtm_table = t->table < 256 ? (uint8_t)t->table : RT_TABLE_UNSPEC;
    rt->rtm_protocol = RTPROT_STATIC;
    rt->rtm_type = RTN_UNICAST;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    mnl_attr_put_u32(nlh, RTA_TABLE, t->table);
    mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
    const struct netaddr *gw = &t->gateway[family == AF_INET6];
    if (gw->family == family)
        mnl_attr_put(nlh, RTA_GATEWAY, family == AF_INET ? 4 : 16, gw->bytes);
    else
        rt->rtm_scope = RT_SCOPE_LINK;
    return nl_talk(nl, nlh);
}

static int ensure_routing(const struct kernel_tunnel *t, char *err, size_t errlen)
{
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    unsigned ifindex = if_nametoindex(t->ifname);
    int rc = 0;

    if (ifindex == 0) {
        snprintf(err, errlen, "interface %s: %s", t->ifname, strerror(errno));
        if (nl)
            mnl_socket_close(nl);
        return -1;
    }
    if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
        if (nl)
            mnl_socket_close(nl);
        return -1;
    }
    if ((rc = add_rule(nl, t, AF_INET, NULL)) < 0 || (rc = add_rule(nl, t, AF_INET6, NULL)) < 0)
        snprintf(err, errlen, "ip rule fwmark 0x%x lookup %u: %s", t->mark, t->table, strerror(-rc));
    else if (t->has_source && (rc = add_rule(nl, t, t->source.family, &t->source)) < 0)
        snprintf(err, errlen, "ip rule from the source address lookup %u: %s", t->table, strerror(-rc));
    else if ((rc = add_route(nl, t, AF_INET, ifindex)) < 0)
        snprintf(err, errlen, "ip route default dev %s table %u: %s", t->ifname, t->table, strerror(-rc));
    else if ((rc = add_route(nl, t, AF_INET6, ifindex)) < 0) {
        /* An interface without IPv6 cannot carry a default route: marked
         * IPv6 connections then fail as they would directly.  Not fatal. */
        snprintf(err, errlen, "ip -6 route default dev %s table %u: %s (IPv6 not detoured)",
                 t->ifname, t->table, strerror(-rc));
        mnl_socket_close(nl);
        return 1;
    }
    mnl_socket_close(nl);
    return rc < 0 ? -1 : 0;
}

int kernelnft_ensure(const struct kernel_tunnel *t, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    if (ensure_nft(t, err, errlen) < 0)
        return -1;
    return ensure_routing(t, err, errlen);
}

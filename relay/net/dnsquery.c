/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsquery - c-ares on libevent, and the answers mxresolve reads; see
 * dnsquery.h.
 *
 * c-ares talks to libevent through ARES_OPT_SOCK_STATE_CB (one persistent
 * event per socket c-ares opens) and one timer set from ares_timeout()
 * after every call into c-ares.
 *
 * Answers are parsed by c-ares (ares_parse_mx_reply, ares_parse_a_reply and
 * ares_parse_aaaa_reply), except for the TTL of MX records, which c-ares
 * does not report: mx_ttl() walks the message for it, checking every length.
 *
 * Diagnostics: msg_warn for a channel that cannot start.
 */
#include "config.h"

#include <ares.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "dnsquery.h"
#include "msg.h"

#define MOD "mxresolve"
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_TRIES 2

struct sockev {
    ares_socket_t fd;
    struct event *ev;
    struct sockev *next;
};

/* c-ares on libevent. */

void dnsquery_reschedule(struct dnsquery *dq)
{
    struct timeval tv, *tvp;

    if (dq->closing)
        return;
    tvp = ares_timeout(dq->channel, NULL, &tv);
    if (tvp)
        evtimer_add(dq->timer, tvp);
    else
        evtimer_del(dq->timer);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    struct dnsquery *dq = arg;

    ares_process_fd(dq->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    dnsquery_reschedule(dq);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dnsquery *dq = arg;

    (void)fd;
    (void)what;
    ares_process_fd(dq->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    dnsquery_reschedule(dq);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dnsquery *dq = data;
    struct sockev **pp = &dq->socks, *s;
    short what = (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));

    while (*pp && (*pp)->fd != fd)
        pp = &(*pp)->next;
    s = *pp;
    if (s && s->ev) {
        event_free(s->ev);
        s->ev = NULL;
    }
    if (what == 0 || dq->closing) {
        if (s) {
            *pp = s->next;
            free(s);
        }
        return;
    }
    if (s == NULL) {
        if ((s = calloc(1, sizeof(*s))) == NULL)
            return;     /* the query times out; nothing better to do */
        s->fd = fd;
        s->next = dq->socks;
        dq->socks = s;
    }
    s->ev = event_new(dq->base, fd, (short)(what | EV_PERSIST), on_sock, dq);
    if (s->ev)
        event_add(s->ev, NULL);
}

int dnsquery_open(struct dnsquery *dq, struct event_base *base, const struct mxresolve_opts *o)
{
    struct ares_options ao;
    int rc, mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES
                 | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;

    dq->base = base;
    if ((dq->timer = evtimer_new(base, on_timer, dq)) == NULL)
        return -1;
    memset(&ao, 0, sizeof(ao));
    ao.sock_state_cb = sock_state;
    ao.sock_state_cb_data = dq;
    ao.timeout = o && o->timeout_ms ? (int)o->timeout_ms : DEFAULT_TIMEOUT_MS;
    ao.tries = o && o->tries ? (int)o->tries : DEFAULT_TRIES;
    ao.flags = ARES_FLAG_EDNS;
    ao.ednspsz = 1232;
    if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) == ARES_SUCCESS
        && (rc = ares_init_options(&dq->channel, &ao, mask)) != ARES_SUCCESS)
        ares_library_cleanup();
    if (rc != ARES_SUCCESS) {
        msg_warn(MOD, "cannot start the resolver: %s", ares_strerror(rc));
        return -1;
    }
    dq->channel_ok = 1;
    if (o && o->servers && (rc = ares_set_servers_ports_csv(dq->channel, o->servers)) != ARES_SUCCESS) {
        msg_warn(MOD, "bad DNS servers \"%s\": %s", o->servers, ares_strerror(rc));
        return -1;
    }
    return 0;
}

void dnsquery_close(struct dnsquery *dq)
{
    dq->closing = 1;
    if (dq->channel_ok) {
        ares_destroy(dq->channel);      /* on_answer: EDESTRUCTION, frees queries */
        ares_library_cleanup();
        dq->channel_ok = 0;
    }
    while (dq->socks) {
        struct sockev *s = dq->socks;
        dq->socks = s->next;
        if (s->ev)
            event_free(s->ev);
        free(s);
    }
    if (dq->timer) {
        event_free(dq->timer);
        dq->timer = NULL;
    }
}

/* Answers. */

/*
 * The smallest TTL of the MX (and CNAME) records in an answer, which
 * ares_parse_mx_reply() does not report.  Every length is checked; names go
 * through ares_expand_name(), which checks bounds and pointer loops.
 * Returns -1 when the message is malformed.
 */
static int mx_ttl(const unsigned char *abuf, int alen, uint32_t *min_ttl)
{
    int off = 12, qd, an;

    if (alen < 12)
        return -1;
    qd = abuf[4] << 8 | abuf[5];
    an = abuf[6] << 8 | abuf[7];
    for (int i = 0; i < qd + an; i++) {
        char *name;
        long enclen;
        int type;
        uint32_t ttl;

        if (ares_expand_name(abuf + off, abuf, alen, &name, &enclen) != ARES_SUCCESS)
            return -1;
        ares_free_string(name);
        off += (int)enclen + (i < qd ? 4 : 10);
        if (off > alen)
            return -1;
        if (i < qd)
            continue;
        type = abuf[off - 10] << 8 | abuf[off - 9];
        ttl = (uint32_t)abuf[off - 6] << 24 | (uint32_t)abuf[off - 5] << 16
            | (uint32_t)abuf[off - 4] << 8 | abuf[off - 3];
        if ((type == T_MX_ || type == T_CNAME_) && ttl < *min_ttl)
            *min_ttl = ttl;
        if ((off += abuf[off - 2] << 8 | abuf[off - 1]) > alen)
            return -1;
    }
    return 0;
}

static int mx_cmp(const void *a, const void *b)
{
    const struct mxrec *x = a, *y = b;

    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Reads up to MX_PARSE_MAX MX records, sorted, invalid names left out.
 * Returns their number, or -1 when the answer is malformed. */
int dnsquery_parse_mx(const unsigned char *abuf, int alen, struct mxrec *rec, uint32_t *min_ttl)
{
    struct ares_mx_reply *list, *m;
    int n = 0;

    if (ares_parse_mx_reply(abuf, alen, &list) != ARES_SUCCESS)
        return mx_ttl(abuf, alen, min_ttl) < 0 ? -1 : 0;
    if (mx_ttl(abuf, alen, min_ttl) < 0) {
        ares_free_data(list);
        return -1;
    }
    for (m = list; m && n < MX_PARSE_MAX; m = m->next) {
        rec[n].pref = m->priority;
        if (m->host[0] == 0)
            rec[n++].name[0] = 0;
        else if (domain_normalize(m->host, strlen(m->host), rec[n].name, sizeof(rec[n].name)) == 0)
            n++;
    }
    ares_free_data(list);
    qsort(rec, (size_t)n, sizeof(*rec), mx_cmp);
    return n;
}

/* Adds the addresses of an A or AAAA answer to h; -1 if malformed. */
int dnsquery_parse_addrs(const unsigned char *abuf, int alen, int type, struct hwork *h,
                         uint32_t *min_ttl)
{
    struct ares_addrttl a4[MX_MAX_ADDRS];
    struct ares_addr6ttl a6[MX_MAX_ADDRS];
    int n = MX_MAX_ADDRS, rc;

    rc = type == T_A_ ? ares_parse_a_reply(abuf, alen, NULL, a4, &n)
                      : ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
    if (rc == ARES_ENODATA)
        return 0;
    if (rc != ARES_SUCCESS)
        return -1;
    for (int i = 0; i < n; i++) {
        struct netaddr *o = type == T_A_ ? &h->v4[h->n4++] : &h->v6[h->n6++];
        int ttl = type == T_A_ ? a4[i].ttl : a6[i].ttl;
        memset(o, 0, sizeof(*o));
        o->family = type == T_A_ ? AF_INET : AF_INET6;
        if (type == T_A_)
            memcpy(o->bytes, &a4[i].ipaddr, 4);
        else
            memcpy(o->bytes, &a6[i].ip6addr, 16);
        if (ttl >= 0 && (uint32_t)ttl < *min_ttl)
            *min_ttl = (uint32_t)ttl;
    }
    return 0;
}

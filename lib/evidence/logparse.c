/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logparse - see logparse.h for the interface and the lines it reads.
 *
 * logparse_line() checks a line's bounds, parses its header (timestamp,
 * read by logtime.c; host; NAME/PROGRAM[PID]) and passes the message to one
 * of two paths:
 *   on_statement()  a line that is not a status line: one connection
 *                   attempt, failed (CONNECT_FAIL) or answered (REPLY);
 *   on_status()     a per-recipient status line: links the attempts of its
 *                   delivery and reports what no earlier line did.
 * Both use logparse_classify(), which matches only the leading words that Postfix
 * itself writes ("connect to H[A]:P: ", "lost connection with H[A] while
 * ...") and never looks inside the text that follows them.
 *
 * Per-process slots.  A failure line carries no queue id: it belongs to the
 * next status line of the same process (host, service tag and pid).  A slot
 * is open while failures accumulate and closed once a status line has taken
 * them.  Further status lines of the same queue id within SAME_DELIVERY_MS
 * (one per recipient) are the same delivery: they share the list and repeat
 * no event.  The next statement of the process opens a new list.  Slots are
 * 4-way set-associative over LOGPARSE_PIDS entries; a set's least recently
 * used slot is reused when it is full.
 */
#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "logparse_int.h"

#define NAME_MAX_LEN 47
#define WAYS 4
#define SETS (LOGPARSE_PIDS / WAYS)
#define SAME_DELIVERY_MS 10000

enum program { PROG_NONE, PROG_SMTP, PROG_ERROR };
struct header {
    uint64_t time_ms;
    const char *host, *tag;
    size_t host_len, tag_len;
    uint32_t pid;
};

struct slot {
    uint64_t key;               /* hash of host and tag; 0: free */
    uint32_t pid;
    uint64_t used;              /* LRU stamp */
    int closed;
    uint64_t closed_ms;         /* time of the status line that closed it */
    char qid[LOGPARSE_QUEUE_ID_MAX];
    int have_reply;             /* last REPLY address of this delivery */
    struct netaddr reply;
    unsigned n, lost;
    struct logparse_attempt att[LOGPARSE_MAX_ATTEMPTS];
};

struct logparse {
    logparse_event_fn fn;
    void *arg;
    unsigned nnames;
    char names[LOGPARSE_MAX_NAMES][NAME_MAX_LEN + 1];
    size_t name_len[LOGPARSE_MAX_NAMES];
    struct logtime time;        /* timestamps: reference time, cache */
    uint64_t seq;
    struct logparse_stats stats;
    struct logparse_event ev;
    struct slot slots[LOGPARSE_PIDS];
};

/* Cursor primitives (lit, LIT, number: logtime.h) each check the bound
 * before they read. */

/* "TIMESTAMP HOST TAG[PID]: " */
static int parse_header(struct logparse *lp, struct cur *c, struct header *h)
{
    uint64_t pid;

    if (logtime_parse(&lp->time, c, &h->time_ms) < 0 || !LIT(c, " ")
        || logparse_token(c, ' ', LOGPARSE_HOST_MAX, &h->host, &h->host_len) < 0 || !LIT(c, " ")
        || logparse_token(c, '[', LOGPARSE_SERVICE_MAX - 1, &h->tag, &h->tag_len) < 0
        || !LIT(c, "[") || number(c, 1, 10, &pid) < 0 || pid == 0 || pid > 0x7fffffff
        || !LIT(c, "]: "))
        return -1;
    h->pid = (uint32_t)pid;
    return 0;
}

/* Whether the tag is NAME/PROGRAM for one of the configured syslog_names. */
static int is_instance(const struct logparse *lp, const struct header *h)
{
    const char *slash = memrchr(h->tag, '/', h->tag_len);
    size_t name_len;

    if (slash == NULL || slash == h->tag)
        return 0;
    name_len = (size_t)(slash - h->tag);
    for (unsigned i = 0; i < lp->nnames; i++) {
        size_t n = lp->name_len[i];
        if (memcmp(h->tag, lp->names[i], n < name_len ? n : name_len) == 0
            && (n == name_len || (n < name_len && h->tag[n] == '/')))
            return 1;
    }
    return 0;
}

static enum program match_service(const struct logparse *lp, const struct header *h)
{
    const char *slash = memrchr(h->tag, '/', h->tag_len), *prog;
    size_t prog_len;
    enum program kind;

    if (slash == NULL || slash == h->tag || !is_instance(lp, h))
        return PROG_NONE;
    prog = slash + 1;
    prog_len = h->tag_len - (size_t)(slash - h->tag) - 1;
    if (prog_len == 4 && (memcmp(prog, "smtp", 4) == 0 || memcmp(prog, "lmtp", 4) == 0))
        kind = PROG_SMTP;
    else if (prog_len == 5 && (memcmp(prog, "error", 5) == 0 || memcmp(prog, "retry", 5) == 0))
        kind = PROG_ERROR;
    else
        return PROG_NONE;
    return kind;
}

/* Postfix queue ids: short (upper-case hex) or long (no vowels). */
static uint64_t process_key(const struct header *h)
{
    uint64_t x = 1469598103934665603ULL;    /* FNV-1a over "host tag" */

    for (size_t i = 0; i < h->host_len; i++)
        x = (x ^ (unsigned char)h->host[i]) * 1099511628211ULL;
    x = (x ^ ' ') * 1099511628211ULL;
    for (size_t i = 0; i < h->tag_len; i++)
        x = (x ^ (unsigned char)h->tag[i]) * 1099511628211ULL;
    return x ? x : 1;
}

static struct slot *slot_get(struct logparse *lp, const struct header *h)
{
    uint64_t key = process_key(h);
    uint64_t mix = (key ^ h->pid) * 0x9E3779B97F4A7C15ULL;
    struct slot *set = lp->slots + (size_t)((mix >> 32) % SETS) * WAYS;
    struct slot *victim = set;

    for (int w = 0; w < WAYS; w++) {
        if (set[w].key == key && set[w].pid == h->pid) {
            set[w].used = ++lp->seq;
            return &set[w];
        }
        if (set[w].used < victim->used)
            victim = &set[w];
    }
    if (victim->key != 0 && !victim->closed && victim->n > 0)
        lp->stats.evicted++;
    memset(victim, 0, sizeof(*victim));
    victim->key = key;
    victim->pid = h->pid;
    victim->used = ++lp->seq;
    victim->closed = 1;         /* the first statement starts a fresh list */
    return victim;
}

static void slot_open(struct slot *s)
{
    if (s->closed) {
        s->closed = 0;
        s->n = s->lost = 0;
        s->have_reply = 0;
        s->qid[0] = 0;
    }
}

static int slot_has(const struct slot *s, const struct finding *f)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->att[i].kind == f->kind && netaddr_equal(&s->att[i].addr, &f->addr))
            return 1;
    return 0;
}

static void slot_add(struct slot *s, const struct finding *f, uint64_t time_ms)
{
    if (s->n == LOGPARSE_MAX_ATTEMPTS) {
        s->lost++;
        return;
    }
    s->att[s->n].addr = f->addr;
    s->att[s->n].port = f->port;
    s->att[s->n].kind = f->kind;
    s->att[s->n].time_ms = time_ms;
    s->n++;
}

/* Events: one struct, reset per event, handed to the callback. */

static struct logparse_event *ev_start(struct logparse *lp, enum logparse_type type,
                                       const struct header *h, const char *qid,
                                       const struct finding *server)
{
    struct logparse_event *ev = &lp->ev;

    memset(ev, 0, offsetof(struct logparse_event, attempts));
    ev->type = type;
    ev->time_ms = h->time_ms;
    ev->pid = h->pid;
    memcpy(ev->service, h->tag, h->tag_len);
    memcpy(ev->queue_id, qid, sizeof(ev->queue_id));    /* same size, terminated */
    if (server->host)
        memcpy(ev->host, server->host, server->host_len);
    ev->have_addr = server->have_addr;
    ev->addr = server->addr;
    ev->port = server->port;
    return ev;
}

static int emit(struct logparse *lp, const char *text, size_t text_len)
{
    lp->ev.text = text;
    lp->ev.text_len = text_len;
    lp->stats.events[lp->ev.type]++;
    lp->fn(&lp->ev, lp->arg);
    return 1;
}

/* A CONNECT_FAIL or REPLY about the server in f. */
static int emit_server(struct logparse *lp, const struct header *h, const char *qid,
                       const struct finding *f, int derived, const char *text, size_t len)
{
    struct logparse_event *ev = ev_start(lp, f->v == V_FAIL ? LOGPARSE_CONNECT_FAIL
                                                            : LOGPARSE_REPLY, h, qid, f);
    ev->kind = f->v == V_FAIL ? f->kind : FAIL_NONE;
    ev->derived = derived;
    return emit(lp, text, len);
}

/* One REPLY per address per delivery: 1 when a is new to this one. */
static int reply_is_new(struct slot *s, const struct netaddr *a)
{
    if (s->have_reply && netaddr_equal(&s->reply, a))
        return 0;
    s->have_reply = 1;
    s->reply = *a;
    return 1;
}

/* A statement that is not a status line: at most one event. */
static int on_statement(struct logparse *lp, const struct header *h, const char *qid,
                        struct cur body)
{
    struct finding f;
    struct slot *s;

    logparse_classify(body, &f);
    lp->stats.unclassified += f.v == V_UNKNOWN;
    if ((f.v != V_FAIL && f.v != V_REPLY) || !f.have_addr)
        return 0;
    s = slot_get(lp, h);
    slot_open(s);
    if (f.v == V_FAIL)
        slot_add(s, &f, h->time_ms);
    else if (!reply_is_new(s, &f.addr))
        return 0;
    return emit_server(lp, h, qid, &f, 0, body.p, (size_t)(body.end - body.p));
}

/* Starts a STATUS event: the relay as its server, the recipient's domain. */
static struct logparse_event *status_start(struct logparse *lp, const struct header *h,
                                           const char *qid, const struct status_fields *sf,
                                           const struct finding *relay)
{
    struct logparse_event *ev = ev_start(lp, LOGPARSE_STATUS, h, qid, relay);
    char rcpt[RCPT_MAX];

    ev->status = sf->status;
    if (sf->rcpt_len < sizeof(rcpt)) {
        memcpy(rcpt, sf->rcpt, sf->rcpt_len);
        rcpt[sf->rcpt_len] = 0;
        if (domain_of_address(rcpt, ev->rcpt_domain, sizeof(ev->rcpt_domain)) < 0)
            ev->rcpt_domain[0] = 0;
    }
    if (sf->dsn && sf->dsn_len < sizeof(ev->dsn))
        memcpy(ev->dsn, sf->dsn, sf->dsn_len);
    return ev;
}

static int on_status(struct logparse *lp, const struct header *h, const char *qid,
                     struct cur body, int repeat)
{
    struct status_fields sf;
    struct finding f, relay = {0};
    struct logparse_event *ev;
    struct slot *s;
    int n = 0, same;

    if (logparse_parse_status(&body, &sf) < 0) {
        lp->stats.malformed++;
        return -1;
    }
    if (!(sf.relay_len == 4 && memcmp(sf.relay, "none", 4) == 0)) {
        struct cur rc = {sf.relay, sf.relay + sf.relay_len};
        if (logparse_namaddr(&rc, &relay) < 0 || rc.p != rc.end)
            memset(&relay, 0, sizeof(relay));   /* "local", "virtual", ... */
    }
    logparse_classify((struct cur){sf.text, sf.text + sf.text_len}, &f);
    if (repeat || f.v == V_REPEAT) {
        status_start(lp, h, qid, &sf, &relay)->repeat = 1;
        return emit(lp, sf.text, sf.text_len);
    }

    s = slot_get(lp, h);
    same = s->closed && strcmp(s->qid, qid) == 0
           && (h->time_ms > s->closed_ms ? h->time_ms - s->closed_ms
                                         : s->closed_ms - h->time_ms) <= SAME_DELIVERY_MS;
    if (!same)
        slot_open(s);           /* a closed list belongs to an earlier delivery */
    if (f.v == V_FAIL && f.host == NULL && relay.have_addr) {
        enum fail_kind kind = f.kind;   /* "Cannot start TLS": the relay's */
        f = relay;
        f.v = V_FAIL;
        f.kind = kind;
    }
    if (f.v == V_FAIL) {
        if (f.have_addr && !same && !slot_has(s, &f)) {
            slot_add(s, &f, h->time_ms);
            n += emit_server(lp, h, qid, &f, 1, sf.text, sf.text_len);
        }
    } else if (f.v != V_UNKNOWN) {      /* any session proves the path */
        const struct finding *ep = f.v == V_REPLY && f.have_addr ? &f
                                   : relay.have_addr ? &relay : NULL;
        if (ep && reply_is_new(s, &ep->addr))
            n += emit_server(lp, h, qid, ep, 0, sf.text, sf.text_len);
    }

    ev = status_start(lp, h, qid, &sf, &relay);
    ev->kind = f.v == V_FAIL ? f.kind : FAIL_NONE;
    ev->nattempts = s->n;
    ev->attempts_lost = s->lost;
    memcpy(ev->attempts, s->att, s->n * sizeof(s->att[0]));
    n += emit(lp, sf.text, sf.text_len);

    s->closed = 1;
    s->closed_ms = h->time_ms;
    memcpy(s->qid, qid, sizeof(s->qid));
    return n;
}

int logparse_line(struct logparse *lp, const char *line, size_t len)
{
    struct header h;
    struct cur c, q;
    char qid[LOGPARSE_QUEUE_ID_MAX] = "";
    enum program prog;

    lp->stats.lines++;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > LOGPARSE_LINE_MAX) {
        lp->stats.too_long++;
        return -1;
    }
    c.p = line;
    c.end = line + len;
    if (memchr(line, 0, len) != NULL || parse_header(lp, &c, &h) < 0) {
        lp->stats.malformed++;
        return -1;
    }
    if (is_instance(lp, &h))
        lp->stats.instance++;
    if ((prog = match_service(lp, &h)) == PROG_NONE) {
        lp->stats.foreign++;
        return 0;
    }
    q = c;
    if (logparse_queue_id(&q, qid) == 0) {
        c = q;
        if (c.end - c.p >= 4 && memcmp(c.p, "to=<", 4) == 0)
            return on_status(lp, &h, qid, c, prog == PROG_ERROR);
    }
    return prog == PROG_SMTP ? on_statement(lp, &h, qid, c) : 0;
}

struct logparse *logparse_create(const char *syslog_names, logparse_event_fn fn, void *arg)
{
    struct logparse *lp;
    const char *p;

    if (fn == NULL || (lp = calloc(1, sizeof(*lp))) == NULL)
        return NULL;
    lp->fn = fn;
    lp->arg = arg;
    for (p = syslog_names ? syslog_names : "postfix"; *p;) {
        size_t n = strcspn(p, ", \t");
        if (n > 0) {
            if (n > NAME_MAX_LEN || lp->nnames == LOGPARSE_MAX_NAMES || p[n - 1] == '/'
                || p[0] == '/')
                goto bad;
            for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)p[i]) && strchr("._/-", p[i]) == NULL)
                    goto bad;
            memcpy(lp->names[lp->nnames], p, n);
            lp->name_len[lp->nnames++] = n;
        }
        p += n;
        p += strspn(p, ", \t");
    }
    if (lp->nnames == 0)
        goto bad;
    logparse_set_now(lp, 0);
    return lp;
bad:
    free(lp);
    return NULL;
}

void logparse_free(struct logparse *lp)
{
    free(lp);
}

void logparse_set_now(struct logparse *lp, uint64_t now_ms)
{
    logtime_set_now(&lp->time, now_ms);
}

const struct logparse_stats *logparse_stats(const struct logparse *lp)
{
    return &lp->stats;
}

const char *logparse_type_name(enum logparse_type type)
{
    static const char *const names[] = {"none", "connect_fail", "reply", "status"};
    return (unsigned)type < LOGPARSE_TYPE_COUNT ? names[type] : "unknown";
}

const char *logparse_status_name(enum logparse_status status)
{
    static const char *const names[] = {"sent", "deferred", "bounced", "deliverable",
                                        "undeliverable", "other"};
    return (unsigned)status <= LOGPARSE_OTHER ? names[status] : "unknown";
}

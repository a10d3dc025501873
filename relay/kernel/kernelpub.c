/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernelpub - see kernelpub.h.
 *
 * Each address the module knows is one struct kaddr: whether it is blocked,
 * and in which tunnel's set it is (`where`, -1: none).  A round brings one
 * tunnel's set closer to what it should be: the additions and removals it
 * needs (or, after start, the whole wanted list) are sent to the helper as
 * STAGE requests and one COMMIT, at most WINDOW at a time.  `sending` marks
 * what the round will make true; the answer to the commit moves it into
 * `where`.  One round at a time; the next starts when one ends.
 *
 * The entries sit in a dense array (a round walks them all) with an
 * open-addressing hash index beside it: the engine asks kernelpub_holds()
 * of every address in Postfix's log, and kernelpub_addr() of every breaker
 * change, so a linear search would cost O(addresses) per log line.  A
 * sorted array would move the tail on each insert.  Entries are only
 * dropped when a round ends, which walks them all anyway, so the index has
 * no delete: it is rebuilt then, and when the array grows (at most half
 * full, linear probing; a slot holds the entry's index + 1, 0 is free).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "breaker.h"
#include "clock.h"
#include "kernelnft.h"
#include "kernelconfirm.h"
#include "kernelpub.h"
#include "kernelstate.h"
#include "msg.h"
#include "privsep.h"
#include "relayhealth.h"
#include "store.h"

#define MOD "kernelpub"
#define WINDOW 8                /* requests in flight, below privsep's limit */
#define NOT_IN_ROUND (-2)

struct kaddr {
    struct netaddr a;
    char why[KERNELPUB_WHY_MAX];
    int blocked;
    int unconfirmed;            /* from the state file; Redis has not said */
    int where;                  /* tunnel whose set holds it; -1: none */
    int sending;                /* where the round in flight puts it */
    uint64_t unblocked_ms;      /* when it stopped being blocked */
};

static struct {
    struct daemon *d;
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];
    size_t nt;
    int ready[KERNELNFT_MAX_TUNNELS];       /* table, chain and routes made */
    int need_sync[KERNELNFT_MAX_TUNNELS];   /* next round: the whole list */
    int was_up[KERNELNFT_MAX_TUNNELS];
    struct kaddr *v;
    size_t n, cap;
    uint32_t *slot;             /* the index: 2 * cap slots */
    struct event *timer;
    uint64_t retry_ms;
    int confirmed;              /* Redis was read since start */
    uint64_t next_due_ms;       /* the first deferred removal, 0: none */
    /* The round in flight. */
    int busy, round, failed, sync;
    struct privsep_kernel *q;
    size_t nq, sent, answered;
    char why[PRIVSEP_TEXT_MAX];
    char state_path[4096];
    struct msg_limiter lim;
} kp;

int kernelpub_active(void)
{
    return kp.nt > 0 && kp.d != NULL;
}

static size_t addr_hash(const struct netaddr *a)
{
    uint32_t h = 2166136261u ^ (uint32_t)a->family;
    size_t w = a->family == AF_INET ? 4 : 16;
    for (size_t i = 0; i < w; i++)              /* FNV-1a */
        h = (h ^ a->bytes[i]) * 16777619u;
    return h;
}

/* The slot that holds a, or the free slot where it would go. */
static size_t slot_of(const struct netaddr *a)
{
    size_t mask = 2 * kp.cap - 1, j = addr_hash(a) & mask;
    while (kp.slot[j] && !netaddr_equal(&kp.v[kp.slot[j] - 1].a, a))
        j = (j + 1) & mask;
    return j;
}

/* Fills the index from the array (kp.slot holds 2 * kp.cap slots). */
static void index_rebuild(void)
{
    memset(kp.slot, 0, 2 * kp.cap * sizeof(*kp.slot));
    for (size_t i = 0; i < kp.n; i++)
        kp.slot[slot_of(&kp.v[i].a)] = (uint32_t)i + 1;
}

static struct kaddr *find(const struct netaddr *a)
{
    if (kp.n == 0)
        return NULL;
    size_t j = slot_of(a);
    return kp.slot[j] ? &kp.v[kp.slot[j] - 1] : NULL;
}

static struct kaddr *get(const struct netaddr *a)
{
    struct kaddr *e = find(a);

    if (e)
        return e;
    if (kp.n == KERNELPUB_MAX_ADDRS)
        return NULL;
    if (kp.n == kp.cap) {
        size_t cap = kp.cap ? kp.cap * 2 : 64;     /* a power of two: the index's mask */
        struct kaddr *v = realloc(kp.v, cap * sizeof(*v));
        uint32_t *slot = v ? malloc(2 * cap * sizeof(*slot)) : NULL;
        if (slot == NULL) {
            if (v)
                kp.v = v;       /* the old index still fits the old cap */
            return NULL;
        }
        kp.v = v;
        free(kp.slot);
        kp.slot = slot;
        kp.cap = cap;
        index_rebuild();
    }
    e = &kp.v[kp.n];
    memset(e, 0, sizeof(*e));
    e->a = *a;
    e->where = -1;
    e->sending = NOT_IN_ROUND;
    kp.slot[slot_of(a)] = (uint32_t)++kp.n;
    return e;
}

/* The tunnel blocked addresses belong in: the first one that is up. */
static int target(void)
{
    for (size_t i = 0; i < kp.nt; i++)
        if (relayhealth_is_up(kp.t[i].name))
            return (int)i;
    return -1;
}

static void schedule(uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    /* While the helper fails, changes wait for the retry's backoff. */
    if (kp.retry_ms && ms < kp.retry_ms && kp.timer && evtimer_pending(kp.timer, NULL))
        return;
    if (kp.timer && !kp.busy)
        evtimer_add(kp.timer, &tv);
}

/* ---- The state file: "ADDRESS TUNNEL WHY" per line ---- */

static void save_state(void)
{
    char tmp[4200], text[NETADDR_STRLEN];
    FILE *fp;

    snprintf(tmp, sizeof(tmp), "%s.tmp", kp.state_path);
    if ((fp = fopen(tmp, "w")) == NULL) {
        msg_limited(&kp.lim, 60000, MOD, "cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(fp, "# mxdetourd: addresses in the sets of table inet " KERNELNFT_TABLE "\n");
    for (size_t i = 0; i < kp.n; i++)
        if (kp.v[i].where >= 0)
            fprintf(fp, "%s %s %s\n", netaddr_format(&kp.v[i].a, text, sizeof(text)),
                    kp.t[kp.v[i].where].name, kp.v[i].why[0] ? kp.v[i].why : "-");
    if (fclose(fp) != 0 || rename(tmp, kp.state_path) < 0)
        msg_limited(&kp.lim, 60000, MOD, "cannot write %s: %s", kp.state_path, strerror(errno));
}

/* An entry of the state file: blocked, until Redis says otherwise. */
static void from_state(const struct netaddr *a, const char *tunnel, const char *why, void *arg)
{
    struct kaddr *e = get(a);
    (void)tunnel;
    (void)arg;

    if (e == NULL)
        return;
    e->blocked = 1;
    e->unconfirmed = 1;
    snprintf(e->why, sizeof(e->why), "%.*s", (int)sizeof(e->why) - 1, why);
}

/* ---- Rounds ---- */

static void pump(void);

static void end_round(void)
{
    size_t keep = 0, in = 0;
    const char *name = kp.t[kp.round].name;

    for (size_t i = 0; i < kp.n; i++) {
        struct kaddr *e = &kp.v[i];
        if (e->sending != NOT_IN_ROUND && !kp.failed)
            e->where = e->sending;
        e->sending = NOT_IN_ROUND;
        if (e->blocked || e->where >= 0)
            kp.v[keep++] = *e;
        in += e->where == kp.round;
    }
    kp.n = keep;
    if (kp.cap)
        index_rebuild();        /* entries moved or went */
    free(kp.q);
    kp.q = NULL;
    kp.busy = 0;
    if (kp.failed) {
        kp.ready[kp.round] = 0;     /* make sure of the table before the retry */
        kp.need_sync[kp.round] |= kp.sync;  /* `where` is still unknown */
        kp.retry_ms = kp.retry_ms ? kp.retry_ms * 2 : KERNELPUB_RETRY_MIN_MS;
        if (kp.retry_ms > KERNELPUB_RETRY_MAX_MS)
            kp.retry_ms = KERNELPUB_RETRY_MAX_MS;
        msg_warn(MOD, "tunnel %s: the set was not changed: %s; retrying in %llu ms", name, kp.why,
                 (unsigned long long)kp.retry_ms);
        schedule(kp.retry_ms);
        return;
    }
    kp.retry_ms = 0;
    if (kp.why[0])
        msg_info(MOD, "tunnel %s: %s; %zu address%s in its set", name, kp.why, in, in == 1 ? "" : "es");
    save_state();
    schedule(0);                /* whatever changed meanwhile */
}

static void answered(int status, const char *text, void *arg)
{
    (void)arg;

    kp.answered++;
    if (status < 0 && !kp.failed) {
        kp.failed = 1;
        snprintf(kp.why, sizeof(kp.why), "%s", text);
    } else if (status == 0 && kp.answered == kp.nq) {
        snprintf(kp.why, sizeof(kp.why), "%s", text);
    }
    if (kp.answered == kp.sent && (kp.failed || kp.answered == kp.nq))
        end_round();
    else
        pump();
}

static enum privsep_type type_of(size_t i)
{
    if (i == 0 && !kp.ready[kp.round])
        return PRIVSEP_KERNEL_ENSURE;
    return i + 1 == kp.nq ? PRIVSEP_KERNEL_COMMIT : PRIVSEP_KERNEL_STAGE;
}

static void pump(void)
{
    char err[256];

    while (!kp.failed && kp.sent < kp.nq && kp.sent - kp.answered < WINDOW) {
        size_t i = kp.sent;
        enum privsep_type type = type_of(i);
        if (privsep_request_kernel(type, &kp.q[i], answered, NULL, err, sizeof(err)) < 0) {
            kp.failed = 1;
            snprintf(kp.why, sizeof(kp.why), "%.200s", err);
            break;
        }
        if (type == PRIVSEP_KERNEL_ENSURE)
            kp.ready[kp.round] = 1;     /* undone if the round fails */
        kp.sent++;
    }
    if (kp.failed && kp.answered == kp.sent)
        end_round();
}

/* Appends STAGE requests for the addresses of v marked with `mark`. */
static int stage_marked(int op, int mark, size_t *count)
{
    for (int fam = 4; fam <= 6; fam += 2) {
        struct privsep_kernel *k = NULL;
        size_t width = fam == 4 ? 4 : 16, max = fam == 4 ? PRIVSEP_KERNEL_V4 : PRIVSEP_KERNEL_V6;
        for (size_t i = 0; i < kp.n; i++) {
            const struct kaddr *e = &kp.v[i];
            if (e->sending != mark || e->a.family != (fam == 4 ? AF_INET : AF_INET6))
                continue;
            if (k == NULL || k->count == max) {
                struct privsep_kernel *q = realloc(kp.q, (kp.nq + 1) * sizeof(*q));
                if (q == NULL)
                    return -1;
                kp.q = q;
                k = &kp.q[kp.nq++];
                memset(k, 0, sizeof(*k));
                k->tunnel = (uint32_t)kp.round;
                k->op = (uint8_t)op;
                k->family = (uint8_t)fam;
            }
            memcpy(k->addr + k->count * width, e->a.bytes, width);
            k->count++;
            (*count)++;
        }
    }
    return 0;
}

/* Marks what a round for tunnel ti would change (sending); 1 when it
 * has anything to do.  A sync lists every address that belongs. */
static int plan(int ti, int want_tunnel, uint64_t now)
{
    int any = kp.need_sync[ti] || !kp.ready[ti];

    for (size_t i = 0; i < kp.n; i++) {
        struct kaddr *e = &kp.v[i];
        int belongs = e->blocked && want_tunnel == ti;
        uint64_t due = e->unblocked_ms + KERNELPUB_REMOVE_DELAY_MS;
        e->sending = NOT_IN_ROUND;
        if (belongs && (e->where < 0 || e->where == ti) && (kp.need_sync[ti] || e->where != ti))
            e->sending = ti;    /* one set at a time: another tunnel's round removes it first */
        else if (!belongs && e->where == ti && !e->blocked && due > now && !kp.need_sync[ti])
            kp.next_due_ms = kp.next_due_ms && kp.next_due_ms < due ? kp.next_due_ms : due;
        else if (!belongs && e->where == ti)
            e->sending = -1;
        any = any || (e->sending != NOT_IN_ROUND && e->sending != e->where);
    }
    if (!any)
        for (size_t i = 0; i < kp.n; i++)
            kp.v[i].sending = NOT_IN_ROUND;
    return any;
}

static void start_round(void)
{
    int want = target();
    size_t staged = 0;
    uint64_t now = clock_mono_ms();

    if (kp.busy || !privsep_available())
        return;
    kp.next_due_ms = 0;
    for (kp.round = 0; (size_t)kp.round < kp.nt; kp.round++)
        if (plan(kp.round, want, now))
            break;
    if ((size_t)kp.round == kp.nt) {
        if (kp.next_due_ms)     /* every set is what it should be, for now */
            schedule(kp.next_due_ms - now);
        return;
    }
    kp.busy = 1;
    kp.sync = kp.need_sync[kp.round];
    kp.failed = 0;
    kp.nq = kp.sent = kp.answered = 0;
    kp.why[0] = 0;
    kp.q = calloc(1, sizeof(*kp.q));
    if (kp.q == NULL)
        goto oom;
    kp.nq = 1;                  /* the ENSURE, dropped below when ready */
    kp.q[0].tunnel = (uint32_t)kp.round;
    if (kp.need_sync[kp.round]) {
        if (stage_marked(PRIVSEP_KOP_WANT, kp.round, &staged) < 0)
            goto oom;
    } else if (stage_marked(PRIVSEP_KOP_ADD, kp.round, &staged) < 0
               || stage_marked(PRIVSEP_KOP_DEL, -1, &staged) < 0) {
        goto oom;
    }
    struct privsep_kernel *q = realloc(kp.q, (kp.nq + 1) * sizeof(*q));
    if (q == NULL)
        goto oom;
    kp.q = q;
    memset(&kp.q[kp.nq], 0, sizeof(kp.q[0]));
    kp.q[kp.nq].tunnel = (uint32_t)kp.round;
    kp.q[kp.nq].staged = (uint32_t)staged;
    kp.q[kp.nq].sync = (uint8_t)kp.need_sync[kp.round];
    kp.nq++;
    if (kp.ready[kp.round]) {   /* no ENSURE: drop slot 0 */
        memmove(kp.q, kp.q + 1, (kp.nq - 1) * sizeof(*kp.q));
        kp.nq--;
    }
    kp.need_sync[kp.round] = 0;
    pump();
    return;
oom:
    kp.failed = 1;
    snprintf(kp.why, sizeof(kp.why), "out of memory");
    end_round();
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    start_round();
}

/* ---- What the engine and relayhealth report ---- */

int kernelpub_holds(const struct netaddr *addr)
{
    const struct kaddr *e = kernelpub_active() ? find(addr) : NULL;
    return e && (e->where >= 0 || (e->blocked && target() >= 0));
}

void kernelpub_addr(const struct netaddr *addr, int blocked, const char *why)
{
    struct kaddr *e;

    if (!kernelpub_active())
        return;
    if ((e = blocked ? get(addr) : find(addr)) == NULL) {
        if (blocked)
            msg_limited(&kp.lim, 60000, MOD, "more than %d blocked addresses; the others stay "
                        "out of the tunnel sets", KERNELPUB_MAX_ADDRS);
        return;
    }
    e->unconfirmed = 0;
    if (e->blocked == blocked && (!blocked || e->where == target()))
        return;
    if (!blocked)
        e->unblocked_ms = clock_mono_ms();
    e->blocked = blocked;
    snprintf(e->why, sizeof(e->why), "%s", why && *why ? why : "-");
    schedule(0);
}

void kernelpub_relay_change(const char *relay, int up)
{
    size_t blocked = 0;

    if (!kernelpub_active() || relay == NULL)
        return;
    for (size_t i = 0; i < kp.n; i++)
        blocked += kp.v[i].blocked != 0;
    for (size_t i = 0; i < kp.nt; i++) {
        if (strcmp(kp.t[i].name, relay) != 0 || kp.was_up[i] == up)
            continue;
        kp.was_up[i] = up;
        if (up)
            kp.ready[i] = 0;    /* a recreated interface lost its route: ENSURE again */
        int now = target();
        if (!up)
            msg_warn(MOD, "tunnel %s is down: %s", relay, now >= 0
                     ? "its blocked addresses move to the next kernel-mode tunnel"
                     : "its blocked addresses leave its set, and mail to them goes the direct way "
                       "(Postfix keeps it queued while they are blocked)");
        else
            msg_info(MOD, "tunnel %s is up%s", relay, now == (int)i && blocked
                     ? ": the blocked addresses go back into its set" : "");
        schedule(0);
    }
}

/* Redis's word on every address, at start or when it first answers: the
 * unconfirmed entries (from the state file) it does not block are dropped. */
static void apply_items(const struct kconfirm_item *v, size_t n)
{
    struct kaddr *e;

    for (size_t i = 0; i < n; i++) {
        switch (v[i].kind) {
        case KC_BLOCKED:
            if ((e = get(&v[i].addr)) == NULL)
                break;
            e->blocked = 1;
            e->unconfirmed = 0;
            snprintf(e->why, sizeof(e->why), "%.*s", (int)sizeof(e->why) - 1, v[i].why);
            break;
        case KC_DIRECT:
            if ((e = find(&v[i].addr)) && e->unconfirmed)
                e->blocked = e->unconfirmed = 0;
            break;
        case KC_UNBLOCKED:
            if ((e = find(&v[i].addr)))
                e->blocked = e->unconfirmed = 0;
            break;
        }
    }
    for (size_t i = 0; i < kp.n; i++)
        if (kp.v[i].unconfirmed)
            kp.v[i].blocked = kp.v[i].unconfirmed = 0;
    kp.confirmed = 1;
}

/* At start, before the loop runs: 0, or -1 when Redis did not answer. */
static int confirm_from_store(void)
{
    const struct cfg *cfg = kp.d->cfg;
    struct kconfirm_item *v;
    size_t n;
    char err[256];

    if (kernelconfirm_read(&cfg->redis, cfg->site, &v, &n, err, sizeof(err)) < 0) {
        msg_warn(MOD, "redis: %s", err);
        return -1;
    }
    apply_items(v, n);
    free(v);
    return 0;
}

static void confirmed_later(int ok, const struct kconfirm_item *v, size_t n, const char *err, void *arg)
{
    (void)arg;
    if (!ok) {
        msg_warn(MOD, "redis: %s; the last known state stays until it answers", err);
        return;
    }
    apply_items(v, n);
    msg_info(MOD, "redis answers: the addresses of the last known state are checked against it");
    for (size_t i = 0; i < kp.nt; i++)
        kp.need_sync[i] = 1;    /* drop what an earlier run left that redis does not block */
    schedule(0);
}

/* The async link is up.  If the start could not read Redis, read it now, on
 * a worker thread (kernelconfirm.h): the loop never waits for it. */
void kernelpub_store_up(void)
{
    if (!kernelpub_active() || kp.confirmed || kernelconfirm_running())
        return;
    if (kernelconfirm_start(kp.d->base, &kp.d->cfg->redis, kp.d->cfg->site, confirmed_later, NULL) < 0)
        msg_warn(MOD, "cannot read redis on a worker thread; the last known state stays");
}

/* ---- The module ---- */

static int module_start(struct daemon *d)
{
    long n;

    memset(&kp, 0, sizeof(kp));
    kp.nt = privsep_tunnels(d->cfg, kp.t, KERNELNFT_MAX_TUNNELS);
    if (kp.nt == 0)
        return 0;
    kp.d = d;
    if (kernelpub_check(d->cfg, NULL) > 0) {
        kp.d = NULL;
        return -1;
    }
    if (!privsep_available()) {
        msg_warn(MOD, "mode \"kernel\" needs the privileged helper, which holds CAP_NET_ADMIN: "
                 "start mxdetourd as root (it drops its privileges itself); not started");
        kp.d = NULL;
        return -1;
    }
    snprintf(kp.state_path, sizeof(kp.state_path), "%s/" KERNELSTATE_FILE, d->cfg->state_dir);
    for (size_t i = 0; i < kp.nt; i++) {
        kp.need_sync[i] = 1;
        kp.was_up[i] = -1;      /* relayhealth starts with the engine */
    }
    if (confirm_from_store() == 0) {
        msg_info(MOD, "the tunnel sets are made to match what redis says is blocked");
    } else if ((n = kernelstate_read(kp.state_path, from_state, NULL)) > 0) {
        msg_warn(MOD, "redis does not answer: the tunnel sets keep the %ld addresses of the last "
                 "known state (%s) until it does", n, kp.state_path);
    } else {
        /* Neither: leave the sets as they are (fail-static), add only. */
        for (size_t i = 0; i < kp.nt; i++)
            kp.need_sync[i] = 0;
        msg_warn(MOD, "redis does not answer and %s is missing: the tunnel sets are kept as "
                 "they are until redis answers", kp.state_path);
    }
    kp.timer = evtimer_new(d->base, timer_cb, NULL);
    if (kp.timer == NULL)
        return -1;
    for (size_t i = 0; i < kp.nt; i++)
        msg_info(MOD, "tunnel %s: mode kernel on %s, fwmark 0x%x, routing table %u", kp.t[i].name,
                 kp.t[i].ifname, kp.t[i].mark, kp.t[i].table);
    schedule(0);
    return 0;
}

static void module_reload(struct daemon *d, const struct cfg *old)
{
    struct kernel_tunnel t[KERNELNFT_MAX_TUNNELS];
    size_t n = privsep_tunnels(d->cfg, t, KERNELNFT_MAX_TUNNELS);
    (void)old;

    kernelconfirm_cancel();     /* its worker reads the configuration being replaced */
    if (n != kp.nt || memcmp(t, kp.t, n * sizeof(t[0])) != 0)
        msg_warn(MOD, "the kernel-mode tunnels changed: they take effect when mxdetourd restarts");
    schedule(0);
}

static void module_stop(struct daemon *d)
{
    (void)d;
    kernelconfirm_cancel();
    privsep_cancel(answered, NULL);
    if (kp.timer)
        event_free(kp.timer);
    free(kp.q);
    free(kp.v);
    free(kp.slot);
    memset(&kp, 0, sizeof(kp));     /* the sets stay in the kernel */
}

const struct daemon_module kernelpub_module = {
    .name = MOD,
    .start = module_start,
    .reload = module_reload,
    .stop = module_stop,
};

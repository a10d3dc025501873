/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * race - see race.h.
 */
#include "config.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "msg.h"
#include "race.h"

#define MOD "race"

struct race {
    struct racer *r;
    struct race *prev, *next;
    struct netaddr addr;
    char path[65];
    char source[NETADDR_STRLEN];        /* "" : through the proxy */
    struct socks5_proxy proxy;          /* user and password point below */
    char user[256], password[256];
    int via_proxy;
    uint64_t fast_confirm_ms, start_ms;
    struct race_leg direct, control;
    char direct_text[PROBER_TEXT_MAX], control_text[PROBER_TEXT_MAX];
    struct event *timer;
    race_fn fn;
    void *arg;
};

struct racer {
    struct event_base *base;
    struct prober *prober;
    struct cfg_probe cfg;               /* source_address owned here */
    unsigned max_races, running;
    struct race *all;
};

static const char *const names[] = {"wait", "open", "blocked-here", "down-everywhere", "no-control"};

const char *race_decision_name(enum race_decision d)
{
    return (unsigned)d <= RACE_NO_CONTROL ? names[d] : "unknown";
}

/* Answered through the control path: the path is up and reached the host. */
static int reached(enum probe_kind k)
{
    return k == PROBE_GREETING || k == PROBE_REPLY;
}

enum race_decision race_decide(const struct race_leg *direct, const struct race_leg *control,
                               int direct_connected, uint64_t elapsed_ms, uint64_t fast_confirm_ms)
{
    if (direct->done && reached(direct->kind))
        return RACE_OPEN;
    if (!control->done)
        return RACE_WAIT;
    if (control->kind == PROBE_ERROR)
        return direct->done ? RACE_NO_CONTROL : RACE_WAIT;
    if (reached(control->kind)) {
        if (direct->done)
            return direct->kind == PROBE_ERROR ? RACE_NO_CONTROL : RACE_BLOCKED_HERE;
        return elapsed_ms >= fast_confirm_ms && !direct_connected ? RACE_BLOCKED_HERE : RACE_WAIT;
    }
    if (!direct->done)
        return RACE_WAIT;
    return direct->kind == PROBE_ERROR ? RACE_NO_CONTROL : RACE_DOWN_EVERYWHERE;
}

/* "no answer in 3.0s", "connection refused in 0.01s", "greeting in 0.21s" */
static void leg_phrase(char *buf, size_t size, const struct race_leg *l, uint64_t cut_ms)
{
    static const char *const what[PROBE_KIND_COUNT] = {
        "greeting", "reply", "no answer", "connection refused", "unreachable", "no greeting", "error"};
    uint64_t ms = l->done ? l->ms : cut_ms;
    const char *w = l->done && (unsigned)l->kind < PROBE_KIND_COUNT ? what[l->kind] : "no answer";
    if (ms > 999999)
        ms = 999999;            /* a leg never lasts that long: keep the text short */
    snprintf(buf, size, "%s in %u.%02us", w, (unsigned)(ms / 1000), (unsigned)(ms % 1000 / 10));
}

static void on_direct(const struct probe_result *res, void *arg);
static void on_control(const struct probe_result *res, void *arg);

static void race_free(struct race *x)
{
    struct racer *r = x->r;
    prober_cancel(r->prober, on_direct, x);
    prober_cancel(r->prober, on_control, x);
    if (x->timer)
        event_free(x->timer);
    if (x->prev)
        x->prev->next = x->next;
    else
        r->all = x->next;
    if (x->next)
        x->next->prev = x->prev;
    r->running--;
    free(x);
}

static void finish(struct race *x, enum race_decision d, int cut_short)
{
    char sentence[RACE_TEXT_MAX], dp[32], cp[32];
    struct race_outcome o = {
        .decision = d, .addr = &x->addr, .path = x->path, .direct = x->direct,
        .control = x->control, .cut_short = cut_short, .direct_text = x->direct_text,
        .control_text = x->control_text, .sentence = sentence,
    };
    race_fn fn = x->fn;
    void *arg = x->arg;
    struct netaddr addr = x->addr;
    char path[sizeof(x->path)], dtext[PROBER_TEXT_MAX], ctext[PROBER_TEXT_MAX];

    o.elapsed_ms = clock_mono_ms() - x->start_ms;
    leg_phrase(dp, sizeof(dp), &x->direct, o.elapsed_ms);
    leg_phrase(cp, sizeof(cp), &x->control, o.elapsed_ms);
    switch (d) {
    case RACE_OPEN:
        snprintf(sentence, sizeof(sentence), "open: %s on the direct path", dp);
        break;
    case RACE_BLOCKED_HERE:
        snprintf(sentence, sizeof(sentence), "blocked here: %s on the direct path, %s through %.32s", dp, cp, x->path);
        break;
    case RACE_DOWN_EVERYWHERE:
        snprintf(sentence, sizeof(sentence), "down everywhere: %s on the direct path, %s through %.32s", dp, cp,
                 x->path);
        break;
    default:
        snprintf(sentence, sizeof(sentence), "control path %.32s failed (%.40s): %s on the direct path", x->path,
                 x->control_text, dp);
        break;
    }
    /* The race is freed before the call (it may start another race for the
     * address): the outcome points at copies. */
    memcpy(path, x->path, sizeof(path));
    memcpy(dtext, x->direct_text, sizeof(dtext));
    memcpy(ctext, x->control_text, sizeof(ctext));
    o.addr = &addr;
    o.path = path;
    o.direct_text = dtext;
    o.control_text = ctext;
    race_free(x);
    fn(&o, arg);
}

static void decide(struct race *x)
{
    uint64_t elapsed = clock_mono_ms() - x->start_ms;
    int connected = !x->direct.done
                    && prober_connected(x->r->prober, &x->addr, 0, x->r->cfg.source_address);
    enum race_decision d = race_decide(&x->direct, &x->control, connected, elapsed, x->fast_confirm_ms);

    if (d != RACE_WAIT)
        finish(x, d, d == RACE_BLOCKED_HERE && !x->direct.done);
}

static void take(struct race_leg *l, char *text, const struct probe_result *res)
{
    l->done = 1;
    l->kind = res->kind;
    l->ms = res->elapsed_ms;
    snprintf(text, PROBER_TEXT_MAX, "%s", res->text ? res->text : "");
}

static void on_direct(const struct probe_result *res, void *arg)
{
    struct race *x = arg;
    take(&x->direct, x->direct_text, res);
    decide(x);
}

static void on_control(const struct probe_result *res, void *arg)
{
    struct race *x = arg;
    take(&x->control, x->control_text, res);
    if (res->kind == PROBE_ERROR && res->proxy == NULL && x->via_proxy)
        snprintf(x->control_text, sizeof(x->control_text), "local error");
    decide(x);
}

static void on_fast(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    decide(arg);
}

struct racer *racer_new(struct event_base *base, const struct cfg_probe *cfg, unsigned max_races)
{
    struct racer *r = calloc(1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->base = base;
    racer_configure(r, cfg, max_races);
    if (r->prober == NULL) {
        racer_free(r);
        return NULL;
    }
    return r;
}

void racer_configure(struct racer *r, const struct cfg_probe *cfg, unsigned max_races)
{
    free(r->cfg.source_address);
    r->cfg = *cfg;
    r->cfg.source_address = cfg->source_address ? strdup(cfg->source_address) : NULL;
    r->cfg.jitter_ms = 0;               /* both legs at once: the race is timed */
    r->max_races = max_races ? max_races : 16;
    r->cfg.concurrency = 2 * r->max_races;
    if (r->prober)
        prober_configure(r->prober, &r->cfg);
    else
        r->prober = prober_new(r->base, &r->cfg);
}

void racer_free(struct racer *r)
{
    if (r == NULL)
        return;
    while (r->all)
        race_free(r->all);
    if (r->prober)
        prober_free(r->prober);
    free(r->cfg.source_address);
    free(r);
}

int racer_busy(const struct racer *r, const struct netaddr *addr)
{
    for (const struct race *x = r->all; x; x = x->next)
        if (netaddr_equal(&x->addr, addr))
            return 1;
    return 0;
}

unsigned racer_running(const struct racer *r)
{
    return r->running;
}

void racer_cancel(struct racer *r, race_fn fn, void *arg)
{
    for (struct race *x = r->all, *next; x; x = next) {
        next = x->next;
        if (x->fn == fn && x->arg == arg)
            race_free(x);
    }
}

int racer_start(struct racer *r, const struct netaddr *addr, const struct race_path *path,
                uint64_t fast_confirm_ms, race_fn fn, void *arg)
{
    struct race *x;
    struct timeval tv = {(time_t)(fast_confirm_ms / 1000), (suseconds_t)(fast_confirm_ms % 1000) * 1000};

    if (r->running >= r->max_races || racer_busy(r, addr) || path == NULL || path->name == NULL
        || (path->proxy == NULL) == (path->source == NULL) || (x = calloc(1, sizeof(*x))) == NULL)
        return -1;
    x->r = r;
    x->addr = *addr;
    x->fn = fn;
    x->arg = arg;
    x->fast_confirm_ms = fast_confirm_ms;
    x->start_ms = clock_mono_ms();
    snprintf(x->path, sizeof(x->path), "%s", path->name);
    if (path->proxy) {
        x->via_proxy = 1;
        x->proxy = *path->proxy;
        if (path->proxy->user) {
            snprintf(x->user, sizeof(x->user), "%s", path->proxy->user);
            snprintf(x->password, sizeof(x->password), "%s", path->proxy->password ? path->proxy->password : "");
            x->proxy.user = x->user;
            x->proxy.password = x->password;
        }
    } else {
        snprintf(x->source, sizeof(x->source), "%s", path->source);
    }
    x->next = r->all;
    if (x->next)
        x->next->prev = x;
    r->all = x;
    r->running++;
    x->timer = evtimer_new(r->base, on_fast, x);
    if (x->timer == NULL || evtimer_add(x->timer, &tv) < 0
        || prober_probe(r->prober, addr, 0, NULL, on_direct, x) < 0
        || (x->via_proxy ? prober_probe_via(r->prober, addr, 0, &x->proxy, on_control, x)
                         : prober_probe(r->prober, addr, 0, x->source, on_control, x)) < 0) {
        race_free(x);
        return -1;
    }
    return 0;
}

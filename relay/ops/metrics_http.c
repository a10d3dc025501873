/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * metrics_http - the daemon module that serves GET /metrics in Prometheus's
 * text format (0.0.4) on metrics.listen, with libevent's HTTP server.
 *
 * Off unless metrics.listen is set.  It binds that one address only (no
 * wildcard default), answers GET /metrics and nothing else (404 for other
 * paths, 501 for other methods: evhttp's answer to a method not allowed),
 * and bounds what a client may send: request line and headers
 * METRICS_MAX_HEADERS bytes, body METRICS_MAX_BODY, METRICS_TIMEOUT_S per
 * request.  libevent 2.1 cannot cap the number of connections: bind a
 * loopback or management address (docs/metrics.md).
 *
 * A scrape writes the registry (lib/metrics/metrics.h) and then the series that
 * depend on the configuration or live in other modules: relay health,
 * relays up per destination, the Redis link's counters, the kick's counters
 * and the routes in force.  It runs on the loop, so it reads those modules
 * like any other caller there.
 *
 * The address is bound at start (a failure stops mxdetourd: the
 * administrator asked for metrics); a reload that changes it closes the old
 * socket and binds the new one, and only logs a failure.
 */
#include "config.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_metrics.h"
#include "deliverability.h"
#include "health.h"
#include "kick.h"
#include "metrics.h"
#include "metrics_deliver.h"
#include "metrics_http.h"
#include "msg.h"
#include "netaddr.h"
#include "prober.h"
#include "relayhealth.h"
#include "routes.h"
#include "store_async.h"

#define MOD "metrics_http"
#define METRICS_MAX_HEADERS 8192
#define METRICS_MAX_BODY 1024
#define METRICS_TIMEOUT_S 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

_Static_assert(PROBE_KIND_COUNT == 7, "mxdetour_probes_total lists seven results (lib/metrics/metrics.c)");

static struct {
    struct daemon *d;
    struct evhttp *http;
    char *listen;                   /* what http is bound to */
} mh;

static void counter(struct metrics_buf *b, const char *name, const char *help, double v)
{
    metrics_family(b, name, "counter", help);
    metrics_sample(b, name, NULL, NULL, v);
}

static void gauge(struct metrics_buf *b, const char *name, const char *help, double v)
{
    metrics_family(b, name, "gauge", help);
    metrics_sample(b, name, NULL, NULL, v);
}

/* The series that are not in the registry. */
static void render_daemon(struct metrics_buf *b, const struct cfg *cfg)
{
    struct store_async_stats as;
    const struct kick_stats *ks = kick_stats();

    metrics_family(b, "mxdetour_relay_up", "gauge",
                   "1 when the relay passes its health check (or has none), else 0.");
    for (size_t i = 0; i < cfg->nrelays; i++)
        metrics_sample(b, "mxdetour_relay_up", "relay", cfg->relays[i].name,
                       relayhealth_is_up(cfg->relays[i].name) ? 1 : 0);
    metrics_family(b, "mxdetour_destination_relays", "gauge",
                   "Relays configured for a destination (by name, else its first pattern).");
    for (size_t i = 0; i < cfg->ndests; i++)
        if (cfg->dests[i].nrelays > 0)
            metrics_sample(b, "mxdetour_destination_relays", "destination",
                           health_dest_name(&cfg->dests[i]), (double)cfg->dests[i].nrelays);
    metrics_family(b, "mxdetour_destination_relays_up", "gauge",
                   "Relays of a destination that are up now; 0 means its mail cannot be detoured.");
    for (size_t i = 0; i < cfg->ndests; i++)
        if (cfg->dests[i].nrelays > 0)
            metrics_sample(b, "mxdetour_destination_relays_up", "destination",
                           health_dest_name(&cfg->dests[i]),
                           health_relays_up(cfg, &cfg->dests[i]));
    gauge(b, "mxdetour_routes", "Detour routes in the transport table Postfix reads.",
          (double)routes_count());

    store_async_get_stats(&as);
    gauge(b, "mxdetour_redis_up", "1 while the daemon is connected to Redis, else 0.",
          store_async_is_up() ? 1 : 0);
    counter(b, "mxdetour_redis_connects_total",
            "Connections to Redis made, the first included: more than one means reconnects.",
            (double)as.reconnects);
    counter(b, "mxdetour_redis_errors_total", "Redis error replies and malformed records.",
            (double)as.errors);
    counter(b, "mxdetour_redis_writes_total", "Address records written with compare-and-set.",
            (double)as.writes);
    counter(b, "mxdetour_redis_conflicts_total",
            "Compare-and-set retries because another MTA wrote first.", (double)as.conflicts);
    counter(b, "mxdetour_redis_evidence_dropped_total",
            "Evidence not written to Redis: its queue was full, or Redis refused it.",
            (double)as.dropped);
    gauge(b, "mxdetour_redis_evidence_pending", "Evidence waiting to be written to Redis.",
          (double)as.pending);

    counter(b, "mxdetour_queue_kick_runs_total",
            "postqueue -j runs to find the deferred mail of destinations whose route changed.",
            ks ? (double)ks->runs : 0);
    metrics_family(b, "mxdetour_queue_kicked_messages_total", "counter",
                   "Deferred messages rescheduled with postqueue -i, by result.");
    metrics_sample(b, "mxdetour_queue_kicked_messages_total", "result", "done",
                   ks ? (double)ks->kicked : 0);
    metrics_sample(b, "mxdetour_queue_kicked_messages_total", "result", "failed",
                   ks ? (double)ks->failed : 0);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
    struct metrics_buf b = {0};
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    (void)arg;

    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        evhttp_send_error(req, 405, "only GET");
        return;
    }
    metrics_render(&b);
    render_daemon(&b, mh.d->cfg);
    metrics_deliver_render(&b);         /* the milter's DKIM counts */
    deliverability_render(&b);          /* the last check of the relays */
    if (b.failed || evbuffer_add(out, b.data, b.len) < 0) {
        msg_warn(MOD, "out of memory for a scrape");
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", CONTENT_TYPE);
        evhttp_send_reply(req, HTTP_OK, "OK", NULL);
    }
    metrics_buf_free(&b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
    (void)arg;
    evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics");
}

/* A server bound to listen, or NULL after logging why. */
static struct evhttp *serve(struct event_base *base, const char *listen)
{
    char host[NETADDR_STRLEN];
    int port;
    struct evhttp *http;

    if (cfg_metrics_listen(listen, host, sizeof(host), &port) < 0) {
        msg_warn(MOD, "metrics.listen \"%s\" is not ADDRESS:PORT", listen);
        return NULL;
    }
    if ((http = evhttp_new(base)) == NULL) {
        msg_warn(MOD, "cannot set up the HTTP server");
        return NULL;
    }
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
    evhttp_set_max_headers_size(http, METRICS_MAX_HEADERS);
    evhttp_set_max_body_size(http, METRICS_MAX_BODY);
    evhttp_set_timeout(http, METRICS_TIMEOUT_S);
    if (evhttp_set_cb(http, "/metrics", on_metrics, NULL) != 0) {
        evhttp_free(http);
        return NULL;
    }
    evhttp_set_gencb(http, on_other, NULL);
    if (evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port) == NULL) {
        msg_warn(MOD, "cannot listen on %s (in use, or not an address of this host)", listen);
        evhttp_free(http);
        return NULL;
    }
    msg_info(MOD, "serving Prometheus metrics on http://%s/metrics", listen);
    return http;
}

static int metrics_start(struct daemon *d)
{
    mh.d = d;
    if (d->cfg->metrics.listen == NULL)
        return 0;
    if ((mh.http = serve(d->base, d->cfg->metrics.listen)) == NULL)
        return -1;
    mh.listen = strdup(d->cfg->metrics.listen);
    return 0;
}

static void metrics_reload(struct daemon *d, const struct cfg *old)
{
    const char *want = d->cfg->metrics.listen;
    struct evhttp *http;
    (void)old;

    if ((want == NULL && mh.listen == NULL) || (want && mh.listen && strcmp(want, mh.listen) == 0))
        return;
    if (mh.http) {              /* freed first: the new address may be the same port */
        evhttp_free(mh.http);
        mh.http = NULL;
        msg_info(MOD, "no longer serving metrics on %s", mh.listen);
    }
    free(mh.listen);
    mh.listen = NULL;
    if (want == NULL)
        return;
    if ((http = serve(d->base, want)) == NULL) {
        msg_warn(MOD, "metrics are off until the next reload or restart");
        return;
    }
    mh.http = http;
    mh.listen = strdup(want);
}

static void metrics_stop(struct daemon *d)
{
    (void)d;
    if (mh.http)
        evhttp_free(mh.http);
    free(mh.listen);
    memset(&mh, 0, sizeof(mh));
}

const struct daemon_module metrics_http_module = {
    .name = MOD,
    .start = metrics_start,
    .reload = metrics_reload,
    .stop = metrics_stop,
};

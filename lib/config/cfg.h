/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg - mxdetour.conf(5): load, validate, free.
 *
 * cfg_load() parses one libconfig file and checks all of it: types, ranges,
 * unknown keys, duplicate names, destinations naming undefined relays.  It
 * returns a complete configuration or NULL; never a half-filled one.  Each
 * problem is one "FILE:LINE: what is wrong" entry in the error list, in file
 * order, so `mxdetourd -t` can print them all at once.
 *
 * Ownership: the struct cfg and everything it points to belong to it;
 * cfg_free() releases all.  A reload builds a new one and swaps it in only
 * when it loaded cleanly (the old one keeps running otherwise).
 */
#ifndef MXD_CFG_H
#define MXD_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breaker.h"
#include "cfg_kernel.h"
#include "cfg_deliver.h"

#define CFG_DEFAULT_FILE SYSCONFDIR "/mxdetour/mxdetour.conf"
#define CFG_MAX_RELAYS_PER_DEST 8
#define CFG_MAX_ERRORS 100
#define CFG_LOG_SILENCE_MS (3600 * 1000ULL)    /* log_silence's default: 1h */

#define CFG_MAX_SENTINELS 8

/* An IP address literal and a port: sentinels are reached by address, so
 * that asking them never waits for a DNS lookup. */
struct cfg_hostport {
    char host[46];
    int port;
};

/* redis.tls: all NULL and on false when absent. */
struct cfg_redis_tls {
    bool on;
    char *ca_file;               /* CA bundle the server's certificate is checked against */
    char *cert_file, *key_file;  /* our client certificate, or NULL */
    char *server_name;           /* SNI and the name checked, or NULL */
};

struct cfg_redis {
    char *socket;                /* Unix socket path, or NULL for host/port */
    char *host;
    int port;
    /* With sentinels, socket/host/port are unused: the master is asked for. */
    struct cfg_hostport sentinels[CFG_MAX_SENTINELS];
    size_t nsentinels;           /* 0: no Sentinel, Redis at socket/host */
    char *master_name;           /* the name the sentinels monitor it under */
    char *sentinel_user;         /* ACL user for the sentinels, or NULL */
    char *sentinel_password;     /* read from sentinel_password_file, or NULL */
    int database;
    char *prefix;                /* key prefix; the site name follows it */
    char *user;                  /* ACL user, or NULL */
    char *password;              /* read from password_file, or NULL */
    uint64_t connect_timeout_ms;
    uint64_t command_timeout_ms;
    struct cfg_redis_tls tls;    /* TLS to Redis and the sentinels (lib/state/store_tls.h) */
};

enum cfg_log_type { CFG_LOG_FILE, CFG_LOG_COMMAND, CFG_LOG_STDIN };

struct cfg_log {
    enum cfg_log_type type;
    char *path;                  /* file, or NULL */
    char *command;               /* shell command whose output is the log */
};

struct cfg_outage {
    unsigned min_destinations;   /* distinct unrelated failing destinations */
    double share;                /* failing share of all destinations tried */
    uint64_t window_ms;
};

struct cfg_probe {
    char *source_address;        /* bind address on the direct path, or NULL */
    uint64_t timeout_ms;         /* connect + greeting */
    unsigned concurrency;
    uint64_t jitter_ms;
    int port;
    uint64_t relay_interval_ms;  /* between two health probes of a relay */
};

enum relay_type { RELAY_SMARTHOST, RELAY_TUNNEL };

/* A relay's control path (cfg_control.h): how control probes reach a
 * destination MX from outside the censored network. */
enum control_kind { CONTROL_NONE, CONTROL_SOURCE, CONTROL_SOCKS5 };

struct cfg_relay_control {
    enum control_kind kind;      /* tunnels with source_address: SOURCE */
    char proxy[46];              /* SOCKS5: the proxy's address literal */
    int port;
    char *user;                  /* SOCKS5 user, or NULL */
    char *password;              /* from control_password_file, or NULL */
};
enum relay_mode { RELAY_MODE_TRANSPORT, RELAY_MODE_KERNEL };

struct cfg_relay {
    char *name;
    enum relay_type type;
    enum relay_mode mode;        /* tunnels only */
    char *nexthop;               /* transport(5) result, e.g. "smtp:[relay.example]:587" */
    char *check_host;            /* health probe target: smarthost host, or NULL */
    int check_port;
    char *source_address;        /* tunnel: the address routed into the tunnel */
    char *interface;             /* tunnel: interface name (kernel mode) */
    struct cfg_relay_kernel kernel;  /* tunnel in kernel mode (lib/config/cfg_kernel.h) */
    struct cfg_relay_control control;
    struct cfg_relay_deliver deliver;  /* exit addresses, HELO (lib/config/cfg_deliver.h) */
    int line;
};

enum policy { POLICY_DETOUR, POLICY_HOLD, POLICY_TEMPFAIL, POLICY_REJECT, POLICY_PASS };

struct cfg_dest {
    char *name;
    char **domains;              /* patterns: "example.com", ".example.com", "*" */
    size_t ndomains;
    int relays[CFG_MAX_RELAYS_PER_DEST];   /* indexes into cfg.relays, in order */
    size_t nrelays;
    enum policy policy;
    char *reply;                 /* text for tempfail/reject/hold */
    struct breaker_params detect;          /* global values unless overridden */
    int line;
};

enum routes_mode { ROUTES_TABLE, ROUTES_SOCKETMAP };
enum routes_reload { RELOAD_AUTO, RELOAD_NEVER };

struct cfg_routes {
    enum routes_mode mode;
    char *table;                 /* path of the source file; postmap makes .db */
    char *table_type;            /* hash, lmdb, cdb */
    char *postmap;
    enum routes_reload reload;
    uint64_t reload_interval_ms; /* minimum time between two reloads */
    uint64_t coalesce_floor_ms;  /* wait after a change when routes were quiet */
    uint64_t coalesce_ceiling_ms; /* longest wait, from the first unpublished change */
    char *socketmap;             /* listen address for socketmap mode */
};

struct cfg_milter {
    char *socket;                /* "unix:/path" or "inet:port@host"; NULL: off */
    bool trace_header;
    uint64_t route_wait_ms;
};

/* The control group: races between the direct and a control path. */
struct cfg_control {
    uint64_t fast_confirm_ms;    /* 0: auto, from the path's greeting time */
    uint64_t fast_confirm_floor_ms;
    uint64_t verdict_ttl_ms;
    unsigned budget;             /* races started per second at most */
    unsigned max_races;          /* races under way at most */
    unsigned range_cap;          /* blocked-here detours per outage window at most */
};

struct cfg_metrics {
    char *listen;                /* "127.0.0.1:9466", "[::1]:9466"; NULL: off (cfg_metrics.h) */
};

struct cfg_postfix {
    char **syslog_names;
    size_t nsyslog_names;
    char *config_directory;
    char *postqueue;
    char *postfix;
    unsigned kick_rate;          /* queue ids kicked per second */
};

enum feed_trust { FEED_TRUST_PROBE, FEED_TRUST_DETOUR, FEED_TRUST_ALLOW };

/* One block-list feed (docs/feeds.md); format is enum feed_format. */
struct cfg_feed {
    char *name;
    char *file;
    int format;
    enum feed_trust trust;
    double min_share;            /* truncation guard; < 0: off */
    uint64_t recheck_ms;         /* trust probe: probe a listed, answering address again */
    int line;
};

struct cfg {
    char *file;
    char *site;
    char *user;                  /* unprivileged user to run as, or NULL */
    char *pid_file;
    char *state_dir;
    struct cfg_redis redis;
    struct cfg_log *logs;
    size_t nlogs;
    struct breaker_params detect;
    struct cfg_outage outage;
    struct cfg_probe probe;
    struct cfg_control control;
    struct cfg_relay *relays;
    size_t nrelays;
    struct cfg_dest *dests;
    size_t ndests;
    struct cfg_routes routes;
    struct cfg_milter milter;
    struct cfg_postfix postfix;
    struct cfg_feed *feeds;
    size_t nfeeds;
    uint64_t feed_check_ms;      /* how often feed files are checked for a new version */
    uint64_t log_silence_ms;     /* no Postfix line this long while Postfix runs: a warning; 0 off */
    struct cfg_metrics metrics;
    struct cfg_deliver deliver;  /* sender domains (lib/config/cfg_deliver.h) */
};

struct cfg_errors {
    size_t count;
    char *text[CFG_MAX_ERRORS];  /* "FILE:LINE: what is wrong" */
};

struct cfg *cfg_load(const char *file, struct cfg_errors *errors);
void cfg_free(struct cfg *cfg);
void cfg_errors_clear(struct cfg_errors *errors);

/* The destination whose pattern matches domain best: exact, then the longest
 * ".parent" suffix, then "*"; NULL when none matches. */
const struct cfg_dest *cfg_dest_match(const struct cfg *cfg, const char *domain);
const struct cfg_relay *cfg_relay_find(const struct cfg *cfg, const char *name);

/* The detection parameters for mail to domain: its destination's, else the
 * global ones (domain may be NULL). */
const struct breaker_params *cfg_detect_for(const struct cfg *cfg, const char *domain);

/* postfix.syslog_names joined with commas, as logparse_create() takes them. */
const char *cfg_syslog_names(const struct cfg *cfg, char *buf, size_t size);

const char *policy_name(enum policy p);
const char *feed_trust_name(enum feed_trust t);     /* "probe", "detour", "allow" */

#endif

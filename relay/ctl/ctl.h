/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl - the pieces of mxdetourctl(8): option state shared by the commands,
 * and the commands themselves (ctl_state.c: status, list, block, unblock,
 * clear; ctl_show.c: show; ctl_feed.c: feed test; ctl_check.c: status --check;
 * ctl_daemon.c: whether mxdetourd runs; ctl_doctor*.c: doctor; ctl_config.c:
 * config).  mxdetourctl talks to Redis directly, so it works while
 * mxdetourd is down.
 */
#ifndef MXD_CTL_H
#define MXD_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "store.h"

/* Exit codes, documented in mxdetourctl(8). */
enum ctl_exit {
    CTL_OK = 0,
    CTL_NOT_FOUND = 1,      /* show: nothing known about that name */
    CTL_USAGE = 2,
    CTL_CONFIG = 3,         /* the configuration does not load */
    CTL_REDIS = 4,          /* Redis unreachable or answered nonsense */
};

struct ctl {
    const char *config_file;
    struct cfg *cfg;
    struct store *store;
    int json;
    int all;                /* list: include direct addresses */
    const char *via;
    uint64_t ttl_ms;
    const char *reason;
    int check;              /* status --check */
    const char *redis_err;  /* why store is NULL */
    const char *postfix_dir;  /* doctor: -C, else postfix.config_directory */
};

/* Whether mxdetourd runs here (ctl_daemon.c). */
struct ctl_daemon {
    int running;            /* 1 runs, 0 does not, -1 cannot tell */
    long pid;               /* 0 when not running */
    uint64_t since_ms;      /* when its pid file was written; 0 unknown */
    char why[600];          /* not running or cannot tell: why */
};
void ctl_daemon_state(const struct cfg *cfg, struct ctl_daemon *d);

/* Helpers shared by the command files. */
const char *ctl_when(uint64_t ms, char *buf, size_t size);      /* ISO 8601 UTC */
const char *ctl_relative(uint64_t ms, char *buf, size_t size);  /* " (5m ago)" */
int ctl_classify(const char *name, char *out, size_t size, int *is_addr);
int ctl_redis_failed(struct ctl *c);

int ctl_status(struct ctl *c);
/* status --check: returns the monitoring-plugin code (enum ctl_check_code). */
enum ctl_check_code { CHECK_OK = 0, CHECK_WARNING = 1, CHECK_CRITICAL = 2, CHECK_UNKNOWN = 3 };
int ctl_check(struct ctl *c);
int ctl_list(struct ctl *c);
int ctl_show(struct ctl *c, const char *name);
int ctl_block(struct ctl *c, const char *name);
int ctl_unblock(struct ctl *c, const char *name);
int ctl_clear(struct ctl *c, const char *name);
int ctl_replay(struct ctl *c, const char *file);   /* ctl_replay.c; no Redis */
int ctl_probe(struct ctl *c, const char *name);    /* ctl_probe.c */
int ctl_kernel(struct ctl *c);                     /* ctl_kernel.c; no Redis */
int ctl_doctor(struct ctl *c);                     /* ctl_doctor.c; plugin exit codes */
void ctl_doctor_unloaded(struct ctl *c, const char *error);   /* the finding when cfg is NULL */
int ctl_config(struct ctl *c);                     /* ctl_config.c; no Redis */
/* check relays: ctl_check_relays.c; no Redis; plugin exit codes */
int ctl_check_relays(struct ctl *c, const char *what);
/* ctl_feed.c: no configuration, no Redis */
int ctl_feed_test(struct ctl *c, const char *file, char **addrs, int naddrs);

#endif

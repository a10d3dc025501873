/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mxdetourctl - inspect and steer mxdetour's shared state.  See
 * mxdetourctl(8).  This file parses the command line and dispatches; the
 * commands live in one file per group, all in relay/ctl: ctl_state.c
 * (status, list, block, unblock, clear), ctl_show.c (show), ctl_replay.c
 * (replay), ctl_probe.c (probe), ctl_feed.c (feed test), ctl_kernel.c
 * (kernel), ctl_check.c (status --check), ctl_doctor*.c (doctor) and
 * ctl_config.c (config).
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "ctl.h"
#include "duration.h"
#include "msg.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: mxdetourctl [-c FILE] [--json] COMMAND [ARGS]\n"
            "commands:\n"
            "  status                         whether mxdetourd runs, Redis (or why it is\n"
            "                                 down), site, counts of what is detoured\n"
            "  status --check                 one line and exit code 0 OK, 1 WARNING,\n"
            "                                 2 CRITICAL, 3 UNKNOWN, for monitoring\n"
            "  list [--all]                   addresses, destinations and manual overrides\n"
            "  show DOMAIN|ADDRESS            state, since when, why, evidence, route\n"
            "  block DOMAIN|ADDRESS [--via RELAY] [--ttl DURATION] [--reason TEXT]\n"
            "  unblock DOMAIN|ADDRESS [--ttl DURATION] [--reason TEXT]\n"
            "                                 force direct delivery for a while\n"
            "  clear DOMAIN|ADDRESS           remove a manual block or unblock\n"
            "  probe DOMAIN|ADDRESS           probe its MX addresses now; record what they say\n"
            "  replay LOGFILE                 what mxdetourd would have decided on a Postfix\n"
            "                                 log, by the log's own times (no Redis)\n"
            "  kernel                         the addresses in the kernel-mode tunnels' nftables\n"
            "                                 sets, and why (as root; no Redis)\n"
            "  doctor [-C DIR]                check how Postfix and this host are wired to\n"
            "                                 mxdetour; one line per finding; exit code 0 OK,\n"
            "                                 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n"
            "  check relays [-C DIR]          SPF, reverse DNS and HELO of each relay's exit\n"
            "                                 addresses for the sender domains; exit code 0 OK,\n"
            "                                 1 WARNING, 2 CRITICAL, 3 UNKNOWN (no Redis)\n"
            "  config [--all]                 the settings that differ from the defaults\n"
            "                                 (--all: every setting, defaults marked)\n"
            "  feed test FILE [ADDRESS...]    read a feed file as mxdetourd would; say whether\n"
            "                                 and by which line it lists each address\n"
            "                                 (no configuration, no Redis)\n"
            "options:\n"
            "  -c FILE     configuration (default %s)\n"
            "  -C DIR      doctor, check relays: Postfix's configuration directory (default\n"
            "              postfix.config_directory of the configuration)\n"
            "  --json      machine-readable output for status, list, show, replay, doctor,\n"
            "              check relays and feed test\n"
            "  -v          replay: show replies too\n",
            CFG_DEFAULT_FILE);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},          {"via", required_argument, NULL, 'V'},
        {"ttl", required_argument, NULL, 'T'},    {"reason", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},         {"check", no_argument, NULL, 'K'},
        {"postfix-config", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    struct ctl c = {.config_file = CFG_DEFAULT_FILE};
    struct cfg_errors errors = {0};
    const char *ttl = NULL;
    int ch;

    msg_open("mxdetourctl", MSG_STDERR, 0);
    signal(SIGPIPE, SIG_IGN);       /* a dead Redis is an error reply, not a signal */
    while ((ch = getopt_long(argc, argv, "c:C:jhv", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': c.config_file = optarg; break;
        case 'C': c.postfix_dir = optarg; break;
        case 'j': c.json = 1; break;
        case 'a': c.all = 1; break;
        case 'V': c.via = optarg; break;
        case 'T': ttl = optarg; break;
        case 'R': c.reason = optarg; break;
        case 'K': c.check = 1; break;
        case 'v': msg_verbose++; break;
        case 'h': usage(stdout); return CTL_OK;
        default: usage(stderr); return CTL_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CTL_USAGE;
    }
    const char *cmd = argv[optind++];
    if (strcmp(cmd, "feed") == 0) {
        /* feed test FILE [ADDRESS...]: needs neither the configuration nor Redis */
        if (argc - optind < 2 || strcmp(argv[optind], "test") != 0) {
            fprintf(stderr, "mxdetourctl: feed: use \"feed test FILE [ADDRESS...]\"\n");
            usage(stderr);
            return CTL_USAGE;
        }
        return ctl_feed_test(&c, argv[optind + 1], argv + optind + 2, argc - optind - 2);
    }
    const char *arg = optind < argc ? argv[optind++] : NULL;
    if (optind < argc) {
        fprintf(stderr, "mxdetourctl: unexpected argument \"%s\"\n", argv[optind]);
        return CTL_USAGE;
    }
    if (ttl && (duration_parse(ttl, &c.ttl_ms) < 0 || c.ttl_ms < 1000 || c.ttl_ms > 30ULL * 86400000)) {
        fprintf(stderr, "mxdetourctl: --ttl \"%s\": give a duration from 1s to 30d, such as 2h\n", ttl);
        return CTL_USAGE;
    }
    int needs_arg = strcmp(cmd, "show") == 0 || strcmp(cmd, "block") == 0
                    || strcmp(cmd, "unblock") == 0 || strcmp(cmd, "clear") == 0
                    || strcmp(cmd, "replay") == 0 || strcmp(cmd, "probe") == 0
                    || strcmp(cmd, "check") == 0;
    int doctor = strcmp(cmd, "doctor") == 0;
    int known = needs_arg || strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0
                || strcmp(cmd, "kernel") == 0 || doctor || strcmp(cmd, "config") == 0;
    if (!known || needs_arg != (arg != NULL)) {
        fprintf(stderr, known ? "mxdetourctl: %s: wrong number of arguments\n"
                              : "mxdetourctl: unknown command \"%s\"\n", cmd);
        usage(stderr);
        return CTL_USAGE;
    }
    if (c.check && strcmp(cmd, "status") != 0) {
        fprintf(stderr, "mxdetourctl: --check goes with status only\n");
        return CTL_USAGE;
    }
    if (c.postfix_dir && !doctor && strcmp(cmd, "check") != 0) {
        fprintf(stderr, "mxdetourctl: -C goes with doctor and check relays only\n");
        return CTL_USAGE;
    }
    if (c.reason && (strlen(c.reason) >= STORE_TEXT_MAX || strpbrk(c.reason, "\r\n"))) {
        fprintf(stderr, "mxdetourctl: --reason: one line of at most %d characters\n", STORE_TEXT_MAX - 1);
        return CTL_USAGE;
    }

    c.cfg = cfg_load(c.config_file, &errors);
    if (c.cfg == NULL) {
        if (c.check)        /* the plugin's one line, and UNKNOWN */
            printf("MXDETOUR UNKNOWN - configuration %s does not load: %s\n", c.config_file,
                   errors.count ? errors.text[0] : "?");
        else if (doctor)    /* a finding like the others, and UNKNOWN (3 == CTL_CONFIG) */
            ctl_doctor_unloaded(&c, errors.count ? errors.text[0] : c.config_file);
        for (size_t i = 0; i < errors.count; i++)
            fprintf(stderr, "%s\n", errors.text[i]);
        cfg_errors_clear(&errors);
        return c.check || doctor ? CHECK_UNKNOWN : CTL_CONFIG;
    }
    if (c.via && cfg_relay_find(c.cfg, c.via) == NULL) {
        fprintf(stderr, "mxdetourctl: --via: relay \"%s\" is not defined in %s\n", c.via, c.config_file);
        cfg_free(c.cfg);
        return CTL_USAGE;
    }
    if (strcmp(cmd, "check") == 0) {    /* check relays: DNS and postconf, no Redis */
        int rc = ctl_check_relays(&c, arg);
        cfg_free(c.cfg);
        return rc;
    }
    if (strcmp(cmd, "replay") == 0 || strcmp(cmd, "kernel") == 0 || strcmp(cmd, "config") == 0) {
        int rc = cmd[0] == 'r' ? ctl_replay(&c, arg) : cmd[0] == 'k' ? ctl_kernel(&c) : ctl_config(&c);
        cfg_free(c.cfg);
        return rc;
    }
    char err[256];
    c.store = store_open(&c.cfg->redis, c.cfg->site, err, sizeof(err));
    c.redis_err = err;
    if (c.store == NULL && strcmp(cmd, "status") != 0 && !doctor) {
        fprintf(stderr, "mxdetourctl: %s\n", err);
        cfg_free(c.cfg);
        return CTL_REDIS;
    }

    int rc;
    if (strcmp(cmd, "status") == 0)
        rc = c.check ? ctl_check(&c) : ctl_status(&c);
    else if (doctor)
        rc = ctl_doctor(&c);
    else if (strcmp(cmd, "list") == 0)
        rc = ctl_list(&c);
    else if (strcmp(cmd, "show") == 0)
        rc = ctl_show(&c, arg);
    else if (strcmp(cmd, "block") == 0)
        rc = ctl_block(&c, arg);
    else if (strcmp(cmd, "unblock") == 0)
        rc = ctl_unblock(&c, arg);
    else if (strcmp(cmd, "probe") == 0)
        rc = ctl_probe(&c, arg);
    else
        rc = ctl_clear(&c, arg);
    store_close(c.store);
    cfg_free(c.cfg);
    return rc;
}

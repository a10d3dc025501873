/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_replay - "mxdetourctl replay LOGFILE [--json]": runs a Postfix log
 * through the daemon's own parser and rules, with the log's own timestamps,
 * without touching Redis, and prints the evidence found and the decisions
 * mxdetourd would have made.  "What would mxdetour have done last week?"
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "json.h"
#include "logparse.h"
#include "msg.h"
#include "rules.h"

struct replay {
    struct ctl *c;
    struct rules *rules;
    struct json j;
    uint64_t now;                   /* the latest log time seen */
    unsigned long evidence[FAIL_KIND_COUNT], replies, decisions;
};

static void print_evidence(struct replay *rp, const char *what, const struct logparse_event *ev)
{
    char t[32], a[NETADDR_STRLEN];
    netaddr_format(&ev->addr, a, sizeof(a));
    if (rp->c->json) {
        json_begin_object(&rp->j);
        json_kv_string(&rp->j, "type", "evidence");
        json_kv_uint(&rp->j, "time", ev->time_ms / 1000);
        json_kv_string(&rp->j, "address", a);
        json_kv_string(&rp->j, "host", ev->host);
        json_kv_string(&rp->j, "kind", what);
        json_end_object(&rp->j);
    } else {
        printf("%s evidence %s[%s] %s\n", ctl_when(ev->time_ms, t, sizeof(t)), ev->host, a, what);
    }
}

static void on_change(const struct rules_change *ch, void *arg)
{
    struct replay *rp = arg;
    char t[32];
    if (ch->kind == RULES_CHANGE_ADDR && ch->change == BREAKER_SAME)
        return;
    rp->decisions++;
    const char *text = ch->explain ? ch->explain : ch->reason ? ch->reason : "";
    if (rp->c->json) {
        json_begin_object(&rp->j);
        json_kv_string(&rp->j, "type", "decision");
        json_kv_uint(&rp->j, "time", rp->now / 1000);
        json_kv_string(&rp->j, "on", ch->kind == RULES_CHANGE_ADDR ? "address"
                                     : ch->kind == RULES_CHANGE_DOMAIN ? "domain" : "outage");
        json_kv_string(&rp->j, "decision", text);
        json_end_object(&rp->j);
    } else {
        printf("%s decision %s\n", ctl_when(rp->now, t, sizeof(t)), text);
    }
}

static int params_for(const struct netaddr *addr, const char *host, const char *domain,
                      struct breaker_params *out, void *arg)
{
    struct replay *rp = arg;
    (void)addr;
    (void)host;
    *out = *cfg_detect_for(rp->c->cfg, domain);
    return 0;
}

static void on_event(const struct logparse_event *ev, void *arg)
{
    struct replay *rp = arg;

    if (ev->time_ms > rp->now) {
        rp->now = ev->time_ms;
        rules_tick(rp->rules, rp->now);
    }
    switch (ev->type) {
    case LOGPARSE_CONNECT_FAIL:
        rp->evidence[ev->kind < FAIL_KIND_COUNT ? ev->kind : 0]++;
        print_evidence(rp, fail_kind_name(ev->kind), ev);
        rules_failure(rp->rules, &ev->addr, ev->host, NULL, ev->kind, SRC_LOG, rp->now);
        break;
    case LOGPARSE_REPLY:
        rp->replies++;
        if (msg_verbose)
            print_evidence(rp, "reply", ev);
        rules_success(rp->rules, &ev->addr, ev->host, NULL, SRC_LOG, rp->now);
        break;
    case LOGPARSE_STATUS:
        if (ev->repeat || !ev->rcpt_domain[0] || rules_domain_detoured(rp->rules, ev->rcpt_domain) == 1)
            break;
        for (unsigned i = 0; i < ev->nattempts; i++)
            rules_domain_add_mx(rp->rules, ev->rcpt_domain, NULL, &ev->attempts[i].addr, rp->now);
        if (ev->have_addr)
            rules_domain_add_mx(rp->rules, ev->rcpt_domain, ev->host, &ev->addr, rp->now);
        break;
    default:
        break;
    }
}

static int print_detoured(const struct rules_domain_view *v, void *arg)
{
    struct replay *rp = arg;
    if (!v->detoured)
        return 0;
    if (rp->c->json)
        json_string(&rp->j, v->domain);
    else
        printf(" %s", v->domain);
    return 0;
}

int ctl_replay(struct ctl *c, const char *file)
{
    struct replay rp = {.c = c};
    struct rules_config rc;
    struct stat st;
    char line[LOGPARSE_LINE_MAX + 2];
    FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");

    if (fp == NULL) {
        fprintf(stderr, "mxdetourctl: %s: %s\n", file, strerror(errno));
        return CTL_NOT_FOUND;
    }
    rules_config_default(&rc);
    rc.defaults = c->cfg->detect;
    rc.outage.min_destinations = c->cfg->outage.min_destinations;
    rc.outage.share = c->cfg->outage.share;
    rc.outage.window_ms = c->cfg->outage.window_ms;
    rc.params = params_for;
    rc.params_arg = &rp;
    rc.on_change = on_change;
    rc.change_arg = &rp;
    rp.rules = rules_new(&rc);
    char names[1024];
    struct logparse *lp = logparse_create(cfg_syslog_names(c->cfg, names, sizeof(names)), on_event, &rp);
    if (rp.rules == NULL || lp == NULL) {
        fprintf(stderr, "mxdetourctl: cannot set up the parser and rules\n");
        rules_free(rp.rules);
        logparse_free(lp);
        if (fp != stdin)
            fclose(fp);
        return CTL_CONFIG;
    }
    /* Zone-less syslog times get their year from the file's age. */
    if (fp != stdin && fstat(fileno(fp), &st) == 0)
        logparse_set_now(lp, (uint64_t)st.st_mtime * 1000);
    if (c->json) {
        json_init(&rp.j, stdout);
        json_begin_object(&rp.j);
        json_key(&rp.j, "events");
        json_begin_array(&rp.j);
    }
    while (fgets(line, sizeof(line), fp)) {
        size_t len = strlen(line);
        if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
            int ch;     /* an overlong line: skip the rest of it */
            while ((ch = fgetc(fp)) != EOF && ch != '\n')
                ;
            continue;
        }
        logparse_line(lp, line, len);
    }
    const struct logparse_stats *ls = logparse_stats(lp);
    if (c->json) {
        json_end_array(&rp.j);
        json_key(&rp.j, "summary");
        json_begin_object(&rp.j);
        json_kv_uint(&rp.j, "lines", ls->lines);
        json_kv_uint(&rp.j, "malformed", ls->malformed + ls->too_long);
        for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
            json_kv_uint(&rp.j, fail_kind_name((enum fail_kind)k), rp.evidence[k]);
        json_kv_uint(&rp.j, "replies", rp.replies);
        json_kv_uint(&rp.j, "decisions", rp.decisions);
        json_key(&rp.j, "detoured_at_end");
        json_begin_array(&rp.j);
        rules_domain_foreach(rp.rules, print_detoured, &rp);
        json_end_array(&rp.j);
        json_end_object(&rp.j);
        json_end_object(&rp.j);
    } else {
        printf("summary: %llu lines (%llu rejected), evidence:", (unsigned long long)ls->lines,
               (unsigned long long)(ls->malformed + ls->too_long));
        for (int k = FAIL_NONE + 1; k < FAIL_KIND_COUNT; k++)
            printf(" %s %lu%s", fail_kind_name((enum fail_kind)k), rp.evidence[k], k + 1 < FAIL_KIND_COUNT ? "," : "");
        printf("; %lu replies; %lu decisions\ndetoured at the end:", rp.replies, rp.decisions);
        rules_domain_foreach(rp.rules, print_detoured, &rp);
        printf("\n");
    }
    logparse_free(lp);
    rules_free(rp.rules);
    if (fp != stdin)
        fclose(fp);
    return CTL_OK;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deliverability - see deliverability.h.
 *
 * SPF is libspf2's (SPF_DNS_CACHE over the system resolver), never ours.
 * libspf2 says the result and whether a mechanism or the end of the record
 * decided it, not which mechanism: the record's own mechanisms with the
 * result's qualifier name it ("-all"), or "one of ..." when several could
 * have.  Answers from DNS are bounded: a PTR name is kept only when
 * domain_normalize() takes it, a record's text is cut at DELIVER_TEXT.
 */
#include "config.h"

#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <spf2/spf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deliverability.h"
#include "json.h"
#include "msg.h"
#include "spawn.h"

#define POSTCONF_OUT 4096
#define POSTCONF_TIMEOUT_MS 10000

/* ---- SPF ---- */

static const char *qualifier_of(SPF_result_t r)
{
    switch (r) {
    case SPF_RESULT_PASS: return "+";
    case SPF_RESULT_FAIL: return "-";
    case SPF_RESULT_SOFTFAIL: return "~";
    case SPF_RESULT_NEUTRAL: return "?";
    default: return NULL;
    }
}

/* Names the deciding mechanism from the record's text: the mechanisms that
 * carry the result's qualifier ('+' may be implicit). */
static void name_mechanism(const char *record, SPF_result_t r, char *out, size_t size)
{
    const char *q = qualifier_of(r);
    char copy[DELIVER_TEXT * 2], list[DELIVER_TEXT] = "";
    size_t n = 0;

    snprintf(copy, sizeof(copy), "%s", record);
    for (char *save, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (strncmp(t, "v=", 2) == 0 || strchr(t, '=') != NULL)   /* version, modifiers */
            continue;
        int explicit = strchr("+-~?", t[0]) != NULL;
        if (q == NULL || (explicit ? t[0] != q[0] : q[0] != '+'))
            continue;
        size_t len = strlen(list);
        snprintf(list + len, sizeof(list) - len, "%s%s%s", n ? ", " : "", explicit || q[0] != '+' ? "" : "+", t);
        n++;
    }
    if (n == 0)
        snprintf(out, size, "a mechanism of an included record");
    else if (n == 1)
        snprintf(out, size, "%s", list);
    else
        snprintf(out, size, "one of %s", list);
}

static void spf_eval(SPF_server_t *spf, const char *exit, const char *domain, struct deliver_pair *p)
{
    SPF_request_t *req = SPF_request_new(spf);
    SPF_response_t *resp = NULL, *rresp = NULL;
    SPF_record_t *rec = NULL;
    char from[DOMAIN_MAXLEN + 16];
    struct netaddr a;

    snprintf(p->result, sizeof(p->result), "temperror");
    if (req == NULL) {
        snprintf(p->detail, sizeof(p->detail), "libspf2: out of memory");
        return;
    }
    snprintf(from, sizeof(from), "postmaster@%s", domain);
    netaddr_parse(exit, &a);
    if ((a.family == AF_INET6 ? SPF_request_set_ipv6_str(req, exit) : SPF_request_set_ipv4_str(req, exit))
            != SPF_E_SUCCESS
        || SPF_request_set_env_from(req, from) != 0) {
        snprintf(p->detail, sizeof(p->detail), "libspf2 does not take %.46s / %.180s", exit, from);
        SPF_request_free(req);
        return;
    }
    SPF_request_query_mailfrom(req, &resp);
    SPF_result_t r = resp ? SPF_response_result(resp) : SPF_RESULT_TEMPERROR;
    snprintf(p->result, sizeof(p->result), "%s", SPF_strresult(r));
    const char *comment = resp ? SPF_response_get_header_comment(resp) : NULL;
    if (resp && SPF_response_errcode(resp) != SPF_E_SUCCESS)
        snprintf(p->detail, sizeof(p->detail), "%s", SPF_strerror(SPF_response_errcode(resp)));
    else
        snprintf(p->detail, sizeof(p->detail), "%s", comment ? comment : "");
    if (resp && SPF_response_reason(resp) == SPF_REASON_DEFAULT)
        snprintf(p->mechanism, sizeof(p->mechanism), "no mechanism matched (default)");
    else if (resp && SPF_response_reason(resp) == SPF_REASON_MECH
             && (rresp = SPF_response_new(req)) != NULL
             && SPF_server_get_record(spf, req, rresp, &rec) == SPF_E_SUCCESS && rec) {
        char *text = NULL;
        size_t len = 0;
        if (SPF_record_stringify(rec, &text, &len) == SPF_E_SUCCESS && text)
            name_mechanism(text, r, p->mechanism, sizeof(p->mechanism));
        free(text);
    } else if (r == SPF_RESULT_NONE) {
        snprintf(p->mechanism, sizeof(p->mechanism), "no SPF record");
    } else if (r == SPF_RESULT_PERMERROR || r == SPF_RESULT_TEMPERROR) {
        snprintf(p->mechanism, sizeof(p->mechanism), "error: %.240s", p->detail);
    }
    if (rec)
        SPF_record_free(rec);
    if (rresp)
        SPF_response_free(rresp);
    if (resp)
        SPF_response_free(resp);
    SPF_request_free(req);
}

/* ---- Reverse DNS ---- */

static void ptr_eval(const char *exit, struct deliver_exit *e)
{
    struct netaddr a, b;
    struct sockaddr_storage ss;
    socklen_t sl;
    char host[NI_MAXHOST];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;

    e->fcrdns = -1;
    e->ptr[0] = '\0';
    if (netaddr_parse(exit, &a) < 0 || netaddr_sockaddr(&a, 25, &ss, &sl) < 0)
        return;
    if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0, NI_NAMEREQD) != 0
        || domain_normalize(host, strlen(host), e->ptr, sizeof(e->ptr)) < 0) {
        e->ptr[0] = '\0';
        return;
    }
    e->fcrdns = 0;
    hints.ai_family = a.family;
    if (getaddrinfo(e->ptr, NULL, &hints, &res) != 0)
        return;
    for (struct addrinfo *ai = res; ai && !e->fcrdns; ai = ai->ai_next) {
        char txt[NETADDR_STRLEN];
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, txt, sizeof(txt), NULL, 0, NI_NUMERICHOST) == 0
            && netaddr_parse(txt, &b) == 0 && netaddr_equal(&a, &b))
            e->fcrdns = 1;
    }
    freeaddrinfo(res);
}

/* ---- HELO ---- */

/* The first line postconf prints for argv, bounded; 0, or -1. */
static int postconf_line(const char *const argv[], char *out, size_t size)
{
    char buf[POSTCONF_OUT + 1], err[256];
    size_t len = 0;
    int fd, status;
    pid_t pid;
    uint64_t deadline = spawn_real_ms() + POSTCONF_TIMEOUT_MS;

    if (spawn_start(argv, 0, NULL, 0, &pid, &fd, NULL, err, sizeof(err)) < 0)
        return -1;
    int late = 0;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        uint64_t now = spawn_real_ms();
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
            late = 1;
            break;
        }
        ssize_t r = read(fd, buf + len, POSTCONF_OUT - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if ((len += (size_t)r) == POSTCONF_OUT) {
            late = 1;
            break;
        }
    }
    close(fd);
    buf[len] = '\0';
    if (late) {
        spawn_stop(pid, 1000);
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    char *nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
    if (strncmp(buf, "postconf:", 9) == 0 || buf[0] == '\0')
        return -1;
    if (strlen(buf) >= size)
        return -1;
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

static void helo_eval(const struct cfg *cfg, const char *pdir, const struct cfg_relay *rl,
                      struct deliver_relay *d)
{
    char postconf[1024], line[POSTCONF_OUT], param[256], dom[DOMAIN_MAXLEN + 1];
    const char *slash = cfg->postfix.postfix ? strrchr(cfg->postfix.postfix, '/') : NULL;

    d->helo[0] = '\0';
    if (rl->deliver.helo_name) {
        snprintf(d->helo, sizeof(d->helo), "%s", rl->deliver.helo_name);
        snprintf(d->helo_from, sizeof(d->helo_from), "helo_name in %s", cfg->file);
        return;
    }
    if (rl->type == RELAY_SMARTHOST) {
        snprintf(d->helo_from, sizeof(d->helo_from), "unknown: the smarthost presents its own "
                 "(set helo_name on the relay)");
        return;
    }
    if (slash)
        snprintf(postconf, sizeof(postconf), "%.*s/postconf", (int)(slash - cfg->postfix.postfix),
                 cfg->postfix.postfix);
    else
        snprintf(postconf, sizeof(postconf), "/usr/sbin/postconf");
    /* A transport-mode tunnel is a master.cf service ("name:" nexthop); a
     * kernel-mode one carries the plain smtp transport's connections. */
    char service[70] = "smtp";
    if (rl->mode == RELAY_MODE_TRANSPORT && rl->nexthop && strchr(rl->nexthop, ':'))
        snprintf(service, sizeof(service), "%.*s", (int)(strchr(rl->nexthop, ':') - rl->nexthop), rl->nexthop);
    snprintf(param, sizeof(param), "%s/unix/smtp_helo_name", service);
    const char *const pargv[] = {postconf, "-c", pdir, "-xP", param, NULL};
    const char *const margv[] = {postconf, "-c", pdir, "-xh", "smtp_helo_name", NULL};
    const char *eq;
    if (postconf_line(pargv, line, sizeof(line)) == 0 && (eq = strstr(line, " = ")) != NULL) {
        snprintf(d->helo_from, sizeof(d->helo_from), "master.cf %s -o smtp_helo_name", service);
        eq += 3;
    } else if (postconf_line(margv, line, sizeof(line)) == 0) {
        snprintf(d->helo_from, sizeof(d->helo_from), "main.cf smtp_helo_name (%s has no override)", service);
        eq = line;
    } else {
        snprintf(d->helo_from, sizeof(d->helo_from), "unknown: %.100s -c %.100s does not answer", postconf, pdir);
        return;
    }
    if (domain_normalize(eq, strlen(eq), dom, sizeof(dom)) == 0)
        snprintf(d->helo, sizeof(d->helo), "%s", dom);
    else
        snprintf(d->helo_from, sizeof(d->helo_from), "unknown: postconf says \"%.100s\"", eq);
}

/* ---- The check ---- */

static void add_domain(struct deliver_report *r, const char *d)
{
    char dom[DOMAIN_MAXLEN + 1];

    if (d == NULL || domain_normalize(d, strlen(d), dom, sizeof(dom)) < 0)
        return;
    for (size_t i = 0; i < r->ndomains; i++)
        if (strcmp(r->domains[i], dom) == 0)
            return;
    if (r->ndomains < DELIVER_MAX_DOMAINS)
        snprintf(r->domains[r->ndomains++], sizeof(r->domains[0]), "%s", dom);
}

static enum deliver_code worse(enum deliver_code a, enum deliver_code b)
{
    /* CRITICAL > WARNING > UNKNOWN > OK, as monitoring reads them */
    static const int rank[] = {0, 2, 3, 1};
    return rank[b] > rank[a] ? b : a;
}

int deliver_check(const struct cfg *cfg, const char *postfix_dir, const char *const *extra,
                  size_t nextra, struct deliver_report *r)
{
    const char *pdir = postfix_dir ? postfix_dir : cfg->postfix.config_directory;
    size_t maxexits = 0;
    char buf[1024];

    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < cfg->deliver.nsender_domains; i++)
        add_domain(r, cfg->deliver.sender_domains[i]);
    for (size_t i = 0; extra && i < nextra; i++)
        add_domain(r, extra[i]);
    for (size_t i = 0; i < cfg->nrelays; i++)
        maxexits += cfg->relays[i].deliver.nexits;
    r->relays = calloc(cfg->nrelays ? cfg->nrelays : 1, sizeof(*r->relays));
    r->exits = calloc(maxexits ? maxexits : 1, sizeof(*r->exits));
    r->pairs = calloc(maxexits * r->ndomains > 0 ? maxexits * r->ndomains : 1, sizeof(*r->pairs));
    SPF_server_t *spf = SPF_server_new(SPF_DNS_CACHE, 0);
    if (r->relays == NULL || r->exits == NULL || r->pairs == NULL || spf == NULL) {
        if (spf)
            SPF_server_free(spf);
        deliver_report_free(r);
        return -1;
    }
    for (size_t i = 0; i < cfg->nrelays; i++) {
        const struct cfg_relay *rl = &cfg->relays[i];
        struct deliver_relay *d = &r->relays[r->nrelays++];
        snprintf(d->name, sizeof(d->name), "%s", rl->name ? rl->name : "?");
        d->type = rl->type;
        d->nexits = rl->deliver.nexits;
        helo_eval(cfg, pdir ? pdir : "/etc/postfix", rl, d);
        if (d->nexits == 0)
            r->code = worse(r->code, DELIVER_WARNING);
        for (size_t k = 0; k < rl->deliver.nexits; k++) {
            enum deliver_code c;
            struct deliver_exit *e = &r->exits[r->nexits++];
            e->relay = i;
            snprintf(e->exit, sizeof(e->exit), "%s", rl->deliver.exits[k]);
            ptr_eval(e->exit, e);
            deliver_exit_text(cfg, e, buf, sizeof(buf), &c);
            r->code = worse(r->code, c);
            for (size_t j = 0; j < r->ndomains; j++) {
                struct deliver_pair *p = &r->pairs[r->npairs++];
                p->relay = i;
                snprintf(p->exit, sizeof(p->exit), "%s", e->exit);
                snprintf(p->domain, sizeof(p->domain), "%s", r->domains[j]);
                spf_eval(spf, p->exit, p->domain, p);
                deliver_pair_text(cfg, p, buf, sizeof(buf), &c);
                r->code = worse(r->code, c);
            }
        }
    }
    if (r->ndomains == 0 && cfg->nrelays > 0)
        r->code = worse(r->code, DELIVER_UNKNOWN);
    SPF_server_free(spf);
    return 0;
}

void deliver_report_free(struct deliver_report *r)
{
    free(r->relays);
    free(r->exits);
    free(r->pairs);
    r->relays = NULL;
    r->exits = NULL;
    r->pairs = NULL;
    r->nrelays = r->nexits = r->npairs = 0;
}

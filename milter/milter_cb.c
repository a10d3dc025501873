/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * milter_cb - the libmilter callbacks: what each recipient's route answer
 * does to it and to its message.  See milter.h for the behaviour.
 *
 * Contexts, as OpenDKIM keeps them: a struct connctx is made at connect (or
 * at the first MAIL FROM, should an MTA send no connect), hung on the
 * libmilter context with smfi_setpriv() and freed at close.  It owns the
 * struct msgctx of the message in progress, made at MAIL FROM and freed at
 * end of message or abort.  libmilter runs one callback of a connection at a
 * time, so the contexts need no lock; nothing else here is shared but the
 * rate limiters (msg_limited locks).
 *
 * The callbacks are thin: parse, ask the route view, map the answer to an
 * SMFIS_ code.  Anything unexpected (no context, no memory, no settings, no
 * answer in time) lets the recipient pass unchanged.
 *
 * Bounds per message: MILTER_MAX_RCPTS recipients examined, one hold
 * reason, and for the trace header at most TRACE_GROUPS (relay, reason)
 * pairs listing TRACE_TEXT characters of domains each (the rest counted).
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "milter_dkim.h"
#include "milter_int.h"
#include "msg.h"
#include "netaddr.h"
#include "routeview.h"

#define TRACE_GROUPS 4
#define TRACE_TEXT 600
#define LOG_EVERY_MS 60000
#define DETOUR_RELAYS 4             /* relays one message is counted under */

struct trace_group {
    char relay[sizeof(((struct routeview_entry *)0)->relay)];
    char reason[sizeof(((struct routeview_entry *)0)->reason)];
    char domains[TRACE_TEXT];       /* "a.example, b.example" */
    size_t len;
    unsigned more;                  /* domains that did not fit */
};

struct msgctx {
    unsigned nrcpts;                /* recipients seen */
    int hold;                       /* a recipient's destination is held */
    char hold_reason[DOMAIN_MAXLEN + 540];
    size_t ngroups;
    struct trace_group *groups;     /* TRACE_GROUPS, made when first needed */
    char mailfrom[DOMAIN_MAXLEN + 1];   /* MAIL FROM domain; "" for <> */
    char relays[DETOUR_RELAYS][sizeof(((struct routeview_entry *)0)->relay)];
    size_t nrelays;                 /* relays the message is detoured through */
    struct milter_dkim dkim;        /* From: and DKIM-Signature d= (milter_dkim.h) */
};

struct connctx {
    struct msgctx *msg;             /* the message in progress, or NULL */
    int local;                      /* a local submission (sendmail, pickup) */
    char client[96];                /* for logs */
};

static struct msg_limiter lim_memory, lim_wait, lim_many, lim_reply, lim_eom;

/* Text from outside the milter (relay names, reasons that may carry an
 * administrator's words) goes into headers and logs: printable ASCII only. */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '%')
            *s = '?';
}

static void msg_free(struct connctx *cc)
{
    if (cc->msg) {
        free(cc->msg->groups);
        free(cc->msg);
        cc->msg = NULL;
    }
}

static struct connctx *conn_get(SMFICTX *ctx)
{
    struct connctx *cc = smfi_getpriv(ctx);

    if (cc == NULL && (cc = calloc(1, sizeof(*cc))) != NULL) {
        snprintf(cc->client, sizeof(cc->client), "unknown");
        if (smfi_setpriv(ctx, cc) != MI_SUCCESS) {
            free(cc);
            cc = NULL;
        }
    }
    if (cc == NULL)
        msg_limited(&lim_memory, LOG_EVERY_MS, MILTER_MOD,
                    "out of memory for a connection context; mail passes unexamined");
    return cc;
}

/* ---- Decisions ---- */

/* Lists domain under its (relay, reason) group for the trace header. */
static void trace_add(struct msgctx *mc, const char *domain, const struct routeview_entry *e)
{
    struct trace_group *g = NULL;
    size_t dlen = strlen(domain);

    if (mc->groups == NULL && (mc->groups = calloc(TRACE_GROUPS, sizeof(*mc->groups))) == NULL) {
        msg_limited(&lim_memory, LOG_EVERY_MS, MILTER_MOD,
                    "out of memory for the trace header; it is left out");
        return;
    }
    for (size_t i = 0; i < mc->ngroups && g == NULL; i++)
        if (strcmp(mc->groups[i].relay, e->relay) == 0 && strcmp(mc->groups[i].reason, e->reason) == 0)
            g = &mc->groups[i];
    if (g == NULL) {
        if (mc->ngroups == TRACE_GROUPS)
            return;
        g = &mc->groups[mc->ngroups++];
        snprintf(g->relay, sizeof(g->relay), "%s", e->relay[0] ? e->relay : "unknown relay");
        snprintf(g->reason, sizeof(g->reason), "%s", e->reason[0] ? e->reason : "blocked");
        clean(g->relay);
        clean(g->reason);
    }
    /* Each domain once: look for it between separators. */
    for (const char *p = g->domains; (p = strstr(p, domain)) != NULL; p += dlen)
        if ((p == g->domains || p[-1] == ' ') && (p[dlen] == ',' || p[dlen] == '\0'))
            return;
    if (g->len + dlen + 2 >= sizeof(g->domains)) {
        g->more++;
        return;
    }
    g->len += (size_t)snprintf(g->domains + g->len, sizeof(g->domains) - g->len, "%s%s",
                               g->len ? ", " : "", domain);
}

/* Remembers a relay the message goes through, for the DKIM count at its end. */
static void note_relay(struct msgctx *mc, const char *relay)
{
    for (size_t i = 0; i < mc->nrelays; i++)
        if (strcmp(mc->relays[i], relay) == 0)
            return;
    if (mc->nrelays < DETOUR_RELAYS)
        snprintf(mc->relays[mc->nrelays++], sizeof(mc->relays[0]), "%s", relay[0] ? relay : "unknown");
}

/* The recipient's fate under a policy answer. */
static sfsistat apply_policy(SMFICTX *ctx, struct connctx *cc, const char *rcpt, const char *domain,
                             const struct routeview_entry *e)
{
    struct msgctx *mc = cc->msg;
    char text[512], reason[sizeof(e->reason)];

    snprintf(reason, sizeof(reason), "%s", e->reason);
    clean(reason);
    if (cc->local && (e->policy == POLICY_TEMPFAIL || e->policy == POLICY_REJECT)) {
        /* Postfix cannot refuse one recipient of a local submission: it
         * calls that a configuration error and retries the whole message
         * from the maildrop, again and again.  Queued, it meets Postfix's
         * own retries and bounce instead. */
        msg_debug(MILTER_MOD, "RCPT %s: policy %s, but a local submission: passes (%s: %s)", rcpt,
                  policy_name(e->policy), domain, reason);
        return SMFIS_CONTINUE;
    }
    switch (e->policy) {
    case POLICY_HOLD:
        if (!mc->hold) {
            milter_reply(domain, text, sizeof(text));
            snprintf(mc->hold_reason, sizeof(mc->hold_reason), "mxdetour: %s: %s", domain,
                     text[0] ? text : MILTER_HOLD_TEXT);
            clean(mc->hold_reason);
            mc->hold = 1;
        }
        msg_debug(MILTER_MOD, "RCPT %s: hold the message (%s: %s)", rcpt, domain, reason);
        return SMFIS_CONTINUE;
    case POLICY_TEMPFAIL:
    case POLICY_REJECT: {
        int temp = e->policy == POLICY_TEMPFAIL;
        milter_reply(domain, text, sizeof(text));
        if (text[0] == '\0')
            snprintf(text, sizeof(text), "%s", temp ? MILTER_TEMPFAIL_TEXT : MILTER_REJECT_TEXT);
        if (smfi_setreply(ctx, temp ? MILTER_TEMPFAIL_CODE : MILTER_REJECT_CODE,
                          temp ? MILTER_TEMPFAIL_XCODE : MILTER_REJECT_XCODE, text) != MI_SUCCESS)
            msg_limited(&lim_reply, LOG_EVERY_MS, MILTER_MOD,
                        "%s: libmilter refused the reply text \"%s\"; Postfix uses its own",
                        domain, text);
        msg_debug(MILTER_MOD, "RCPT %s: %s %s %s (%s: %s)", rcpt,
                  temp ? MILTER_TEMPFAIL_CODE : MILTER_REJECT_CODE,
                  temp ? MILTER_TEMPFAIL_XCODE : MILTER_REJECT_XCODE, text, domain, reason);
        return temp ? SMFIS_TEMPFAIL : SMFIS_REJECT;
    }
    default:                        /* pass, or detour without a relay */
        msg_debug(MILTER_MOD, "RCPT %s: policy %s, passes (%s: %s)", rcpt, policy_name(e->policy),
                  domain, reason);
        return SMFIS_CONTINUE;
    }
}

/* Mail that Postfix delivers itself, without an MX lookup, is not ours to
 * judge ({rcpt_mailer} is the transport that trivial-rewrite chose). */
static int local_mailer(const char *mailer)
{
    static const char *const local[] = {"local", "virtual", "lmtp", "error", "discard", NULL};

    for (size_t i = 0; mailer && local[i]; i++)
        if (strcmp(mailer, local[i]) == 0)
            return 1;
    return 0;
}

/*
 * Postfix runs non_smtpd_milters on mail from sendmail(1) and pickup in
 * cleanup(8), which makes up the SMTP events: a client localhost[127.0.0.1]
 * with port 0, and no {daemon_addr} macro (smtpd sends it by default,
 * milter_connect_macros).  Either sign marks a local submission.
 */
static int local_submission(SMFICTX *ctx, const _SOCK_ADDR *addr)
{
    if (addr && addr->sa_family == AF_INET && ((const struct sockaddr_in *)addr)->sin_port == 0)
        return 1;
    if (addr && addr->sa_family == AF_INET6 && ((const struct sockaddr_in6 *)addr)->sin6_port == 0)
        return 1;
    return smfi_getsymval(ctx, "j") != NULL && smfi_getsymval(ctx, "{daemon_addr}") == NULL;
}

/* ---- Callbacks ---- */

static sfsistat on_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
    struct connctx *cc = conn_get(ctx);

    if (cc) {
        snprintf(cc->client, sizeof(cc->client), "%s", host ? host : "unknown");
        cc->local = local_submission(ctx, addr);
    }
    return SMFIS_CONTINUE;
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv)
{
    struct connctx *cc = conn_get(ctx);

    if (cc == NULL)
        return SMFIS_CONTINUE;
    msg_free(cc);
    if ((cc->msg = calloc(1, sizeof(*cc->msg))) == NULL)
        msg_limited(&lim_memory, LOG_EVERY_MS, MILTER_MOD,
                    "out of memory for a message context; mail passes unexamined");
    else if (argv && argv[0] && domain_of_address(argv[0], cc->msg->mailfrom, sizeof(cc->msg->mailfrom)) < 0)
        cc->msg->mailfrom[0] = '\0';
    return SMFIS_CONTINUE;
}

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv)
{
    struct connctx *cc = smfi_getpriv(ctx);
    struct msgctx *mc = cc ? cc->msg : NULL;
    struct milter_settings set;
    struct routeview_entry e;
    char domain[DOMAIN_MAXLEN + 1];
    const char *rcpt = argv ? argv[0] : NULL;

    if (mc == NULL || rcpt == NULL || milter_settings(&set) < 0)
        return SMFIS_CONTINUE;
    if (++mc->nrcpts > MILTER_MAX_RCPTS) {
        if (mc->nrcpts == MILTER_MAX_RCPTS + 1)
            msg_limited(&lim_many, LOG_EVERY_MS, MILTER_MOD,
                        "message from %s has more than %d recipients; the rest pass unexamined",
                        cc->client, MILTER_MAX_RCPTS);
        return SMFIS_CONTINUE;
    }
    if (local_mailer(smfi_getsymval(ctx, "{rcpt_mailer}"))
        || domain_of_address(rcpt, domain, sizeof(domain)) < 0)
        return SMFIS_CONTINUE;
    if (!routeview_get(domain, &e) && !routeview_request(domain, set.route_wait_ms, &e)) {
        metrics_inc(MET_MILTER_DECISIONS, MD_UNANSWERED);
        msg_limited(&lim_wait, LOG_EVERY_MS, MILTER_MOD,
                    "no route for %s within %llu ms; its mail passes unchanged", domain,
                    (unsigned long long)set.route_wait_ms);
        return SMFIS_CONTINUE;
    }
    switch (e.kind) {
    case RV_DETOUR:
        metrics_inc(MET_MILTER_DECISIONS, MD_DETOUR);
        msg_debug(MILTER_MOD, "RCPT %s: detoured via %s", rcpt, e.relay);
        note_relay(mc, e.relay);
        if (set.trace_header)
            trace_add(mc, domain, &e);
        return SMFIS_CONTINUE;
    case RV_POLICY:
        metrics_milter_policy(e.policy);
        return apply_policy(ctx, cc, rcpt, domain, &e);
    default:
        metrics_inc(MET_MILTER_DECISIONS, MD_DIRECT);
        return SMFIS_CONTINUE;
    }
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value)
{
    struct connctx *cc = smfi_getpriv(ctx);

    if (cc && cc->msg)
        milter_dkim_header(&cc->msg->dkim, name, value);
    return SMFIS_CONTINUE;
}

static sfsistat on_eom(SMFICTX *ctx)
{
    struct connctx *cc = smfi_getpriv(ctx);
    struct msgctx *mc = cc ? cc->msg : NULL;
    char value[TRACE_TEXT + 400];
    struct milter_settings set;

    if (mc == NULL)
        return SMFIS_CONTINUE;
    if (mc->hold && smfi_quarantine(ctx, mc->hold_reason) != MI_SUCCESS)
        msg_limited(&lim_eom, LOG_EVERY_MS, MILTER_MOD,
                    "cannot hold a message (%s); it is queued normally", mc->hold_reason);
    for (size_t i = 0; i < mc->ngroups; i++) {
        const struct trace_group *g = &mc->groups[i];
        int n = snprintf(value, sizeof(value), "detoured via %s (%s): %s", g->relay, g->reason,
                         g->domains);
        if (g->more && n > 0 && (size_t)n < sizeof(value))
            snprintf(value + n, sizeof(value) - (size_t)n, " and %u more", g->more);
        if (smfi_addheader(ctx, MILTER_TRACE_HEADER, value) != MI_SUCCESS)
            msg_limited(&lim_eom, LOG_EVERY_MS, MILTER_MOD, "cannot add the %s header",
                        MILTER_TRACE_HEADER);
    }
    if (mc->nrelays && milter_settings(&set) == 0)
        for (size_t i = 0; i < mc->nrelays; i++)
            milter_dkim_count(&mc->dkim, mc->relays[i], mc->mailfrom, set.dkim_log_interval_ms);
    msg_free(cc);
    return SMFIS_CONTINUE;
}

static sfsistat on_abort(SMFICTX *ctx)
{
    struct connctx *cc = smfi_getpriv(ctx);

    if (cc)
        msg_free(cc);
    return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx)
{
    struct connctx *cc = smfi_getpriv(ctx);

    if (cc) {
        msg_free(cc);
        free(cc);
        smfi_setpriv(ctx, NULL);
    }
    return SMFIS_CONTINUE;
}

/*
 * No HELO, body or DATA callbacks: libmilter then tells the MTA to skip
 * those steps (SMFIP_NOHELO, SMFIP_NOBODY, ...), which saves a round trip
 * each.  The headers are read for the deliverability count (From: and
 * DKIM-Signature, milter_dkim.h); a signer must run before this milter.  SMFIF_ADDHDRS is asked for even with the trace header off, so
 * that a reload can turn it on.
 */
struct smfiDesc milter_desc = {
    .xxfi_name = "mxdetour",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = on_connect,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_header = on_header,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
};

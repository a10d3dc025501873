/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * deliverability_text - a struct deliver_report as the administrator reads
 * it (one line per finding, the worst first within a relay) and as JSON.
 * See deliverability.h.
 *
 * Levels: SPF fail is CRITICAL (DMARC fails unless the mail is DKIM-signed
 * with an aligned domain, which the milter counts but a check cannot know);
 * softfail, neutral, none, permerror, temperror, a missing PTR or one that
 * does not resolve back, and unknown exit addresses are WARNINGs; pass with
 * FCrDNS is OK.  No sender domain to check is UNKNOWN.
 */
#include "config.h"

#include <string.h>

#include "deliverability.h"
#include "json.h"

static const char *relay_name(const struct cfg *cfg, size_t i)
{
    return i < cfg->nrelays && cfg->relays[i].name ? cfg->relays[i].name : "?";
}

static const char *code_name(enum deliver_code c)
{
    static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    return (unsigned)c < 4 ? names[c] : "UNKNOWN";
}

void deliver_pair_text(const struct cfg *cfg, const struct deliver_pair *p, char *buf, size_t size,
                       enum deliver_code *code)
{
    const char *rn = relay_name(cfg, p->relay), *why = p->mechanism[0] ? p->mechanism : p->detail;

    if (strcmp(p->result, "pass") == 0) {
        *code = DELIVER_OK;
        snprintf(buf, size, "%s %s: SPF pass for %s (%s)", rn, p->exit, p->domain, why);
    } else if (strcmp(p->result, "fail") == 0) {
        *code = DELIVER_CRITICAL;
        snprintf(buf, size, "%s %s: SPF fail for %s (%s), mail detoured through it will fail DMARC "
                 "unless DKIM-signed", rn, p->exit, p->domain, why);
    } else if (strcmp(p->result, "none") == 0) {
        *code = DELIVER_WARNING;
        snprintf(buf, size, "%s %s: SPF none for %s (no SPF record), mail detoured through it "
                 "passes DMARC only if DKIM-signed", rn, p->exit, p->domain);
    } else if (strcmp(p->result, "temperror") == 0 || strcmp(p->result, "permerror") == 0) {
        *code = DELIVER_WARNING;
        snprintf(buf, size, "%s %s: SPF %s for %s (%s), receivers may defer or refuse mail "
                 "detoured through it", rn, p->exit, p->result, p->domain, why);
    } else {
        *code = DELIVER_WARNING;
        snprintf(buf, size, "%s %s: SPF %s for %s (%s), mail detoured through it will fail DMARC "
                 "unless DKIM-signed", rn, p->exit, p->result, p->domain, why);
    }
}

void deliver_exit_text(const struct cfg *cfg, const struct deliver_exit *e, char *buf, size_t size,
                       enum deliver_code *code)
{
    const char *rn = relay_name(cfg, e->relay);

    if (e->fcrdns == 1) {
        *code = DELIVER_OK;
        snprintf(buf, size, "%s %s: PTR %s resolves back (FCrDNS)", rn, e->exit, e->ptr);
    } else if (e->fcrdns == 0) {
        *code = DELIVER_WARNING;
        snprintf(buf, size, "%s %s: PTR %s does not resolve back to %s; many receivers score "
                 "or refuse such mail", rn, e->exit, e->ptr, e->exit);
    } else {
        *code = DELIVER_WARNING;
        snprintf(buf, size, "%s %s: no PTR record; many receivers refuse mail from an address "
                 "without reverse DNS", rn, e->exit);
    }
}

static void relay_text(const struct deliver_relay *d, char *buf, size_t size, enum deliver_code *code)
{
    if (d->nexits == 0) {
        *code = DELIVER_WARNING;
        snprintf(buf, size, "%s: exit addresses unknown (set exit_addresses; for a tunnel see "
                 "docs/deliverability.md), SPF and reverse DNS not checked", d->name);
    } else {
        *code = DELIVER_OK;
        snprintf(buf, size, "%s: %zu exit address%s", d->name, d->nexits, d->nexits == 1 ? "" : "es");
    }
    size_t n = strlen(buf);
    if (d->helo[0])
        snprintf(buf + n, size - n, ", HELO %s (%s)", d->helo, d->helo_from);
    else
        snprintf(buf + n, size - n, ", HELO %s", d->helo_from);
}

void deliver_print_text(const struct cfg *cfg, const struct deliver_report *r, FILE *fp)
{
    char line[1024];
    enum deliver_code c;

    if (r->nrelays == 0)
        fprintf(fp, "OK: no relays configured\n");
    else if (r->ndomains == 0)
        fprintf(fp, "UNKNOWN: no sender domains to check (set sender_domains; mxdetourd adds "
                "the ones it sees on detoured mail to its own check)\n");
    for (size_t i = 0; i < r->nrelays; i++) {
        relay_text(&r->relays[i], line, sizeof(line), &c);
        fprintf(fp, "%s: %s\n", code_name(c), line);
        for (size_t k = 0; k < r->nexits; k++)
            if (r->exits[k].relay == i) {
                deliver_exit_text(cfg, &r->exits[k], line, sizeof(line), &c);
                fprintf(fp, "%s: %s\n", code_name(c), line);
            }
        for (size_t k = 0; k < r->npairs; k++)
            if (r->pairs[k].relay == i) {
                deliver_pair_text(cfg, &r->pairs[k], line, sizeof(line), &c);
                fprintf(fp, "%s: %s\n", code_name(c), line);
            }
    }
}

void deliver_print_json(const struct cfg *cfg, const struct deliver_report *r, FILE *fp)
{
    struct json j;
    char line[1024];
    enum deliver_code c;

    json_init(&j, fp);
    json_begin_object(&j);
    json_kv_string(&j, "status", code_name(r->code));
    json_key(&j, "sender_domains");
    json_begin_array(&j);
    for (size_t i = 0; i < r->ndomains; i++)
        json_string(&j, r->domains[i]);
    json_end_array(&j);
    json_key(&j, "relays");
    json_begin_array(&j);
    for (size_t i = 0; i < r->nrelays; i++) {
        const struct deliver_relay *d = &r->relays[i];
        json_begin_object(&j);
        json_kv_string(&j, "name", d->name);
        json_kv_string(&j, "type", d->type == RELAY_TUNNEL ? "tunnel" : "smarthost");
        json_kv_bool(&j, "exits_known", d->nexits > 0);
        json_key(&j, "helo");
        json_string(&j, d->helo[0] ? d->helo : NULL);
        json_kv_string(&j, "helo_source", d->helo_from);
        json_key(&j, "exits");
        json_begin_array(&j);
        for (size_t k = 0; k < r->nexits; k++) {
            const struct deliver_exit *e = &r->exits[k];
            if (e->relay != i)
                continue;
            deliver_exit_text(cfg, e, line, sizeof(line), &c);
            json_begin_object(&j);
            json_kv_string(&j, "address", e->exit);
            json_key(&j, "ptr");
            json_string(&j, e->ptr[0] ? e->ptr : NULL);
            json_key(&j, "fcrdns");
            if (e->fcrdns < 0)
                json_string(&j, NULL);
            else
                json_bool(&j, e->fcrdns);
            json_kv_string(&j, "level", code_name(c));
            json_key(&j, "spf");
            json_begin_array(&j);
            for (size_t m = 0; m < r->npairs; m++) {
                const struct deliver_pair *p = &r->pairs[m];
                if (p->relay != i || strcmp(p->exit, e->exit) != 0)
                    continue;
                deliver_pair_text(cfg, p, line, sizeof(line), &c);
                json_begin_object(&j);
                json_kv_string(&j, "domain", p->domain);
                json_kv_string(&j, "result", p->result);
                json_kv_string(&j, "mechanism", p->mechanism);
                json_kv_string(&j, "detail", p->detail);
                json_kv_string(&j, "level", code_name(c));
                json_kv_string(&j, "text", line);
                json_end_object(&j);
            }
            json_end_array(&j);
            json_end_object(&j);
        }
        json_end_array(&j);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    fputc('\n', fp);
}

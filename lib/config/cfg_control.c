/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_control - see cfg_control.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg_control.h"
#include "cfg_redis.h"
#include "netaddr.h"

#define DAY_MS (86400ULL * 1000)

/* "socks5://[USER@]ADDR:PORT" into c; -1 with *why on anything else. */
static int parse_socks5(const char *text, struct cfg_relay_control *c, const char **why)
{
    struct cfg_hostport hp;
    const char *p = text + strlen("socks5://"), *at = strrchr(p, '@');
    struct netaddr a;

    if (at) {
        if (at == p || at - p > 255) {
            *why = "the user must be 1 to 255 bytes";
            return -1;
        }
        for (const char *q = p; q < at; q++)
            if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == ':') {
                *why = "the user holds a space, a colon or a control character";
                return -1;
            }
        c->user = strndup(p, (size_t)(at - p));
        p = at + 1;
    }
    if (cfg_parse_hostport(p, &hp) < 0 || netaddr_parse(hp.host, &a) < 0) {
        *why = "the proxy must be an IP address literal and a port, e.g. 127.0.0.1:1080";
        return -1;
    }
    snprintf(c->proxy, sizeof(c->proxy), "%s", hp.host);
    c->port = hp.port;
    c->kind = CONTROL_SOCKS5;
    return 0;
}

void cfg_read_relay_control(struct cfg_reader *r, const config_setting_t *g, struct cfg_relay *rl)
{
    char where[256];
    const char *why = NULL;
    struct cfg_relay_control *c = &rl->control;
    const char *dflt = rl->type == RELAY_TUNNEL && rl->source_address ? "source" : "none";
    char *text = cfg_read_string(r, g, "control", dflt, false);
    const config_setting_t *s = config_setting_get_member(g, "control");

    memset(c, 0, sizeof(*c));
    if (text == NULL)
        return;
    cfg_read_path(g, where, sizeof(where));
    if (strcmp(text, "none") == 0)
        c->kind = CONTROL_NONE;
    else if (strcmp(text, "source") == 0) {
        c->kind = CONTROL_SOURCE;
        if (rl->type != RELAY_TUNNEL || rl->source_address == NULL)
            cfg_read_error(r, s ? s : g, "%s.control: \"source\" needs a tunnel with source_address", where);
    } else if (strncmp(text, "socks5://", 9) == 0) {
        if (parse_socks5(text, c, &why) < 0)
            cfg_read_error(r, s, "%s.control: \"%s\": %s", where, text, why);
    } else {
        cfg_read_error(r, s, "%s.control: \"%s\" is not \"none\", \"source\" or \"socks5://[USER@]ADDR:PORT\"",
                       where, text);
    }
    free(text);
    c->password = cfg_read_secret(r, g, "control_password_file");
    if (c->password && c->user == NULL)
        cfg_read_error(r, config_setting_get_member(g, "control_password_file"),
                       "%s.control_password_file: needs a user in control (socks5://USER@ADDR:PORT)", where);
    else if (c->user && c->password == NULL)
        cfg_read_error(r, s, "%s.control: a user needs control_password_file", where);
    else if (c->password && (strlen(c->password) == 0 || strlen(c->password) > 255))
        cfg_read_error(r, config_setting_get_member(g, "control_password_file"),
                       "%s.control_password_file: the password must be 1 to 255 bytes", where);
}

void cfg_relay_control_free(struct cfg_relay_control *c)
{
    free(c->user);
    free(c->password);
    c->user = c->password = NULL;
}

void cfg_read_control(struct cfg_reader *r, const config_setting_t *root, struct cfg_control *c)
{
    static const char *const keys[] = {"fast_confirm", "fast_confirm_floor", "verdict_ttl", "budget",
                                       "max_races", "range_cap", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "control");
    const config_setting_t *fc = g ? config_setting_get_member(g, "fast_confirm") : NULL;

    if (g)
        cfg_read_check_keys(r, g, keys);
    c->fast_confirm_ms = 0;
    if (fc && config_setting_type(fc) == CONFIG_TYPE_STRING && strcmp(config_setting_get_string(fc), "auto") == 0)
        c->fast_confirm_ms = 0;
    else
        c->fast_confirm_ms = cfg_read_duration(r, g, "fast_confirm", 0, 500, 300000);
    c->fast_confirm_floor_ms = cfg_read_duration(r, g, "fast_confirm_floor", 3000, 500, 60000);
    c->verdict_ttl_ms = cfg_read_duration(r, g, "verdict_ttl", 600000, 10000, DAY_MS);
    c->budget = (unsigned)cfg_read_int(r, g, "budget", 20, 1, 10000);
    c->max_races = (unsigned)cfg_read_int(r, g, "max_races", 16, 1, 1024);
    c->range_cap = (unsigned)cfg_read_int(r, g, "range_cap", 200, 1, 100000);
}

void cfg_read_down_everywhere(struct cfg_reader *r, const config_setting_t *g, int dflt,
                              struct breaker_params *p)
{
    static const char *const names[] = {"queue", "detour", NULL};
    p->down_detour = cfg_read_enum(r, g, "down_everywhere", names, dflt);
}

int cfg_has_control(const struct cfg *c)
{
    for (size_t i = 0; i < c->nrelays; i++)
        if (c->relays[i].control.kind != CONTROL_NONE)
            return 1;
    return 0;
}

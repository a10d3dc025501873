/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_redis - the redis group of mxdetour.conf(5); see cfg_redis.h.
 *
 * Two ways to find Redis: directly (socket, or host and port), or through
 * Redis Sentinel (sentinels and master_name), where the master's address is
 * asked for at every connection (lib/state/sentinel.h).  Passwords are read from
 * files, never written in the configuration itself.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_redis.h"

/* Reads a password file: one line, at most 512 bytes, trailing newline cut. */
static char *read_secret(struct cfg_reader *r, const config_setting_t *s, const char *path)
{
    char buf[514], where[256];
    FILE *fp = fopen(path, "r");

    if (fp == NULL) {
        cfg_read_error(r, s, "%s: cannot open %s: %s", cfg_read_path(s, where, sizeof(where)), path,
                   strerror(errno));
        return NULL;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    if (n > 512 || buf[0] == 0) {
        cfg_read_error(r, s, "%s: %s must hold one line of 1 to 512 bytes",
                   cfg_read_path(s, where, sizeof(where)), path);
        return NULL;
    }
    return strdup(buf);
}

char *cfg_read_secret(struct cfg_reader *r, const config_setting_t *g, const char *name)
{
    char *path = cfg_read_string(r, g, name, NULL, false);
    char *secret = NULL;
    if (path) {
        secret = read_secret(r, config_setting_get_member(g, name), path);
        free(path);
    }
    return secret;
}

int cfg_parse_hostport(const char *text, struct cfg_hostport *out)
{
    unsigned char bin[16];
    const char *colon, *host = text;
    size_t hlen;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        host = text + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        if ((colon = strrchr(text, ':')) == NULL)
            return -1;
        hlen = (size_t)(colon - text);
    }
    if (hlen == 0 || hlen >= sizeof(out->host))
        return -1;
    memcpy(out->host, host, hlen);
    out->host[hlen] = 0;
    int family = text[0] == '[' ? AF_INET6 : AF_INET;
    if (inet_pton(family, out->host, bin) != 1)
        return -1;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end || errno || port < 1 || port > 65535)
        return -1;
    out->port = (int)port;
    return 0;
}

static void read_sentinels(struct cfg_reader *r, const config_setting_t *g, struct cfg_redis *rd)
{
    char where[256];
    size_t n = 0;
    char **list = cfg_read_strings(r, g, "sentinels", &n);
    const config_setting_t *s = config_setting_get_member(g, "sentinels");

    if (list == NULL)
        return;
    if (n == 0 || n > CFG_MAX_SENTINELS)
        cfg_read_error(r, s, "%s: name 1 to %d sentinels (three is usual)", cfg_read_path(s, where, sizeof(where)),
                   CFG_MAX_SENTINELS);
    for (size_t i = 0; i < n && i < CFG_MAX_SENTINELS; i++) {
        if (cfg_parse_hostport(list[i], &rd->sentinels[rd->nsentinels]) < 0) {
            const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
            cfg_read_error(r, e ? e : s, "%s: \"%s\" is not ADDRESS:PORT (an IP address, IPv6 in "
                       "brackets; not a host name)", cfg_read_path(e ? e : s, where, sizeof(where)), list[i]);
            continue;
        }
        rd->nsentinels++;
    }
    cfg_read_free_strings(list, n);
    rd->master_name = cfg_read_string(r, g, "master_name", NULL, true);
    if (rd->master_name && !cfg_read_valid_name(rd->master_name))
        cfg_read_error(r, config_setting_get_member(g, "master_name"),
                   "redis.master_name: use letters, digits, '-', '_' and '.' only");
    /* With sentinels, where Redis is comes from them: a socket or an
     * address given as well would be silently ignored, so say so. */
    static const char *const direct[] = {"socket", "host", "port", NULL};
    for (const char *const *k = direct; *k; k++) {
        const config_setting_t *d = config_setting_get_member(g, *k);
        if (d)
            cfg_read_error(r, d, "redis.%s: not used with redis.sentinels (the sentinels name the master)", *k);
    }
}

/* redis.tls { ca_file, cert_file, key_file, server_name }: the files are
 * checked for reading here so a typo fails at FILE:LINE, not at connect. */
static void read_tls(struct cfg_reader *r, const config_setting_t *g, struct cfg_redis *rd)
{
    static const char *const keys[] = {"ca_file", "cert_file", "key_file", "server_name", NULL};
    static const char *const files[] = {"ca_file", "cert_file", "key_file", NULL};
    const config_setting_t *t = g ? cfg_read_group(r, g, "tls") : NULL;
    char where[256];

    if (t == NULL)
        return;
    cfg_read_check_keys(r, t, keys);
#ifndef HAVE_HIREDIS_SSL
    cfg_read_error(r, t, "redis.tls: this mxdetour was built with a hiredis that has no TLS "
                   "(hiredis 1.0 or later with hiredis_ssl: libhiredis-dev on Debian 12 has none)");
#endif
    rd->tls.on = true;
    rd->tls.ca_file = cfg_read_string(r, t, "ca_file", NULL, true);
    rd->tls.cert_file = cfg_read_string(r, t, "cert_file", NULL, false);
    rd->tls.key_file = cfg_read_string(r, t, "key_file", NULL, false);
    rd->tls.server_name = cfg_read_string(r, t, "server_name", NULL, false);
    char *const *val[] = {&rd->tls.ca_file, &rd->tls.cert_file, &rd->tls.key_file};
    for (size_t i = 0; files[i]; i++) {
        const config_setting_t *s = config_setting_get_member(t, files[i]);
        if (*val[i] && access(*val[i], R_OK) < 0)
            cfg_read_error(r, s, "%s: cannot read %s: %s", cfg_read_path(s, where, sizeof(where)),
                           *val[i], strerror(errno));
    }
    if (rd->socket)
        cfg_read_error(r, t, "redis.tls: Redis speaks TLS on its TCP port only, not on redis.socket");
    if ((rd->tls.cert_file == NULL) != (rd->tls.key_file == NULL))
        cfg_read_error(r, t, "redis.tls: cert_file and key_file go together (a client certificate "
                       "and its key), or neither");
    if (rd->tls.server_name && !cfg_read_valid_name(rd->tls.server_name))
        cfg_read_error(r, config_setting_get_member(t, "server_name"),
                       "redis.tls.server_name: a host name of up to 64 letters, digits, '-', '_' and '.'");
}

void cfg_read_redis(struct cfg_reader *r, const config_setting_t *root, struct cfg_redis *rd)
{
    static const char *const keys[] = {"socket", "host", "port", "database", "prefix", "user",
                                       "password_file", "connect_timeout", "command_timeout",
                                       "sentinels", "master_name", "sentinel_user",
                                       "sentinel_password_file", "tls", NULL};
    const config_setting_t *g = cfg_read_group(r, root, "redis");

    if (g)
        cfg_read_check_keys(r, g, keys);
    rd->socket = cfg_read_string(r, g, "socket", NULL, false);
    rd->host = cfg_read_string(r, g, "host", "127.0.0.1", false);
    rd->port = (int)cfg_read_int(r, g, "port", 6379, 1, 65535);
    rd->database = (int)cfg_read_int(r, g, "database", 0, 0, 1000);
    rd->prefix = cfg_read_string(r, g, "prefix", "mxd", false);
    rd->user = cfg_read_string(r, g, "user", NULL, false);
    rd->password = cfg_read_secret(r, g, "password_file");
    rd->connect_timeout_ms = cfg_read_duration(r, g, "connect_timeout", 2000, 100, 60000);
    rd->command_timeout_ms = cfg_read_duration(r, g, "command_timeout", 1000, 100, 60000);
    if (rd->prefix && !cfg_read_valid_name(rd->prefix))
        cfg_read_error(r, config_setting_get_member(g, "prefix"),
                   "redis.prefix: use letters, digits, '-', '_' and '.' only");
    if (g && config_setting_get_member(g, "sentinels")) {
        read_sentinels(r, g, rd);
    } else {
        static const char *const only[] = {"master_name", "sentinel_user", "sentinel_password_file", NULL};
        for (const char *const *k = only; g && *k; k++) {
            const config_setting_t *d = config_setting_get_member(g, *k);
            if (d)
                cfg_read_error(r, d, "redis.%s: only used with redis.sentinels", *k);
        }
    }
    rd->sentinel_user = cfg_read_string(r, g, "sentinel_user", NULL, false);
    rd->sentinel_password = cfg_read_secret(r, g, "sentinel_password_file");
    read_tls(r, g, rd);
}

void cfg_redis_free(struct cfg_redis *rd)
{
    free(rd->socket);
    free(rd->host);
    free(rd->prefix);
    free(rd->user);
    free(rd->password);
    free(rd->master_name);
    free(rd->sentinel_user);
    free(rd->sentinel_password);
    free(rd->tls.ca_file);
    free(rd->tls.cert_file);
    free(rd->tls.key_file);
    free(rd->tls.server_name);
}

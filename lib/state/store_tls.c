/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store_tls - TLS to Redis; see store_tls.h.
 *
 * hiredis_ssl's context holds the CA, the client certificate and the server
 * name; redisInitiateSSLWithContext then runs the handshake on a blocking
 * context, or arms it on an asynchronous one (its first write), so the
 * callers need not know which they hold.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include <hiredis/hiredis.h>
#ifdef HAVE_HIREDIS_SSL
#include <hiredis/hiredis_ssl.h>   /* needs hiredis.h first */
#endif

#include "store_tls.h"

#ifdef HAVE_HIREDIS_SSL
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static redisSSLContext *tls_ctx;    /* set once, under tls_lock; never freed */

int store_tls_setup(const struct cfg_redis *rd, char *err, size_t errlen)
{
    static int initialized;
    redisSSLContextError why = REDIS_SSL_CTX_NONE;
    int ret = 0;

    if (!rd->tls.on)
        return 0;
    pthread_mutex_lock(&tls_lock);
    if (!initialized) {
        redisInitOpenSSL();
        initialized = 1;
    }
    if (tls_ctx == NULL) {
        tls_ctx = redisCreateSSLContext(rd->tls.ca_file, NULL, rd->tls.cert_file, rd->tls.key_file,
                                        rd->tls.server_name, &why);
        if (tls_ctx == NULL) {
            snprintf(err, errlen, "redis.tls: %s (ca_file %s%s%s)", redisSSLContextGetError(why),
                     rd->tls.ca_file, rd->tls.cert_file ? ", cert_file " : "",
                     rd->tls.cert_file ? rd->tls.cert_file : "");
            ret = -1;
        }
    }
    pthread_mutex_unlock(&tls_lock);
    return ret;
}

int store_tls_wrap(redisContext *c, char *err, size_t errlen)
{
    pthread_mutex_lock(&tls_lock);
    redisSSLContext *ctx = tls_ctx;
    pthread_mutex_unlock(&tls_lock);
    if (ctx == NULL)
        return 0;
    if (redisInitiateSSLWithContext(c, ctx) != REDIS_OK) {
        snprintf(err, errlen, "TLS: %s", c->errstr[0] ? c->errstr : "handshake failed");
        return -1;
    }
    return 0;
}
#else
/* cfg_redis refuses redis.tls in this build, so tls.on is never set. */
int store_tls_setup(const struct cfg_redis *rd, char *err, size_t errlen)
{
    if (rd->tls.on) {
        snprintf(err, errlen, "redis.tls: this mxdetour was built without TLS");
        return -1;
    }
    return 0;
}

int store_tls_wrap(redisContext *c, char *err, size_t errlen)
{
    (void)c;
    (void)err;
    (void)errlen;
    return 0;
}
#endif

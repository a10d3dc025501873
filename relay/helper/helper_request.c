/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * helper_request - one request to the root helper, checked and carried
 * out; see helper.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper.h"
#include "msg.h"
#include "spawn.h"

#define MOD "helper"

/* When the last reload ended (real ms), for the floor between reloads. */
static uint64_t last_reload_ms;

static void reload(const struct helper_env *env, struct privsep_msg *r)
{
    const char *const argv[] = {env->postfix, "-c", env->config_dir, "reload", NULL};
    uint64_t now = spawn_real_ms(), t0;
    char err[PRIVSEP_TEXT_MAX];

    if (last_reload_ms != 0 && now - last_reload_ms < PRIVSEP_RELOAD_FLOOR_MS)
        usleep((useconds_t)(PRIVSEP_RELOAD_FLOOR_MS - (now - last_reload_ms)) * 1000);
    t0 = spawn_real_ms();
    if (spawn_run(argv, PRIVSEP_RELOAD_TIMEOUT_MS, err, sizeof(err)) == 0) {
        r->status = 0;
        msg_info(MOD, "postfix -c %s reload: done in %llu ms", env->config_dir,
                 (unsigned long long)(spawn_real_ms() - t0));
    } else {
        snprintf(r->text, sizeof(r->text), "postfix -c %.60s reload: %.150s", env->config_dir, err);
        msg_warn(MOD, "%s", r->text);
    }
    last_reload_ms = spawn_real_ms();
}

void helper_handle(const struct helper_env *env, const void *buf, ssize_t n, int flags,
                   struct privsep_msg *r)
{
    struct privsep_msg m;
    bool zero = true;

    memset(&m, 0, sizeof(m));
    if (n > 0)
        memcpy(&m, buf, (size_t)n < sizeof(m) ? (size_t)n : sizeof(m));
    memset(r, 0, sizeof(*r));
    r->magic = PRIVSEP_MAGIC;
    r->id = n >= (ssize_t)offsetof(struct privsep_msg, status) ? m.id : 0;
    r->type = (n >= (ssize_t)offsetof(struct privsep_msg, id) ? m.type : 0) | PRIVSEP_REPLY;
    r->status = -1;
    for (size_t i = 0; i < sizeof(m.text); i++)
        zero = zero && m.text[i] == 0;
    if (n != (ssize_t)sizeof(m) || (flags & (MSG_TRUNC | MSG_CTRUNC)))
        snprintf(r->text, sizeof(r->text), "refused: a message of %zd bytes%s", n,
                 (flags & MSG_CTRUNC) ? " with ancillary data" : "");
    else if (m.magic != PRIVSEP_MAGIC)
        snprintf(r->text, sizeof(r->text), "refused: bad magic 0x%08x", m.magic);
    else if (m.type == PRIVSEP_KERNEL_ENSURE || m.type == PRIVSEP_KERNEL_STAGE
             || m.type == PRIVSEP_KERNEL_COMMIT) {
        if (m.status != 0)
            snprintf(r->text, sizeof(r->text), "refused: a request carries no status");
        else if (helper_kernel_handle(&m, r->text, sizeof(r->text)) == 0)
            r->status = 0;
    } else if (m.type != PRIVSEP_RELOAD)
        snprintf(r->text, sizeof(r->text), "refused: unknown request type %u", m.type);
    else if (m.status != 0 || !zero)
        snprintf(r->text, sizeof(r->text), "refused: a reload request carries no data");
    else
        reload(env, r);
    if (r->status != 0 && strncmp(r->text, "refused", 7) == 0)
        msg_warn(MOD, "%s (request id %u)", r->text, r->id);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cfg_control - control paths in mxdetour.conf(5): a relay's `control`
 * (how control probes reach a destination from outside the censored
 * network), the `control` group (how races run and what their verdicts
 * hold) and detection's `down_everywhere` policy.  Used by cfg.c only.
 *
 *   control = "none"                    no control path
 *   control = "source"                  probes bound to the tunnel's
 *                                       source_address (tunnels only; the
 *                                       default when one is set)
 *   control = "socks5://[USER@]ADDR:PORT"   a SOCKS5 proxy (ssh -D), with
 *   control_password_file = "FILE"      USER's password in FILE
 */
#ifndef MXD_CFG_CONTROL_H
#define MXD_CFG_CONTROL_H

#include <libconfig.h>

#include "cfg.h"
#include "cfg_read.h"

#define CFG_CONTROL_KEYS "control", "control_password_file"

/* A relay's control path from its group g (after type and source_address). */
void cfg_read_relay_control(struct cfg_reader *r, const config_setting_t *g, struct cfg_relay *rl);
void cfg_relay_control_free(struct cfg_relay_control *c);

/* The top-level control group. */
void cfg_read_control(struct cfg_reader *r, const config_setting_t *root, struct cfg_control *c);

/* detection.down_everywhere ("queue" or "detour") into p, dflt when absent. */
void cfg_read_down_everywhere(struct cfg_reader *r, const config_setting_t *g, int dflt,
                              struct breaker_params *p);

/* Whether any relay has a control path. */
int cfg_has_control(const struct cfg *c);

#endif
